import Foundation
import Tokenization

/// Reads the little-endian, length-prefixed frames the tokenizer oracles write.
struct OracleFrames {
    private let data: [UInt8]
    private var offset = 0

    init(_ data: Data) { self.data = [UInt8](data) }

    var atEnd: Bool { offset >= data.count }

    mutating func u32() -> Int {
        precondition(offset + 4 <= data.count, "oracle output truncated")
        let value = Int(data[offset]) | Int(data[offset + 1]) << 8 | Int(data[offset + 2]) << 16 | Int(data[offset + 3]) << 24
        offset += 4
        return value
    }

    mutating func bytes() -> [UInt8] {
        let count = u32()
        defer { offset += count }
        return Array(data[offset..<(offset + count)])
    }

    mutating func ids() -> [TokenID] { (0..<u32()).map { _ in TokenID(u32()) } }
}

/// One oracle comparison case: a text, the reference ids and the reference decoding of those ids.
struct EncodeCase {
    var text: [UInt8]
    var ids: [TokenID]
    var decoded: [UInt8]
}

/// A reference decoding of an id sequence.
struct DecodeCase {
    var ids: [TokenID]
    var decoded: [UInt8]
}

extension OracleFrames {
    mutating func encodeCases() -> [EncodeCase] {
        (0..<u32()).map { _ in EncodeCase(text: bytes(), ids: ids(), decoded: bytes()) }
    }

    mutating func decodeCases() -> [DecodeCase] {
        (0..<u32()).map { _ in DecodeCase(ids: ids(), decoded: bytes()) }
    }
}

/// Text of a case for failure messages (escaped, shortened).
func describe(_ bytes: [UInt8]) -> String {
    let text = String(decoding: bytes.prefix(120), as: UTF8.self)
    return text.debugDescription + (bytes.count > 120 ? "… (\(bytes.count) bytes)" : "")
}
