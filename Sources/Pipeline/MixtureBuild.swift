import Decontamination
import Foundation
import LongMixCore
import Mixing
import Packing
import ShardIO
import Tokenization

/// The mixture build: one streaming pass per source (read, decontaminate, tokenize, length
/// filter, store tokens), then planning (shares of output tokens), deterministic selection and
/// packing into a pack directory with its manifest.
///
/// Contract:
/// - Memory is bounded by one batch of documents per pass, the decontamination n-gram set and
///   a table of a few numbers per kept document; tokens wait on disk (Megatron `.bin/.idx`).
/// - Output is byte-identical for the same inputs, mixture and seed, whatever `threads` is:
///   selection hashes (seed, source, document id), never stream position or timing.
/// - Every document read is counted as kept or dropped by reason, in documents and tokens.
public final class MixtureBuild {
    public struct Options: Sendable {
        public var threads: Int
        /// Where the pack goes; nil for a plan only (nothing written).
        public var output: String?
        /// Also export each source's filtered documents as a Megatron indexed dataset here.
        public var megatronDirectory: String?
        /// Keep going past bad records (counted by reason) instead of stopping.
        public var skipBadRecords: Bool
        /// Counts the bytes of every shard read (the caller sizes it to all sources' files and
        /// finishes it); nil for no progress.
        public var progress: ProgressMeter?

        public init(threads: Int = 1, output: String? = nil, megatronDirectory: String? = nil,
                    skipBadRecords: Bool = false, progress: ProgressMeter? = nil) {
            self.threads = threads
            self.output = output
            self.megatronDirectory = megatronDirectory
            self.skipBadRecords = skipBadRecords
            self.progress = progress
        }
    }

    /// What a build (or plan) found and did.
    public struct Result: Sendable {
        public var manifest: PackManifest
        public var targets: [SourceTarget]
        public var seconds: Double
        public var textBytes: Int
    }

    public let spec: MixtureSpec
    public let options: Options
    public let tokenizer: Tokenizer
    private var index: DecontaminationIndex?
    private var scanner: ContaminationScanner?
    private var parameters: ScanParameters?
    private var indexNGrams = 0
    private var processors: [DocumentProcessor] = []

    public init(spec: MixtureSpec, options: Options) throws {
        self.spec = spec
        self.options = options
        tokenizer = try Tokenizer.load(path: spec.tokenizer)
        if let pad = spec.padID, Int(pad) >= tokenizer.vocabularySize {
            throw ConfigurationError(file: spec.path, key: "special_tokens.pad",
                                     "id \(pad) is outside the tokenizer's vocabulary of \(tokenizer.vocabularySize) ids")
        }
    }

    public func run() throws -> Result {
        let start = Date()
        // Outputs are checked (and staged) before any work, against every input: a refusal costs nothing.
        for source in spec.sources { _ = try ShardPaths.expand(source.paths) }
        let packTarget = try options.output.map { try OutputTarget(directory: $0, kind: .pack) }
        let megatronTarget = try options.megatronDirectory.map { try OutputTarget(directory: $0, kind: .megatron) }
        try openDecontamination()
        let work = packTarget.map { $0.staging + "/.work" }
        if let work { try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true) }

        var reportWriter: JSONLWriter?
        if let packTarget, index != nil {
            reportWriter = try JSONLWriter(path: packTarget.staging + "/" + Self.reportFile, hashing: true)
        }
        processors = (0..<max(1, options.threads)).map { _ in
            DocumentProcessor(encoder: tokenizer.makeEncoder(), scanner: scanner, addBOS: spec.addBOS, addEOS: spec.addEOS)
        }
        var stores: [SourceStore] = []
        var textBytes = 0
        for source in spec.sources {
            let store = try readSource(source, spillPrefix: work.map { "\($0)/\(source.name)" }, report: reportWriter)
            textBytes += store.reading.textBytes
            stores.append(store)
        }
        try reportWriter?.finish()

