import CZlib
import LongMixCore

/// Streaming gzip decompression with zlib's `inflate`, including files of several gzip members
/// (as `cat a.gz b.gz` makes). A stream that ends inside a member throws `truncated-gzip`.
public final class GzipByteSource: ByteSource {
    private let file: FileByteSource
    private var stream = z_stream()
    private var input: [UInt8]
    private var inputFinished = false
    /// True between the start of a member and its end marker.
    private var insideMember = false
    private var ended = false

    public init(file: FileByteSource) throws {
        self.file = file
        input = [UInt8](repeating: 0, count: 1 << 18)
        // 15 + 32: a 32 KiB window, and detect the gzip (or zlib) header automatically.
        let status = inflateInit2_(&stream, 15 + 32, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else {
            throw InputError.file(file.path, reason: .corruptGzip, "cannot initialise zlib (status \(status))")
        }
    }

    deinit { inflateEnd(&stream) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0, !ended else { return 0 }
        return try input.withUnsafeMutableBytes { raw -> Int in
            let inputBase = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            while true {
                if stream.avail_in == 0 && !inputFinished {
                    let n = try file.read(into: raw)
                    stream.next_in = inputBase
                    stream.avail_in = UInt32(n)
                    if n == 0 { inputFinished = true }
                }
                if stream.avail_in == 0 && inputFinished {
                    if insideMember {
                        throw InputError.file(file.path, reason: .truncatedGzip,
                                              "the gzip stream ends inside a member (file truncated?)")
                    }
                    ended = true
                    return 0
                }
                stream.next_out = buffer.baseAddress!.assumingMemoryBound(to: UInt8.self)
                stream.avail_out = UInt32(min(buffer.count, Int(UInt32.max)))
                insideMember = true
                let status = inflate(&stream, Z_NO_FLUSH)
                let produced = buffer.count - Int(stream.avail_out)
                switch status {
                case Z_STREAM_END:
                    insideMember = false
                    inflateReset(&stream)
                case Z_OK, Z_BUF_ERROR:
                    break
                default:
                    let message = stream.msg.map { String(cString: $0) } ?? "status \(status)"
                    throw InputError.file(file.path, reason: .corruptGzip, "gzip: \(message)")
                }
                if produced > 0 { return produced }
            }
        }
    }
}
