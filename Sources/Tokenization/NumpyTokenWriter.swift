import LongMixCore
import ShardIO

/// Writes every document's ids back to back as one 1-D `.npy` array (NumPy format 1.0), dtype
/// little-endian `uint16` when the vocabulary has at most 65,536 ids, else `uint32`. Document
/// boundaries are not stored: ask for BOS/EOS ids to mark them.
///
/// The header is written first with room for any length and rewritten with the final shape on
/// `finish()`; the file appears atomically then.
public final class NumpyTokenWriter: TokenSink {
    public let path: String
    public let width: Int
    public private(set) var tokens = 0
    private let file: AtomicFileWriter
    private var scratch: [UInt8] = []
    /// Magic, version, header length and the padded header dict: 128 bytes, 64-byte aligned.
    static let headerSize = 128

    public init(path: String, vocabularySize: Int, existing: ExistingFile = .refuse) throws {
        self.path = path
        width = vocabularySize <= 1 << 16 ? 2 : 4
        file = try AtomicFileWriter(path: path, existing: existing)
        try file.write(NumpyTokenWriter.header(width: width, count: 0))
    }

    /// The `.npy` header for `count` elements of `width` bytes.
    static func header(width: Int, count: Int) -> [UInt8] {
        var dict = "{'descr': '<u\(width)', 'fortran_order': False, 'shape': (\(count),), }"
        let dictSize = headerSize - 10
        dict += String(repeating: " ", count: dictSize - 1 - dict.utf8.count) + "\n"
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        bytes += [UInt8(dictSize & 0xFF), UInt8(dictSize >> 8)]
        bytes += Array(dict.utf8)
        return bytes
    }

    public func append(_ ids: UnsafeBufferPointer<TokenID>, documentID: String) throws {
        let count = ids.count * width
        if scratch.count < count { scratch = [UInt8](repeating: 0, count: max(count, scratch.count * 2)) }
        scratch.withUnsafeMutableBytes { raw in
            if width == 2 {
                let out = raw.bindMemory(to: UInt16.self)
                for k in 0..<ids.count { out[k] = UInt16(truncatingIfNeeded: ids[k]).littleEndian }
            } else {
                let out = raw.bindMemory(to: UInt32.self)
                for k in 0..<ids.count { out[k] = UInt32(ids[k]).littleEndian }
            }
        }
        try scratch.withUnsafeBytes { try file.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        tokens += ids.count
    }

    public func finish() throws {
        try file.rewrite(at: 0, NumpyTokenWriter.header(width: width, count: tokens))
        try file.commit()
    }
}
