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

/// One source's count, merged from its parts (runs of its shards, each read by its own reader) as
/// they finish: the sample and the candidates at once, so memory holds one candidate budget per
/// source and per running part whatever the number of shards; the counts in part order at the end,
/// so the first errors kept and the failure reported are those one reader of the whole source
/// would meet. The outcome does not depend on which part finishes first (see `CandidateSet`; the
/// sample is the bottom-k in (key, shard, line) order, one reader's arrival order among equal keys).
private final class SourceReading: @unchecked Sendable {
    private let lock = NSLock()
    private let sampleSize: Int
    private var sample: [CountStage.SampledDocument] = []
    private var candidates: CandidateSet
    private var parts: [Result<SourceCount, Error>?]

    init(parts: Int, sampleSize: Int, candidateBudget: Int) {
        self.parts = Array(repeating: nil, count: parts)
        self.sampleSize = sampleSize
        candidates = CandidateSet(budget: candidateBudget)
    }

    var partCount: Int { parts.count }

    /// What a part starting now need not take: keys above the sample's largest once the sample
    /// is full (those could never enter it), and keys at or above the candidates' limit.
    func bounds() -> CountStage.PartBounds {
        lock.lock()
        defer { lock.unlock() }
        return CountStage.PartBounds(sampleCeiling: sample.count >= sampleSize ? sample.last?.key : nil,
                                     candidateLimit: candidates.limit)
    }

    func finish(_ part: Int, _ result: Result<CountStage.PartReading, Error>) {
        lock.lock()
        defer { lock.unlock() }
        parts[part] = result.map(\.count)
        guard case .success(let reading) = result else { return }
        sample = Array((sample + reading.sample).sorted {
            ($0.key, $0.shard, $0.document.location.line) < ($1.key, $1.shard, $1.document.location.line)
        }.prefix(sampleSize))
        candidates.merge(reading.candidates)
    }

    /// The source's count, sample and candidates; throws the first failing part's error.
    func result() throws -> (SourceCount, [CountStage.SampledDocument], CandidateSet) {
        lock.lock()
        defer { lock.unlock() }
        var count = SourceCount()
        for part in parts { count.add(try part!.get(), sampleSize: sampleSize) }
        return (count, sample, candidates)
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
    /// Sources read on the fast path (no scanning) are read in parts, a shard each (when ids do
    /// not depend on which other shards are read, that is under an id root), largest first, one
    /// part per worker at a time: each part has its own reader and decompression thread, so the
    /// cores stay busy to the end of the pass whatever the sizes of the sources (a source
    /// larger than the others does not leave a core idle at the end), while the work per byte is
    /// small. Sources whose members are all scanned use every worker and are read one at a time,
    /// whole. Samples are tokenized afterwards, source by source. The counts do not depend on
    /// the order of the parts (see `SourceReading`), and a failure is reported for the first
    /// failing source in mixture order and its first failing shard, as a sequential pass would.
    func run(task: BuildTask, candidatePrefix: String? = nil) throws -> CountPart {
        let files = spec.sources.indices.flatMap { layout.shards(of: $0, for: task).map(\.path) }
        progress?.stage("count \(spec.name) (\(task))", total: ShardPaths.totalBytes(files))
        let scanning = spec.sources.indices.filter { decontamination?.dropsWholeGroups(spec.sources[$0]) ?? false }
        var jobs: [(source: Int, part: Int, shards: [ShardLayout.Shard])] = []
        let readings = spec.sources.indices.map { s in
            let shards = layout.shards(of: s, for: task)
            let parts = shards.isEmpty ? [] : scanning.contains(s) || spec.sources[s].reader.idRoot == nil ? [shards] : shards.map { [$0] }
            jobs += parts.enumerated().map { (s, $0.offset, $0.element) }
            return SourceReading(parts: parts.count, sampleSize: sampleSize, candidateBudget: candidatePrefix == nil ? 0 : candidateBudgets[s])
        }
        func readPart(_ job: (source: Int, part: Int, shards: [ShardLayout.Shard])) {
            let reading = readings[job.source]
            let bounds = reading.bounds()
            reading.finish(job.part, Result { try read(source: job.source, shards: job.shards, bounds: bounds, candidates: candidatePrefix != nil) })
        }
        let fast = jobs.filter { !scanning.contains($0.source) }
        let sizes = fast.map { ShardPaths.totalBytes($0.shards.map(\.path)) }
        let order = fast.indices.sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        let next = ClaimCounter()
        // Each worker reads its own parts; the stage's state is only read, the merges are locked.
        let body = UnsafeSendableBox(readPart)
        DispatchQueue.concurrentPerform(iterations: max(1, min(processors.count, fast.count))) { _ in
            while let i = next.claim(below: order.count) { body.value(fast[order[i]]) }
        }
        for job in jobs where scanning.contains(job.source) { readPart(job) }
        var sources: [SourceCount] = []
        for s in spec.sources.indices {
            let (sourceCount, sample, candidates) = try readings[s].result()
            var count = sourceCount
            if let candidatePrefix, candidates.budget > 0, readings[s].partCount > 0 {
                try candidates.write(to: candidatePrefix + "s\(s).candidates")
                count.hasCandidates = true
                count.candidateLimit = candidates.limit
            }
            sources.append(tokenizeSample(sample, of: s, into: count))
        }
        return CountPart(task: task.index, taskCount: task.count, sources: sources)
    }

    typealias SampledDocument = (key: UInt64, shard: Int, document: Document)

    /// Keys a part need not take, from what the source's other parts found before it started.
    struct PartBounds {
        /// Keys above this cannot enter the sample (nil: any may).
        var sampleCeiling: UInt64?
        /// The candidates' limit so far (nil: none).
        var candidateLimit: UInt64?
    }

    /// What one part (a run of a source's shards) found: its count (sample not yet tokenized),
    /// its bottom-k sample documents and its candidates.
    struct PartReading {
        var count: SourceCount
        var sample: [SampledDocument]
        var candidates: CandidateSet
    }

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

    /// Reads a run of one source's shards: its count, bottom-k sample documents (keys up to
    /// `bounds.sampleCeiling`) and, with `candidates`, its candidates (keys below
    /// `bounds.candidateLimit`).
    private func read(source s: Int, shards: [ShardLayout.Shard], bounds: PartBounds, candidates keepCandidates: Bool) throws -> PartReading {
        let source = spec.sources[s]
        var result = SourceCount()
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
        var candidates = CandidateSet(budget: keepCandidates ? candidateBudgets[s] : 0, limit: bounds.candidateLimit)
        func keys(_ id: String, _ group: String?) -> (key: UInt64, within: UInt64) {
            SelectionKey.keys(seed: spec.seed, source: source, id: id, group: group)
        }
        /// The sampling key: the document's own (`within` for few-shot documents of a group).
        func sampleKey(_ k: (key: UInt64, within: UInt64), _ group: String?) -> UInt64 { fewShot && group != nil ? k.within : k.key }
        func sampled(_ key: UInt64) -> Bool {
            (bounds.sampleCeiling.map { key <= $0 } ?? true) && (sample.count < sampleSize || key < sample[sample.count - 1].key)
        }
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
                sample.insert((own, shard, document), at: at)
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
        return PartReading(count: result, sample: sample, candidates: candidates)
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
