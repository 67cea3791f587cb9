import Foundation
import LongMixCore
import Mixing
import Packing
import ShardIO
import Tokenization

/// The merge: loads every tokenize part of a build directory, selects each source's documents
/// in global key order (raising thresholds where the tokenized documents fall short, and
/// tokenizing the shortfall range itself), assembles the pack and writes its manifest.
///
/// Threshold raises in a distributed build: the merge reads the source's shards once more (one
/// process, its threads) and tokenizes only the documents between the old and the new
/// threshold, as range part `tokenize/r<k>/task-00000-of-00001`; the range is recorded in
/// `tokenize/r<k>.json` first, so a merge killed mid-raise resumes it. The pack is the same
/// whoever tokenized which range.
final class MergeStage {
    let spec: MixtureSpec
    let tokenizer: Tokenizer
    let directory: BuildDirectory
    let plan: SamplingPlan
    let tokenize: TokenizeStage
    let tuning: SamplingPlan.Tuning
    /// The count stage's candidates when it ran as one task (raises run as task 0 of 1).
    let candidates: [CandidateFile?]
    private(set) var stores: [SourceStore] = []
    private(set) var raises: [Int]

    init(spec: MixtureSpec, tokenizer: Tokenizer, directory: BuildDirectory, plan: SamplingPlan, tokenize: TokenizeStage,
         candidates: [CandidateFile?], tuning: SamplingPlan.Tuning) {
        self.candidates = candidates
        self.spec = spec
        self.tokenizer = tokenizer
        self.directory = directory
        self.plan = plan
        self.tokenize = tokenize
        self.tuning = tuning
        raises = [Int](repeating: 0, count: spec.sources.count)
    }

    /// The key ranges of range part `r` (range 0 is the plan's first thresholds).
    static func firstRanges(_ plan: SamplingPlan) -> [KeyRange?] {
        plan.sources.map { KeyRange(lower: 0, upper: KeyRange.bound(fraction: $0.threshold)) }
    }

    private func rangesFile(_ r: Int) -> String { directory.path + "/tokenize/r\(r).json" }

    /// Loads range parts 0, 1, ... that exist; every task of each must be complete.
    func load() throws {
        stores = zip(spec.sources, plan.sources).map { SourceStore(name: $0.name, count: $1.count) }
        var r = 0
        while true {
            let ranges: [KeyRange?]
            if r == 0 {
                ranges = Self.firstRanges(plan)
            } else if let data = FileManager.default.contents(atPath: rangesFile(r)) {
                ranges = try JSONDecoder().decode([KeyRange?].self, from: data)
                // A raise recorded but not finished (a killed merge): run it now.
                if !directory.tokenizeSlot(.single, range: r).isComplete { try runRange(r, ranges) }
            } else {
                break
            }
            try add(range: r, ranges)
            r += 1
        }
    }

    private func add(range r: Int, _ ranges: [KeyRange?]) throws {
        let folder = directory.tokenizeDirectory(range: r)
        let counts = BuildDirectory.taskCounts(in: folder)
        guard counts.count == 1, let n = counts.first else {
            throw InputError.file(folder, reason: .incompleteBuild,
                                  counts.isEmpty ? "no tokenize parts: run `longmix build MIXTURE --build-dir \(directory.path)` for every task first"
                                      : "tokenize parts for different task counts (\(counts.sorted())); remove the stale ones")
        }
        let tasks = try (0..<n).map { try BuildTask(index: $0, count: n) }
        let missing = tasks.filter { !directory.tokenizeSlot($0, range: r).isComplete }
        guard missing.isEmpty else {
            throw InputError.file(folder, reason: .incompleteBuild,
                                  "tokenize tasks not complete: \(missing.map { String($0.index) }.joined(separator: ", ")) of \(n) (see `longmix status`)")
        }
        for task in tasks {
            let part = directory.tokenizeSlot(task, range: r).part
            let data = try Data(contentsOf: URL(fileURLWithPath: part + "/counts.json"))
            let counts = try JSONDecoder().decode([TokenizeCounts].self, from: data)
            for (s, range) in ranges.enumerated() where range != nil {
                try stores[s].add(part: part, source: s, counts: counts[s])
            }
        }
        for (s, range) in ranges.enumerated() { if let range { stores[s].cover(upTo: range.upper) } }
    }

