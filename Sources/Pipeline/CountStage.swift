import Foundation
import LongMixCore
import Mixing
import ShardIO
import Tokenization

/// One sampled document of the counting pass: its text bytes and the stream tokens it offers
/// after the per-document filters (0 when dropped; group drops are applied when the plan is made).
public struct SampleDocument: Sendable, Codable, Equatable {
    public var key: UInt64
    /// The order among equal keys (`SelectionKey.keys`: few-shot documents share their group's key).
    public var within: UInt64
    public var bytes: Int
    public var tokens: Int
    public var group: String?
}

/// A few-shot group's header text as its first member (in global shard order) gives it, and
/// its decontamination: the header is scanned like an example's text; a dirty header drops the
/// whole group (`contaminated-header`), its report rows are kept here for the pack's report.
public struct GroupHeader: Sendable, Codable, Equatable {
    public var group: String
    public var shard: Int
    public var line: Int
    public var text: String
    public var contaminated = false
    /// Report rows (JSON lines) of the header's overlaps.
    public var report: [String] = []
}

/// What one task's counting pass found in one source.
public struct SourceCount: Sendable, Codable {
    public var reading = ReadCounts()
    public var documents = 0
    public var textBytes = 0
    /// The task's `sampleSize` documents of smallest key (bottom-k), tokenized.
    public var sample: [SampleDocument] = []
    /// Groups with a contaminated member (only for sources whose protocol drops whole groups:
    /// every member of those is scanned).
    public var dirtyGroups: [String] = []
    public var headers: [GroupHeader] = []

    /// Groups whose members are all dropped, with the reason: `contaminated-header` (the
    /// header overlaps a test set) before `contaminated-group` (a member does).
    public var groupDrops: [String: DropReason] {
        var drops: [String: DropReason] = [:]
        for g in dirtyGroups { drops[g] = .contaminatedGroup }
        for h in headers where h.contaminated { drops[h.group] = .contaminatedHeader }
        return drops
    }

    /// The first bad records met in keep-going mode.
    public var errors: [String] = []
    /// This task's candidate documents (`s<s>.candidates` beside `count.json`): all its documents
    /// with key below `candidateLimit` (nil: all), when `hasCandidates`. Per task, not summed.
    public var hasCandidates = false
    public var candidateLimit: UInt64?

    /// Sums another task's count into this one (bottom-k of the union; earliest header per group).
    public mutating func add(_ o: SourceCount, sampleSize: Int) {
        hasCandidates = false
        candidateLimit = nil
        reading.add(o.reading)
        documents += o.documents
        textBytes += o.textBytes
        sample = Array((sample + o.sample).sorted { ($0.key, $0.within, $0.bytes) < ($1.key, $1.within, $1.bytes) }.prefix(sampleSize))
        dirtyGroups = Array(Set(dirtyGroups).union(o.dirtyGroups)).sorted()
        var first: [String: GroupHeader] = [:]
        for h in headers + o.headers {
            if let f = first[h.group], (f.shard, f.line) <= (h.shard, h.line) { continue }
            first[h.group] = h
        }
        headers = first.values.sorted { $0.group < $1.group }
        errors = Array((errors + o.errors).prefix(20))
    }
}

/// A count part: one task's `SourceCount` per source.
public struct CountPart: Sendable, Codable {
    public var task: Int
    public var taskCount: Int
    public var sources: [SourceCount]
}

/// The counting stage: reads a task's shards without tokenizing them (documents, bytes, reader
/// counts), scans every member of grouped sources whose protocol drops whole groups, records
/// few-shot headers, and tokenizes a deterministic bottom-k sample (smallest selection keys) to
/// estimate tokens per byte and the length filter's survival.
final class CountStage {
    let spec: MixtureSpec
    let layout: ShardLayout
    let decontamination: DecontaminationContext?
    let processors: [DocumentProcessor]
    let sampleSize: Int
    /// Per source, text bytes of candidate documents to keep (0: none).
    let candidateBudgets: [Int]
    let skipBadRecords: Bool
    let progress: ProgressMeter?

    init(spec: MixtureSpec, layout: ShardLayout, decontamination: DecontaminationContext?, processors: [DocumentProcessor],
         sampleSize: Int, candidateBudgets: [Int], skipBadRecords: Bool, progress: ProgressMeter?) {
        self.candidateBudgets = candidateBudgets
        self.spec = spec
        self.layout = layout
        self.decontamination = decontamination
        self.processors = processors
        self.sampleSize = sampleSize
        self.skipBadRecords = skipBadRecords
        self.progress = progress
    }

