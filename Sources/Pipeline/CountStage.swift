import Foundation
import LongMixCore
import Mixing
import ShardIO
import Tokenization

/// One sampled document of the counting pass: its text bytes and the stream tokens it offers
/// after the per-document filters (0 when dropped; group drops are applied when the plan is made).
///
/// The sample is the bottom-k of documents by their own key, `hash(seed, source, id)`, for
/// few-shot sources too (whose selection keys are their groups'): a sample of whole groups of
/// smallest key would be a cluster sample of a few groups, whose examples are alike, and its
/// error bound computed as for independent documents would understate the real error.
public struct SampleDocument: Sendable, Codable, Equatable {
    /// The document's own key (the sampling order).
    public var key: UInt64
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
        sample = Array((sample + o.sample).sorted { ($0.key, $0.bytes) < ($1.key, $1.bytes) }.prefix(sampleSize))
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

/// Per source, the outcome of its reading, set by the worker that read it.
private final class SourceReads: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Result<(SourceCount, [CountStage.SampledDocument]), Error>?]

    init(count: Int) { results = Array(repeating: nil, count: count) }

    func set(_ s: Int, _ result: Result<(SourceCount, [CountStage.SampledDocument]), Error>) {
        lock.lock()
        defer { lock.unlock() }
        results[s] = result
    }

    func get(_ s: Int) throws -> (SourceCount, [CountStage.SampledDocument]) {
        lock.lock()
        defer { lock.unlock() }
        return try results[s]!.get()
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
    ///
    /// Sources read on the fast path (no scanning) are read concurrently, up to one per worker
    /// (each has its own decompression thread, so reading uses the cores while the work per
    /// byte is small); sources whose members are all scanned use every worker and are read one
    /// at a time. Samples are tokenized afterwards, source by source. The counts do not depend
    /// on the order: each source's reading is independent, and a failure is reported for the
    /// first failing source in mixture order, as a sequential pass would.
    func run(task: BuildTask, candidatePrefix: String? = nil) throws -> CountPart {
        let files = spec.sources.indices.flatMap { layout.shards(of: $0, for: task).map(\.path) }
        progress?.stage("count \(spec.name) (\(task))", total: ShardPaths.totalBytes(files))
        let reads = SourceReads(count: spec.sources.count)
        let scanning = spec.sources.indices.filter { decontamination?.dropsWholeGroups(spec.sources[$0]) ?? false }
        let concurrent = spec.sources.indices.filter { !scanning.contains($0) }
        let workers = max(1, min(processors.count, concurrent.count))
        let next = ClaimCounter()
        // Each worker reads its own sources; the stage's state is only read.
        let stage = UnsafeSendableBox(self)
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let i = next.claim(below: concurrent.count) {
                let s = concurrent[i]
                reads.set(s, Result { try stage.value.read(source: s, task: task, candidatePrefix: candidatePrefix) })
            }
        }
        for s in scanning { reads.set(s, Result { try read(source: s, task: task, candidatePrefix: candidatePrefix) }) }
        var sources: [SourceCount] = []
        for s in spec.sources.indices {
            let (count, sample) = try reads.get(s)
            sources.append(tokenizeSample(sample, of: s, into: count))
        }
        return CountPart(task: task.index, taskCount: task.count, sources: sources)
    }

    typealias SampledDocument = (key: UInt64, document: Document)

    /// Tokenizes a source's sample (every worker) into its count.
    private func tokenizeSample(_ sample: [SampledDocument], of s: Int, into count: SourceCount) -> SourceCount {
        let source = spec.sources[s]
        var result = count
        for processor in processors { processor.addBOS = spec.addBOS && source.packing != .fewShot }
        let processed = orderedParallelMap(sample, states: processors) { $1.process($0.document) }
        result.sample = zip(sample, processed).map { entry, p in
            let tokens = p.items.filter { $0.stream.count >= source.minDocumentTokens }.reduce(0) { $0 + $1.stream.count }
            return SampleDocument(key: entry.key, bytes: entry.document.text.count, tokens: tokens, group: entry.document.group)
        }
        return result
    }

    /// Reads one source's shards of `task`: its count (sample not yet tokenized) and its
    /// bottom-k sample documents.
    private func read(source s: Int, task: BuildTask, candidatePrefix: String?) throws -> (SourceCount, [SampledDocument]) {
        let source = spec.sources[s]
        let shards = layout.shards(of: s, for: task)
        var result = SourceCount()
        guard !shards.isEmpty else { return (result, []) }
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
        var sample: [SampledDocument] = []
        var candidates = CandidateSet(budget: candidatePrefix == nil ? 0 : candidateBudgets[s])
        func keys(_ id: String, _ group: String?) -> (key: UInt64, within: UInt64) {
            SelectionKey.keys(seed: spec.seed, source: source, id: id, group: group)
        }
        /// The sampling key: the document's own (`within` for few-shot documents of a group).
        func sampleKey(_ k: (key: UInt64, within: UInt64), _ group: String?) -> UInt64 { fewShot && group != nil ? k.within : k.key }
        func sampled(_ key: UInt64) -> Bool { sample.count < sampleSize || key < sample[sample.count - 1].key }
        /// Whether the sample or the candidates take a document of these keys.
        func wanted(_ k: (key: UInt64, within: UInt64), _ group: String?) -> Bool {
            sampled(sampleKey(k, group)) || candidates.accepts(k.key)
        }
        /// Counts one document; `document` is the whole document when `wanted` (only those are decoded).
        func add(id: String, group: String?, textBytes: Int, location: RecordLocation, header: [UInt8]?,
                 document: Document?) throws {
            result.documents += 1
            result.textBytes += textBytes
            let shard = numbers[location.file] ?? 0
            if fewShot, let group, seenGroups.insert(group).inserted {
                var groupHeader = GroupHeader(group: group, shard: shard, line: location.line,
                                              text: String(decoding: header ?? [], as: UTF8.self))
                if let d = decontamination, let header {
                    try scanHeader(header, source: source.name, group: group, location: location, into: &groupHeader, with: d)
                }
                result.headers.append(groupHeader)
            }
            let k = keys(id, group)
            guard wanted(k, group) else { return }
            guard let document else { preconditionFailure("a wanted document comes whole") }
            candidates.offer(document, key: k.key, shard: shard)
            let own = sampleKey(k, group)
            if sampled(own) {
                let at = sample.firstIndex { $0.key > own } ?? sample.count
                sample.insert((own, document), at: at)
                if sample.count > sampleSize { sample.removeLast() }
            }
        }
        if scanGroups, let scanner = decontamination?.scanner {
            // Every member is scanned: whole documents, read a batch ahead of the scanning workers.
            let batches = DocumentBatches(reader: reader)
            defer { batches.cancel() }
            while let batch = try batches.next() {
                let scans = orderedParallelMap(batch, states: processors) { document, _ in scanner.scan(document) }
                for (document, scan) in zip(batch, scans) {
                    if !scan.hits.isEmpty, let group = document.group { dirty.insert(group) }
                    try add(id: document.id, group: document.group, textBytes: document.text.count, location: document.location,
                            header: document.header, document: document)
                }
            }
        } else {
            // The fast path: records are validated and measured, and only the sampled and
            // candidate documents are decoded whole.
            while let summary = try reader.nextSummary(wholeIf: { wanted(keys($0, $1), $1) }) {
                try add(id: summary.id, group: summary.group, textBytes: summary.textBytes, location: summary.location,
                        header: summary.header, document: summary.document)
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
        return (result, sample)
    }

    /// Scans a group's header as an example's text would be; any hit under a dropping protocol
    /// marks the group. Report rows name the header as document `header:<group>` at the line of
    /// the group's first member.
    private func scanHeader(_ text: [UInt8], source: String, group: String, location: RecordLocation, into header: inout GroupHeader,
                            with d: DecontaminationContext) throws {
        let scan = d.scanner.scanHeader(text)
        guard !scan.hits.isEmpty else { return }
        if case .drop = scan.verdict { header.contaminated = true }
        let document = Document(id: "header:\(header.group)", source: source, text: text, group: group,
                                location: location)
        header.report = try d.reportLines(document, scan).map { String(decoding: $0, as: UTF8.self) }
    }
}
