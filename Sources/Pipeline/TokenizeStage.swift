import Foundation
import LongMixCore
import Mixing
import Packing
import ShardIO
import Tokenization

/// One kept document (or cut piece) of a tokenize part: what selection and packing need, and
/// where it sits in the global reading order (`shard`, `line`, `piece`).
public struct PartEntry: Sendable, Codable {
    public var id: String
    /// Selection keys (`SelectionKey.keys`): few-shot entries carry their group's key and their own as `within`.
    public var key: UInt64
    public var within: UInt64
    /// Stream tokens (BOS/EOS included as the mixture adds them).
    public var length: Int
    public var promptTokens: Int
    public var group: String?
    public var shard: Int
    public var line: Int
    public var piece: Int
}

/// A count part's candidate documents for one source: complete below `limit` (nil: all).
struct CandidateFile {
    var path: String
    var limit: UInt64?

    func covers(_ range: KeyRange) -> Bool {
        guard let limit else { return true }
        guard let upper = range.upper else { return false }
        return upper <= limit
    }
}

/// One task's tokenize counts for one source and key range. `counts.documentsRead` counts the
/// documents whose key is in the range: each is kept or dropped by reason (members of dirty
/// groups are dropped as `contaminated-group`, or `contaminated-header` when the group's header
/// overlaps, without being tokenized); tokens are those of the
/// documents tokenized.
public struct TokenizeCounts: Sendable, Codable {
    public var counts = StageCounts()
    public var documentsTokenized = 0
}

/// The tokenize stage: reads a task's shards and, for documents whose selection key falls in
/// the plan's key range, scans, tokenizes and length-filters them; kept streams go to a Megatron
/// indexed dataset per source, with a table of `PartEntry` (in reading order) beside it.
///
/// Part layout: `counts.json` ([TokenizeCounts] per source), and per source s `s<s>.bin`,
/// `s<s>.idx`, `s<s>.entries.json`, `s<s>.report.jsonl` (decontamination rows, each prefixed by
/// shard and line) when decontaminating.
final class TokenizeStage {
    let spec: MixtureSpec
    let layout: ShardLayout
    let decontamination: DecontaminationContext?
    let processors: [DocumentProcessor]
    let vocabularySize: Int
    let skipBadRecords: Bool
    let progress: ProgressMeter?

    init(spec: MixtureSpec, layout: ShardLayout, decontamination: DecontaminationContext?, processors: [DocumentProcessor],
         vocabularySize: Int, skipBadRecords: Bool, progress: ProgressMeter?) {
        self.spec = spec
        self.layout = layout
        self.decontamination = decontamination
        self.processors = processors
        self.vocabularySize = vocabularySize
        self.skipBadRecords = skipBadRecords
        self.progress = progress
    }

    /// Writes the part of `task` for `ranges` (one per source; nil: source not tokenized in this
    /// range) into the directory `to`, which exists (made by `BuildDirectory.publish`).
    /// `groupDrops`: per source, the groups dropped whole and why (`SourceCount.groupDrops`).
    /// `candidates`: per source, the counting pass's candidate file for the same task (same
    /// partition), used instead of the shards when it covers the range.
    func run(task: BuildTask, ranges: [KeyRange?], dirtyGroups: [[String: DropReason]], candidates: [CandidateFile?], to directory: String) throws {
        var counts: [TokenizeCounts] = []
        // Progress covers what this stage reads: the shards of sources read again, the candidate
        // files of sources the counting pass's candidates cover.
        var inputs: [String] = []
        for s in spec.sources.indices {
            guard let r = ranges[s], !layout.shards(of: s, for: task).isEmpty else { continue }
            if let file = candidates[s], file.covers(r) { inputs.append(file.path) } else { inputs += layout.shards(of: s, for: task).map(\.path) }
        }
        progress?.stage("tokenize \(spec.name) (\(task))", total: ShardPaths.totalBytes(inputs))
        for s in spec.sources.indices {
            counts.append(try tokenize(source: s, task: task, range: ranges[s], dirty: dirtyGroups[s], candidates: candidates,
                                       prefix: "\(directory)/s\(s)"))
        }
        try PartJSON.encode(counts).write(to: URL(fileURLWithPath: directory + "/counts.json"))
    }

