import Foundation
import Testing
import TestSupport
import LongMixCore
@testable import ShardIO

/// Makes JSONL records with varied text (escapes, non-ASCII, long lines).
func sampleRecords(_ count: Int, seed: UInt64 = 1) -> (lines: [String], texts: [String]) {
    var rng = seed
    func next() -> UInt64 { rng = StableHash.splitMix(rng); return rng }
    let pieces = ["alpha", "beta\n", "\"quoted\"", "tab\t", "é", "東京", "😀", "\\", "\u{1}", "plain words here"]
    var lines: [String] = [], texts: [String] = []
    for i in 0..<count {
        let length = Int(next() % 200) + (i % 97 == 0 ? 20_000 : 0)
        let text = (0..<length).map { _ in pieces[Int(next() % UInt64(pieces.count))] }.joined(separator: " ")
        var out = JSONOutput()
        out.raw("{")
        out.key("text"); out.string(text); out.raw(",")
        out.key("meta"); out.raw("{"); out.key("id"); out.integer(i); out.raw("}")
        out.raw("}")
        lines.append(String(decoding: out.bytes, as: UTF8.self))
        texts.append(text)
    }
    return (lines, texts)
}

func readAll(_ paths: [String], options: ReaderOptions = ReaderOptions()) throws -> (docs: [Document], reader: DocumentReader) {
    let reader = DocumentReader(paths: paths, source: "test", options: options)
    var docs: [Document] = []
    while let d = try reader.next() { docs.append(d) }
    return (docs, reader)
}

@Suite struct ShardReadingTests {
    @Test(.needsPython) func readsMultiFrameZstdAndMultiMemberGzipWrittenByPython() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (lines, texts) = sampleRecords(600)
        let input = Data((lines.joined(separator: "\n") + "\n").utf8)
        for (mode, name) in [("zstd-frames", "a.jsonl.zst"), ("gzip-members", "a.jsonl.gz")] {
            let path = dir.appendingPathComponent(name).path
            _ = try Oracle.run("shardio_codec.py", arguments: [mode, path, "7"], input: input)
            let (docs, reader) = try readAll([path], options: ReaderOptions(idField: FieldPath("meta.id")))
            #expect(docs.count == 600)
            #expect(docs.map { String(decoding: $0.text, as: UTF8.self) } == texts)
            #expect(docs.map(\.id) == (0..<600).map(String.init))
            #expect(docs.last?.location == RecordLocation(file: path, line: 600))
            #expect(reader.counts.isBalanced && reader.counts.bytes == input.count)
        }
    }

    @Test(.needsPython) func writerOutputIsReadByPythonAndPublishedAtomically() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (lines, _) = sampleRecords(300, seed: 9)
        for name in ["out.jsonl", "out.jsonl.zst"] {
            let path = dir.appendingPathComponent(name).path
            let writer = try JSONLWriter(path: path)
            for line in lines { try writer.write(line: Array(line.utf8)) }
            #expect(!FileManager.default.fileExists(atPath: path), "visible before finish()")
            try writer.finish()
            let plain = name.hasSuffix(".zst") ? try Oracle.run("shardio_codec.py", arguments: ["decompress", path])
                : try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(String(decoding: plain, as: UTF8.self) == lines.joined(separator: "\n") + "\n")
        }
        // A writer dropped without finish() leaves nothing behind.
        do {
            let writer = try JSONLWriter(path: dir.appendingPathComponent("abandoned.jsonl.zst").path)
            try writer.write(line: Array("{}".utf8))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["out.jsonl", "out.jsonl.zst"])
    }

    @Test func readsTheFixturesCompletely() throws {
        let paths = try ShardPaths.expand([TestEnvironment.fixtures.appendingPathComponent("natural_instructions").path])
        let options = ReaderOptions(text: try .template("{definition}\n\n{inputs}"), idField: FieldPath("meta.id"),
                                    groupField: FieldPath("meta.task_name"))
        let (docs, reader) = try readAll(paths, options: options)
        #expect(docs.count == 513 && reader.counts.isBalanced && reader.counts.skippedTotal == 0)
        #expect(Set(docs.compactMap(\.group)).count == 12)
        #expect(docs.allSatisfy { String(decoding: $0.text, as: UTF8.self).hasPrefix("In this task, ") })
    }
}

