import Foundation
import LongMixCore
import Mixing
import Packing
import ShardIO
import Testing
import TestSupport
@testable import Pipeline

/// The generated corpus, made once per process.
final class SharedCorpus: @unchecked Sendable {
    static let shared = SharedCorpus()
    let corpus: GeneratedCorpus
    let spec: MixtureSpec
    private var packs: [String: (String, MixtureBuild.Result)] = [:]
    private let lock = NSLock()

    init() {
        corpus = try! GeneratedCorpus(name: "generated-corpus")
        spec = try! MixtureSpec.load(path: corpus.mixture)
    }

    /// A local build (once per name): exact, sample-first, or sample-first with tiny first
    /// thresholds that grow at most twofold per raise.
    func pack(_ name: String, exact: Bool = false, tuning: SamplingPlan.Tuning = .init()) throws -> (dir: String, result: MixtureBuild.Result) {
        lock.lock()
        defer { lock.unlock() }
        if let (dir, result) = packs[name] { return (dir, result) }
        let dir = corpus.root.appendingPathComponent("packs/\(name)").path
        let result = try MixtureBuild(spec: spec, options: .init(threads: 2, output: dir, exact: exact, tuning: tuning,
                                                                 candidateFloor: 0)).run()
        packs[name] = (dir, result)
        return (dir, result)
    }
}

/// Pack data files (not the manifest, whose reading counts differ by mode, nor the report,
/// which lists the documents scanned) as SHA-256 by name.
func dataDigests(_ dir: String) throws -> [String: String] {
    var d = try packDigests(dir, includingManifest: false)
    d["decontamination-report.jsonl"] = nil
    return d
}

/// Every source's counts add up: documents read = available + dropped + never tokenized;
/// tokens read (of documents tokenized) = available + dropped.
func expectBalanced(_ manifest: PackManifest, _ label: String) {
    for s in manifest.sources {
        #expect(s.documentsRead == s.documentsAvailable + s.documentsDropped.values.reduce(0, +) + (s.documentsNotTokenized ?? -1),
                "\(label) \(s.name): documents do not add up")
        #expect(s.tokensRead == s.tokensAvailable + s.tokensDropped.values.reduce(0, +), "\(label) \(s.name): tokens do not add up")
    }
}

/// The counting pass's estimate of each source's available tokens lies within its error bound
/// of the exact figure (few-shot sources included: their sample is of documents, not of groups).
func expectEstimatesWithinBounds(_ plan: SamplingPlan, _ exact: PackManifest) {
    for (p, m) in zip(plan.sources, exact.sources) {
        #expect(abs(p.estimatedTokens - m.tokensAvailable) <= p.errorBound,
                "\(p.name): estimate \(p.estimatedTokens) ± \(p.errorBound), exact \(m.tokensAvailable)")
        #expect(p.estimateIsExact || p.errorBound > 0, "\(p.name): a sampled estimate needs a bound")
    }
}

/// The selection fields of a manifest, equal whatever the mode.
func selectionFields(_ m: PackManifest) -> [String] {
    m.sources.map { "\($0.name) \($0.documentsTaken) \($0.tokensTaken) \($0.achievedShare) \($0.packing_)" }
        + ["\(m.sequences) \(m.totals) \(m.paddingRate) \(m.truncationRate)"]
}

@Suite(.serialized) struct SampleFirstTests {
    @Test(arguments: ["pretrain-32k", "instruct-32k"])
    func fixturePacksAreTheSameSampledOrExact(_ name: String) throws {
        let spec = try MixtureSpec.load(path: FixturePacks.shared.mixture(name))
        let root = try TestEnvironment.temporaryDirectory("fixture-modes")
        let (sampled, exact) = try FixturePacks.shared.exclusively {
            (try MixtureBuild(spec: spec, options: .init(threads: 2, output: root.appendingPathComponent("s").path)).run(),
             try MixtureBuild(spec: spec, options: .init(threads: 2, output: root.appendingPathComponent("e").path, exact: true)).run())
        }
        #expect(try dataDigests(root.appendingPathComponent("s").path) == dataDigests(root.appendingPathComponent("e").path))
        #expect(selectionFields(sampled.manifest) == selectionFields(exact.manifest))
        expectBalanced(sampled.manifest, "sampled")
        expectBalanced(exact.manifest, "exact")
        #expect(exact.manifest.sources.allSatisfy { $0.documentsNotTokenized == 0 })
        expectEstimatesWithinBounds(sampled.plan, exact.manifest)
    }