    /// Counts `task`'s shards; writes candidate files `<prefix>s<s>.candidates` when `candidatePrefix` is set.
    func run(task: BuildTask, candidatePrefix: String? = nil) throws -> CountPart {
        var sources: [SourceCount] = []
        let files = spec.sources.indices.flatMap { layout.shards(of: $0, for: task).map(\.path) }
        progress?.stage("count \(spec.name) (\(task))", totalBytes: ShardPaths.totalBytes(files))
        for s in spec.sources.indices { sources.append(try count(source: s, task: task, candidatePrefix: candidatePrefix)) }
        return CountPart(task: task.index, taskCount: task.count, sources: sources)
    }

    private func count(source s: Int, task: BuildTask, candidatePrefix: String?) throws -> SourceCount {
        let source = spec.sources[s]
        let shards = layout.shards(of: s, for: task)
        var result = SourceCount()
        guard !shards.isEmpty else { return result }
        let numbers = Dictionary(uniqueKeysWithValues: shards.map { ($0.path, $0.number) })
        var options = source.reader
        options.skipBadRecords = skipBadRecords
        options.progress = progress
        let reader = DocumentReader(paths: shards.map(\.path), source: source.name, options: options)
        let scanGroups = decontamination?.dropsWholeGroups(source) ?? false
        let fewShot = source.packing == .fewShot
        var dirty = Set<String>()
        var seenGroups = Set<String>()
        // Bottom-k by key: kept sorted, at most sampleSize.
        var sample: [(key: UInt64, within: UInt64, document: Document)] = []
        var candidates = CandidateSet(budget: candidatePrefix == nil ? 0 : candidateBudgets[s])
        let batches = DocumentBatches(reader: reader)
        defer { batches.cancel() }
        while let batch = try batches.next() {
            if scanGroups, let scanner = decontamination?.scanner {
                let scans = orderedParallelMap(batch, states: processors) { document, _ in scanner.scan(document) }
                for (document, scan) in zip(batch, scans) where !scan.hits.isEmpty {
                    if let group = document.group { dirty.insert(group) }
                }
            }
            for document in batch {
                result.documents += 1
                result.textBytes += document.text.count
                if fewShot, let group = document.group, seenGroups.insert(group).inserted {
                    var header = GroupHeader(group: group, shard: numbers[document.location.file] ?? 0,
                                             line: document.location.line,
                                             text: String(decoding: document.header ?? [], as: UTF8.self))
                    if let d = decontamination, let text = document.header {
                        try scanHeader(text, of: document, into: &header, with: d)
                    }
                    result.headers.append(header)
                }
                let (key, within) = SelectionKey.keys(seed: spec.seed, source: source, id: document.id, group: document.group)
                candidates.offer(document, key: key, shard: numbers[document.location.file] ?? 0)
                if sample.count < sampleSize || (key, within) < (sample[sample.count - 1].key, sample[sample.count - 1].within) {
                    let at = sample.firstIndex { ($0.key, $0.within) > (key, within) } ?? sample.count
                    sample.insert((key, within, document), at: at)
                    if sample.count > sampleSize { sample.removeLast() }
                }
            }
        }
        result.reading = reader.counts
        result.errors = reader.firstErrors.map(\.description)
        result.dirtyGroups = dirty.sorted()
        if let candidatePrefix, candidates.budget > 0 {
            try candidates.write(to: candidatePrefix + "s\(s).candidates")
            result.hasCandidates = true
            result.candidateLimit = candidates.limit
        }
        for processor in processors { processor.addBOS = spec.addBOS && !fewShot }
        let processed = orderedParallelMap(sample, states: processors) { $1.process($0.document) }
        result.sample = zip(sample, processed).map { entry, p in
            let tokens = p.items.filter { $0.stream.count >= source.minDocumentTokens }.reduce(0) { $0 + $1.stream.count }
            return SampleDocument(key: entry.key, within: entry.within, bytes: entry.document.text.count, tokens: tokens, group: entry.document.group)
        }
        return result
    }

    /// Scans a group's header as an example's text would be; any hit under a dropping protocol
    /// marks the group. Report rows name the header as document `header:<group>` at the line of
    /// the group's first member.
    private func scanHeader(_ text: [UInt8], of member: Document, into header: inout GroupHeader,
                            with d: DecontaminationContext) throws {
        let scan = d.scanner.scanHeader(text)
        guard !scan.hits.isEmpty else { return }
        if case .drop = scan.verdict { header.contaminated = true }
        let document = Document(id: "header:\(header.group)", source: member.source, text: text, group: header.group,
                                location: member.location)
        header.report = try d.reportLines(document, scan).map { String(decoding: $0, as: UTF8.self) }
    }
}
