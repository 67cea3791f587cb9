/// The parts of a SentencePiece `ModelProto` (sentencepiece_model.proto) that encoding and
/// decoding depend on, decoded from a `tokenizer.model` file.
///
/// Field numbers follow sentencepiece_model.proto; proto2 defaults apply when a field is absent
/// (for example `model_type` defaults to UNIGRAM and `remove_extra_whitespaces` to true).
public struct SentencePieceModelProto: Sendable {
    /// `ModelProto.SentencePiece.Type`.
    public enum PieceType: Int32, Sendable {
        case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6
    }

    public struct Piece: Sendable {
        /// The piece's UTF-8 bytes (kept as bytes: distinct pieces may be canonically equivalent).
        public var bytes: [UInt8]
        public var score: Float
        public var type: PieceType
    }

    /// `TrainerSpec.ModelType`.
    public enum ModelType: Int32, Sendable {
        case unigram = 1, bpe = 2, word = 3, char = 4
    }

    public var pieces: [Piece] = []
    public var modelType: ModelType = .unigram
    public var byteFallback = false
    /// Training-only: the trainer kept digits apart; encoding needs nothing for it (no piece
    /// joins a digit to anything), it is recorded for reports.
    public var splitDigits = false
    public var treatWhitespaceAsSuffix = false
    /// The text the decoder emits for `<unk>` (`TrainerSpec.unk_surface`, default " ⁇ ").
    public var unknownSurface: [UInt8] = Array(" \u{2047} ".utf8)
    public var bosPiece: [UInt8] = Array("<s>".utf8)
    public var eosPiece: [UInt8] = Array("</s>".utf8)

    // NormalizerSpec
    public var normalizerName: String = ""
    public var precompiledCharsmap: [UInt8] = []
    public var addDummyPrefix = true
    public var removeExtraWhitespaces = true
    public var escapeWhitespaces = true
    /// Non-empty when the model carries a denormalizer rule set (applied after decoding).
    public var denormalizerCharsmap: [UInt8] = []

    /// Decodes a serialized ModelProto.
    public init(serialized: [UInt8]) throws {
        try serialized.withUnsafeBufferPointer { buffer in
            var reader = ProtobufWireReader(buffer)
            while let field = try reader.next() {
                switch (field.number, field.wireType) {
                case (1, .lengthDelimited): pieces.append(try Self.parsePiece(reader.submessage(field)))
                case (2, .lengthDelimited): try parseTrainerSpec(reader.submessage(field))
                case (3, .lengthDelimited): try parseNormalizerSpec(reader.submessage(field))
                case (5, .lengthDelimited): try parseDenormalizerSpec(reader.submessage(field))
                default: continue
                }
            }
        }
    }

    private static func parsePiece(_ message: ProtobufWireReader) throws -> Piece {
        var reader = message
        var piece = Piece(bytes: [], score: 0, type: .normal)
        while let field = try reader.next() {
            switch (field.number, field.wireType) {
            case (1, .lengthDelimited): piece.bytes = reader.payloadBytes(field)
            case (2, .fixed32): piece.score = field.float
            case (3, .varint):
                guard let type = PieceType(rawValue: field.int32) else {
                    throw ProtobufWireReader.Malformed(description: "unknown piece type \(field.int32)")
                }
                piece.type = type
            default: continue
            }
        }
        return piece
    }

    private mutating func parseTrainerSpec(_ message: ProtobufWireReader) throws {
        var reader = message
        while let field = try reader.next() {
            switch (field.number, field.wireType) {
            case (3, .varint):
                guard let type = ModelType(rawValue: field.int32) else {
                    throw ProtobufWireReader.Malformed(description: "unknown model_type \(field.int32)")
                }
                modelType = type
            case (24, .varint): treatWhitespaceAsSuffix = field.bool
            case (25, .varint): splitDigits = field.bool
            case (35, .varint): byteFallback = field.bool
            case (44, .lengthDelimited): unknownSurface = reader.payloadBytes(field)
            case (46, .lengthDelimited): bosPiece = reader.payloadBytes(field)
            case (47, .lengthDelimited): eosPiece = reader.payloadBytes(field)
            default: continue
            }
        }
    }

    private mutating func parseNormalizerSpec(_ message: ProtobufWireReader) throws {
        var reader = message
        while let field = try reader.next() {
            switch (field.number, field.wireType) {
            case (1, .lengthDelimited): normalizerName = String(decoding: reader.payloadBytes(field), as: UTF8.self)
            case (2, .lengthDelimited): precompiledCharsmap = reader.payloadBytes(field)
            case (3, .varint): addDummyPrefix = field.bool
            case (4, .varint): removeExtraWhitespaces = field.bool
            case (5, .varint): escapeWhitespaces = field.bool
            default: continue
            }
        }
    }

    private mutating func parseDenormalizerSpec(_ message: ProtobufWireReader) throws {
        var reader = message
        while let field = try reader.next() {
            if field.number == 2, field.wireType == .lengthDelimited { denormalizerCharsmap = reader.payloadBytes(field) }
        }
    }
}
