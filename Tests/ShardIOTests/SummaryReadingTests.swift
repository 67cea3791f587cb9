import Foundation
import Testing
import TestSupport
import LongMixCore
@testable import ShardIO

/// `DocumentReader.nextSummary` (the counting pass's fast path) must accept and reject exactly
/// what `next()` does, for the same reasons and with the same errors and counts, and give each
/// document's id, group, header and text size; documents it is asked for come whole and equal.
@Suite struct SummaryReadingTests {
    /// Good records (escapes, non-ASCII, \u escapes, long texts) mixed with every kind of bad one,
    /// under a plain text field and under a template with id, group and header fields.
    func shard(in dir: URL) throws -> String {
        var lines = sampleRecords(300, seed: 7).lines.enumerated().map { i, line -> String in
            // Give every record the fields the template reads, some of them bad.
            let prefix = "{\"task\": \(i % 5 == 0 ? "\(i % 11)" : "\"t\(i % 13)\""), \"definition\": \"Do \\u00e9 #\(i)\", "
            return prefix + line.dropFirst()
        }
        let bad = [
            "{\"text\": \"bad}", "{\"nope\": 1, \"task\": \"t\", \"definition\": \"d\"}", "{\"text\": 5, \"task\": \"t\", \"definition\": \"d\"}",
            "{\"text\": \"a\\ud800\", \"task\": \"t\", \"definition\": \"d\"}", "[1]", "{\"text\": null}", "   ",
            "{\"text\": \"ok\", \"task\": [1], \"definition\": \"d\"}", "{\"text\": \"ok\", \"definition\": \"d\"}",
            "{\"text\": \"ok\", \"task\": \"t\", \"definition\": 3}", "{\"text\": \"ok\", \"task\": \"t\", \"definition\": \"d\"} x",
            "{\"text\": \"" + String(repeating: "y", count: 3000) + "\"}", "{\"text\": \"x\\q\", \"task\": \"t\", \"definition\": \"d\"}",
        ]
        for (i, b) in bad.enumerated() { lines.insert(b, at: 5 + i * 23) }
        var bytes = Array(lines.joined(separator: "\n").utf8)
        // An invalid UTF-8 byte inside a text.
        bytes += Array("\n{\"text\": \"".utf8) + [0xC3, 0x28] + Array("\", \"task\": \"t\", \"definition\": \"d\"}\n".utf8)
        let path = dir.appendingPathComponent("mixed.jsonl").path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(arguments: [false, true])
    func summariesAgreeWithFullReading(template: Bool) throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try shard(in: dir)
        var options = ReaderOptions(skipBadRecords: true, maxLineBytes: 2000)
        if template {
            options.text = try .template("{definition}\n\n{text}")
            options.groupField = FieldPath("task")
            options.idField = FieldPath("meta.id")
            options.header = try .template("Task: {definition}")
        }
        let (docs, full) = try readAll([path], options: options)
        let fast = DocumentReader(paths: [path], source: "test", options: options)
        var summaries: [DocumentSummary] = []
        var asked = 0
        while let s = try fast.nextSummary(wholeIf: { id, _ in asked += 1; return StableHash.hash(keys: [id], seed: 3) % 3 == 0 }) {
            summaries.append(s)
        }
        #expect(template ? asked == docs.count : asked >= docs.count)  // default ids: asked before parsing
        #expect(docs.count > 250 && full.counts.skippedTotal >= 10)
        #expect(fast.counts == full.counts)
        #expect(fast.firstErrors.map(\.description) == full.firstErrors.map(\.description))
        #expect(summaries.map(\.id) == docs.map(\.id))
        #expect(summaries.map(\.group) == docs.map(\.group))
        #expect(summaries.map(\.textBytes) == docs.map(\.text.count))
        #expect(summaries.map(\.location) == docs.map(\.location))
        #expect(summaries.map(\.header) == docs.map(\.header))
        var whole = 0
        for (s, d) in zip(summaries, docs) {
            let wanted = StableHash.hash(keys: [d.id], seed: 3) % 3 == 0
            #expect((s.document != nil) == wanted)
            if let w = s.document {
                whole += 1
                #expect(w.text == d.text && w.id == d.id && w.group == d.group && w.completionStart == d.completionStart
                        && w.header == d.header && w.location == d.location)
            }
        }
        #expect(whole > 50)
    }

    @Test func strictModeThrowsTheSameFirstError() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = try shard(in: dir)
        let fullError = #expect(throws: InputError.self) { _ = try readAll([path]) }
        let fast = DocumentReader(paths: [path], source: "test", options: ReaderOptions())
        let fastError = #expect(throws: InputError.self) { while try fast.nextSummary(wholeIf: { _, _ in false }) != nil {} }
        #expect(fastError?.description == fullError?.description)
        #expect(fastError?.reason == .malformedJSON)
    }
}
