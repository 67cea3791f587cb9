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
    let progress: Bool

    init(spec: MixtureSpec, layout: ShardLayout, decontamination: DecontaminationContext?, processors: [DocumentProcessor],
         vocabularySize: Int, skipBadRecords: Bool, progress: Bool) {
        self.spec = spec
        self.layout = layout
        self.decontamination = decontamination
        self.processors = processors
        self.vocabularySize = vocabularySize
        self.skipBadRecords = skipBadRecords
        self.progress = progress
    }

    /// Writes the part of `task` for `ranges` (one per source; nil: source not tokenized in this
    /// range) into the directory `to`.
    /// `groupDrops`: per source, the groups dropped whole and why (`SourceCount.groupDrops`).
    func run(task: BuildTask, ranges: [KeyRange?], dirtyGroups: [[String: String]], to directory: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var counts: [TokenizeCounts] = []
        for s in spec.sources.indices {
            counts.append(try tokenize(source: s, task: task, range: ranges[s], dirty: dirtyGroups[s], prefix: "\(directory)/s\(s)"))
        }
        try PartJSON.encode(counts).write(to: URL(fileURLWithPath: directory + "/counts.json"))
    }

    private func tokenize(source s: Int, task: BuildTask, range: KeyRange?, dirty: [String: String], prefix: String) throws -> TokenizeCounts {
        let source = spec.sources[s]
        let spill = try IndexedDatasetWriter(prefix: prefix, vocabularySize: vocabularySize)
        let report = try decontamination.map { _ in try JSONLWriter(path: prefix + ".report.jsonl") }
        var entries: [PartEntry] = []
        var result = TokenizeCounts()
        let shards = range == nil ? [] : layout.shards(of: s, for: task)
        if let range, !shards.isEmpty {
            let numbers = Dictionary(uniqueKeysWithValues: shards.map { ($0.path, $0.number) })
            var options = source.reader
            options.skipBadRecords = skipBadRecords
            let reader = DocumentReader(paths: shards.map(\.path), source: source.name, options: options)
            for processor in processors { processor.addBOS = spec.addBOS && source.packing != .fewShot }
            let meter = ProgressMeter(label: "tokenize \(source.name)", enabled: progress)
            var documents = 0, bytes = 0
            let batches = DocumentBatches(reader: reader)
            defer { batches.cancel() }
            while let batch = try batches.next() {
                var chosen: [Document] = []
                var dropped: [Document] = []
                for document in batch {
                    documents += 1
                    bytes += document.text.count
                    guard range.contains(SelectionKey.keys(seed: spec.seed, source: source, id: document.id, group: document.group).key) else { continue }
                    if let g = document.group, let reason = dirty[g] {
                        result.counts.drop(units: 0, reason: reason)
                        dropped.append(document)
                    } else {
                        chosen.append(document)
                    }
                }
                // Members of dirty groups are only scanned, for the report's rows.
                if let report, let d = decontamination, !dropped.isEmpty {
                    let scans = orderedParallelMap(dropped, states: processors) { document, _ in d.scanner.scan(document) }
                    for (document, scan) in zip(dropped, scans) {
                        let shard = numbers[document.location.file] ?? 0
                        for line in try d.reportLines(document, scan) {
                            try report.write(line: Array("\(shard)\t\(document.location.line)\t".utf8) + line)
                        }
                    }
                }
                let processed = orderedParallelMap(chosen, states: processors) { $1.process($0) }
                for (document, p) in zip(chosen, processed) {
                    let shard = numbers[document.location.file] ?? 0
                    if let report, let scan = p.scan, let d = decontamination {
                        for line in try d.reportLines(document, scan) {
                            try report.write(line: Array("\(shard)\t\(document.location.line)\t".utf8) + line)
                        }
                    }
                    result.documentsTokenized += 1
                    record(document, p, source: source, shard: shard, into: &result.counts, entries: &entries)
                    for item in p.items where item.stream.count >= source.minDocumentTokens { try spill.append(item.stream) }
                }
                meter.update(documents: documents, bytes: bytes)
            }
            meter.finish()
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
            counts.documentsDropped[reason, default: 0] += 1
            counts.unitsDropped[reason, default: 0] += result.tokensRead
            return
        }
        if result.tokensCut > 0 { counts.unitsDropped["contaminated-cut", default: 0] += result.tokensCut }
        var keptAny = false
        for (piece, item) in result.items.enumerated() {
            if item.stream.count < source.minDocumentTokens {
                counts.unitsDropped["too-short", default: 0] += item.stream.count
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
            counts.documentsDropped[result.items.isEmpty ? "contaminated" : "too-short", default: 0] += 1
        }
    }
}
