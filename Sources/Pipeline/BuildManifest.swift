import Foundation
import LongMixCore
import Mixing
import Packing
import ShardIO
import Tokenization

/// The manifest stage: the pack's `manifest.json` from the counts of every stage and the packing
/// plans.
enum BuildManifest {
    /// Everything but the packing figures. Per source: documents read (counting pass, unreadable
    /// records included) = available + dropped by reason + never tokenized; tokens are those of
    /// the documents tokenized (read = available + dropped). Sources not tokenized whole carry the
    /// counting pass's estimate of their supply; their sampling rate is taken over it.
    ///
    /// Provenance: the LongMix version, the mixture as resolved (`resolved`, its sha256), every
    /// input shard with its size, the test sets imported with their sha256, and the groups
    /// dropped for a contaminated header.
    static func make(spec: MixtureSpec, tokenizer: Tokenizer, plan: SamplingPlan, stores: [SourceStore],
                     targets: [SourceTarget], decontamination: DecontaminationContext?, layout: ShardLayout) throws -> PackManifest {
        let padID = try spec.resolvedPadID(vocabularySize: tokenizer.vocabularySize, eosID: tokenizer.eosID)
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
        var d: PackManifest.Decontamination?
        if let c = decontamination, let given = spec.decontamination {
            var testSets: [PackManifest.TestSetFile] = []
            for file in try ShardPaths.expand(given.testSets) {
                guard let bytes = FileManager.default.contents(atPath: file) else {
                    throw InputError.file(file, reason: .unreadable, "cannot read the test set to record its sha256")
                }
                testSets.append(.init(path: absolute(file), sha256: SHA256.hexDigest(SHA256.hash([UInt8](bytes)))))
            }
            var headerDrops: [String: Int] = [:]
            for (s, source) in plan.sources.enumerated() {
                let n = source.count.headers.filter(\.contaminated).count
                if n > 0 { headerDrops[spec.sources[s].name] = n }
            }
            d = PackManifest.Decontamination(index: absolute(given.index), protocolName: given.protocolName,
                                             n: c.parameters.n, normalization: c.parameters.normalization.rawValue,
                                             indexNGrams: c.indexNGrams, testSets: testSets, groupsDroppedForHeader: headerDrops)
        }
        var manifest = PackManifest(
            seqLen: spec.seqLen, sequences: 0,
            tokenDtype: PackFormat.dtypeName(tokenWidth: PackFormat.tokenWidth(vocabularySize: tokenizer.vocabularySize)),
            tokenizer: .init(path: tokenizer.path, sha256: tokenizer.sha256, format: tokenizer.format.rawValue,
                             vocabularySize: tokenizer.vocabularySize),
            mixture: .init(name: spec.name, path: absolute(spec.path), sha256: spec.sha256,
                           resolved: resolved(spec, padID: padID, decontamination: decontamination)),
            seed: spec.seed,
            specialTokens: .init(bos: spec.addBOS ? tokenizer.bosID : nil, eos: spec.addEOS ? tokenizer.eosID : nil, pad: padID),
            loss: spec.loss.rawValue, decontamination: d, sources: sources, totals: PackingCounts(),
            paddingRate: 0, truncationRate: 0, recordsRead: records, recordsSkipped: recordsSkipped)
        for (s, shards) in layout.shards.enumerated() {
            for shard in shards {
                manifest.inputs.append(.init(source: spec.sources[s].name, path: absolute(shard.path),
                                             bytes: ShardPaths.fileBytes(shard.path)))
            }
        }
        manifest.filesUnreadable = filesUnreadable
        let tails = stores.flatMap(\.count.reading.unreadTails)
        manifest.recordsUnknownAfter = tails.isEmpty ? nil : tails
        return manifest
    }

    /// A path made absolute against the working directory, `.` and `..` removed.
    static func absolute(_ path: String) -> String { URL(fileURLWithPath: path).standardizedFileURL.path }

    /// The mixture as the build uses it: every path absolute, every default filled in.
    static func resolved(_ spec: MixtureSpec, padID: UInt32, decontamination: DecontaminationContext?) -> PackManifest.ResolvedMixture {
        let budget: Int? = switch spec.budget {
        case .tokens(let n): n
        case .smallestSource: nil
        }
        let d = spec.decontamination.map { given in
            PackManifest.ResolvedMixture.Decontamination(
                index: absolute(given.index), testSets: given.testSets.map(absolute), protocolName: given.protocolName,
                n: decontamination?.parameters.n ?? given.n ?? 0,
                normalization: decontamination?.parameters.normalization.rawValue ?? given.normalization ?? "")
        }
        let sources = spec.sources.map { source in
            PackManifest.ResolvedMixture.Source(
                name: source.name, paths: source.paths.map(absolute), weight: source.weight,
                text: (source.reader.text.description.contains("{") ? "template:" : "field:") + source.reader.text.description,
                completion: source.reader.completion?.description, header: source.reader.header?.description,
                idField: source.reader.idField?.description, groupField: source.reader.groupField?.description,
                packing: source.packing.rawValue, fewShotFill: source.fewShotFill, minDocTokens: source.minDocumentTokens)
        }
        return PackManifest.ResolvedMixture(
            name: spec.name, path: absolute(spec.path), dataRoot: absolute(spec.dataRoot), seed: spec.seed, seqLen: spec.seqLen,
            tokenizer: absolute(spec.tokenizer), budgetTokens: budget,
            specialTokens: .init(bos: spec.addBOS, eos: spec.addEOS, pad: padID), loss: spec.loss.rawValue,
            decontamination: d, sources: sources)
    }

    /// The packing figures: per source and totals, shares of document tokens (BOS/EOS included;
    /// few-shot headers and padding are framing).
    static func fillPacking(_ manifest: inout PackManifest, plans: [PackPlan], taken: [Int], seqLen: Int) {
        var totals = PackingCounts()
        for plan in plans { totals.add(plan.counts) }
        let written = plans.reduce(0) { $0 + $1.counts.documentTokens }
        let loss = plans.reduce(0) { $0 + $1.counts.lossTokens }
        for s in plans.indices {
            manifest.sources[s].lossTokens = plans[s].counts.lossTokens
            manifest.sources[s].lossShare = loss > 0 ? Double(plans[s].counts.lossTokens) / Double(loss) : 0
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
