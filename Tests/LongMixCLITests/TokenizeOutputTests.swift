import Foundation
import Testing
import TestSupport
import ShardIO
@testable import Tokenization
@testable import LongMixCLI

/// `longmix tokenize -o` writes .npy, Megatron .bin/.idx or JSONL by the extension, all holding
/// the same ids in input order; numpy reads the binary ones back.
@Suite struct TokenizeOutputTests {
    static let model = TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model").path
    static let shards = TestEnvironment.fixtures.appendingPathComponent("redpajama/book").path

    func tokenize(_ output: String, _ extra: [String] = []) throws {
        var command = try LongMix.parseAsRoot(["tokenize", "--tokenizer", Self.model, Self.shards, "--threads", "2",
                                               "--quiet", "-o", output] + extra)
        try command.run()
    }

    @Test(.needsPython)
    func npyAndMegatronHoldTheJSONLIds() throws {
        let scratch = try TestEnvironment.temporaryDirectory("tokenize-out")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let jsonl = scratch.appendingPathComponent("ids.jsonl").path
        let npy = scratch.appendingPathComponent("ids.npy").path
        let bin = scratch.appendingPathComponent("ids.bin").path
        try tokenize(jsonl)
        try tokenize(npy)
        try tokenize(bin)
        let documents = try String(contentsOfFile: jsonl, encoding: .utf8).split(separator: "\n").map { line in
            try #require(try JSONValue.parse(Array(line.utf8))["ids"]?.arrayValue).compactMap(\.intValue)
        }
        #expect(documents.count > 1)
        let found = try JSONSerialization.jsonObject(with: Oracle.run("tokenize_outputs.py",
                                                                      arguments: [npy, String(bin.dropLast(4))])) as! [String: Any]
        let array = found["npy"] as! [String: Any]
        #expect(array["dtype"] as? String == "uint16")  // the fixture vocabulary is below 65,536
        #expect(array["shape"] as? [Int] == [documents.reduce(0) { $0 + $1.count }])
        #expect(array["ids"] as? [Int] == documents.flatMap { $0 })
        #expect(found["megatron"] as? [[Int]] == documents)
    }

    @Test func npyHeaderIsAlignedAndNamesTheWidth() {
        let small = NumpyTokenWriter.header(width: 2, count: 12_345)
        let large = NumpyTokenWriter.header(width: 4, count: Int(Int32.max) * 4)
        for header in [small, large] {
            #expect(header.count == 128 && header.last == 0x0A)
            #expect(Array(header.prefix(8)) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        }
        #expect(String(decoding: small, as: UTF8.self).contains("'descr': '<u2', 'fortran_order': False, 'shape': (12345,)"))
        #expect(String(decoding: large, as: UTF8.self).contains("'<u4'"))
    }

    @Test func unknownExtensionIsRefusedBeforeWriting() throws {
        let scratch = try TestEnvironment.temporaryDirectory("tokenize-out")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let path = scratch.appendingPathComponent("ids.parquet").path
        #expect(throws: Error.self) { try tokenize(path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }
}
