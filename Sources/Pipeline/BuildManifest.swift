import Mixing
import Packing
import Tokenization

/// The manifest stage: the pack's `manifest.json` from the counts of every stage and the packing
/// plans.
enum BuildManifest {
    /// Everything but the packing figures. Per source: documents read (counting pass, unreadable
    /// records included) = available + dropped by reason + never tokenized; tokens are those of
    /// the documents tokenized (read = available + dropped). Sources not tokenized whole carry the
    /// counting pass's estimate of their supply; their sampling rate is taken over it.
    static func make(spec: MixtureSpec, tokenizer: Tokenizer, plan: SamplingPlan, stores: [SourceStore],
                     targets: [SourceTarget], decontamination: DecontaminationContext?) -> PackManifest {
        var recordsSkipped: [String: Int] = [:]
        var filesUnreadable: [String: Int] = [:]
        var records = 0
        var sources: [PackManifest.Source] = []
        for (s, store) in stores.enumerated() {
            let reading = store.count.reading
            records += reading.records
            for (k, v) in reading.skipped { recordsSkipped[k, default: 0] += v }
            for (k, v) in reading.failedFiles { filesUnreadable[k, default: 0] += v }
            var dropped = store.tokenized.documentsDropped
            for (k, v) in reading.skipped { dropped["unreadable-" + k, default: 0] += v }
            let estimate = store.isWhole ? nil : plan.sources[s].estimatedTokens
            sources.append(PackManifest.Source(
                name: store.name, weight: spec.sources[s].weight, packing: spec.sources[s].packing.rawValue,
                documentsRead: store.count.documents + reading.skippedTotal, tokensRead: store.tokenized.unitsRead,
                documentsDropped: dropped, tokensDropped: store.tokenized.unitsDropped,
                documentsAvailable: store.tokenized.documentsKept, tokensAvailable: store.tokenized.unitsKept,
                documentsTaken: 0, tokensTaken: 0, samplingRate: targets[s].rate, targetShare: spec.sources[s].weight,
                achievedShare: 0, packing_: PackingCounts(),
                documentsTokenized: store.documentsTokenized, documentsNotTokenized: store.documentsNotTokenized,
                tokensAvailableEstimate: estimate, tokensAvailableErrorBound: store.isWhole ? nil : plan.sources[s].errorBound))
            sources[s].filesUnreadable = reading.failedFiles
        }
        let d = decontamination.map { c in
            PackManifest.Decontamination(index: spec.decontamination!.index, protocolName: spec.decontamination!.protocolName,
                                         n: c.parameters.n, normalization: c.parameters.normalization.rawValue, indexNGrams: c.indexNGrams)
        }
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

    /// The packing figures: per source and totals, shares of document tokens (BOS/EOS included;
    /// few-shot headers and padding are framing).
    static func fillPacking(_ manifest: inout PackManifest, plans: [PackPlan], taken: [Int], seqLen: Int) {
        var totals = PackingCounts()
        for plan in plans { totals.add(plan.counts) }
        let written = plans.reduce(0) { $0 + $1.counts.documentTokens }
        for s in plans.indices {
            manifest.sources[s].packing_ = plans[s].counts
            manifest.sources[s].documentsTaken = plans[s].counts.documents
            manifest.sources[s].tokensTaken = taken[s]
            manifest.sources[s].achievedShare = written > 0 ? Double(plans[s].counts.documentTokens) / Double(written) : 0
        }
        manifest.totals = totals
        manifest.sequences = totals.sequences
        let all = totals.sequences * seqLen
        manifest.paddingRate = all > 0 ? Double(totals.paddingTokens) / Double(all) : 0
        let sum = taken.reduce(0, +)
        manifest.truncationRate = sum > 0 ? Double(totals.truncatedTokens) / Double(sum) : 0
    }
}
