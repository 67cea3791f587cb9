/// `manifest.json` of a pack: what it holds and how it was made, with every count a user needs
/// to trust it (documents and tokens read, dropped by reason, taken; shares aimed at and achieved;
/// padding and truncation).
public struct PackManifest: Codable, Sendable, Equatable {
    public struct TokenizerInfo: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public var format: String
        public var vocabularySize: Int
    }

    public struct MixtureInfo: Codable, Sendable, Equatable {
        public var name: String
        public var path: String
        public var sha256: String
    }

    public struct SpecialTokens: Codable, Sendable, Equatable {
        public var bos: UInt32?
        public var eos: UInt32?
        public var pad: UInt32
    }

    public struct Decontamination: Codable, Sendable, Equatable {
        public var index: String
        public var protocolName: String
        public var n: Int
        public var normalization: String
        public var indexNGrams: Int
    }

    /// One source's journey from shards to sequences.
    public struct Source: Codable, Sendable, Equatable {
        public var name: String
        public var weight: Double
        public var packing: String
        public var documentsRead: Int
        public var tokensRead: Int
        /// Reason (`too-short`, `contaminated`, `contaminated-group`, reader reasons ...) -> documents.
        public var documentsDropped: [String: Int]
        public var tokensDropped: [String: Int]
        /// Documents and tokens that passed every filter.
        public var documentsAvailable: Int
        public var tokensAvailable: Int
        /// Documents and tokens the sampler chose (with repeats when up-sampled).
        public var documentsTaken: Int
        public var tokensTaken: Int
        /// Taken / available tokens: below 1 down-sampled, above 1 up-sampled (epochs).
        public var samplingRate: Double
        public var targetShare: Double
        public var achievedShare: Double
        public var packing_: PackingCounts

        enum CodingKeys: String, CodingKey {
            case name, weight, packing, documentsRead, tokensRead, documentsDropped, tokensDropped
            case documentsAvailable, tokensAvailable, documentsTaken, tokensTaken, samplingRate
            case targetShare, achievedShare
            case packing_ = "packed"
        }
    }

    public var format = "longmix-pack"
    public var version = PackFormat.version
    public var seqLen: Int
    public var sequences: Int
    public var tokenDtype: String
    public var tokenizer: TokenizerInfo
    public var mixture: MixtureInfo
    public var seed: UInt64
    public var specialTokens: SpecialTokens
    public var loss: String
    public var decontamination: Decontamination?
    public var sources: [Source]
    public var totals: PackingCounts
    /// Padding tokens / all tokens.
    public var paddingRate: Double
    /// Truncated tokens / tokens taken.
    public var truncationRate: Double
    /// What the shard readers saw, summed over sources.
    public var recordsRead: Int
    public var recordsSkipped: [String: Int]
}
