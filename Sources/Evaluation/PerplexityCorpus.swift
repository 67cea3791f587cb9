import LongMixCore
import Packing
import ShardIO
import Tokenization

/// The documents a perplexity evaluation scores, tokenized once for every model and context.
///
/// Contract: each kept document is `[BOS] + ids`, cut to `maxTokens` stream tokens so that every
/// context scores the same tokens; its `bytes` are the UTF-8 bytes those ids decode to (the text
/// scored: the whole document when it was not cut). Documents with fewer than `minTokens` stream
/// tokens are counted and left out; reading stops after `maxDocuments` kept ones.
/// `documentsRead == documents + documentsTooShort`.
///
/// From a pack, each sequence is one stream instead (documents joined as the trainer sees them,
/// BOS/EOS included), up to its padding and cut to `maxTokens`; its `bytes` are the UTF-8 bytes
/// its ids after the first decode to, each document segment decoded on its own (as a shard
/// document is). The counts then count sequences.
public struct PerplexityCorpus: Sendable {
    public private(set) var streams: [[UInt32]] = []
    public private(set) var bytes: [Int] = []
    public private(set) var documentsRead = 0
    public private(set) var documentsTooShort = 0
    public private(set) var documentsCut = 0

    public var documents: Int { streams.count }
    public var tokens: Int { streams.reduce(0) { $0 + $1.count } }

    public init(reader: DocumentReader, tokenizer: Tokenizer, minTokens: Int, maxTokens: Int, maxDocuments: Int? = nil) throws {
        guard let bos = tokenizer.bosID else {
            throw EvaluationError("\(tokenizer.path): the tokenizer has no BOS id; perplexity streams start with BOS")
        }
        guard maxTokens >= 2, minTokens <= maxTokens else {
            throw EvaluationError("document length limits: need 2 <= min \(minTokens) <= max \(maxTokens) tokens")
        }
        let encoder = tokenizer.makeEncoder()
        while let document = try reader.next() {
            if let maxDocuments, streams.count >= maxDocuments { break }
            documentsRead += 1
            var stream = [bos] + encoder.encode(document.text)
            guard admit(&stream, minTokens: minTokens, maxTokens: maxTokens) else { continue }
            bytes.append(try tokenizer.decode(Array(stream.dropFirst())).count)
            streams.append(stream)
        }
    }

    /// The sequences of a pack built with `tokenizer`, in pack order, as streams.
    public init(pack: PackReader, tokenizer: Tokenizer, minTokens: Int, maxTokens: Int, maxDocuments: Int? = nil) throws {
        guard maxTokens >= 2, minTokens <= maxTokens else {
            throw EvaluationError("sequence length limits: need 2 <= min \(minTokens) <= max \(maxTokens) tokens")
        }
        guard pack.manifest.tokenizer.sha256 == tokenizer.sha256 else {
            throw EvaluationError("\(pack.directory): the pack was built with tokenizer \(pack.manifest.tokenizer.path) "
                                  + "(sha256 \(pack.manifest.tokenizer.sha256)), not \(tokenizer.path) (sha256 \(tokenizer.sha256))")
        }
        for sequence in 0..<pack.count {
            if let maxDocuments, streams.count >= maxDocuments { break }
            documentsRead += 1
            let segments = pack.segments(of: sequence)
            let padding = segments.first { $0.kind == .padding }.map { Int($0.start) }
            var stream = Array(pack.tokens(of: sequence).prefix(padding ?? pack.manifest.seqLen))
            guard admit(&stream, minTokens: minTokens, maxTokens: maxTokens) else { continue }
            var textBytes = 0
            for segment in segments where segment.kind != .padding {
                let range = max(Int(segment.start), 1)..<min(Int(segment.start + segment.length), stream.count)
                if !range.isEmpty { textBytes += try tokenizer.decode(Array(stream[range])).count }
            }
            bytes.append(textBytes)
            streams.append(stream)
        }
    }

    /// The length rule for one stream: false (counted too short) below `minTokens`, else cut to
    /// `maxTokens` (counted when cut).
    private mutating func admit(_ stream: inout [UInt32], minTokens: Int, maxTokens: Int) -> Bool {
        guard stream.count >= minTokens else {
            documentsTooShort += 1
            return false
        }
        if stream.count > maxTokens {
            stream.removeLast(stream.count - maxTokens)
            documentsCut += 1
        }
        return true
    }
}
