import Foundation
import LongMixCore
import ShardIO
import Testing
import TestSupport
@testable import Tasks

@Suite struct MultiDocumentQATests {
    static let fixtures = TestEnvironment.fixtures.appendingPathComponent("tasks/mqa")

    static func record(_ json: String, line: Int = 1) throws -> LostInTheMiddleRecord {
        try LostInTheMiddleRecord(json: JSONValue.parse(json), location: RecordLocation(file: "hand.jsonl", line: line))
    }

    static let handRecord = """
        {"question": "who wrote the gospel of mark", "answers": ["John Mark", "Mark"],
         "ctxs": [
           {"id": "7", "title": "Gospel of Luke", "text": "Luke is the third gospel.", "score": "1.5", "hasanswer": false, "isgold": false},
           {"id": "8", "title": "Mark (name)", "text": "Mark is a name; John Mark is someone.", "score": "1.4", "hasanswer": true, "isgold": false},
           {"id": "9", "title": "Synoptic", "text": "The synoptic gospels: \\"Q\\" {source}.", "score": "1.3", "hasanswer": false},
           {"id": "10", "title": "Extra", "text": "Unused.", "score": "1.2", "hasanswer": false}
         ],
         "nq_annotated_gold": {"title": "Gospel of Mark", "chunked_long_answer": "Tradition names John Mark as its author.", "long_answer": "..."}}
        """

    /// The prompt of REFERENCE.md section 6, typed out by hand for a 3-document case.
    @Test func handWrittenPromptIsByteIdentical() throws {
        let builder = try MultiDocumentQABuilder(documentCount: 3, placement: .fixed(1))
        let examples = try builder.examples(for: Self.record(Self.handRecord))
        #expect(examples.count == 1)
        let expected = "Write a high-quality answer for the given question using only the provided search results (some of which might be irrelevant).\n\n"
            + "Document [1](Title: Gospel of Luke) Luke is the third gospel.\n"
            + "Document [2](Title: Gospel of Mark) Tradition names John Mark as its author.\n"
            + "Document [3](Title: Synoptic) The synoptic gospels: \"Q\" {source}.\n\n"
            + "Question: who wrote the gospel of mark\nAnswer:"
        #expect(Array(examples[0].prompt.utf8) == Array(expected.utf8))
        #expect(examples[0].completion == " John Mark")
        #expect(examples[0].goldPosition == 1 && examples[0].documentCount == 3)

        let ldc = try MultiDocumentQABuilder(documentCount: 3, placement: .fixed(2), completionStyle: .longDataCollections)
        let e = try ldc.examples(for: Self.record(Self.handRecord))[0]
        #expect(e.completion == " John Mark\nLong Answer: Tradition names John Mark as its author.\nGold Document ID: 3")
        #expect(e.prompt.hasSuffix("Document [3](Title: Gospel of Mark) Tradition names John Mark as its author.\n\nQuestion: who wrote the gospel of mark\nAnswer:"))
        // Prompt + completion carries the Long-Data-Collections block.
        #expect(e.taskExample.text.hasSuffix("Answer: John Mark\nLong Answer: Tradition names John Mark as its author.\nGold Document ID: 3"))
    }

    @Test func everyPositionAndOneDocument() throws {
        let every = try MultiDocumentQABuilder(documentCount: 3, placement: .every).examples(for: Self.record(Self.handRecord))
        #expect(every.map(\.goldPosition) == [0, 1, 2])
        #expect(every[0].prompt.contains("Document [1](Title: Gospel of Mark)"))
        #expect(every[2].prompt.contains("Document [2](Title: Synoptic)"))
        let single = try MultiDocumentQABuilder(documentCount: 1, placement: .fixed(0)).examples(for: Self.record(Self.handRecord))
        #expect(single[0].prompt.contains("\n\nDocument [1](Title: Gospel of Mark) Tradition names John Mark as its author.\n\nQuestion:"))
    }

    @Test func randomPositionDependsOnSeedAndRecordNotOrder() throws {
        let builder = try MultiDocumentQABuilder(documentCount: 20, placement: .random(seed: 1234))
        var records: [LostInTheMiddleRecord] = []
        for i in 0..<400 {
            var r = try Self.record(Self.handRecord)
            r.id = "q\(i)"
            records.append(r)
        }
        let forward = records.map { builder.goldPositions(for: $0)[0] }
        let backward = records.reversed().map { builder.goldPositions(for: $0)[0] }
        #expect(forward == Array(backward.reversed()))
        #expect(Set(forward).count == 20)  // all positions used
        let otherSeed = try MultiDocumentQABuilder(documentCount: 20, placement: .random(seed: 99))
        #expect(records.map { otherSeed.goldPositions(for: $0)[0] } != forward)
        // Pinned: a change here silently changes every seeded build.
        // Pinned: a change here silently moves the gold passage of every past seeded build.
        #expect(Array(forward.prefix(8)) == [17, 14, 13, 19, 0, 6, 9, 7])
    }

