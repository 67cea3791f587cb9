import Foundation
import LongMixCore
import ShardIO
import Testing
import TestSupport
@testable import Tokenization

/// Loading, refusals, the public API contracts and the parallel ordered paths, on the fixture model.
@Suite struct TokenizerTests {
    static let fixturePath = TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model").path

    static func fixtureBytes() throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixturePath))) }

    /// A protobuf field: key varint, then a length-delimited payload.
    static func field(_ number: UInt8, _ payload: [UInt8]) -> [UInt8] {
        precondition(payload.count < 128)
        return [number << 3 | 2, UInt8(payload.count)] + payload
    }

    @Test func loadsTheFixtureModel() throws {
        let tokenizer = try Tokenizer.load(path: Self.fixturePath)
        #expect(tokenizer.format == .sentencePieceModel)
        #expect(tokenizer.vocabularySize == 2000)
        #expect(tokenizer.bosID == 1)
        #expect(tokenizer.eosID == 2)
        #expect(tokenizer.sha256 == SHA256.hexDigest(try Self.fixtureBytes()))
        let model = try #require(tokenizer.model as? SentencePieceBPEModel)
        #expect(model.proto.splitDigits)
        #expect(model.proto.byteFallback)
        #expect(model.proto.normalizerName == "identity")
    }

    @Test(.needsPython) func sha256OfTheFileMatchesHashlib() throws {
        let expected = String(decoding: try Oracle.run("tokenizer_sha256.py", arguments: ["--file", Self.fixturePath]), as: UTF8.self)
        #expect(try Tokenizer.load(path: Self.fixturePath).sha256 == expected.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Models the encoder cannot reproduce exactly are refused with a message saying why.
    /// (A repeated embedded message merges into the first, so appending a field overrides it.)
    @Test func refusesModelsItCannotReproduce() throws {
        let base = try Self.fixtureBytes()
        let unigram = base + Self.field(2, [3 << 3, 1])  // trainer_spec.model_type = UNIGRAM
        let charsmap = base + Self.field(3, Self.field(2, [1, 2, 3, 4, 5]))  // normalizer_spec.precompiled_charsmap
        let suffix = base + Self.field(2, [0xC0, 0x01, 1])  // trainer_spec.treat_whitespace_as_suffix (field 24)
        for (bytes, expected) in [(unigram, "not BPE"), (charsmap, "precompiled_charsmap"), (suffix, "treat_whitespace_as_suffix")] {
            #expect {
                try SentencePieceBPEModel(serialized: bytes, path: "x.model")
            } throws: { error in
                "\(error)".contains(expected) && "\(error)".contains("x.model") && "\(error)".contains("refuses")
            }
        }
        #expect(throws: TokenizerError.self) { try SentencePieceBPEModel(serialized: [0xFF, 0xFF, 0x07], path: "bad.model") }
        #expect(throws: TokenizerError.self) { try Tokenizer.load(path: "/nonexistent/tokenizer.model") }
        #expect(throws: TokenizerError.self) { try HuggingFaceBPEModel(json: Array("{\"model\": {\"type\": \"Unigram\"}}".utf8)) }
    }

    @Test func bosAndEosFrameTheIds() throws {
        let tokenizer = try Tokenizer.load(path: Self.fixturePath)
        let text = Array("Hello world".utf8)
        let plain = tokenizer.encode(text)
        #expect(!plain.isEmpty)
        #expect(tokenizer.encode(text, addBOS: true, addEOS: true) == [1] + plain + [2])
        #expect(tokenizer.encode([], addBOS: true) == [1])
        #expect(try tokenizer.decode([1] + plain + [2]) == text)
        #expect(throws: TokenizerError.self) { try tokenizer.decode([2000]) }
    }

    static func sampleTexts() -> [[UInt8]] {
        (0..<600).map { i in
            Array(String(repeating: "Document \(i) says hello  to\tthe world \(i * 7919)!\n", count: i % 13 + 1).utf8)
                + (i % 5 == 0 ? [0xFF, 0x20] : [])
        }
    }

    /// Results are in input order and identical whatever the thread count.
    @Test func batchEncodingIsOrderedAndThreadCountIndependent() throws {
        let tokenizer = try Tokenizer.load(path: Self.fixturePath)
        let texts = Self.sampleTexts()
        let encoder = tokenizer.makeEncoder()
        let sequential = texts.map { encoder.encode($0, addBOS: true) }
        for threads in [1, 2, 3, 8] {
            #expect(tokenizer.encodeBatch(texts, threads: threads, addBOS: true) == sequential, "threads \(threads)")
        }
        let pool = EncoderPool(tokenizer: tokenizer, threads: 2)
        #expect(tokenizer.encodeBatch(texts, pool: pool, addBOS: true) == sequential)
        #expect(tokenizer.encodeBatch(Array(texts.reversed()), pool: pool, addBOS: true) == sequential.reversed())
    }

    /// The sample texts as JSON Lines `{"id": "doc-<i>", "body": ...}` in `directory`; the file's
    /// path and the texts.
    static func writeSampleInput(in directory: URL) throws -> (path: String, texts: [String]) {
        let texts = sampleTexts().map { String(decoding: $0, as: UTF8.self) }
        var input = JSONOutput()
        for (i, text) in texts.enumerated() {
            input.raw("{")
            input.key("id")
            input.string("doc-\(i)")
            input.raw(",")
            input.key("body")
            input.string(text)
            input.raw("}\n")
        }
        let path = directory.appendingPathComponent("in.jsonl").path
        try Data(input.bytes).write(to: URL(fileURLWithPath: path))
        return (path, texts)
    }

    /// The JSONL path: one line per document in input order, ids carried, and back again.
    @Test func documentTokenizationRoundTripsThroughJSONL() throws {
        let tokenizer = try Tokenizer.load(path: Self.fixturePath)
        let scratch = try TestEnvironment.temporaryDirectory("tokenize-jsonl")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let (inputPath, texts) = try Self.writeSampleInput(in: scratch)

        var outputs: [[[UInt8]]] = []
        for threads in [1, 2] {
            let reader = DocumentReader(paths: [inputPath], source: "test", options: ReaderOptions(
                text: .field("body"), idField: FieldPath("id")))
            var lines: [[UInt8]] = []
            let job = DocumentTokenization(tokenizer: tokenizer, threads: threads, batchBytes: 4096)
            let sink = JSONLTokenSink(includeID: true, writeLine: { lines.append($0) }, finish: {})
            let summary = try job.run(reader: reader, into: sink)
            #expect(summary.documents == texts.count)
            #expect(summary.textBytes == texts.reduce(0) { $0 + $1.utf8.count })
            outputs.append(lines)
        }
        #expect(outputs[0] == outputs[1])
        let encoder = tokenizer.makeEncoder()
        for (i, line) in outputs[0].enumerated() {
            let record = try JSONValue.parse(line)
            #expect(record["id"]?.stringValue == "doc-\(i)")
            let ids = record["ids"]?.arrayValue?.compactMap { $0.intValue }.map { TokenID($0) }
            #expect(ids == encoder.encode(Array(texts[i].utf8)))
        }

        let idsPath = scratch.appendingPathComponent("ids.jsonl").path
        try Data(outputs[0].flatMap { $0 + [0x0A] }).write(to: URL(fileURLWithPath: idsPath))
        var decodedLines: [[UInt8]] = []
        let count = try IDLinesDecoding(tokenizer: tokenizer).run(paths: [idsPath]) { decodedLines.append($0) }
        #expect(count == texts.count)
        for (i, line) in decodedLines.enumerated() {
            let record = try JSONValue.parse(line)
            #expect(record["id"]?.stringValue == "doc-\(i)")
            #expect(record["text"]?.stringValue.map { Array($0.utf8) } == Array(texts[i].utf8))
        }
    }

    /// A sink error (at the first document, in a middle batch, or at the last document) is thrown
    /// by `run` after exactly the documents before it reached the sink.
    @Test func documentTokenizationThrowsASinkErrorAfterTheDocumentsBeforeIt() throws {
        final class FailingSink: TokenSink {
            struct Failure: Error, Equatable {}
            let failAt: Int
            var ids: [String] = []
            init(failAt: Int) { self.failAt = failAt }
            func append(_ ids: UnsafeBufferPointer<TokenID>, documentID: String) throws {
                if self.ids.count == failAt { throw Failure() }
                self.ids.append(documentID)
            }
            func finish() throws {}
        }
        let tokenizer = try Tokenizer.load(path: Self.fixturePath)
        let scratch = try TestEnvironment.temporaryDirectory("tokenize-sink-error")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let (inputPath, texts) = try Self.writeSampleInput(in: scratch)
        for failAt in [0, texts.count / 2, texts.count - 1] {
            let reader = DocumentReader(paths: [inputPath], source: "test", options: ReaderOptions(
                text: .field("body"), idField: FieldPath("id")))
            let sink = FailingSink(failAt: failAt)
            let job = DocumentTokenization(tokenizer: tokenizer, threads: 2, batchBytes: 4096)
            #expect(throws: FailingSink.Failure()) { _ = try job.run(reader: reader, into: sink) }
            #expect(sink.ids == (0..<failAt).map { "doc-\($0)" }, "failing at \(failAt)")
        }
    }

    /// `detokenize --keep-going`: lines that are not `{"ids": [...]}` or hold ids outside the
    /// vocabulary are skipped and counted; the others decode in order.
    @Test func detokenizeKeepGoingCountsBadLines() throws {
        let tokenizer = try Tokenizer.load(path: TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model").path)
        let scratch = try TestEnvironment.temporaryDirectory("detokenize")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let good = tokenizer.encode(Array("hello world".utf8))
        let path = scratch.appendingPathComponent("ids.jsonl").path
        try ("{\"ids\": \(good)}\n{\"ids\": [\(tokenizer.vocabularySize)]}\nnot json\n\n{\"id\": 7, \"ids\": \(good)}\n")
            .write(toFile: path, atomically: true, encoding: .utf8)
        var strict = RecordLedger(skipBadRecords: false)
        #expect(throws: InputError.self) { try IDLinesDecoding(tokenizer: tokenizer).run(paths: [path], ledger: &strict) { _ in } }
        var ledger = RecordLedger(skipBadRecords: true)
        var lines: [String] = []
        let written = try IDLinesDecoding(tokenizer: tokenizer).run(paths: [path], ledger: &ledger) {
            lines.append(String(decoding: $0, as: UTF8.self))
        }
        #expect(written == 2 && lines == [#"{"text":"hello world"}"#, #"{"id":7,"text":"hello world"}"#])
        #expect(ledger.counts.records == 4 && ledger.counts.isBalanced)
        #expect(ledger.counts.skipped == ["bad-token-id": 1, "malformed-json": 1])
    }
}