        let supplies = zip(spec.sources, stores).map {
            SourceSupply(name: $0.name, weight: $0.weight, tokens: $1.availableTokens, packing: $0.packing)
        }
        let targets = try MixturePlanner.plan(supplies, budget: spec.budget, seqLen: spec.seqLen, maxEpochs: spec.maxEpochs)
        var manifest = makeManifest(stores: stores, targets: targets)
        if let packTarget, let work {
            let writer = try pack(stores: stores, targets: targets, target: packTarget, manifest: &manifest)
            if let megatronTarget { try exportMegatron(stores: stores, to: megatronTarget) }
            try FileManager.default.removeItem(atPath: work)
            var extra: [String: PackManifest.FileDigest] = [:]
            if let reportWriter { extra[Self.reportFile] = .init(bytes: reportWriter.bytesWritten, sha256: reportWriter.sha256Hex!) }
            try writer.commit(manifest: &manifest, extraFiles: extra)
            try megatronTarget?.publish()
        }
        return Result(manifest: manifest, targets: targets, seconds: Date().timeIntervalSince(start), textBytes: textBytes)
    }

    /// The decontamination report's name inside the pack directory.
    static let reportFile = "decontamination-report.jsonl"

    // MARK: Decontamination

    private func openDecontamination() throws {
        guard let d = spec.decontamination else { return }
        guard let preset = DecontaminationProtocol(rawValue: d.protocolName) else {
            throw ConfigurationError(file: spec.path, key: "decontamination.protocol",
                                     "unknown protocol '\(d.protocolName)'; expected one of: \(DecontaminationProtocol.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var p = preset.parameters
        if let n = d.n { p.n = n }
        if let name = d.normalization {
            guard let normalization = Normalization(rawValue: name) else {
                throw ConfigurationError(file: spec.path, key: "decontamination.normalization", "unknown normalization '\(name)'")
            }
            p.normalization = normalization
        }
        guard p.maximumDocumentFrequency == nil else {
            throw ConfigurationError(file: spec.path, key: "decontamination.protocol",
                                     "the gpt3 protocol's document-frequency pre-pass is not part of the mixture build yet; run `longmix decontam scan --protocol gpt3` on the shards first and build from its cleaned output")
        }
        if !d.testSets.isEmpty {
            try DecontaminationIndex.openOrCreate(path: d.index, n: p.n, normalization: p.normalization)
                .importFiles(try ShardPaths.expand(d.testSets), splits: ["valid", "test"])
        }
        let index = try DecontaminationIndex.open(path: d.index)
        try index.require(n: p.n, normalization: p.normalization)
        let ngrams = try index.loadNGramSet()
        indexNGrams = ngrams.count
        scanner = try ContaminationScanner(ngrams: ngrams, parameters: p)
        parameters = p
        self.index = index
    }

    // MARK: Reading pass

    private func readSource(_ source: MixtureSource, spillPrefix: String?, report: JSONLWriter?) throws -> SourceStore {
        let store = try SourceStore(name: source.name, spillPrefix: spillPrefix, vocabularySize: tokenizer.vocabularySize)
        var readerOptions = source.reader
        readerOptions.skipBadRecords = options.skipBadRecords
        readerOptions.progress = options.progress
        let reader = DocumentReader(paths: try ShardPaths.expand(source.paths), source: source.name, options: readerOptions)
        let fewShot = source.packing == .fewShot
        for processor in processors { processor.addBOS = spec.addBOS && !fewShot }
        let headerEncoder = processors[0].encoder
        var verdicts = GroupVerdicts()
        let dropGroups = (parameters?.dropWholeGroup ?? false) && source.reader.groupField != nil
        let batches = DocumentBatches(reader: reader)
        defer { batches.cancel() }
        while let batch = try batches.next() {
            let results = orderedParallelMap(batch, states: processors) { $1.process($0) }
            for (document, result) in zip(batch, results) {
                if let scan = result.scan {
                    if dropGroups { verdicts.record(document, scan) }
                    if let report, !scan.hits.isEmpty, let index, let parameters {
                        let provenance = try index.provenance(of: scan.hits.map(\.hash))
                        for row in ContaminationReport.rows(document: document, hits: scan.hits, verdict: scan.verdict,
                                                            n: parameters.n, normalization: parameters.normalization,
                                                            provenance: provenance) {
                            try report.write(line: try row.jsonLine())
                        }
                    }
                }
                try record(document, result, into: store, source: source, headerEncoder: headerEncoder)
            }
        }
        store.reading = reader.counts
        store.firstErrors = reader.firstErrors
        try store.finishSpill()
        if dropGroups {
            store.applyGroupDrops(Set(verdicts.dirtyGroups.filter { $0.source == source.name }.map(\.group)))
        }
        return store
    }

    private func record(_ document: Document, _ result: ProcessedDocument, into store: SourceStore, source: MixtureSource,
                       headerEncoder: any TokenEncoder) throws {
        store.counts.documentsRead += 1
        store.counts.unitsRead += result.tokensRead
        if case .drop(let reason)? = result.scan?.verdict {
            store.counts.documentsRead -= 1
            store.counts.unitsRead -= result.tokensRead
            store.counts.drop(units: result.tokensRead, reason: reason)
            return
        }
        if result.tokensCut > 0 { store.counts.dropUnits(result.tokensCut, reason: .contaminatedCut) }
        var group: Int32 = -1
        if let name = document.group {
            if let g = store.groupIndex[name] {
                group = g
            } else {
                group = Int32(store.groupNames.count)
                store.groupIndex[name] = group
                store.groupNames.append(name)
                var header: [TokenID] = []
                if spec.addBOS, let bos = tokenizer.bosID { header.append(bos) }
                if let text = document.header { header += headerEncoder.encode(text) }
                store.groupHeaders.append(header)
            }
        }
        var keptAny = false
        for item in result.items {
            if item.contentTokens < source.minDocumentTokens {
                store.counts.dropUnits(item.stream.count, reason: .tooShort)
                continue
            }
            keptAny = true
            store.counts.unitsKept += item.stream.count
            let id = document.id + item.idSuffix
            try store.add(id: id, key: StableHash.hash(keys: [source.name, id], seed: spec.seed), stream: item.stream,
                          promptTokens: item.promptTokens, group: group)
        }
        if keptAny {
            store.counts.documentsKept += 1
        } else {
            store.counts.documentsDropped[(result.items.isEmpty ? DropReason.contaminated : .tooShort).rawValue, default: 0] += 1
        }
    }

    // MARK: Selection and packing

    /// The documents a source contributes, in packing order, each with the tokens it may use:
    /// hash order (seed, source, id); when up-sampled, further passes each in a fresh hash
    /// order; stop at the target. Concat cuts the last document to hit the target exactly (the
    /// cut counts as truncated); best-fit and few-shot take whole documents only, passing over
    /// any that would overshoot, so they end within one short document of the target.
    private func select(_ store: SourceStore, target: SourceTarget, packing: PackingStrategy) -> [(entry: Int, limit: Int)] {
        let eligible = store.ids.indices.filter { !store.excluded[$0] }
        guard !eligible.isEmpty else { return [] }
        var chosen: [(Int, Int)] = []
        var total = 0
        var epoch = 0
        while total < target.tokens {
            let order: [Int]
            if epoch == 0 {
                order = eligible.sorted { (store.keys[$0], $0) < (store.keys[$1], $1) }
            } else {
                let keys = Dictionary(uniqueKeysWithValues: eligible.map {
                    ($0, StableHash.hash(keys: [store.name, store.ids[$0], "epoch-\(epoch)"], seed: spec.seed))
                })
                order = eligible.sorted { (keys[$0]!, $0) < (keys[$1]!, $1) }
            }
            let before = total
            for k in order {
                let remaining = target.tokens - total
                if remaining <= 0 { break }
                if packing == .concat {
                    let take = min(store.lengths[k], remaining)
                    chosen.append((k, take))
                    total += take
                } else if store.lengths[k] <= remaining {
                    chosen.append((k, store.lengths[k]))
                    total += store.lengths[k]
                }
            }
            // Whole documents only (best-fit, few-shot): stop when nothing left fits the gap.
            if packing != .concat && total == before { break }
            epoch += 1
        }
        return chosen
    }

    /// Packs the selected documents into `target`'s staging directory; the caller commits.
    private func pack(stores: [SourceStore], targets: [SourceTarget], target: OutputTarget,
                      manifest: inout PackManifest) throws -> PackWriter {
        let writer = try PackWriter(target: target, seqLen: spec.seqLen, vocabularySize: tokenizer.vocabularySize)
        var plans: [PackPlan] = []
        var selections: [[(entry: Int, limit: Int)]] = []
        var documentRefs: [[Int: Int32]] = []
        for (s, store) in stores.enumerated() {
            let source = spec.sources[s]
            let selection = select(store, target: targets[s], packing: source.packing)
            selections.append(selection)
            store.tokensSampled = selection.reduce(0) { $0 + $1.limit }
            let lengths = selection.map(\.limit)
            let plan: PackPlan
            switch source.packing {
            case .concat:
                plan = ConcatPlanner.plan(lengths: lengths, seqLen: spec.seqLen, padLastSequence: true)
            case .bestFit:
                plan = BestFitPlanner.plan(lengths: lengths, seqLen: spec.seqLen)
            case .fewShot:
                var groupItems: [Int32: [Int]] = [:]
                var groupOrder: [Int32] = []
                for (i, pick) in selection.enumerated() {
                    let g = store.groups[pick.entry]
                    if groupItems[g] == nil { groupOrder.append(g) }
                    groupItems[g, default: []].append(i)
                }
                let groups = groupOrder.map {
                    FewShotPlanner.Group(headerLength: $0 >= 0 ? store.groupHeaders[Int($0)].count : 0, items: groupItems[$0]!)
                }
                var fewShot = FewShotPlanner.plan(groups: groups, lengths: lengths, seqLen: spec.seqLen)
                // Header pieces name positions in `groups`; map them back to store group indices.
                for i in fewShot.sequences.indices {
                    for j in fewShot.sequences[i].pieces.indices {
                        if case .header(let g) = fewShot.sequences[i].pieces[j].kind {
                            fewShot.sequences[i].pieces[j].kind = .header(group: Int(groupOrder[g]))
                        }
                    }
                }
                plan = fewShot
            }
            var counted = plan
            for pick in selection where pick.limit < store.lengths[pick.entry] {
                counted.counts.truncatedTokens += store.lengths[pick.entry] - pick.limit
                counted.counts.documentsTruncated += 1
            }
            plans.append(counted)
            // Register the documents this source writes, in first-use order.
            var refs: [Int: Int32] = [:]
            for sequence in plan.sequences {
                for piece in sequence.pieces where piece.kind == .item {
                    let entry = selection[piece.item].entry
                    if refs[entry] == nil {
                        refs[entry] = Int32(writer.documentsWritten)
                        try writer.addDocument(source: store.name, id: store.ids[entry])
                    }
                }
            }
            documentRefs.append(refs)
        }

        let padID = spec.padID ?? tokenizer.eosID ?? 0
        var next = [Int](repeating: 0, count: stores.count)
        for s in SequenceBlender.order(counts: plans.map(\.sequences.count)) {
            let planned = plans[s].sequences[next[s]]
            next[s] += 1
            var sequence = PackedSequence(source: UInt16(s), capacity: spec.seqLen)
            for piece in planned.pieces {
                switch piece.kind {
                case .header(let g):
                    let header = stores[s].groupHeaders[g]
                    let mask = [UInt8](repeating: spec.loss == .completionOnly ? 0 : 1, count: header.count)
                    header.withUnsafeBufferPointer { ids in
                        mask.withUnsafeBufferPointer { sequence.append(ids, mask: $0, document: -1, documentOffset: 0, kind: .header) }
                    }
                case .item:
                    let entry = selections[s][piece.item].entry
                    let range = piece.offset..<(piece.offset + piece.length)
                    let ids = stores[s].tokens!.document(entry, range: range)
                    let prompt = spec.loss == .completionOnly ? stores[s].promptTokens[entry] : 0
                    let mask = range.map { UInt8($0 < prompt ? 0 : 1) }
                    ids.withUnsafeBufferPointer { ids in
                        mask.withUnsafeBufferPointer {
                            sequence.append(ids, mask: $0, document: documentRefs[s][entry]!, documentOffset: piece.offset, kind: .document)
                        }
                    }
                }
            }
            sequence.pad(to: spec.seqLen, with: padID)
            try writer.write(sequence)
        }
        fillPacking(&manifest, stores: stores, plans: plans)
        return writer
    }

    /// Writes every source's datasets into `target`'s staging directory (published by the
    /// caller in one rename, so each `.bin`/`.idx` pair appears together); `data_path.txt` names
    /// the final paths.
    private func exportMegatron(stores: [SourceStore], to target: OutputTarget) throws {
        var dataPath: [String] = []
        for (s, store) in stores.enumerated() {
            let writer = try IndexedDatasetWriter(prefix: "\(target.staging)/\(store.name)", vocabularySize: tokenizer.vocabularySize)
            for k in store.ids.indices where !store.excluded[k] { try writer.append(store.tokens!.document(k)) }
            try writer.finish()
            dataPath.append(String(format: "%.6g %@", spec.sources[s].weight, "\(target.path)/\(store.name)"))
        }
        let file = try AtomicFileWriter(path: "\(target.staging)/data_path.txt")
        try file.write(Array((dataPath.joined(separator: " ") + "\n").utf8))
        try file.commit()
    }

    // MARK: Manifest

    private func makeManifest(stores: [SourceStore], targets: [SourceTarget]) -> PackManifest {
        var recordsSkipped: [String: Int] = [:]
        var filesUnreadable: [String: Int] = [:]
        var records = 0
        var sources: [PackManifest.Source] = []
        for (s, store) in stores.enumerated() {
            records += store.reading.records
            for (k, v) in store.reading.skipped { recordsSkipped[k, default: 0] += v }
            for (k, v) in store.reading.failedFiles { filesUnreadable[k, default: 0] += v }
            var dropped = store.counts.documentsDropped
            for (k, v) in store.reading.skipped { dropped["unreadable-" + k, default: 0] += v }
            sources.append(PackManifest.Source(
                name: store.name, weight: spec.sources[s].weight, packing: spec.sources[s].packing.rawValue,
                documentsRead: store.counts.documentsRead + store.reading.skippedTotal, tokensRead: store.counts.unitsRead,
                documentsDropped: dropped, tokensDropped: store.counts.unitsDropped,
                documentsAvailable: store.availableDocuments, tokensAvailable: store.availableTokens,
                documentsTaken: 0, tokensTaken: 0, samplingRate: targets[s].rate, targetShare: spec.sources[s].weight,
                achievedShare: 0, packing_: PackingCounts()))
        }
        let d = spec.decontamination.map {
            PackManifest.Decontamination(index: $0.index, protocolName: $0.protocolName, n: parameters?.n ?? 0,
                                         normalization: parameters?.normalization.rawValue ?? "", indexNGrams: indexNGrams)
        }
        for s in sources.indices { sources[s].filesUnreadable = stores[s].reading.failedFiles }
        var manifest = PackManifest(
            seqLen: spec.seqLen, sequences: 0,
            tokenDtype: PackFormat.dtypeName(tokenWidth: PackFormat.tokenWidth(vocabularySize: tokenizer.vocabularySize)),
            tokenizer: .init(path: tokenizer.path, sha256: tokenizer.sha256, format: tokenizer.format.rawValue,
                             vocabularySize: tokenizer.vocabularySize),
            mixture: .init(name: spec.name, path: spec.path, sha256: spec.sha256), seed: spec.seed,
            specialTokens: .init(bos: spec.addBOS ? tokenizer.bosID : nil, eos: spec.addEOS ? tokenizer.eosID : nil,
                                 pad: spec.padID ?? tokenizer.eosID ?? 0),
            loss: spec.loss.rawValue, decontamination: d, sources: sources, totals: PackingCounts(),
            paddingRate: 0, truncationRate: 0, recordsRead: records, recordsSkipped: recordsSkipped)
        manifest.filesUnreadable = filesUnreadable
        return manifest
    }

    private func fillPacking(_ manifest: inout PackManifest, stores: [SourceStore], plans: [PackPlan]) {
        var totals = PackingCounts()
        for plan in plans { totals.add(plan.counts) }
        // Shares are of document tokens (BOS/EOS included); few-shot headers and padding are framing.
        let written = plans.reduce(0) { $0 + $1.counts.documentTokens }
        for s in stores.indices {
            manifest.sources[s].packing_ = plans[s].counts
            manifest.sources[s].documentsTaken = plans[s].counts.documents
            manifest.sources[s].tokensTaken = stores[s].tokensSampled
            manifest.sources[s].achievedShare = written > 0 ? Double(plans[s].counts.documentTokens) / Double(written) : 0
        }
        manifest.totals = totals
        manifest.sequences = totals.sequences
        let all = totals.sequences * spec.seqLen
        manifest.paddingRate = all > 0 ? Double(totals.paddingTokens) / Double(all) : 0
        let taken = stores.reduce(0) { $0 + $1.tokensSampled }
        manifest.truncationRate = taken > 0 ? Double(totals.truncatedTokens) / Double(taken) : 0
    }
}
