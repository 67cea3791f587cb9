import CZstd
import LongMixCore

/// Streaming zstd decompression (`ZSTD_decompressStream`) of a file with one or more frames.
///
/// Memory is bounded by zstd's window plus one input buffer; a shard is never held whole. A stream
/// that ends inside a frame throws `truncated-zstd`; corrupt data throws `corrupt-zstd` with zstd's
/// own message.
public final class ZstdByteSource: ByteSource {
    private let file: FileByteSource
    private let stream: OpaquePointer
    private var input: [UInt8]
    private var inputStart = 0
    private var inputEnd = 0
    private var inputFinished = false
    /// zstd's hint from the last call: 0 exactly when the last frame ended cleanly.
    private var frameRemaining = 0
    private var sawInput = false

    public init(file: FileByteSource) throws {
        self.file = file
        guard let stream = ZSTD_createDStream() else {
            throw InputError.file(file.path, reason: .corruptZstd, "cannot allocate a zstd decompression stream")
        }
        self.stream = stream
        // Allow windows up to 2 GiB (`zstd --long=31`); memory still grows only with the window used.
        _ = ZSTD_DCtx_setParameter(stream, ZSTD_d_windowLogMax, 31)
        input = [UInt8](repeating: 0, count: ZSTD_DStreamInSize())
    }

    deinit { ZSTD_freeDStream(stream) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard buffer.count > 0 else { return 0 }
        while true {
            if inputStart == inputEnd && !inputFinished {
                let n = try input.withUnsafeMutableBytes { try file.read(into: $0) }
                inputStart = 0
                inputEnd = n
                if n == 0 { inputFinished = true } else { sawInput = true }
            }
            if inputStart == inputEnd && inputFinished {
                if frameRemaining != 0 {
                    throw InputError.file(file.path, reason: .truncatedZstd,
                                          "the zstd stream ends inside a frame (file truncated?)")
                }
                return 0
            }
            var output = ZSTD_outBuffer(dst: buffer.baseAddress, size: buffer.count, pos: 0)
            let consumed: Int = try input.withUnsafeBytes { raw in
                var inBuf = ZSTD_inBuffer(src: raw.baseAddress! + inputStart, size: inputEnd - inputStart, pos: 0)
                let result = ZSTD_decompressStream(stream, &output, &inBuf)
                if ZSTD_isError(result) != 0 {
                    let name = String(cString: ZSTD_getErrorName(result))
                    throw InputError.file(file.path, reason: .corruptZstd, "zstd: \(name)")
                }
                frameRemaining = result
                return inBuf.pos
            }
            inputStart += consumed
            if output.pos > 0 { return output.pos }
        }
    }
}