    private func tokenize(source s: Int, task: BuildTask, range: KeyRange?, dirty: [String: DropReason], candidates: [CandidateFile?],
                          prefix: String) throws -> TokenizeCounts {
        let source = spec.sources[s]
        let spill = try IndexedDatasetWriter(prefix: prefix, vocabularySize: vocabularySize)
        let report = try decontamination.map { _ in try JSONLWriter(path: prefix + ".report.jsonl") }
        var entries: [PartEntry] = []
        var result = TokenizeCounts()
        let shards = range == nil ? [] : layout.shards(of: s, for: task)
        if let range, !shards.isEmpty {
            let numbers = Dictionary(uniqueKeysWithValues: shards.map { ($0.path, $0.number) })
            for processor in processors { processor.addBOS = spec.addBOS && source.packing != .fewShot }
            func handle(_ batch: [(document: Document, shard: Int)]) throws {
                var chosen: [(document: Document, shard: Int)] = []
                var dropped: [(document: Document, shard: Int)] = []
                for item in batch {
                    guard range.contains(SelectionKey.keys(seed: spec.seed, source: source, id: item.document.id, group: item.document.group).key) else { continue }
                    if let g = item.document.group, let reason = dirty[g] {
                        result.counts.drop(units: 0, reason: reason)
                        dropped.append(item)
                    } else {
                        chosen.append(item)
                    }
                }
                // Members of dirty groups are only scanned, for the report's rows.
                if let report, let d = decontamination, !dropped.isEmpty {
                    let scans = orderedParallelMap(dropped, states: processors) { item, _ in d.scanner.scan(item.document) }
                    for (item, scan) in zip(dropped, scans) {
                        for line in try d.reportLines(item.document, scan) {
                            try report.write(line: Array("\(item.shard)\t\(item.document.location.line)\t".utf8) + line)
                        }
                    }
                }
                let processed = orderedParallelMap(chosen, states: processors) { $1.process($0.document) }
                for (item, p) in zip(chosen, processed) {
                    if let report, let scan = p.scan, let d = decontamination {
                        for line in try d.reportLines(item.document, scan) {
                            try report.write(line: Array("\(item.shard)\t\(item.document.location.line)\t".utf8) + line)
                        }
                    }
                    result.documentsTokenized += 1
                    record(item.document, p, source: source, shard: item.shard, into: &result.counts, entries: &entries)
                    for piece in p.items where piece.stream.count >= source.minDocumentTokens { try spill.append(piece.stream) }
                }
            }
            if let file = candidates[s], file.covers(range) {
                // Every document of the range was kept by the counting pass: no second read.
                let all = try CandidateSet.read(file.path, source: source.name)
                let fileBytes = ShardPaths.fileBytes(file.path)
                var reported = 0
                for start in stride(from: 0, to: all.count, by: 256) {
                    let end = min(start + 256, all.count)
                    try handle(all[start..<end].map { ($0.document, $0.shard) })
                    let done = fileBytes * end / all.count
                    progress?.add(done - reported)
                    reported = done
                }
            } else {
                var options = source.reader
                options.skipBadRecords = skipBadRecords
                options.progress = progress
                let reader = DocumentReader(paths: shards.map(\.path), source: source.name, options: options)
                let batches = DocumentBatches(reader: reader)
                defer { batches.cancel() }
                while let batch = try batches.next() {
                    try handle(batch.map { ($0, numbers[$0.location.file] ?? 0) })
                }
            }
        }
        try spill.finish()
        try report?.finish()
        try PartJSON.encode(entries).write(to: URL(fileURLWithPath: prefix + ".entries.json"))
        return result
    }

    /// Counts one tokenized document as kept or dropped by reason, and lists its kept items.
    private func record(_ document: Document, _ result: ProcessedDocument, source: MixtureSource, shard: Int,
                        into counts: inout StageCounts, entries: inout [PartEntry]) {
        counts.documentsRead += 1
        counts.unitsRead += result.tokensRead
        if case .drop(let reason)? = result.scan?.verdict {
            counts.documentsRead -= 1
            counts.unitsRead -= result.tokensRead
            counts.drop(units: result.tokensRead, reason: reason)
            return
        }
        if result.tokensCut > 0 { counts.dropUnits(result.tokensCut, reason: .contaminatedCut) }
        var keptAny = false
        for (piece, item) in result.items.enumerated() {
            if item.stream.count < source.minDocumentTokens {
                counts.dropUnits(item.stream.count, reason: .tooShort)
                continue
            }
            keptAny = true
            counts.unitsKept += item.stream.count
            let id = document.id + item.idSuffix
            let keys = SelectionKey.keys(seed: spec.seed, source: source, id: id, group: document.group)
            entries.append(PartEntry(id: id, key: keys.key, within: keys.within, length: item.stream.count,
                                     promptTokens: item.promptTokens, group: document.group, shard: shard,
                                     line: document.location.line, piece: piece))
        }
        if keptAny {
            counts.documentsKept += 1
        } else {
            counts.documentsDropped[(result.items.isEmpty ? DropReason.contaminated : .tooShort).rawValue, default: 0] += 1
        }
    }
}