    @Test func generatedCorpusSampledEqualsExact() throws {
        let shared = SharedCorpus.shared
        let (exactDir, exact) = try shared.pack("exact", exact: true)
        let (sampledDir, sampled) = try shared.pack("sampled")
        let (forcedDir, forced) = try shared.pack("forced", tuning: .init(scale: 0.05, maximumGrowth: 2))
        let reference = try dataDigests(exactDir)
        #expect(try dataDigests(sampledDir) == reference)
        #expect(try dataDigests(forcedDir) == reference)
        expectEstimatesWithinBounds(sampled.plan, exact.manifest)
        for (label, r) in [("exact", exact), ("sampled", sampled), ("forced", forced)] {
            expectBalanced(r.manifest, label)
            #expect(selectionFields(r.manifest) == selectionFields(exact.manifest), "\(label)")
        }
        let names = shared.spec.sources.map(\.name)
        let web = names.firstIndex(of: "web")!, books = names.firstIndex(of: "books")!
        let tiny = names.firstIndex(of: "tiny")!, threads = names.firstIndex(of: "threads")!
        // The big sources were sampled: most documents never tokenized.
        for s in [web, books, threads] {
            let m = sampled.manifest.sources[s]
            #expect(m.samplingRate < 0.2 && (m.documentsNotTokenized ?? 0) > m.documentsRead / 2, "\(m.name): \(m)")
            #expect(m.tokensAvailableEstimate != nil)
        }
        // Forced small thresholds, doubling: at least two raises where the sampler was short.
        #expect(forced.raises[web] >= 2 && forced.raises[books] >= 2, "raises \(forced.raises)")
        #expect(sampled.raises[web] == 0 && sampled.raises[books] == 0, "the default margin should not need a raise: \(sampled.raises)")
        // The up-sampled source is read whole and tokenized once.
        #expect(exact.targets[tiny].rate > 1)
        for r in [sampled, forced] {
            let m = r.manifest.sources[tiny]
            #expect(r.coveredFractions[tiny] == 1 && m.documentsTokenized == m.documentsRead && m.documentsNotTokenized == 0)
            #expect(m.samplingRate == exact.manifest.sources[tiny].samplingRate)
        }
        // The planted thread is dropped whole, though its contaminated member was never tokenized.
        let dirtyKey = KeyRange.fraction(SelectionKey.key(seed: GeneratedCorpus.seed, source: "threads", id: shared.corpus.dirtyMember))
        #expect(sampled.coveredFractions[threads] < dirtyKey, "the contaminated member should lie above the threshold")
        #expect(sampled.plan.sources[threads].count.dirtyGroups == [shared.corpus.dirtyGroup])
        var dirtyInSampleRange = 0
        for (id, thread) in shared.corpus.threadOf where thread == shared.corpus.dirtyGroup {
            if KeyRange.fraction(SelectionKey.key(seed: GeneratedCorpus.seed, source: "threads", id: id)) < sampled.coveredFractions[threads] {
                dirtyInSampleRange += 1
            }
        }
        for dir in [exactDir, sampledDir, forcedDir] {
            let table = try PackReader(directory: dir).documents()
            let ids = table.filter { $0.source == "threads" }.map(\.id)
            #expect(!ids.isEmpty && !ids.contains { shared.corpus.threadOf[$0] == shared.corpus.dirtyGroup })
        }
        #expect(exact.manifest.sources[threads].documentsDropped["contaminated-group"] == 5)
        #expect(sampled.manifest.sources[threads].documentsDropped["contaminated-group"] ?? 0 == dirtyInSampleRange)
        #expect(try PackReader(directory: sampledDir).verify().isEmpty)
    }