    private func runRange(_ r: Int, _ ranges: [KeyRange?]) throws {
        let dirty = plan.sources.map(\.count.groupDrops)
        try BuildDirectory.publish(directory.tokenizeSlot(.single, range: r)) { temporary in
            try tokenize.run(task: .single, ranges: ranges, dirtyGroups: dirty, candidates: candidates, to: temporary)
        }
    }

    /// Targets from what is known: exact supplies for sources tokenized whole, estimates for the
    /// rest (under smallest-source only whole sources can set the total; the others are checked
    /// to offer at least their share of it).
    private func targets() throws -> (targets: [SourceTarget], total: Double?) {
        var supplies = zip(spec.sources, stores).map { source, store in
            SourceSupply(name: source.name, weight: source.weight, tokens: store.keptTokens, packing: source.packing)
        }
        var total: Double?
        if spec.budget == .smallestSource {
            let whole = stores.indices.filter { stores[$0].isWhole }
            guard !whole.isEmpty else { throw PlanError("internal: smallest-source budget with no source tokenized whole") }
            let t = whole.map { Double(stores[$0].keptTokens) / supplies[$0].weight }.min()!
            total = t
            for s in stores.indices where !stores[s].isWhole {
                supplies[s].tokens = max(stores[s].keptTokens, Int((supplies[s].weight * t).rounded(.up)) + 1)
            }
        } else {
            for s in stores.indices where !stores[s].isWhole {
                supplies[s].tokens = max(1, stores[s].keptTokens, plan.sources[s].estimatedTokens)
            }
        }
        var targets = try MixturePlanner.plan(supplies, budget: spec.budget, seqLen: spec.seqLen, maxEpochs: spec.maxEpochs)
        for s in stores.indices where !stores[s].isWhole {
            targets[s].rate = Double(targets[s].tokens) / Double(max(1, plan.sources[s].estimatedTokens))
        }
        return (targets, total)
    }

    /// Selection with raises until every source's walk finishes inside its tokenized keys.
    func select() throws -> (targets: [SourceTarget], picks: [[Selection.Pick]]) {
        while true {
            let (targets, total) = try targets()
            var picks: [[Selection.Pick]] = []
            var raise: [KeyRange?] = Array(repeating: nil, count: stores.count)
            for (s, store) in stores.enumerated() {
                let source = spec.sources[s]
                var found: Int?
                if let total, !store.isWhole, Double(store.keptTokens) < source.weight * total {
                    found = store.keptTokens
                    picks.append([])
                } else {
                    switch Selection.select(store, target: targets[s].tokens, packing: source.packing,
                                            minimumLength: source.minDocumentTokens, seed: spec.seed) {
                    case .done(let chosen): picks.append(chosen)
                    case .short(let f): found = f; picks.append([])
                    }
                }
                if let found {
                    let next = SamplingPlan.raisedThreshold(store.coveredFraction, found: found, target: targets[s].tokens, tuning: tuning)
                    raise[s] = KeyRange(lower: store.coveredUpper!, upper: KeyRange.bound(fraction: next))
                    raises[s] += 1
                }
            }
            guard raise.contains(where: { $0 != nil }) else { return (targets, picks) }
            var r = 1
            while FileManager.default.fileExists(atPath: rangesFile(r)) { r += 1 }
            try TemporaryFiles.makeSubdirectory(directory.path + "/tokenize")
            try PartJSON.write(raise, to: rangesFile(r))
            try runRange(r, raise)
            try add(range: r, raise)
        }
    }