    @Test func configurationErrors() {
        #expect(throws: ConfigurationError.self) { try MultiDocumentQABuilder(documentCount: 0, placement: .every) }
        #expect(throws: ConfigurationError.self) { try MultiDocumentQABuilder(documentCount: 20, placement: .fixed(20)) }
        #expect(throws: ConfigurationError.self) { try MultiDocumentQABuilder(documentCount: 20, placement: .fixed(-1)) }
    }

    /// Each line of the bad-records fixture fails with its own reason and field.
    @Test func badRecordsGetClearErrors() throws {
        let path = Self.fixtures.appendingPathComponent("bad-records.jsonl").path
        let out = try TestEnvironment.temporaryDirectory("mqa-bad")
        defer { try? FileManager.default.removeItem(at: out) }
        let builder = try MultiDocumentQABuilder(documentCount: 20, placement: .fixed(0))
        let convert: (JSONValue, RecordLocation) throws -> [TaskExample] = { json, location in
            try builder.examples(for: LostInTheMiddleRecord(json: json, location: location)).map(\.taskExample)
        }
        let output = out.appendingPathComponent("mqa.jsonl").path
        do {
            _ = try TaskFileBuilder().build(inputs: [path], output: output, convert: convert)
            Issue.record("a bad record must stop a strict build")
        } catch let error as InputError {
            #expect(error.location == RecordLocation(file: path, line: 1))
            #expect(error.field == "answers" && error.reason.rawValue == "missing-answers")
            #expect(error.description.contains("bad-records.jsonl:1, field 'answers'"))
        }
        #expect(!FileManager.default.fileExists(atPath: output))  // nothing published

        var errors: [InputError] = []
        let summary = try TaskFileBuilder(skipBadRecords: true).build(inputs: [path], output: output) { json, location in
            do { return try convert(json, location) } catch let e as InputError { errors.append(e); throw e }
        }
        let expected: [(String?, String)] = [
            ("answers", "missing-answers"), ("answers", "missing-answers"), ("nq_annotated_gold", "no-gold-passage"),
            ("ctxs", "too-few-distractors"), ("ctxs[2].hasanswer", "missing-field"), ("answers[0]", "wrong-type"),
        ]
        #expect(errors.map(\.field) == expected.map(\.0))
        #expect(errors.map(\.reason.rawValue) == expected.map(\.1))
        #expect(errors.map { $0.location?.line } == [1, 2, 3, 4, 5, 6])
        #expect(summary.firstErrors.count == 7 && summary.firstErrors[6].reason.rawValue == "malformed-json")
        #expect(summary.counts.documentsRead == 7 && summary.counts.documentsKept == 0 && summary.counts.isBalanced)
        #expect(summary.counts.documentsDropped == ["missing-answers": 2, "no-gold-passage": 1, "too-few-distractors": 1,
                                                    "missing-field": 1, "wrong-type": 1, "malformed-json": 1])
        #expect(errors[3].message.contains("need 19 distractors"))
    }

    /// Whole fixture files through the file builder, against an independent Python rendering of the
    /// published procedure: every prompt and completion byte-identical.
    @Test(.needsPython, arguments: [
        ("nq-synthetic.jsonl", 20, "every", "answer"),
        ("nq-synthetic.jsonl", 10, "3", "long-data-collections"),
        ("nq-synthetic-120.jsonl.zst", 30, "0", "answer"),
        ("nq-synthetic-120.jsonl.zst", 50, "25", "answer"),
        ("nq-synthetic-120.jsonl.zst", 100, "99", "long-data-collections"),
    ])
    func fixtureFilesMatchPythonRendering(file: String, k: Int, position: String, style: String) throws {
        let path = Self.fixtures.appendingPathComponent(file).path
        let out = try TestEnvironment.temporaryDirectory("mqa")
        defer { try? FileManager.default.removeItem(at: out) }
        let builder = try MultiDocumentQABuilder(documentCount: k, placement: position == "every" ? .every : .fixed(Int(position)!),
                                                 completionStyle: MQACompletionStyle(rawValue: style)!)
        let output = out.appendingPathComponent("mqa.jsonl").path
        let summary = try TaskFileBuilder().build(inputs: [path], output: output) { json, location in
            try builder.examples(for: LostInTheMiddleRecord(json: json, location: location)).map(\.taskExample)
        }
        let ours = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        let oracle = try Oracle.run("tasks_mqa_prompts.py", arguments: [path, String(k), position, style])
        let theirs = try String(decoding: oracle, as: UTF8.self).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        #expect(ours.count == theirs.count && ours.count == summary.counts.unitsKept && !ours.isEmpty)
        for (a, b) in zip(ours, theirs) {
            let prompt = a["prompt"] as! String, completion = a["completion"] as! String
            #expect(Array(prompt.utf8) == Array((b["prompt"] as! String).utf8))
            #expect(completion == b["completion"] as! String)
            #expect(a["text"] as! String == prompt + completion)
            #expect(a["gold_position"] as! Int == b["gold_position"] as! Int)
            #expect(a["num_documents"] as! Int == k)
            #expect(prompt.components(separatedBy: "\nDocument [").count == k + 1)  // k documents, each after a newline
        }
    }
}