    @Test func distributedBuildsEqualTheLocalBuildForAnyTaskCount() throws {
        let shared = SharedCorpus.shared
        let (localDir, _) = try shared.pack("sampled")
        let local = try packDigests(localDir)
        for n in [1, 2, 4, 7] {
            let dir = shared.corpus.root.appendingPathComponent("dist-\(n)").path
            // The default candidate floor (4 MB) would hold this whole corpus: none, to exercise eviction.
            let build = try MixtureBuild(spec: shared.spec, options: .init(threads: 1, buildDirectory: dir, candidateFloor: 0))
            for i in (0..<n).reversed() { try build.count(task: try BuildTask(index: i, count: n)) }
            for i in 0..<n { try build.tokenize(task: try BuildTask(index: i, count: n)) }
            #expect(BuildDirectory(path: dir).status().allSatisfy { $0.states.allSatisfy { $0 == .done } })
            // Count task 0 kept candidate documents, within its budget (so below a key limit) for web.
            let files = try build.candidateFiles(for: try BuildTask(index: 0, count: n))
            #expect(files[0] != nil && files[0]?.limit != nil, "\(n) tasks: \(files)")
            let out = shared.corpus.root.appendingPathComponent("dist-\(n)-pack").path
            _ = try MixtureBuild(directory: dir, options: .init(threads: 2)).merge(output: out)
            #expect(try packDigests(out) == local, "\(n) tasks")
        }
        // Thresholds so small that the merge must raise them (tokenizing the shortfall itself).
        let tuning = SamplingPlan.Tuning(scale: 0.05, maximumGrowth: 2)
        let (forcedDir, forced) = try shared.pack("forced", tuning: tuning)
        let dir = shared.corpus.root.appendingPathComponent("dist-forced").path
        let build = try MixtureBuild(spec: shared.spec, options: .init(threads: 1, buildDirectory: dir, tuning: tuning))
        for i in 0..<3 { try build.count(task: try BuildTask(index: i, count: 3)) }
        for i in 0..<3 { try build.tokenize(task: try BuildTask(index: i, count: 3)) }
        let out = shared.corpus.root.appendingPathComponent("dist-forced-pack").path
        let merged = try MixtureBuild(directory: dir, options: .init(threads: 2, tuning: tuning)).merge(output: out)
        #expect(merged.raises == forced.raises && merged.raises.reduce(0, +) >= 4)
        #expect(try packDigests(out) == packDigests(forcedDir))
        #expect(BuildDirectory(path: dir).status().contains { $0.stage == "tokenize (raise 2)" && $0.states == [.done] })
    }

    @Test func aKilledTaskRerunWritesTheSamePart() throws {
        let shared = SharedCorpus.shared
        let dir = shared.corpus.root.appendingPathComponent("killed").path
        let build = try MixtureBuild(spec: shared.spec, options: .init(threads: 1, buildDirectory: dir))
        for i in 0..<4 { try build.count(task: try BuildTask(index: i, count: 4)) }
        let task = try BuildTask(index: 1, count: 4)
        #expect(try build.tokenize(task: task))
        #expect(try !build.tokenize(task: task), "a complete task is skipped")
        let slot = BuildDirectory(path: dir).tokenizeSlot(task, range: 0)
        let first = try packDigests(slot.part)
        // As if killed after the rename, before the marker, with a leftover and a dead holder's lock.
        try FileManager.default.removeItem(atPath: slot.marker)
        try FileManager.default.createDirectory(atPath: slot.part + ".tmp-999999", withIntermediateDirectories: true)
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run()
        dead.waitUntilExit()
        try "\(TaskLock.hostName()) \(dead.processIdentifier)".write(toFile: slot.lock, atomically: true, encoding: .utf8)
        #expect(BuildDirectory.state(of: slot) == .stale(holder: "\(TaskLock.hostName()) \(dead.processIdentifier)"))
        #expect(BuildDirectory.state(of: BuildDirectory(path: dir).tokenizeSlot(try BuildTask(index: 2, count: 4), range: 0)) == .missing)
        #expect(try build.tokenize(task: task))
        #expect(try packDigests(slot.part) == first)
        #expect(BuildDirectory.state(of: slot) == .done)
        #expect(!FileManager.default.fileExists(atPath: slot.part + ".tmp-999999") && !FileManager.default.fileExists(atPath: slot.lock))
        // The merge refuses an incomplete build and names the missing tasks.
        do {
            _ = try MixtureBuild(directory: dir, options: .init()).merge(output: nil)
            Issue.record("merge accepted missing tasks")
        } catch let error as InputError {
            #expect(error.message.contains("0, 2, 3 of 4"), "\(error)")
        }
    }