@Suite struct BadInputTests {
    func write(_ name: String, _ content: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data(content.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func strictModeNamesFileLineAndField() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases: [(String, String, Int, String?)] = [
            ("{\"text\": \"ok\"}\n{\"text\": \"bad}\n", "malformed-json", 2, nil),
            ("{\"text\": \"ok\"}\n\n{\"title\": \"x\"}\n", "missing-field", 3, "text"),
            ("{\"text\": 5}\n", "non-string-field", 1, "text"),
            ("{\"text\": \"a\\ud800\"}\n", "lone-surrogate", 1, nil),
        ]
        for (i, (content, reason, line, field)) in cases.enumerated() {
            let path = try write("case\(i).jsonl", content, in: dir)
            do {
                _ = try readAll([path])
                Issue.record("no error for \(reason)")
            } catch let error as InputError {
                #expect(error.reason.rawValue == reason)
                #expect(error.location == RecordLocation(file: path, line: line))
                #expect(error.field == field)
                #expect(error.description.hasPrefix("\(path):\(line)"))
            }
        }
        let invalid = dir.appendingPathComponent("utf8.jsonl")
        try Data([0x7B, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3A, 0x22, 0xC3, 0x28, 0x22, 0x7D, 0x0A]).write(to: invalid)
        #expect(throws: InputError.self) { _ = try readAll([invalid.path]) }
        let empty = try write("empty.jsonl", "\n\n", in: dir)
        do { _ = try readAll([empty]); Issue.record("empty file accepted") } catch let e as InputError { #expect(e.reason.rawValue == "empty-file") }
    }

    /// `DocumentBatches` hands out every document before a bad record in order, in batches of at
    /// most `maxDocuments` (the last one partly filled), then throws the reader's error; after
    /// `cancel()`, `next()` is nil.
    @Test func documentBatchesThrowAfterTheBatchesBeforeTheError() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // Six whole batches and one of a single document before the bad record.
        let good = (0..<25).map { "{\"text\": \"doc \($0)\"}\n" }.joined()
        let path = try write("bad.jsonl", good + "{\"text\": \"bad}\n", in: dir)
        let batches = DocumentBatches(reader: DocumentReader(paths: [path], source: "test", options: ReaderOptions()),
                                      maxDocuments: 4, depth: 2)
        var texts: [String] = []
        do {
            while let batch = try batches.next() {
                #expect(batch.count <= 4)
                texts += batch.map { String(decoding: $0.text, as: UTF8.self) }
            }
            Issue.record("no error for the bad record")
        } catch let error as InputError {
            #expect(error.location == RecordLocation(file: path, line: 26))
        }
        #expect(texts == (0..<25).map { "doc \($0)" })

        let cancelled = DocumentBatches(reader: DocumentReader(paths: [path], source: "test", options: ReaderOptions()),
                                        maxDocuments: 1, depth: 1)
        cancelled.cancel()
        #expect(try cancelled.next() == nil)
    }

    @Test func keepGoingCountsEveryRecordByReason() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let long = String(repeating: "x", count: 5000)
        let content = [
            "{\"text\": \"one\"}", "{\"text\": ", "{\"nope\": 1}", "{\"text\": \"\(long)\"}", "", "{\"text\": \"two\"}",
            "[1]", "{\"text\": null}", "{\"text\": \"three\"}",
        ].joined(separator: "\n")
        let path = try write("mixed.jsonl", content, in: dir)
        let (docs, reader) = try readAll([path], options: ReaderOptions(skipBadRecords: true, maxLineBytes: 1000))
        #expect(docs.map { String(decoding: $0.text.prefix(10), as: UTF8.self) } == ["one", "two", "three"])
        #expect(docs.map(\.id) == ["mixed.jsonl:1", "mixed.jsonl:6", "mixed.jsonl:9"])
        let c = reader.counts
        #expect(c.records == 8 && c.documents == 3 && c.blankLines == 1 && c.isBalanced)
        #expect(c.skipped == ["malformed-json": 2, "missing-field": 1, "line-too-long": 1, "non-string-field": 1])
        #expect(reader.firstErrors.count == 5)
    }