    /// Writes the pack (and the report inside it) and returns its manifest.
    /// Writes the pack's files (and the report) into `target`'s staging directory; the caller
    /// commits the returned writer with the returned extra files once nothing else is staged.
    func pack(target: OutputTarget, targets: [SourceTarget], picks: [[Selection.Pick]], manifest: inout PackManifest,
              reportRows: Bool) throws -> (PackWriter, [String: PackManifest.FileDigest]) {
        let writer = try PackWriter(target: target, seqLen: spec.seqLen, vocabularySize: tokenizer.vocabularySize)
        let encoder = tokenizer.makeEncoder()
        var sources: [AssemblySource] = []
        for (s, store) in stores.enumerated() {
            let source = spec.sources[s]
            var headerIndex: [String: Int] = [:]
            var headers: [[TokenID]] = []
            var groupNames: [String] = []
            let texts = Dictionary(uniqueKeysWithValues: plan.sources[s].count.headers.map { ($0.group, $0.text) })
            var assembly: [AssemblySource.Pick] = []
            for pick in picks[s] {
                let entry = store.entries[pick.entry]
                var group = -1
                if let name = entry.group {
                    if let g = headerIndex[name] {
                        group = g
                    } else {
                        var header: [TokenID] = []
                        if spec.addBOS, let bos = tokenizer.bosID { header.append(bos) }
                        if let text = texts[name] { header += encoder.encode(Array(text.utf8)) }
                        group = headers.count
                        headerIndex[name] = group
                        headers.append(header)
                        groupNames.append(name)
                    }
                }
                assembly.append(.init(entry: pick.entry, id: entry.id, limit: pick.limit, length: entry.length,
                                      promptTokens: entry.promptTokens, group: group))
            }
            let layout: AssemblySource.Layout = switch source.packing {
            case .concat: .concat
            case .bestFit: .bestFit
            case .fewShot: .fewShot
            }
            sources.append(AssemblySource(name: source.name, packing: layout, picks: assembly, headers: headers,
                                          groupNames: groupNames, fewShotFill: source.fewShotFill))
        }
        let padID = try spec.resolvedPadID(vocabularySize: tokenizer.vocabularySize, eosID: tokenizer.eosID)
        let plans = try PackAssembler.assemble(sources, seqLen: spec.seqLen, padID: padID,
                                               completionOnly: spec.loss == .completionOnly, writer: writer,
                                               progress: tokenize.progress) { s, pick, range in
            stores[s].tokens(pick.entry, range: range)
        }
        BuildManifest.fillPacking(&manifest, plans: plans, taken: picks.map { $0.reduce(0) { $0 + $1.limit } }, seqLen: spec.seqLen)
        var extra: [String: PackManifest.FileDigest] = [:]
        if reportRows {
            let report = try writeReport(to: target.staging + "/" + Self.reportFile)
            extra[Self.reportFile] = .init(bytes: report.bytesWritten, sha256: report.sha256Hex!)
        }
        return (writer, extra)
    }

    /// The decontamination report's name inside the pack directory.
    static let reportFile = "decontamination-report.jsonl"

    /// The decontamination rows of every part, source by source in reading order.
    private func writeReport(to path: String) throws -> JSONLWriter {
        let writer = try JSONLWriter(path: path, hashing: true)
        for (s, store) in stores.enumerated() {
            var rows: [(shard: Int, line: Int, order: Int, row: ArraySlice<UInt8>)] = []
            // Header rows first at their group's first member.
            var headerRow = Int.min / 2
            for header in plan.sources[s].count.headers {
                for line in header.report {
                    rows.append((header.shard, header.line, headerRow, Array(line.utf8)[...]))
                    headerRow += 1
                }
            }
            for file in store.reportFiles {
                let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: file)))
                for line in data.split(separator: 0x0A) {
                    let fields = line.split(separator: 0x09, maxSplits: 2)
                    guard fields.count == 3, let shard = Int(String(decoding: fields[0], as: UTF8.self)),
                          let n = Int(String(decoding: fields[1], as: UTF8.self)) else {
                        throw InputError.file(file, reason: .corruptPart, "a report row without its shard and line")
                    }
                    rows.append((shard, n, rows.count, fields[2]))
                }
            }
            rows.sort { ($0.shard, $0.line, $0.order) < ($1.shard, $1.line, $1.order) }
            for row in rows { try writer.write(line: Array(row.row)) }
        }
        try writer.finish()
        return writer
    }

    /// Each source's kept documents, in reading order, as Megatron indexed datasets.
    /// Written into `target`'s staging directory (published by the caller in one rename, so each
    /// `.bin`/`.idx` pair appears together); `data_path.txt` names the final paths.
    func exportMegatron(to target: OutputTarget) throws {
        guard stores.allSatisfy(\.isWhole) else {
            throw ConfigurationError(key: "megatron", "a Megatron export holds every kept document: build with --exact")
        }
        var dataPath: [String] = []
        for (s, store) in stores.enumerated() {
            let writer = try IndexedDatasetWriter(prefix: "\(target.staging)/\(store.name)", vocabularySize: tokenizer.vocabularySize)
            for k in store.readingOrder() { try writer.append(store.tokens(k)) }
            try writer.finish()
            dataPath.append(String(format: "%.6g %@", spec.sources[s].weight, "\(target.path)/\(store.name)"))
        }
        let file = try AtomicFileWriter(path: "\(target.staging)/data_path.txt")
        try file.write(Array((dataPath.joined(separator: " ") + "\n").utf8))
        try file.commit()
    }
}
