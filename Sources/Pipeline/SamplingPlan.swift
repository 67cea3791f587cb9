import Foundation
import LongMixCore
import Mixing

/// The plan stage's output (`plan.json`): the counting pass summed over tasks, each source's
/// estimated supply with its error bound, the estimated targets, and the key threshold under
/// which documents are tokenized.
public struct SamplingPlan: Sendable, Codable {
    public struct Source: Sendable, Codable {
        public var name: String
        public var count: SourceCount
        /// Documents in the (bottom-k) sample.
        public var sampleDocuments: Int
        /// Estimated stream tokens left after the length filter and decontamination (ratio
        /// estimator: sampled tokens per text byte times the source's text bytes).
        public var estimatedTokens: Int
        /// About two standard errors of `estimatedTokens` (0 when the sample is the whole source).
        public var errorBound: Int
        /// True when the sample held every document (the estimate is then the exact figure).
        public var estimateIsExact: Bool
        public var estimatedTarget: Int
        /// Fraction of the key space tokenized first (1: every document).
        public var threshold: Double
    }

    public var exact: Bool
    public var sources: [Source]
    /// Set when the estimates could not make a plan (every source is then tokenized whole).
    public var note: String?

    /// Tuning of the first threshold: `margin` over the estimated need, at least `minimumExtraDocuments`
    /// documents beyond it, and every document once the threshold passes `wholeSourceFraction`.
    public struct Tuning: Sendable {
        public var margin = 1.2
        public var wholeSourceFraction = 0.7
        /// Multiplies every first threshold (tests use a small value to force raises).
        public var scale = 1.0
        /// Largest factor one raise may grow a threshold by (tests use 2 to force several raises).
        public var maximumGrowth = Double.infinity
        public init(scale: Double = 1.0, maximumGrowth: Double = .infinity) {
            self.scale = scale
            self.maximumGrowth = maximumGrowth
        }
    }

    public static func make(spec: MixtureSpec, counts: [SourceCount], exact: Bool, cutsDocuments: Bool,
                            tuning: Tuning = Tuning()) -> SamplingPlan {
        var sources: [Source] = []
        for (s, count) in counts.enumerated() {
            let dirty = count.groupDrops
            let sample = count.sample.map { d -> SampleDocument in
                var d = d
                if let g = d.group, dirty[g] != nil { d.tokens = 0 }
                return d
            }
            let n = sample.count
            let tokens = sample.reduce(0) { $0 + $1.tokens }
            let bytes = sample.reduce(0) { $0 + $1.bytes }
            var estimate = 0.0, bound = 0.0
            let whole = n == count.documents
            if whole {
                estimate = Double(tokens)
            } else if n > 1 && bytes > 0 {
                let ratio = Double(tokens) / Double(bytes)
                estimate = ratio * Double(count.textBytes)
                let meanBytes = Double(bytes) / Double(n)
                let s2 = sample.reduce(0.0) { $0 + pow(Double($1.tokens) - ratio * Double($1.bytes), 2) } / Double(n - 1)
                let fpc = max(0, 1 - Double(n) / Double(count.documents))
                bound = 2 * Double(count.textBytes) * (fpc * s2 / Double(n)).squareRoot() / meanBytes
            }
            sources.append(Source(name: spec.sources[s].name, count: count, sampleDocuments: n, estimatedTokens: Int(estimate.rounded()),
                                  errorBound: Int(bound.rounded(.up)), estimateIsExact: whole, estimatedTarget: 0, threshold: 1))
        }
        var plan = SamplingPlan(exact: exact, sources: sources, note: nil)
        let supplies = zip(spec.sources, sources).map {
            SourceSupply(name: $0.name, weight: $0.weight, tokens: max(1, $1.estimatedTokens), packing: $0.packing)
        }
        let targets: [SourceTarget]
        do {
            targets = try MixturePlanner.plan(supplies, budget: spec.budget, seqLen: spec.seqLen, maxEpochs: spec.maxEpochs)
        } catch {
            plan.note = "no plan from the estimates (\(error)); every document is tokenized"
            return plan
        }
        // Under smallest-source the scarcest source (by estimate) is taken whole.
        var binding: Int?
        if spec.budget == .smallestSource {
            binding = supplies.indices.min { Double(supplies[$0].tokens) / supplies[$0].weight < Double(supplies[$1].tokens) / supplies[$1].weight }
        }
        for s in plan.sources.indices {
            plan.sources[s].estimatedTarget = targets[s].tokens
            guard !exact, !cutsDocuments, s != binding else { continue }
            plan.sources[s].threshold = firstThreshold(plan.sources[s], target: targets[s].tokens, tuning: tuning)
        }
        return plan
    }

    /// The fraction of keys to tokenize first: enough, with margin, for the target.
    static func firstThreshold(_ source: Source, target: Int, tuning: Tuning) -> Double {
        let lower = Double(source.estimatedTokens - source.errorBound)
        let eligible = source.count.sample.filter { $0.tokens > 0 }
        guard lower > 0, !eligible.isEmpty, source.count.documents > 0 else { return 1 }
        let byTokens = Double(target) * tuning.margin / lower
        // Enough documents too: the expected count under the threshold, less three deviations.
        let meanTokens = Double(eligible.reduce(0) { $0 + $1.tokens }) / Double(eligible.count)
        let needed = Double(target) / meanTokens
        let eligibleDocuments = Double(eligible.count) / Double(source.sampleDocuments) * Double(source.count.documents)
        let byDocuments = (needed + 3 * needed.squareRoot() + 4) / eligibleDocuments
        let f = max(byTokens, byDocuments) * tuning.scale
        return f >= tuning.wholeSourceFraction ? 1 : f
    }

    /// The next threshold after a walk over `fraction` of the keys found `found` of `target` tokens.
    static func raisedThreshold(_ fraction: Double, found: Int, target: Int, tuning: Tuning) -> Double {
        let grow = min(tuning.maximumGrowth, max(2, tuning.margin * Double(target) / Double(max(found, 1))))
        let f = fraction * grow
        return f >= tuning.wholeSourceFraction ? 1 : f
    }
}
