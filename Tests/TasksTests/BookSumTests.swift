import Foundation
import LongMixCore
import ShardIO
import Testing
import TestSupport
@testable import Tasks

@Suite struct BookSumTests {
    static let fixtures = TestEnvironment.fixtures.appendingPathComponent("tasks/booksum")

    @Test func handWrittenTemplateIsByteIdentical() throws {
        let record = try BookSumRecord(json: JSONValue.parse(#"{"chapter": "It was night.\n\nThe end.", "summary_text": "Night falls.", "summary_id": "chapter 1"}"#),
                                       location: RecordLocation(file: "x.jsonl", line: 1))
        let example = record.taskExample
        #expect(Array(example.prompt.utf8) == Array("Chapter: It was night.\n\nThe end.\n\nQ: Can you write an appropriate summary of the above paragraphs?\nA:".utf8))
        #expect(example.completion == " Night falls.")
        #expect(example.text == example.prompt + " Night falls.")
        #expect(example.id == "chapter 1")
        #expect(String(decoding: example.jsonLine(tokenCount: nil), as: UTF8.self)
            == #"{"id":"chapter 1","prompt":"Chapter: It was night.\n\nThe end.\n\nQ: Can you write an appropriate summary of the above paragraphs?\nA:","completion":" Night falls.","text":"Chapter: It was night.\n\nThe end.\n\nQ: Can you write an appropriate summary of the above paragraphs?\nA: Night falls.","summary":"Night falls."}"#)
    }

    @Test func fixtureChaptersBecomeExamples() throws {
        let out = try TestEnvironment.temporaryDirectory("booksum")
        defer { try? FileManager.default.removeItem(at: out) }
        let input = Self.fixtures.appendingPathComponent("chapters.jsonl").path
        let output = out.appendingPathComponent("booksum.jsonl").path
        let summary = try TaskFileBuilder().build(inputs: [input], output: output) { json, location in
            [try BookSumRecord(json: json, location: location).taskExample]
        }
        #expect(summary.counts.documentsRead == 6 && summary.counts.unitsKept == 6 && summary.counts.isBalanced)
        let source = try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n")
        let written = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        for (inLine, outLine) in zip(source, written) {
            let record = try JSONSerialization.jsonObject(with: Data(inLine.utf8)) as! [String: Any]
            let example = try JSONSerialization.jsonObject(with: Data(outLine.utf8)) as! [String: Any]
            let chapter = record["chapter"] as! String, summaryText = record["summary_text"] as! String
            #expect(example["prompt"] as! String == "Chapter: " + chapter + "\n\nQ: Can you write an appropriate summary of the above paragraphs?\nA:")
            #expect(example["completion"] as! String == " " + summaryText)
            #expect(example["summary"] as! String == summaryText)
            #expect(example["id"] as! String == record["summary_id"] as! String)
        }
    }

    @Test func badRecordsGetClearErrors() throws {
        let out = try TestEnvironment.temporaryDirectory("booksum-bad")
        defer { try? FileManager.default.removeItem(at: out) }
        let summary = try TaskFileBuilder(skipBadRecords: true).build(
            inputs: [Self.fixtures.appendingPathComponent("bad-records.jsonl").path],
            output: out.appendingPathComponent("o.jsonl").path
        ) { json, location in [try BookSumRecord(json: json, location: location).taskExample] }
        #expect(summary.firstErrors.map(\.field) == ["summary_text", "chapter", "summary_text", nil])
        #expect(summary.firstErrors.map(\.reason.rawValue) == ["missing-field", "empty-field", "wrong-type", "wrong-type"])
        #expect(summary.counts.documentsRead == 4 && summary.counts.documentsKept == 0 && summary.counts.isBalanced)
    }
}
