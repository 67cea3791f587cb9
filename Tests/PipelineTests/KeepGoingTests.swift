import Decontamination
import Foundation
import LongMixCore
import Mixing
import Packing
import ShardIO
import Testing
import TestSupport
@testable import Pipeline

/// `--keep-going` tells the truth: a truncated .zst, a corrupt .gz and an empty file among good
/// shards are counted by reason in the build's manifest and the scan's outcome, the counts add
/// up, and the scan never publishes the cleaned shard of an unreadable input.
@Suite(.serialized) struct KeepGoingTests {
    /// good.jsonl.zst (3000 records, several zstd blocks), truncated.jsonl.zst (its first 60% of bytes), corrupt.jsonl.gz
    /// (a gzip stream with flipped bytes in the middle), empty.jsonl.
    static func makeShards(_ dir: URL) throws -> (records: Int, truncatedRecords: Int) {
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let lines = (0..<3000).map { i in "{\"id\": \"d\(i)\", \"text\": \"document \(i) " + (0..<(40 + i % 30)).map { "w\(($0 * 7 + i) % 50)" }.joined(separator: " ") + "\"}" }
        let good = dir.appendingPathComponent("good.jsonl.zst").path
        let writer = try JSONLWriter(path: good)
        for line in lines { try writer.write(line: Array(line.utf8)) }
        try writer.finish()
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: good)))
        try Data(bytes.prefix(bytes.count * 3 / 5)).write(to: dir.appendingPathComponent("truncated.jsonl.zst"))
        let plain = dir.appendingPathComponent("plain.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: plain, atomically: true, encoding: .utf8)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
        gzip.arguments = ["-c", plain.path]
        let out = Pipe()
        gzip.standardOutput = out
        try gzip.run()
        var gz = [UInt8](out.fileHandleForReading.readDataToEndOfFile())
        gzip.waitUntilExit()
        try FileManager.default.removeItem(at: plain)
        for k in stride(from: gz.count / 3, to: gz.count / 3 + 64, by: 4) { gz[k] ^= 0x5A }
        try Data(gz).write(to: dir.appendingPathComponent("corrupt.jsonl.gz"))
        try Data().write(to: dir.appendingPathComponent("empty.jsonl"))
        return (lines.count, 0)
    }

    static func mixture(_ dir: URL, data: URL) throws -> MixtureSpec {
        let yaml = """
            name: keep-going
            seed: 1
            seq_len: 64
            min_doc_tokens: 0
            tokenizer: \(TestEnvironment.fixtures.path)/tokenizer/fixture-bpe.model
            data_root: \(data.path)
            sources:
              - name: a
                paths: [shards]
                id_field: id
            """
        let path = dir.appendingPathComponent("m.yaml")
        try yaml.write(to: path, atomically: true, encoding: .utf8)
        return try MixtureSpec.load(path: path.path)
    }

    @Test func buildCountsUnreadableFilesByReasonAndBalances() throws {
        let scratch = try TestEnvironment.temporaryDirectory("keep-going-build")
        defer { try? FileManager.default.removeItem(at: scratch) }
        _ = try Self.makeShards(scratch.appendingPathComponent("data/shards"))
        let spec = try Self.mixture(scratch, data: scratch.appendingPathComponent("data"))
        let out = scratch.appendingPathComponent("pack").path
        // Strict: the first unreadable file stops the build, naming it; nothing is published.
        #expect { try MixtureBuild(spec: spec, options: .init(threads: 1, output: out)).run() } throws: { error in
            (error as? InputError)?.location?.file.hasSuffix(".jsonl.gz") == true || (error as? InputError)?.location?.file.hasSuffix("empty.jsonl") == true
                || (error as? InputError)?.location?.file.hasSuffix("truncated.jsonl.zst") == true
        }
        #expect(!FileManager.default.fileExists(atPath: out))
        let result = try MixtureBuild(spec: spec, options: .init(threads: 1, output: out, skipBadRecords: true)).run()
        let m = try PackReader(directory: out).manifest
        #expect(m == result.manifest)
        #expect(m.filesUnreadable.keys.sorted() == ["corrupt-gzip", "empty-file", "truncated-zstd"].filter { m.filesUnreadable[$0] != nil } )
        #expect(m.filesUnreadable["empty-file"] == 1 && m.filesUnreadable["truncated-zstd"] == 1)
        #expect(m.filesUnreadable.values.reduce(0, +) == 3, "\(m.filesUnreadable)")
        #expect(m.sources[0].filesUnreadable == m.filesUnreadable)
        // The two damaged files say where their known part ends; the empty one was read whole.
        let tails = m.recordsUnknownAfter ?? []
        #expect(Set(tails.map { URL(fileURLWithPath: $0.file).lastPathComponent }) == ["truncated.jsonl.zst", "corrupt.jsonl.gz"], "\(tails)")
        #expect(tails.allSatisfy { $0.afterLine < 3000 && $0.afterByte != nil })
        let s = m.sources[0]
        #expect(s.documentsRead == s.documentsAvailable + s.documentsDropped.values.reduce(0, +))
        #expect(s.tokensRead == s.tokensAvailable + s.tokensDropped.values.reduce(0, +))
        // The good shard whole, plus what the damaged ones gave before their failure points.
        #expect(m.recordsRead > 3000 && m.recordsRead < 9000)
        #expect(try PackReader(directory: out).verify().isEmpty)
    }

    @Test func scanWithholdsTheShardOfAnUnreadableInput() throws {
        let scratch = try TestEnvironment.temporaryDirectory("keep-going-scan")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let shards = scratch.appendingPathComponent("shards")
        _ = try Self.makeShards(shards)
        let testSet = scratch.appendingPathComponent("t.jsonl").path
        try "{\"scenario\": \"S\", \"split\": \"test\", \"id\": \"1\", \"text\": \"document 3 w3 w10 w17 w24 w31 w38 w45 w2 w9 w16 w23 w30\"}\n"
            .write(toFile: testSet, atomically: true, encoding: .utf8)
        let parameters = DecontaminationProtocol.helm.parameters
        let indexPath = scratch.appendingPathComponent("i.sqlite").path
        try DecontaminationIndex.openOrCreate(path: indexPath, n: parameters.n, normalization: parameters.normalization)
            .importFiles([testSet], splits: nil)
        let clean = scratch.appendingPathComponent("clean")
        let job = ScanJob(inputs: try ShardPaths.expand([shards.path]), source: "a",
                          readerOptions: ReaderOptions(idField: FieldPath("id"), skipBadRecords: true),
                          parameters: parameters, outputDirectory: clean.path,
                          reportPath: scratch.appendingPathComponent("report.jsonl").path, summaryPath: nil)
        let outcome = try job.run(index: try DecontaminationIndex.open(path: indexPath))
        #expect(outcome.counts.isBalanced)
        #expect(outcome.reading.failedFiles.values.reduce(0, +) == 3, "\(outcome.reading.failedFiles)")
        let published = Set(try FileManager.default.contentsOfDirectory(atPath: clean.path))
        #expect(published.contains("good.jsonl.zst"))
        #expect(!published.contains("truncated.jsonl.zst"), "a partial shard was published")
        #expect(outcome.shardsWithheld.count >= 1 && outcome.shardsWithheld.allSatisfy { !$0.contains("good") })
        #expect((outcome.counts.documentsDropped["in-unreadable-file"] ?? 0) > 0)
        // Kept documents are exactly what the published shards hold.
        var written = 0
        let reader = DocumentReader(paths: try ShardPaths.expand([clean.path]), source: "a", options: ReaderOptions(idField: FieldPath("id")))
        while try reader.next() != nil { written += 1 }
        #expect(written == outcome.counts.documentsKept)
    }
}
