/// A minimal reader of the protocol-buffer wire format, enough to decode a SentencePiece
/// `ModelProto` (`tokenizer.model`).
///
/// Why hand-written: the model needs a dozen fields of four messages; generated swift-protobuf code
/// would add a large dependency and build time for that. The reader walks tag/value pairs, hands
/// each field to the caller and skips unknown fields by wire type, so files written by newer
/// SentencePiece versions (extra fields) still load. Malformed input throws instead of trapping.
struct ProtobufWireReader {
    enum WireType: UInt8 {
        case varint = 0, fixed64 = 1, lengthDelimited = 2, startGroup = 3, endGroup = 4, fixed32 = 5
    }

    struct Malformed: Error, CustomStringConvertible {
        var description: String
    }

    /// One decoded field: its number, wire type and where its payload lies.
    struct Field {
        var number: UInt64
        var wireType: WireType
        /// The varint value (varint), or the raw fixed32/fixed64 bits.
        var scalar: UInt64
        /// The payload of a length-delimited field, as a range into the reader's bytes.
        var payload: Range<Int>
    }

    let bytes: UnsafeBufferPointer<UInt8>
    private(set) var position: Int
    let end: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, range: Range<Int>? = nil) {
        self.bytes = bytes
        let r = range ?? 0..<bytes.count
        self.position = r.lowerBound
        self.end = r.upperBound
    }

    private mutating func readVarint() throws -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw Malformed(description: "truncated varint at byte \(position)") }
            let byte = bytes[position]
            position += 1
            guard shift < 64 else { throw Malformed(description: "varint longer than 10 bytes at byte \(position)") }
            value |= UInt64(byte & 0x7F) << shift
            if byte & 0x80 == 0 { return value }
            shift += 7
        }
    }

    private mutating func readFixed(_ width: Int) throws -> UInt64 {
        guard end - position >= width else { throw Malformed(description: "truncated fixed\(width * 8) at byte \(position)") }
        var value: UInt64 = 0
        for i in 0..<width { value |= UInt64(bytes[position + i]) << UInt64(8 * i) }
        position += width
        return value
    }

    /// The next field, or nil at the end of the message. Groups (deprecated) are rejected.
    mutating func next() throws -> Field? {
        guard position < end else { return nil }
        let key = try readVarint()
        guard let wireType = WireType(rawValue: UInt8(key & 7)) else {
            throw Malformed(description: "unknown wire type \(key & 7) at byte \(position)")
        }
        var field = Field(number: key >> 3, wireType: wireType, scalar: 0, payload: position..<position)
        switch wireType {
        case .varint: field.scalar = try readVarint()
        case .fixed64: field.scalar = try readFixed(8)
        case .fixed32: field.scalar = try readFixed(4)
        case .lengthDelimited:
            let length = try readVarint()
            guard length <= UInt64(end - position) else {
                throw Malformed(description: "field \(field.number) claims \(length) bytes, \(end - position) remain")
            }
            field.payload = position..<(position + Int(length))
            position += Int(length)
        case .startGroup, .endGroup:
            throw Malformed(description: "protobuf groups are not used by SentencePiece models")
        }
        return field
    }

    /// The payload bytes of a length-delimited field.
    func payloadBytes(_ field: Field) -> [UInt8] { Array(bytes[field.payload]) }

    /// A reader over an embedded message.
    func submessage(_ field: Field) -> ProtobufWireReader { ProtobufWireReader(bytes, range: field.payload) }
}

extension ProtobufWireReader.Field {
    var bool: Bool { scalar != 0 }
    var int32: Int32 { Int32(truncatingIfNeeded: scalar) }
    var float: Float { Float(bitPattern: UInt32(truncatingIfNeeded: scalar)) }
}
