/// The windows a perplexity evaluation runs a model over, and the tokens each window scores.
///
/// A stream of `count` tokens (a document's ids, starting with BOS so that every text token has
/// something before it) is cut into windows of at most `context` tokens. Window `w` feeds the
/// model positions `inputs` and scores the next-token predictions of positions `scored`: the
/// logit at position `p - 1` predicts token `p`.
///
/// Contract, for every `context >= 2` and `1 <= stride <= context - 1`:
/// - every position `1..<count` is scored exactly once, in increasing order; position 0 never;
/// - a scored position `p` sees `p - inputs.lowerBound` tokens before it, at most `context - 1`;
/// - the first window is `0..<min(context, count)`; each next window scores the following
///   `stride` positions (fewer at the end) with as much context as fits: its inputs end at its last
///   scored position and reach back `context` tokens;
/// - `stride == context - 1` gives non-overlapping windows (scored ranges tile the stream; inputs
///   share one token, so no position goes unscored). Smaller strides give a sliding window in
///   which every scored token has at least `context - stride` tokens before it (the PI paper
///   evaluates with stride 256). This is the loop of Hugging Face's "Perplexity of fixed-length
///   models", except that the last window also reaches back a full context instead of starting
///   at a multiple of the stride.
public struct PerplexityWindows: Sequence, Sendable {
    public struct Window: Equatable, Sendable {
        /// Stream positions fed to the model.
        public var inputs: Range<Int>
        /// Stream positions whose tokens are scored (a suffix of `inputs`).
        public var scored: Range<Int>
    }

    public let count: Int
    public let context: Int
    public let stride: Int

    /// Windows over `count` tokens; `stride` nil means non-overlapping (`context - 1`).
    public init(count: Int, context: Int, stride: Int? = nil) throws {
        guard context >= 2 else { throw EvaluationError("context \(context): a window needs at least 2 tokens") }
        let stride = stride ?? context - 1
        guard (1...(context - 1)).contains(stride) else {
            throw EvaluationError("stride \(stride): must be between 1 and context - 1 = \(context - 1)")
        }
        self.count = Swift.max(count, 0)
        self.context = context
        self.stride = stride
    }

    public func makeIterator() -> AnyIterator<Window> {
        var end = 0
        return AnyIterator {
            guard end < count else { return nil }
            let start = end
            end = start == 0 ? Swift.min(context, count) : Swift.min(start + stride, count)
            return Window(inputs: Swift.max(0, end - context)..<end, scored: Swift.max(start, 1)..<end)
        }
    }
}

/// A perplexity evaluation's misuse: a bad context, stride or input.
public struct EvaluationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