    /// Default ids are relative to the data root: a shard added in another directory renames
    /// nothing and leaves the order among the other documents unchanged.
    @Test func addingAShardElsewhereKeepsIdsAndSelection() throws {
        let root = try TestEnvironment.temporaryDirectory("stable-ids")
        let fm = FileManager.default
        for (dir, count) in [("data/web/a", 3), ("data/extra/b", 2)] {
            try fm.createDirectory(at: root.appendingPathComponent(dir), withIntermediateDirectories: true)
            for k in 0..<count {
                let lines = (0..<30).map { d in "{\"text\": \"\(GeneratedCorpus.words(GeneratedCorpus.length("\(dir)\(k)\(d)", 40...200), salt: "\(dir)\(k)\(d)"))\"}" }
                try (lines.joined(separator: "\n") + "\n").write(to: root.appendingPathComponent("\(dir)/s\(k).jsonl"), atomically: true, encoding: .utf8)
            }
        }
        let tokenizer = TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model").path
        func mixture(_ paths: String) throws -> MixtureSpec {
            let path = root.appendingPathComponent("m\(paths.count).yaml").path
            try """
                name: ids
                seed: 3
                seq_len: 512
                min_doc_tokens: 10
                tokenizer: \(tokenizer)
                data_root: data
                budget: 4096
                sources:
                  - name: web
                    paths: \(paths)

                """.write(toFile: path, atomically: true, encoding: .utf8)
            return try MixtureSpec.load(path: path)
        }
        let before = try mixture("[web/a]"), after = try mixture("[web/a, extra/b]")
        func ids(_ spec: MixtureSpec) throws -> [String] {
            let r = DocumentReader(paths: try ShardPaths.expand(spec.sources[0].paths), source: "web", options: spec.sources[0].reader)
            var out: [String] = []
            while let d = try r.next() { out.append(d.id) }
            return out
        }
        let old = try ids(before), new = try ids(after)
        #expect(old.first == "web/a/s0.jsonl:1")
        #expect(Array(new.prefix(old.count)) == old && new.count == old.count + 60)
        // The rule this replaces (relative to the shards' common directory) renamed every document.
        func legacyFirstID(_ spec: MixtureSpec) throws -> String? {
            var legacy = spec.sources[0].reader
            legacy.idRoot = nil
            return try DocumentReader(paths: try ShardPaths.expand(spec.sources[0].paths), source: "web", options: legacy).next()?.id
        }
        #expect(try legacyFirstID(before) != legacyFirstID(after))
        // Selection: the documents of web/a in the new pack come in the same key order as before,
        // and those the old pack took first are still taken first.
        let packs = try [before, after].enumerated().map { k, spec in
            let dir = root.appendingPathComponent("pack\(k)").path
            _ = try MixtureBuild(spec: spec, options: .init(threads: 1, output: dir)).run()
            return try PackReader(directory: dir).documents().map(\.id).filter { $0.hasPrefix("web/a/") }
        }
        func keyOrder(_ ids: [String]) -> [String] {
            ids.sorted { SelectionKey.key(seed: 3, source: "web", id: $0) < SelectionKey.key(seed: 3, source: "web", id: $1) }
        }
        let first = keyOrder(packs[0]), second = keyOrder(packs[1])
        #expect(!second.isEmpty && second.count < first.count)
        #expect(Array(first.prefix(second.count)) == second)
    }
}
