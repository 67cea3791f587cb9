/// A SentencePiece BPE model (`tokenizer.model`), encoding and decoding exactly as Google's
/// sentencepiece library does (src/normalizer.cc, src/bpe_model.cc, src/sentencepiece_processor.cc).
///
/// Supported: BPE models with NORMAL, UNKNOWN, CONTROL and BYTE pieces; byte_fallback on or off;
/// the normalizer options add_dummy_prefix, remove_extra_whitespaces and escape_whitespaces with
/// the identity rule set. Refused with a message (never approximated): unigram/word/char models,
/// a non-empty precompiled_charsmap or denormalizer, treat_whitespace_as_suffix, USER_DEFINED and
/// UNUSED pieces.
public final class SentencePieceBPEModel: TokenizerModel {
    /// The decoded ModelProto, for reports (split_digits, normalizer name, ...).
    public let proto: SentencePieceModelProto

    /// Pieces that merges may produce (NORMAL), by their bytes.
    let mergeable: ByteStringTable
    /// The other pieces (UNKNOWN, CONTROL, BYTE), looked up after `mergeable` as `PieceToId` does.
    let reserved: ByteStringTable
    let scores: [Float]
    /// Each piece's rank by score: 0 for the highest score, equal scores share a rank, so comparing
    /// ranks orders merges exactly as comparing scores does (with integer compares).
    let ranks: [UInt32]
    /// The mergeable piece `▁`, `UInt32.max` when there is none.
    let spaceSymbolID: TokenID
    /// Merges between symbols that are pieces, by id; nil for vocabularies too large for it.
    let pairs: PieceMergeTable?
    /// The mergeable piece of each ASCII character, `UInt32.max` where there is none.
    let asciiIDs: [TokenID]
    let unknownID: TokenID
    /// `<0xXX>` ids for byte fallback; the unknown id where the vocabulary lacks one.
    let byteIDs: [TokenID]
    /// Where normalized text may be cut into independently encoded segments.
    let segmentation: CharacterPairTable

    // Decoding tables, by id.
    private let pieceTypes: [SentencePieceModelProto.PieceType]
    /// The piece with `▁` replaced by a space.
    private let surfaces: [[UInt8]]
    private let startsWithSpaceSymbol: [Bool]
    /// The byte a BYTE piece stands for, -1 for other pieces.
    private let byteValues: [Int16]

    public let bosID: TokenID?
    public let eosID: TokenID?
    public var vocabularySize: Int { scores.count }

    /// Validates `proto` and builds the lookup tables.
    public init(proto: SentencePieceModelProto, path: String? = nil) throws {
        func refuse(_ what: String) -> TokenizerError {
            TokenizerError(path: path, "\(what); LongMix encodes only SentencePiece BPE models it can reproduce exactly (like LLaMA-2's), so it refuses this one rather than approximate it")
        }
        guard proto.modelType == .bpe else { throw refuse("model_type is \(proto.modelType), not BPE") }
        guard proto.precompiledCharsmap.isEmpty else {
            throw refuse("the normalizer '\(proto.normalizerName)' has a precompiled_charsmap (Unicode normalization rules)")
        }
        guard proto.denormalizerCharsmap.isEmpty else { throw refuse("the model has denormalization rules") }
        guard !proto.treatWhitespaceAsSuffix else { throw refuse("treat_whitespace_as_suffix is set") }
        if let odd = proto.pieces.firstIndex(where: { $0.score.isNaN }) {
            throw refuse("piece \(odd) has a NaN score, which orders no merges")
        }
        if let odd = proto.pieces.firstIndex(where: { $0.type == .userDefined || $0.type == .unused }) {
            throw refuse("piece \(odd) has type \(proto.pieces[odd].type)")
        }
        guard let unknown = proto.pieces.firstIndex(where: { $0.type == .unknown }) else {
            throw TokenizerError(path: path, "the model has no UNKNOWN piece; it is not a valid SentencePiece model")
        }
        guard !proto.pieces.isEmpty, proto.pieces.count < Int(UInt32.max) else {
            throw TokenizerError(path: path, "the model has \(proto.pieces.count) pieces")
        }
        self.proto = proto
        unknownID = TokenID(unknown)

        var mergeableEntries: [(key: [UInt8], value: UInt32)] = []
        var reservedEntries: [(key: [UInt8], value: UInt32)] = []
        var byteValues = [Int16](repeating: -1, count: proto.pieces.count)
        var surfaces: [[UInt8]] = []
        var startsWithSpaceSymbol: [Bool] = []
        for (id, piece) in proto.pieces.enumerated() {
            if piece.type == .normal {
                mergeableEntries.append((piece.bytes, UInt32(id)))
            } else {
                reservedEntries.append((piece.bytes, UInt32(id)))
            }
            if piece.type == .byte {
                guard let value = Self.byteValue(ofPiece: piece.bytes) else {
                    throw TokenizerError(path: path, "BYTE piece \(id) is not of the form <0xXX>")
                }
                byteValues[id] = Int16(value)
            }
            startsWithSpaceSymbol.append(piece.bytes.starts(with: UTF8Scanning.spaceSymbol))
            surfaces.append(Self.replacingSpaceSymbols(piece.bytes))
        }
        let mergeable = ByteStringTable(mergeableEntries)
        let reserved = ByteStringTable(reservedEntries)
        self.mergeable = mergeable
        self.reserved = reserved
        let scores = proto.pieces.map(\.score)
        self.scores = scores
        let distinctScores = Array(Set(scores)).sorted(by: >)
        let rankOfScore = Dictionary(uniqueKeysWithValues: distinctScores.enumerated().map { ($1, UInt32($0)) })
        let ranks = scores.map { rankOfScore[$0]! }
        self.ranks = ranks
        pieceTypes = proto.pieces.map(\.type)
        self.byteValues = byteValues
        self.surfaces = surfaces
        self.startsWithSpaceSymbol = startsWithSpaceSymbol
        segmentation = CharacterPairTable(pieces: mergeableEntries.map(\.key))
        var pairEntries: [(left: TokenID, right: TokenID, result: TokenID, rank: UInt32)] = []
        let usePairs = proto.pieces.count < PieceMergeTable.maxVocabulary
        for (bytes, _) in mergeableEntries where usePairs && bytes.count > 1 {
            bytes.withUnsafeBufferPointer { buffer in
                let base = buffer.baseAddress!
                guard let result = mergeable.lookup(base, buffer.count) else { return }
                var split = UTF8Scanning.leadByteLength(base[0])
                while split < buffer.count {
                    if let left = mergeable.lookup(base, split), let right = mergeable.lookup(base + split, buffer.count - split) {
                        pairEntries.append((left, right, result, ranks[Int(result)]))
                    }
                    split += UTF8Scanning.leadByteLength(base[split])
                }
            }
        }
        pairs = usePairs ? PieceMergeTable(pairEntries) : nil
        asciiIDs = (0..<128).map { mergeable.lookup([UInt8($0)]) ?? .max }
        spaceSymbolID = mergeable.lookup(UTF8Scanning.spaceSymbol) ?? .max

        let hexDigits = Array("0123456789ABCDEF".utf8)
        let unknownTokenID = TokenID(unknown)
        func pieceToID(_ bytes: [UInt8]) -> TokenID? {
            if let id = mergeable.lookup(bytes) { return id }
            return reserved.lookup(bytes)
        }
        byteIDs = (0..<256).map { byte in
            let piece: [UInt8] = Array("<0x".utf8) + [hexDigits[byte >> 4], hexDigits[byte & 15], UInt8(ascii: ">")]
            return pieceToID(piece) ?? unknownTokenID
        }
        // SentencePieceProcessor::bos_id(): the bos piece's id when that piece is CONTROL.
        let types = proto.pieces.map(\.type)
        func controlID(_ piece: [UInt8]) -> TokenID? {
            guard let id = pieceToID(piece), types[Int(id)] == .control else { return nil }
            return id
        }
        bosID = controlID(proto.bosPiece)
        eosID = controlID(proto.eosPiece)
    }

