import Foundation
import LongMixCore
import Mixing
import Packing
import ShardIO
import Testing
import TestSupport
import Tokenization
@testable import Pipeline

/// Builds the fixture mixtures once per process (debug builds are slow) and shares the packs.
final class FixturePacks: @unchecked Sendable {
    static let shared = FixturePacks()
    let root: URL
    private var built: [String: (MixtureSpec, MixtureBuild.Result)] = [:]
    private let lock = NSLock()

    init() { root = try! TestEnvironment.temporaryDirectory("packs") }

    func mixture(_ name: String) -> String { TestEnvironment.repoRoot.appendingPathComponent("Mixtures/fixtures/\(name).yaml").path }

    /// Runs `body` while no fixture pack is being built (the fixture mixtures share one SQLite
    /// index, which suites running in parallel would otherwise find locked).
    func exclusively<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// Builds `name` with `threads` threads into root/name-threads (once).
    func pack(_ name: String, threads: Int = 2, megatron: Bool = false) throws -> (dir: String, spec: MixtureSpec, result: MixtureBuild.Result) {
        lock.lock()
        defer { lock.unlock() }
        let dir = root.appendingPathComponent("\(name)-\(threads)\(megatron ? "-exact" : "")").path
        if let (spec, result) = built[dir] { return (dir, spec, result) }
        let spec = try MixtureSpec.load(path: mixture(name))
        let result = try MixtureBuild(spec: spec, options: .init(
            threads: threads, output: dir, megatronDirectory: megatron ? dir + "-megatron" : nil, exact: megatron)).run()
        built[dir] = (spec, result)
        return (dir, spec, result)
    }
}

