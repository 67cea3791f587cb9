/// `manifest.json` of a pack: what it holds and how it was made, with every count a user needs
/// to trust it (documents and tokens read, dropped by reason, taken; shares aimed at and achieved;
/// padding and truncation).
public struct PackManifest: Codable, Sendable, Equatable {
    public struct TokenizerInfo: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public var format: String
        public var vocabularySize: Int
        public init(path: String, sha256: String, format: String, vocabularySize: Int) {
            self.path = path
            self.sha256 = sha256
            self.format = format
            self.vocabularySize = vocabularySize
        }
    }

    public struct MixtureInfo: Codable, Sendable, Equatable {
        public var name: String
        public var path: String
        public var sha256: String
        public init(name: String, path: String, sha256: String) {
            self.name = name
            self.path = path
            self.sha256 = sha256
        }
    }

    public struct SpecialTokens: Codable, Sendable, Equatable {
        public var bos: UInt32?
        public var eos: UInt32?
        public var pad: UInt32
        public init(bos: UInt32?, eos: UInt32?, pad: UInt32) {
            self.bos = bos
            self.eos = eos
            self.pad = pad
        }
    }

    public struct Decontamination: Codable, Sendable, Equatable {
        public var index: String
        public var protocolName: String
        public var n: Int
        public var normalization: String
        public var indexNGrams: Int
        public init(index: String, protocolName: String, n: Int, normalization: String, indexNGrams: Int) {
            self.index = index
            self.protocolName = protocolName
            self.n = n
            self.normalization = normalization
            self.indexNGrams = indexNGrams
        }
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
        /// Files of this source not read to the end, by reason (see `PackManifest.filesUnreadable`).
        public var filesUnreadable: [String: Int] = [:]

        public init(name: String, weight: Double, packing: String, documentsRead: Int, tokensRead: Int, documentsDropped: [String: Int], tokensDropped: [String: Int], documentsAvailable: Int, tokensAvailable: Int, documentsTaken: Int, tokensTaken: Int, samplingRate: Double, targetShare: Double, achievedShare: Double, packing_: PackingCounts) {
            self.name = name
            self.weight = weight
            self.packing = packing
            self.documentsRead = documentsRead
            self.tokensRead = tokensRead
            self.documentsDropped = documentsDropped
            self.tokensDropped = tokensDropped
            self.documentsAvailable = documentsAvailable
            self.tokensAvailable = tokensAvailable
            self.documentsTaken = documentsTaken
            self.tokensTaken = tokensTaken
            self.samplingRate = samplingRate
            self.targetShare = targetShare
            self.achievedShare = achievedShare
            self.packing_ = packing_
        }

        enum CodingKeys: String, CodingKey {
            case name, weight, packing, documentsRead, tokensRead, documentsDropped, tokensDropped
            case documentsAvailable, tokensAvailable, documentsTaken, tokensTaken, samplingRate
            case targetShare, achievedShare, filesUnreadable
            case packing_ = "packed"
        }
    }

    /// Size and SHA-256 of one file of the pack, as written.
    public struct FileDigest: Codable, Sendable, Equatable {
        public var bytes: Int
        public var sha256: String
        public init(bytes: Int, sha256: String) {
            self.bytes = bytes
            self.sha256 = sha256
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
    /// Files that could not be read to the end, by reason (`truncated-zstd`, `corrupt-gzip`,
    /// `empty-file`, ...), summed over sources; their records before the failure are in
    /// `recordsRead`, what followed is unknown.
    public var filesUnreadable: [String: Int] = [:]
    /// File name -> size and SHA-256, for every file of the pack but the manifest itself
    /// (filled by `PackWriter.commit`, checked by `PackReader.verify`).
    public var files: [String: FileDigest] = [:]

    public init(seqLen: Int, sequences: Int, tokenDtype: String, tokenizer: TokenizerInfo, mixture: MixtureInfo, seed: UInt64, specialTokens: SpecialTokens, loss: String, decontamination: Decontamination?, sources: [Source], totals: PackingCounts, paddingRate: Double, truncationRate: Double, recordsRead: Int, recordsSkipped: [String: Int]) {
        self.seqLen = seqLen
        self.sequences = sequences
        self.tokenDtype = tokenDtype
        self.tokenizer = tokenizer
        self.mixture = mixture
        self.seed = seed
        self.specialTokens = specialTokens
        self.loss = loss
        self.decontamination = decontamination
        self.sources = sources
        self.totals = totals
        self.paddingRate = paddingRate
        self.truncationRate = truncationRate
        self.recordsRead = recordsRead
        self.recordsSkipped = recordsSkipped
    }
}