    @Test func truncatedAndCorruptStreamsAreReportedNotCrashed() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (lines, _) = sampleRecords(400, seed: 3)
        let good = dir.appendingPathComponent("good.jsonl.zst").path
        let writer = try JSONLWriter(path: good)
        for line in lines { try writer.write(line: Array(line.utf8)) }
        try writer.finish()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))

        let truncated = dir.appendingPathComponent("truncated.jsonl.zst")
        try Data(bytes.prefix(bytes.count * 2 / 3)).write(to: truncated)
        do { _ = try readAll([truncated.path]); Issue.record("truncation not detected") } catch let e as InputError {
            #expect(e.reason.rawValue == "truncated-zstd" && e.location?.file == truncated.path)
        }
        let (docs, reader) = try readAll([truncated.path, good], options: ReaderOptions(skipBadRecords: true))
        #expect(reader.counts.failedFiles == ["truncated-zstd": 1])
        #expect(docs.count > 400 && docs.count < 800 && reader.counts.isBalanced)

        // Random corruption: flipped bytes and cuts never crash; every outcome is counted.
        var seed: UInt64 = 77
        for round in 0..<60 {
            var corrupt = bytes
            for _ in 0..<(1 + round % 5) {
                seed = StableHash.splitMix(seed)
                corrupt[Int(seed % UInt64(corrupt.count))] ^= UInt8(truncatingIfNeeded: seed >> 32) | 1
            }
            if round % 3 == 0 { corrupt.removeLast(Int(seed % 100)) }
            let path = dir.appendingPathComponent("corrupt\(round).jsonl.zst")
            try Data(corrupt).write(to: path)
            let (_, r) = try readAll([path.path], options: ReaderOptions(skipBadRecords: true))
            #expect(r.counts.isBalanced)
        }
    }

    /// A file cut at generated points says where its known part ends: the reader and the ledger
    /// record, per failed file, the last whole line read and its byte in the decompressed text;
    /// exactly those lines were counted, and the records after them are declared unknown.
    @Test func truncatedFilesSayWhereTheirKnownPartEnds() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (lines, _) = sampleRecords(300, seed: 5)
        let text = [UInt8]((lines.joined(separator: "\n") + "\n").utf8)
        let good = dir.appendingPathComponent("good.jsonl.zst").path
        let writer = try JSONLWriter(path: good)
        for line in lines { try writer.write(line: Array(line.utf8)) }
        try writer.finish()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        var seed: UInt64 = 13
        var failures = 0
        for round in 0..<40 {
            seed = StableHash.splitMix(seed)
            let cut = round == 0 ? 3 : 1 + Int(seed % UInt64(bytes.count - 1))
            let path = dir.appendingPathComponent("cut\(round).jsonl.zst").path
            try Data(bytes.prefix(cut)).write(to: URL(fileURLWithPath: path))
            let (docs, reader) = try readAll([path], options: ReaderOptions(skipBadRecords: true))
            var ledger = RecordLedger(skipBadRecords: true)
            try ledger.forEachLine(of: path) { _, _ in }
            for counts in [reader.counts, ledger.counts] {
                #expect(counts.unreadTails.count == counts.failedFiles.values.reduce(0, +), "cut \(cut): \(counts.unreadTails)")
                guard let tail = counts.unreadTails.first else {
                    #expect(docs.count == lines.count, "cut \(cut): no failure, yet not every record read")
                    continue
                }
                failures += 1
                #expect(tail.file == path && tail.reason == "truncated-zstd")
                #expect(tail.afterLine == counts.records, "cut \(cut): \(tail) but \(counts.records) records counted")
                let known = try #require(tail.afterByte, "cut \(cut): no byte")
                #expect(known <= text.count && (known == 0 || text[known - 1] == 0x0A), "cut \(cut): byte \(known) is not a line end")
                #expect(text.prefix(known).filter { $0 == 0x0A }.count == tail.afterLine, "cut \(cut): \(tail)")
                #expect(tail.description.contains("records after line \(tail.afterLine) (byte \(known)") && tail.description.contains("unknown"))
            }
        }
        #expect(failures >= 60, "only \(failures) failures among the cuts")
        // A file that cannot be opened at all: every record unknown, from line 0.
        var ledger = RecordLedger(skipBadRecords: true)
        let missing = dir.appendingPathComponent("missing.jsonl").path
        try ledger.forEachLine(of: missing) { _, _ in }
        #expect(ledger.counts.unreadTails == [UnreadTail(file: missing, reason: ledger.firstErrors[0].reason, afterLine: 0, afterByte: 0)])
        // An empty file was read to its end: counted as failed (no records) but nothing is unknown.
        let empty = dir.appendingPathComponent("empty.jsonl").path
        try Data().write(to: URL(fileURLWithPath: empty))
        let (_, reader) = try readAll([empty], options: ReaderOptions(skipBadRecords: true))
        #expect(reader.counts.failedFiles == ["empty-file": 1] && reader.counts.unreadTails.isEmpty)
    }

    @Test func aHugeLineIsReadOrRefusedWithBoundedMemory() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("huge.jsonl").path
        let big = String(repeating: "lorem ipsum ", count: 2_000_000)  // 24 MB in one line
        try Data(("{\"text\": \"\(big)\"}\n{\"text\": \"after\"}\n").utf8).write(to: URL(fileURLWithPath: path))
        let (docs, _) = try readAll([path])
        #expect(docs.count == 2 && docs[0].text.count == big.utf8.count)
        let (small, reader) = try readAll([path], options: ReaderOptions(skipBadRecords: true, maxLineBytes: 1 << 20))
        #expect(small.count == 1 && reader.counts.skipped == ["line-too-long": 1])
        #expect(reader.firstErrors.first?.location == RecordLocation(file: path, line: 1))
    }

    /// Lines returned in place from a prefetcher's chunks and from plain reads agree with a
    /// split of the whole text, whatever the chunk size: lines across chunk boundaries (a `\r\n`
    /// cut between two chunks too), blank lines, a last line without `\n`, and a too-long line
    /// skipped across several chunks with the lines after it read.
    @Test(arguments: [1, 3, 7, 64])
    func linesAcrossChunkBoundariesAreWhole(chunkSize: Int) throws {
        let long = String(repeating: "x", count: 150)
        let text = "alpha\r\nbeta\n\n\(long)\ngamma delta\r\n\r\n" + String(repeating: "y", count: 40) + "\nlast"
        let expected = ["alpha", "beta", "", nil, "gamma delta", "", String(repeating: "y", count: 40), "last"]
        for prefetch in [false, true] {
            let bytes = TrickleSource(bytes: Array(text.utf8), step: chunkSize)
            let source: ByteSource = prefetch ? PrefetchingByteSource(bytes, chunkSize: chunkSize, depth: 2) : bytes
            let reader = LineReader(source: source, path: "t", maxLineBytes: 100)
            var lines: [String?] = []
            while true {
                do {
                    guard let line = try reader.next() else { break }
                    lines.append(String(decoding: line, as: UTF8.self))
                } catch let error as InputError {
                    #expect(error.reason == .lineTooLong && error.location == RecordLocation(file: "t", line: 4))
                    lines.append(nil)
                }
            }
            #expect(lines == expected, "prefetch \(prefetch)")
            #expect(reader.lineNumber == 8 && reader.bytesRead == text.utf8.count)
        }
    }
}