    /// Loads a `tokenizer.model` file's bytes.
    public convenience init(serialized: [UInt8], path: String? = nil) throws {
        let proto: SentencePieceModelProto
        do {
            proto = try SentencePieceModelProto(serialized: serialized)
        } catch {
            throw TokenizerError(path: path, "not a SentencePiece model (protobuf ModelProto): \(error)")
        }
        try self.init(proto: proto, path: path)
    }

    public func makeEncoder() -> any TokenEncoder { SentencePieceEncoder(model: self) }

    /// The piece's bytes for `id` (for diagnostics and tests).
    public func piece(_ id: TokenID) -> [UInt8] { proto.pieces[Int(id)].bytes }

    private static func byteValue(ofPiece bytes: [UInt8]) -> UInt8? {
        guard bytes.count == 6, bytes.starts(with: Array("<0x".utf8)), bytes[5] == UInt8(ascii: ">") else { return nil }
        func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
            case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
            default: return nil
            }
        }
        guard let high = hex(bytes[3]), let low = hex(bytes[4]) else { return nil }
        return high << 4 | low
    }

    private static func replacingSpaceSymbols(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if i + 3 <= bytes.count && bytes[i] == 0xE2 && bytes[i + 1] == 0x96 && bytes[i + 2] == 0x81 {
                out.append(0x20)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    /// Decodes as `SentencePieceProcessor::Decode`: control pieces vanish, `<unk>` becomes the
    /// unknown surface (" ⁇ "), runs of byte pieces become their UTF-8 text (U+FFFD per invalid
    /// byte), `▁` becomes a space, and the first `▁` of the text (the dummy prefix) is dropped.
    public func decode(_ ids: [TokenID]) throws -> [UInt8] {
        var text: [UInt8] = []
        text.reserveCapacity(ids.count * 4)
        var pendingBytes: [UInt8] = []
        var expectingBOSWhitespace = true
        var bosWhitespaceSeen = false
        let consumesBOSWhitespace = proto.addDummyPrefix || proto.removeExtraWhitespaces
        for id in ids {
            guard Int(id) < scores.count else {
                throw TokenizerError("id \(id) is outside the vocabulary (size \(scores.count))")
            }
            let byteValue = byteValues[Int(id)]
            if byteValue >= 0 {
                pendingBytes.append(UInt8(byteValue))
                continue
            }
            if !pendingBytes.isEmpty {
                UTF8Scanning.appendRepairing(pendingBytes, to: &text)
                pendingBytes.removeAll(keepingCapacity: true)
            }
            if bosWhitespaceSeen || !text.isEmpty { expectingBOSWhitespace = false }
            switch pieceTypes[Int(id)] {
            case .control:
                bosWhitespaceSeen = false
            case .unknown:
                text.append(contentsOf: proto.unknownSurface)
                bosWhitespaceSeen = false
            default:
                let surface = surfaces[Int(id)]
                if expectingBOSWhitespace && consumesBOSWhitespace && startsWithSpaceSymbol[Int(id)] {
                    text.append(contentsOf: surface.dropFirst())
                    bosWhitespaceSeen = !proto.removeExtraWhitespaces
                } else {
                    text.append(contentsOf: surface)
                    bosWhitespaceSeen = false
                }
            }
        }
        if !pendingBytes.isEmpty { UTF8Scanning.appendRepairing(pendingBytes, to: &text) }
        return text
    }
}
