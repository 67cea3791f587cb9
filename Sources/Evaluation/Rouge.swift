/// Precision, recall and F-measure of one ROUGE comparison.
public struct RougeScore: Sendable, Equatable {
    public var precision: Double
    public var recall: Double
    public var fmeasure: Double

    public init(precision: Double, recall: Double) {
        self.precision = precision
        self.recall = recall
        // rouge-score's scoring.fmeasure, same operation order so results agree to the last bit.
        fmeasure = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
    }

    public static let zero = RougeScore(precision: 0, recall: 0)
}

/// A ROUGE variant: `rougeN` over n-grams or `rougeL` over the longest common subsequence.
public enum RougeType: Hashable, Sendable, CustomStringConvertible {
    case ngram(Int)
    case longestCommonSubsequence

    /// rouge-score's name: `rouge1`, `rouge2`, ..., `rougeL`.
    public var description: String {
        switch self {
        case .ngram(let n): return "rouge\(n)"
        case .longestCommonSubsequence: return "rougeL"
        }
    }
}

/// ROUGE as google-research rouge-score's `RougeScorer` computes it, argument order included:
/// `score(target:prediction:)`; precision is measured against the prediction, recall against the
/// target. With several targets, `score(targets:prediction:)` keeps, per ROUGE type, the target
/// with the highest F-measure (the first on ties), like `score_multi`.
public struct RougeScorer: Sendable {
    public let types: [RougeType]
    public let tokenizer: RougeTokenizer

    public init(types: [RougeType], useStemmer: Bool = false) {
        self.types = types
        tokenizer = RougeTokenizer(useStemmer: useStemmer)
    }

    public func score(target: String, prediction: String) -> [RougeType: RougeScore] {
        var ids = TokenIDs()
        let targetIDs = ids.intern(tokenizer.tokenize(target))
        let predictionIDs = ids.intern(tokenizer.tokenize(prediction))
        var result: [RougeType: RougeScore] = [:]
        for type in types {
            switch type {
            case .ngram(let n): result[type] = Self.ngramScore(target: targetIDs, prediction: predictionIDs, n: n)
            case .longestCommonSubsequence: result[type] = Self.lcsScore(target: targetIDs, prediction: predictionIDs)
            }
        }
        return result
    }

    public func score(targets: [String], prediction: String) -> [RougeType: RougeScore] {
        var best: [RougeType: RougeScore] = [:]
        for target in targets {
            for (type, score) in self.score(target: target, prediction: prediction)
            where best[type].map({ score.fmeasure > $0.fmeasure }) ?? true {
                best[type] = score
            }
        }
        return best
    }

    static func ngramScore(target: [Int32], prediction: [Int32], n: Int) -> RougeScore {
        let targetCounts = ngramCounts(target, n)
        let predictionCounts = ngramCounts(prediction, n)
        var overlap = 0
        for (ngram, count) in targetCounts { overlap += min(count, predictionCounts[ngram] ?? 0) }
        let targetTotal = max(target.count - n + 1, 0), predictionTotal = max(prediction.count - n + 1, 0)
        return RougeScore(precision: Double(overlap) / Double(max(predictionTotal, 1)),
                          recall: Double(overlap) / Double(max(targetTotal, 1)))
    }

    static func ngramCounts(_ tokens: [Int32], _ n: Int) -> [ArraySlice<Int32>: Int] {
        var counts: [ArraySlice<Int32>: Int] = [:]
        guard tokens.count >= n else { return counts }
        for start in 0...(tokens.count - n) { counts[tokens[start..<(start + n)], default: 0] += 1 }
        return counts
    }

    static func lcsScore(target: [Int32], prediction: [Int32]) -> RougeScore {
        guard !target.isEmpty, !prediction.isEmpty else { return .zero }
        let length = lcsLength(target, prediction)
        return RougeScore(precision: Double(length) / Double(prediction.count),
                          recall: Double(length) / Double(target.count))
    }

    /// Length of the longest common subsequence, by the standard dynamic programme in two rows.
    static func lcsLength(_ a: [Int32], _ b: [Int32]) -> Int {
        var previous = [Int32](repeating: 0, count: b.count + 1)
        var current = previous
        for x in a {
            for j in 1...b.count {
                current[j] = x == b[j - 1] ? previous[j - 1] + 1 : max(previous[j], current[j - 1])
            }
            swap(&previous, &current)
        }
        return Int(previous[b.count])
    }
}

/// Maps token byte strings to dense integer ids, so n-gram counting and LCS compare integers.
struct TokenIDs {
    private var table: [[UInt8]: Int32] = [:]

    mutating func intern(_ tokens: [[UInt8]]) -> [Int32] {
        tokens.map { token in
            if let id = table[token] { return id }
            let id = Int32(table.count)
            table[token] = id
            return id
        }
    }
}
