import Foundation

/// Perplexity per byte and bits per byte of scored text (lm-evaluation-harness's
/// `byte_perplexity` / `bits_per_byte`): `exp(sum of token NLLs / UTF-8 bytes)` and
/// `sum of NLLs / bytes / ln 2`, the NLLs in nats.
///
/// Contract: `add` accumulates in Double whatever order windows arrive in; `bytes` are those of
/// the text whose tokens were scored (all of a document's text when its stream starts with BOS
/// and every window of `PerplexityWindows` is scored), so values compare across tokenizers.
public struct PerplexityPerByte: Sendable, Equatable, Codable {
    public private(set) var negativeLogLikelihood = 0.0
    public private(set) var tokens = 0
    public private(set) var bytes = 0

    public init() {}

    /// Adds the summed NLL (nats) of `tokens` scored tokens.
    public mutating func add(negativeLogLikelihood nll: Double, tokens: Int) {
        negativeLogLikelihood += nll
        self.tokens += tokens
    }

    /// Adds the UTF-8 byte count of scored text.
    public mutating func add(bytes: Int) { self.bytes += bytes }

    public mutating func merge(_ other: PerplexityPerByte) {
        negativeLogLikelihood += other.negativeLogLikelihood
        tokens += other.tokens
        bytes += other.bytes
    }

    public var perplexityPerByte: Double { bytes > 0 ? exp(negativeLogLikelihood / Double(bytes)) : .nan }
    public var bitsPerByte: Double { bytes > 0 ? negativeLogLikelihood / Double(bytes) / M_LN2 : .nan }
    public var perplexityPerToken: Double { tokens > 0 ? exp(negativeLogLikelihood / Double(tokens)) : .nan }
}
