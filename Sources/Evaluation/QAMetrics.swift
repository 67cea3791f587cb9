/// Question-answering metrics over SQuAD-normalized answers. Every function takes the model's
/// prediction and the list of acceptable gold answers and returns the best score over the golds.
public enum QAMetrics {
    /// SQuAD v1.1 exact match: 1 when the normalized prediction equals some normalized gold answer.
    /// An empty gold list scores 0 (`PredictionScoring` rejects such records before scoring).
    public static func exactMatch(prediction: String, answers: [String]) -> Double {
        let normalized = AnswerNormalization.normalize(prediction)
        return answers.contains { AnswerNormalization.normalize($0) == normalized } ? 1 : 0
    }

    /// SQuAD v1.1 token F1: harmonic mean of precision and recall of the multiset of normalized
    /// tokens shared by prediction and gold; 0 when nothing is shared (also when either side is
    /// empty); the maximum over gold answers.
    public static func f1(prediction: String, answers: [String]) -> Double {
        let predicted = AnswerNormalization.tokens(prediction)
        var best = 0.0
        for answer in answers {
            best = max(best, tokenF1(predicted, AnswerNormalization.tokens(answer)))
        }
        return best
    }

    static func tokenF1(_ predicted: [String], _ gold: [String]) -> Double {
        var goldCounts: [String: Int] = [:]
        for token in gold { goldCounts[token, default: 0] += 1 }
        var shared = 0
        for token in predicted {
            if let count = goldCounts[token], count > 0 {
                shared += 1
                goldCounts[token] = count - 1
            }
        }
        guard shared > 0 else { return 0 }
        let precision = Double(shared) / Double(predicted.count)
        let recall = Double(shared) / Double(gold.count)
        return (2 * precision * recall) / (precision + recall)
    }

    /// Lost in the Middle's `best_subspan_em`: keep the prediction up to its first `\n` (their
    /// evaluation script's `split("\n")[0]`, so a model cannot score by copying the context), then
    /// 1 when some normalized gold answer is a substring (by code points) of the normalized
    /// prediction. A gold answer that normalizes to the empty string matches every prediction, as
    /// in the original.
    public static func bestSubspanEM(prediction: String, answers: [String]) -> Double {
        let normalized = Array(PythonText.lower(normalizedScalars(firstLine(prediction))))
        for answer in answers {
            let gold = PythonText.lower(normalizedScalars(answer))
            if contains(normalized, gold) { return 1 }
        }
        return 0
    }

    /// The text before the first line feed (`text.split("\n")[0]`).
    public static func firstLine(_ text: String) -> String {
        guard let newline = text.utf8.firstIndex(of: 0x0A) else { return text }
        return String(text[..<newline])
    }

    private static func normalizedScalars(_ text: String) -> [Unicode.Scalar] {
        Array(AnswerNormalization.normalize(text).unicodeScalars)
    }

    private static func contains(_ haystack: [Unicode.Scalar], _ needle: [Unicode.Scalar]) -> Bool {
        if needle.isEmpty { return true }
        guard needle.count <= haystack.count else { return false }
        for start in 0...(haystack.count - needle.count)
        where haystack[start] == needle[0] && haystack[start..<(start + needle.count)].elementsEqual(needle) {
            return true
        }
        return false
    }
}