@Suite(.serialized) struct MixtureBuildTests {
    @Test func pretrainPackIsExactAndBalanced() throws {
        let (dir, spec, result) = try FixturePacks.shared.pack("pretrain-32k", megatron: true)
        let reader = try PackReader(directory: dir)
        #expect(try reader.verify().isEmpty)
        #expect(reader.count > 0 && reader.count == result.manifest.sequences)
        let tokens = try Data(contentsOf: URL(fileURLWithPath: dir + "/tokens.bin")).count
        #expect(tokens == reader.count * spec.seqLen * 2)
        #expect(result.manifest.totals.paddingTokens == 0)  // concat: every sequence full of text
        for source in result.manifest.sources {
            #expect(abs(source.achievedShare - source.targetShare) <= 0.005, "\(source.name)")
            // Counts add up: read = available + dropped (+ never tokenized, none in an exact build).
            #expect(source.documentsNotTokenized == 0)
            #expect(source.documentsRead == source.documentsAvailable + source.documentsDropped.values.reduce(0, +))
            #expect(source.tokensRead == source.tokensAvailable + source.tokensDropped.values.reduce(0, +))
        }
        // Shares recomputed from the segments, independently of the manifest.
        var perSource = [Int](repeating: 0, count: spec.sources.count)
        for i in 0..<reader.count {
            for s in reader.segments(of: i) where s.kind == .document { perSource[Int(s.source)] += Int(s.length) }
        }
        let total = Double(perSource.reduce(0, +))
        for (s, n) in perSource.enumerated() { #expect(abs(Double(n) / total - spec.sources[s].weight) <= 0.005) }
    }

    @Test func outputIsByteIdenticalForOneAndTwoThreads() throws {
        let one = try FixturePacks.shared.pack("pretrain-32k", threads: 1).dir
        let two = try FixturePacks.shared.pack("pretrain-32k", threads: 2).dir
        for file in [PackFormat.tokensFile, PackFormat.lossMaskFile, PackFormat.segmentsFile, PackFormat.segmentIndexFile,
                     PackFormat.documentsFile] {
            #expect(try Data(contentsOf: URL(fileURLWithPath: one + "/" + file)) == Data(contentsOf: URL(fileURLWithPath: two + "/" + file)), "\(file)")
        }
    }

    /// Every document in the pack decodes back to its source text at the recorded boundaries,
    /// and no kept document is shorter than the minimum.
    @Test func sequencesDecodeToTheSourceDocuments() throws {
        let (dir, spec, _) = try FixturePacks.shared.pack("pretrain-32k")
        let reader = try PackReader(directory: dir)
        let tokenizer = try Tokenizer.load(path: spec.tokenizer)
        let table = try reader.documents()
        // Reassemble each document's stream from its segments, wherever they are.
        var streams: [Int32: [(offset: UInt32, ids: [TokenID])]] = [:]
        for i in 0..<reader.count {
            let ids = reader.tokens(of: i)
            for s in reader.segments(of: i) where s.kind == .document {
                streams[s.document, default: []].append((s.documentOffset, Array(ids[Int(s.start)..<Int(s.start + s.length)])))
            }
        }
        // The source texts, by source and id.
        var texts: [String: [UInt8]] = [:]
        for source in spec.sources {
            let r = DocumentReader(paths: try ShardPaths.expand(source.paths), source: source.name, options: source.reader)
            while let d = try r.next() { texts[source.name + "\u{0}" + d.id] = d.text }
        }
        var whole = 0
        for (ref, parts) in streams {
            let (source, id) = table[Int(ref)]
            let pieces = parts.sorted { $0.offset < $1.offset }
            var stream: [TokenID] = []
            for piece in pieces {
                #expect(Int(piece.offset) == stream.count, "gap in \(id)")
                stream += piece.ids
            }
            let text = try #require(texts[source + "\u{0}" + id])
            let expected = tokenizer.encode(text, addBOS: spec.addBOS, addEOS: spec.addEOS)
            #expect(expected.count - 2 >= spec.minDocumentTokens, "\(id) is under the minimum")
            #expect(Array(expected.prefix(stream.count)) == stream, "\(id): tokens differ from the source")
            if stream.count == expected.count {
                whole += 1
                #expect(try tokenizer.decode(Array(stream.dropFirst().dropLast())) == text, "\(id) does not decode to its text")
            }
        }
        #expect(whole > 10)
    }

    @Test func instructPackIsFewShotWithCompletionOnlyLoss() throws {
        let (dir, spec, result) = try FixturePacks.shared.pack("instruct-32k")
        let reader = try PackReader(directory: dir)
        #expect(try reader.verify().isEmpty)
        for source in result.manifest.sources { #expect(abs(source.achievedShare - source.targetShare) <= 0.005, "\(source.name)") }
        let table = try reader.documents()
        let tokenizer = try Tokenizer.load(path: spec.tokenizer)
        var checkedFewShot = 0
        for i in 0..<reader.count {
            let segments = reader.segments(of: i)
            let mask = reader.lossMask(of: i)
            guard spec.sources[Int(segments[0].source)].packing == .fewShot else { continue }
            checkedFewShot += 1
            #expect(segments[0].kind == .header)
            #expect(mask[Int(segments[0].start)..<Int(segments[0].length)].allSatisfy { $0 == 0 })
            let examples = segments.filter { $0.kind == .document }
            #expect(!examples.isEmpty)
            for e in examples {
                let m = mask[Int(e.start)..<Int(e.start + e.length)]
                // Prompt first (mask 0), then the answer (mask 1): one switch, at least one trained token.
                #expect(m.first == 0 && m.last == 1)
                #expect(zip(m, m.dropFirst()).filter { $0 != $1 }.count == 1)
            }
            // The header decodes to the group's definition (NI) and all examples share its group.
            if spec.sources[Int(segments[0].source)].name == "natural_instructions" {
                let header = try tokenizer.decode(Array(reader.tokens(of: i)[1..<Int(segments[0].length)]))
                #expect(String(decoding: header, as: UTF8.self).hasPrefix("In this task, "))
                let tasks = Set(examples.map { table[Int($0.document)].id.split(separator: "-").first! })
                #expect(tasks.count == 1)
            }
        }
        #expect(checkedFewShot > 5)
    }

    @Test func numpyReadsThePackAsTheREADMEShows() throws {
        if TestEnvironment.skipReason(needsPython: true) != nil { return }
        let (dir, spec, _) = try FixturePacks.shared.pack("pretrain-32k", megatron: true)
        let reader = try PackReader(directory: dir)
        let prefixes = spec.sources.map { dir + "-megatron/" + $0.name }
        let out = try JSONValue.parse([UInt8](try Oracle.run("pack_numpy_loader.py", arguments: [dir] + prefixes)))
        #expect(out["shape"] == .array([.number("\(reader.count)"), .number("\(spec.seqLen)")]))
        var tokenSum = 0, maskSum = 0
        for i in 0..<reader.count {
            tokenSum += reader.tokens(of: i).reduce(0) { $0 + Int($1) }
            maskSum += reader.lossMask(of: i).reduce(0) { $0 + Int($1) }
        }
        #expect(out["token_sum"]?.intValue == tokenSum && out["mask_sum"]?.intValue == maskSum)
        #expect(out["cu_seqlens_0"] == .array((reader.segments(of: 0).map { Int($0.start) } + [spec.seqLen]).map { .number("\($0)") }))
        let available = Dictionary(uniqueKeysWithValues: try PackReader(directory: dir).manifest.sources.map { ($0.name, $0) })
        for (source, prefix) in zip(spec.sources, prefixes) {
            let m = try #require(out["megatron"]?[prefix])
            #expect(m["version"]?.intValue == 1 && m["doc_index_ok"] == .bool(true) && m["bin_size_ok"] == .bool(true))
            #expect(m["count"]?.intValue == available[source.name]?.documentsAvailable)
            #expect(m["tokens"]?.intValue == available[source.name]?.tokensAvailable)
        }
        let dataPath = try String(contentsOfFile: dir + "-megatron/data_path.txt", encoding: .utf8)
        #expect(dataPath.hasPrefix("0.25 ") && dataPath.contains("rp_book"))
    }

    /// Best-fit takes whole documents only: nothing is cut, yet shares stay within half a point.
    @Test func bestFitCutsNoDocumentAndKeepsTheShares() throws {
        var spec = try MixtureSpec.load(path: FixturePacks.shared.mixture("pretrain-32k"))
        for i in spec.sources.indices { spec.sources[i].packing = .bestFit }
        let dir = try TestEnvironment.temporaryDirectory("best-fit").appendingPathComponent("pack").path
        let result = try FixturePacks.shared.exclusively { try MixtureBuild(spec: spec, options: .init(threads: 2, output: dir)).run() }
        #expect(try PackReader(directory: dir).verify().isEmpty)
        #expect(result.manifest.totals.truncatedTokens == 0 && result.manifest.totals.documentsTruncated == 0)
        #expect(result.manifest.totals.paddingTokens > 0)
        for source in result.manifest.sources {
            #expect(abs(source.achievedShare - source.targetShare) <= 0.005, "\(source.name)")
            #expect(source.packing_.documentsSplit == 0, "\(source.name): fixture documents all fit one sequence")
        }
    }

    @Test func theBuildRefusesTheGPT3ProtocolWithAWayOut() throws {
        var spec = try MixtureSpec.load(path: FixturePacks.shared.mixture("pretrain-32k"))
        spec.decontamination?.protocolName = "gpt3"
        do {
            _ = try MixtureBuild(spec: spec, options: .init(threads: 1)).run()
            Issue.record("gpt3 accepted")
        } catch let error as ConfigurationError {
            #expect(error.key == "decontamination.protocol" && error.message.contains("decontam scan --protocol gpt3"))
        }
    }
}
