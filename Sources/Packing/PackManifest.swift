import Foundation
import LongMixCore
import ShardIO

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
        /// SHA-256 of the mixture file's bytes.
        public var sha256: String
        /// The mixture as the build used it: every path absolute, every default filled in.
        public var resolved: ResolvedMixture?
        /// SHA-256 of `resolved` as sorted-key JSON (`ResolvedMixture.canonicalJSON`): equal for
        /// builds that asked for the same thing, whatever the file's spelling.
        public var resolvedSha256: String?
        public init(name: String, path: String, sha256: String, resolved: ResolvedMixture? = nil) {
            self.name = name
            self.path = path
            self.sha256 = sha256
            self.resolved = resolved
            self.resolvedSha256 = resolved.map { SHA256.hexDigest(SHA256.hash($0.canonicalJSON)) }
        }
    }

    /// A mixture as resolved by the build (the manifest's own record; Packing does not depend
    /// on Mixing): absolute paths, the data root, weights normalized to shares, every default.
    public struct ResolvedMixture: Codable, Sendable, Equatable {
        public struct SpecialTokens: Codable, Sendable, Equatable {
            public var bos: Bool
            public var eos: Bool
            public var pad: UInt32
            public init(bos: Bool, eos: Bool, pad: UInt32) {
                self.bos = bos
                self.eos = eos
                self.pad = pad
            }
        }

        public struct Decontamination: Codable, Sendable, Equatable {
            public var index: String
            public var testSets: [String]
            public var protocolName: String
            public var n: Int
            public var normalization: String
            public init(index: String, testSets: [String], protocolName: String, n: Int, normalization: String) {
                self.index = index
                self.testSets = testSets
                self.protocolName = protocolName
                self.n = n
                self.normalization = normalization
            }
        }

        public struct Source: Codable, Sendable, Equatable {
            public var name: String
            public var paths: [String]
            /// Share of output tokens (weights normalized to sum to 1).
            public var weight: Double
            /// `field:<path>` or `template:<template>`.
            public var text: String
            public var completion: String?
            public var header: String?
            public var idField: String?
            public var groupField: String?
            public var packing: String
            public var fewShotFill: Bool
            public var minDocTokens: Int
            public init(name: String, paths: [String], weight: Double, text: String, completion: String?, header: String?,
                        idField: String?, groupField: String?, packing: String, fewShotFill: Bool, minDocTokens: Int) {
                self.name = name
                self.paths = paths
                self.weight = weight
                self.text = text
                self.completion = completion
                self.header = header
                self.idField = idField
                self.groupField = groupField
                self.packing = packing
                self.fewShotFill = fewShotFill
                self.minDocTokens = minDocTokens
            }
        }

        public var name: String
        public var path: String
        public var dataRoot: String
        public var seed: UInt64
        public var seqLen: Int
        public var tokenizer: String
        /// Output tokens, or nil for `smallest-source`.
        public var budgetTokens: Int?
        public var specialTokens: SpecialTokens
        public var loss: String
        public var decontamination: Decontamination?
        public var sources: [Source]

        public init(name: String, path: String, dataRoot: String, seed: UInt64, seqLen: Int, tokenizer: String, budgetTokens: Int?,
                    specialTokens: SpecialTokens, loss: String, decontamination: Decontamination?, sources: [Source]) {
            self.name = name
            self.path = path
            self.dataRoot = dataRoot
            self.seed = seed
            self.seqLen = seqLen
            self.tokenizer = tokenizer
            self.budgetTokens = budgetTokens
            self.specialTokens = specialTokens
            self.loss = loss
            self.decontamination = decontamination
            self.sources = sources
        }

        /// Sorted-key JSON without whitespace: the bytes `resolvedSha256` hashes.
        public var canonicalJSON: [UInt8] {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return Array((try? encoder.encode(self)) ?? Data())
        }
    }

    /// One input shard of a source, as the build found it.
    public struct InputShard: Codable, Sendable, Equatable {
        public var source: String
        public var path: String
        public var bytes: Int
        public init(source: String, path: String, bytes: Int) {
            self.source = source
            self.path = path
            self.bytes = bytes
        }
    }

    /// A HELM export imported into the decontamination index, with its content hash.
    public struct TestSetFile: Codable, Sendable, Equatable {
        public var path: String
        public var sha256: String
        public init(path: String, sha256: String) {
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
        /// The test sets the mixture imported into the index before the build (empty when it
        /// named a prebuilt index only).
        public var testSets: [TestSetFile]
        /// Few-shot groups dropped because their header (shared instruction) overlaps a test set,
        /// by source.
        public var groupsDroppedForHeader: [String: Int]
        public init(index: String, protocolName: String, n: Int, normalization: String, indexNGrams: Int,
                    testSets: [TestSetFile] = [], groupsDroppedForHeader: [String: Int] = [:]) {
            self.index = index
            self.protocolName = protocolName
            self.n = n
            self.normalization = normalization
            self.indexNGrams = indexNGrams
            self.testSets = testSets
            self.groupsDroppedForHeader = groupsDroppedForHeader
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
        /// Share of document tokens written (BOS/EOS included; headers and padding excluded).
        public var achievedShare: Double
        /// Tokens of this source with loss mask 1, and their share of all such tokens: what the
        /// source weighs in training (under completion-only, prompts and headers carry none).
        public var lossTokens: Int = 0
        public var lossShare: Double = 0
        public var packing_: PackingCounts
        /// Files of this source not read to the end, by reason (see `PackManifest.filesUnreadable`).
        public var filesUnreadable: [String: Int] = [:]
        /// Documents scanned and tokenized (sample-first builds leave the rest untokenized).
        public var documentsTokenized: Int?
        /// Documents read but never tokenized (keys above the source's final threshold): with
        /// them `documentsRead == documentsAvailable + dropped + documentsNotTokenized`.
        public var documentsNotTokenized: Int?
        /// When not every document was tokenized: the counting pass's estimate of the tokens the
        /// whole source offers, with its error bound (about two standard errors).
        public var tokensAvailableEstimate: Int?
        public var tokensAvailableErrorBound: Int?

        public init(name: String, weight: Double, packing: String, documentsRead: Int, tokensRead: Int, documentsDropped: [String: Int], tokensDropped: [String: Int], documentsAvailable: Int, tokensAvailable: Int, documentsTaken: Int, tokensTaken: Int, samplingRate: Double, targetShare: Double, achievedShare: Double, packing_: PackingCounts,
                    documentsTokenized: Int? = nil, documentsNotTokenized: Int? = nil,
                    tokensAvailableEstimate: Int? = nil, tokensAvailableErrorBound: Int? = nil) {
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
            self.documentsTokenized = documentsTokenized
            self.documentsNotTokenized = documentsNotTokenized
            self.tokensAvailableEstimate = tokensAvailableEstimate
            self.tokensAvailableErrorBound = tokensAvailableErrorBound
        }

        enum CodingKeys: String, CodingKey {
            case name, weight, packing, documentsRead, tokensRead, documentsDropped, tokensDropped
            case documentsAvailable, tokensAvailable, documentsTaken, tokensTaken, samplingRate
            case targetShare, achievedShare, lossTokens, lossShare, filesUnreadable
            case packing_ = "packed"
            case documentsTokenized, documentsNotTokenized, tokensAvailableEstimate, tokensAvailableErrorBound
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
    /// Bytes per `segments.bin` record (24 since format version 2).
    public var segmentRecordBytes = PackFormat.segmentRecordSize
    /// The LongMix release that wrote the pack.
    public var longmixVersion = LongMixVersion.current
    /// Every shard read, with its size in bytes.
    public var inputs: [InputShard] = []
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
    /// Where each of those files stopped (files that could not be opened: line 0): the records
    /// after that point are unknown and in no count, so `recordsRead` and every count derived
    /// from these files are lower bounds. Absent when every file was read to its end.
    public var recordsUnknownAfter: [UnreadTail]?
    /// File name -> size and SHA-256, for every file of the pack but the manifest itself
    /// (filled by `PackWriter.commit`, checked by `PackReader.verify`).
    public var files: [String: FileDigest] = [:]
    /// SHA-256 of `manifest.json`'s own bytes with this value written as 64 zeros: any edit of
    /// the manifest is detected (`PackManifest.sealed`, `PackReader.verify`).
    public var checksum = PackManifest.unsealed

    public static let unsealed = String(repeating: "0", count: 64)

    /// The manifest as written: pretty-printed, sorted keys, its checksum filled in.
    public func sealed() throws -> [UInt8] {
        var copy = self
        copy.checksum = Self.unsealed
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        var bytes = [UInt8](try encoder.encode(copy))
        guard let range = Self.checksumRange(bytes) else { throw PackError("manifest: checksum field not found when sealing") }
        bytes.replaceSubrange(range, with: Array(SHA256.hexDigest(bytes).utf8))
        return bytes
    }

    /// Whether `bytes` (a manifest file) carry the checksum of their own content.
    public static func isSealed(_ bytes: [UInt8]) -> Bool {
        guard let range = checksumRange(bytes) else { return false }
        var zeroed = bytes
        let recorded = String(decoding: bytes[range], as: UTF8.self)
        zeroed.replaceSubrange(range, with: Array(unsealed.utf8))
        return SHA256.hexDigest(zeroed) == recorded
    }

    /// Where the 64 hex digits of `"checksum" : "..."` are in `bytes`.
    static func checksumRange(_ bytes: [UInt8]) -> Range<Int>? {
        let key = Array("\"checksum\" : \"".utf8)
        var i = 0
        while i + key.count + 65 <= bytes.count {
            if bytes[i] == key[0] && bytes[i..<(i + key.count)].elementsEqual(key) {
                let start = i + key.count
                return bytes[start + 64] == UInt8(ascii: "\"") ? start..<(start + 64) : nil
            }
            i += 1
        }
        return nil
    }

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
