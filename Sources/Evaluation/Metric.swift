/// A metric that `longmix score` can report, by the name used on the command line and in output.
public enum Metric: String, CaseIterable, Sendable {
    case bestSubspanEM = "best_subspan_em"
    case exactMatch = "em"
    case f1
    case rouge1
    case rouge2
    case rougeL

    /// The F-measure's ROUGE variant, for the ROUGE metrics.
    var rougeType: RougeType? {
        switch self {
        case .rouge1: return .ngram(1)
        case .rouge2: return .ngram(2)
        case .rougeL: return .longestCommonSubsequence
        default: return nil
        }
    }
}

/// Scores one prediction against its references under a fixed list of metrics.
///
/// Contract: `score` returns one value per metric in `metrics` order. QA metrics take the best over
/// the references (`QAMetrics`); ROUGE metrics report the F-measure of the reference with the best
/// F-measure (`RougeScorer.score(targets:prediction:)`), references as targets.
public struct MetricSuite: Sendable {
    public let metrics: [Metric]
    private let rouge: RougeScorer

    public init(metrics: [Metric], useStemmer: Bool = false) {
        self.metrics = metrics
        rouge = RougeScorer(types: metrics.compactMap(\.rougeType), useStemmer: useStemmer)
    }

    public func score(prediction: String, references: [String]) -> [Double] {
        let rougeScores = rouge.types.isEmpty ? [:] : rouge.score(targets: references, prediction: prediction)
        return metrics.map { metric in
            switch metric {
            case .bestSubspanEM: return QAMetrics.bestSubspanEM(prediction: prediction, answers: references)
            case .exactMatch: return QAMetrics.exactMatch(prediction: prediction, answers: references)
            case .f1: return QAMetrics.f1(prediction: prediction, answers: references)
            case .rouge1, .rouge2, .rougeL: return rougeScores[metric.rougeType!]?.fmeasure ?? 0
            }
        }
    }
}