/// Hands out at most `step` bytes per read.
private final class TrickleSource: ByteSource {
    let bytes: [UInt8]
    let step: Int
    var at = 0

    init(bytes: [UInt8], step: Int) {
        self.bytes = bytes
        self.step = step
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        let n = min(step, buffer.count, bytes.count - at)
        bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + at, byteCount: n) }
        at += n
        return n
    }
}

@Suite struct ShardPathsTests {
    @Test func expandsDirectoriesAndGlobsInStableOrder() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["b/2.jsonl", "b/10.jsonl.zst", "a/1.jsonl.gz", "a/notes.txt"] {
            let url = dir.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data().write(to: url)
        }
        let all = try ShardPaths.expand([dir.path])
        #expect(all.map { String($0.dropFirst(dir.path.count + 1)) } == ["a/1.jsonl.gz", "b/10.jsonl.zst", "b/2.jsonl"])
        #expect(try ShardPaths.expand([dir.path + "/b/*.jsonl*", dir.path]).count == 3)
        #expect(ShardPaths.relativeNames(all) == ["a/1.jsonl.gz", "b/10.jsonl.zst", "b/2.jsonl"])
        #expect(throws: InputError.self) { try ShardPaths.expand([dir.path + "/nothing-*.jsonl"]) }
        let split = (0..<2).map { ShardPaths.subset(all, task: $0, of: 2) }
        #expect(split == [[all[0], all[2]], [all[1]]])
    }

    @Test func templatesNameFieldsAndEscapeBraces() throws {
        let t = try TextSelector.template("{definition}\n\n{{x}} {meta.task}")
        #expect(t.parts == [.field(FieldPath("definition")), .literal(Array("\n\n{x} ".utf8)), .field(FieldPath("meta.task"))])
        #expect(throws: ConfigurationError.self) { try TextSelector.template("no fields") }
        #expect(throws: ConfigurationError.self) { try TextSelector.template("{open") }
    }

    /// Shard sizes (manifest `inputs`, progress totals) are those of the files read: a shard
    /// given as a symbolic link counts its target's bytes, not the link's.
    @Test func shardSizesFollowSymbolicLinks() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        let target = dir.appendingPathComponent("data.jsonl").path
        try Data(repeating: 0x41, count: 5000).write(to: URL(fileURLWithPath: target))
        let link = dir.appendingPathComponent("link.jsonl").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        #expect(ShardPaths.fileBytes(link) == 5000)
        #expect(ShardPaths.totalBytes([link, target]) == 10_000)
        #expect(ShardPaths.fileBytes(dir.appendingPathComponent("absent").path) == 0)
    }
}
