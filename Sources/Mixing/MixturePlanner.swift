/// What one source offers after the length filter and decontamination.
public struct SourceSupply: Sendable, Equatable {
    public var name: String
    /// Normalised weight (weights of a mixture sum to 1).
    public var weight: Double
    public var tokens: Int
    public var packing: PackingStrategy

    public init(name: String, weight: Double, tokens: Int, packing: PackingStrategy) {
        self.name = name
        self.weight = weight
        self.tokens = tokens
        self.packing = packing
    }
}

/// How much the build takes from one source.
public struct SourceTarget: Sendable, Equatable {
    public var name: String
    /// Tokens to take (with repeats when up-sampled).
    public var tokens: Int
    /// For concat sources: the exact number of sequences to fill (`tokens == sequences * seqLen`).
    public var sequences: Int?
    /// tokens / available: < 1 down-sampling, > 1 up-sampling (`epochs` passes, the last partial).
    public var rate: Double
    public var epochs: Int { rate <= 1 ? 1 : Int(rate.rounded(.up)) }
}

/// Turns weights (shares of output tokens) and what each source offers into per-source targets.
///
/// Budget `smallest-source` takes the largest total at which no source needs up-sampling:
/// `min over s of available_s / weight_s`. When every source is concat-packed the total is cut
/// into whole sequences and shared out by largest remainders, taking the largest count (down to
/// half the budget) at which every share is within 0.5 percentage points of its weight;
/// otherwise every source takes `weight × budget` tokens (a concat source then pads its last
/// sequence). concat sources round their
/// target to whole sequences and the others take `weight × budget` tokens.
public enum MixturePlanner {
    /// Up-sampling a source beyond `maxEpochs` passes is an error (raise `max_epochs` to allow it).
    /// Totals are capped at `MixtureSpec.Limits.budget`, so no target can overflow.
    public static func plan(_ supplies: [SourceSupply], budget: TokenBudget, seqLen: Int, maxEpochs: Int = 10) throws -> [SourceTarget] {
        for s in supplies where s.tokens == 0 {
            throw PlanError("source '\(s.name)' has no documents left after filtering; a mixture cannot take \(Int(s.weight * 100))% from nothing")
        }
        let total: Double
        switch budget {
        case .tokens(let n): total = Double(n)
        case .smallestSource: total = supplies.map { Double($0.tokens) / $0.weight }.min() ?? 0
        }
        guard total.isFinite, total <= Double(MixtureSpec.Limits.budget.upperBound) else {
            throw PlanError("the mixture's total (\(total) tokens) exceeds \(MixtureSpec.Limits.budget.upperBound) tokens; check the weights and budget")
        }
        var targets = supplies.map { SourceTarget(name: $0.name, tokens: Int(($0.weight * total).rounded(.down)), sequences: nil, rate: 0) }
        if supplies.allSatisfy({ $0.packing == .concat }) {
            let most = Int(total / Double(seqLen))
            guard most > 0 else {
                throw PlanError("the budget (\(Int(total)) tokens) does not fill one \(seqLen)-token sequence")
            }
            // The largest number of sequences, at most what the budget fills, whose apportionment
            // puts every source within half a percentage point of its weight (for example a
            // multiple of 4 for four equal weights); when no count does, the largest one.
            let weights = supplies.map(\.weight)
            var counts = apportion(most, weights: weights)
            // At most 2^16 candidates: a huge budget cannot make this search run for ages.
            for n in stride(from: most, through: max(1, most / 2, most - (1 << 16)), by: -1) {
                let candidate = apportion(n, weights: weights)
                if zip(candidate, weights).allSatisfy({ abs(Double($0) / Double(n) - $1) <= 0.005 }) {
                    counts = candidate
                    break
                }
            }
            for i in targets.indices {
                targets[i].sequences = counts[i]
                targets[i].tokens = counts[i] * seqLen
            }
        }
        for i in targets.indices {
            targets[i].rate = Double(targets[i].tokens) / Double(supplies[i].tokens)
            if targets[i].rate > Double(maxEpochs) {
                throw PlanError(String(format: "source '%@' would be up-sampled x%.2f, more than max_epochs (%d): it offers %d tokens for a target of %d; raise max_epochs in the mixture file to allow it, or lower the budget",
                                       supplies[i].name, targets[i].rate, maxEpochs, supplies[i].tokens, targets[i].tokens))
            }
        }
        return targets
    }
}

extension MixturePlanner {
    /// Largest-remainder (Hamilton) apportionment of `n` sequences by `weights` (summing to 1).
    static func apportion(_ n: Int, weights: [Double]) -> [Int] {
        let quotas = weights.map { $0 * Double(n) }
        var counts = quotas.map { Int($0.rounded(.down)) }
        let order = quotas.indices.sorted { (quotas[$0] - Double(counts[$0]), -$0) > (quotas[$1] - Double(counts[$1]), -$1) }
        for i in order.prefix(n - counts.reduce(0, +)) { counts[i] += 1 }
        return counts
    }
}

public struct PlanError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
