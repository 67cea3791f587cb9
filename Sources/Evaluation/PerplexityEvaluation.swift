/// A language model as a perplexity evaluation sees it: the summed next-token loss of a window.
public protocol NextTokenScorer {
    /// Sum over positions `p` in `window.scored` of `-log P(stream[p] | stream[window.inputs.lowerBound..<p])`,
    /// in nats, the window's tokens fed at model positions `0..<window.inputs.count`.
    mutating func negativeLogLikelihood(of stream: UnsafeBufferPointer<UInt32>, window: PerplexityWindows.Window) throws -> Double
}

/// Perplexity per byte of documents under a model, over `PerplexityWindows`.
///
/// Contract: each document is its own token stream (BOS first, so that every text token is
/// scored; windows never cross documents); every position after the first is scored once; the
/// result holds the summed NLL, the scored tokens and the documents' UTF-8 text bytes.
public enum PerplexityEvaluation {
    /// Scores `stream` (a document's ids, BOS first) whose text has `textBytes` UTF-8 bytes.
    public static func score(stream: [UInt32], textBytes: Int, context: Int, stride: Int?,
                             scorer: inout some NextTokenScorer, into result: inout PerplexityPerByte) throws {
        let windows = try PerplexityWindows(count: stream.count, context: context, stride: stride)
        try stream.withUnsafeBufferPointer { ids in
            for window in windows where !window.scored.isEmpty {
                let nll = try scorer.negativeLogLikelihood(of: ids, window: window)
                guard nll.isFinite else {
                    throw EvaluationError("non-finite loss \(nll) for tokens \(window.scored) (window \(window.inputs))")
                }
                result.add(negativeLogLikelihood: nll, tokens: window.scored.count)
            }
        }
        result.add(bytes: textBytes)
    }
}
