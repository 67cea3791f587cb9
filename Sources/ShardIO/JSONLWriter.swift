import CZstd
import LongMixCore

/// Writes JSON Lines to `.jsonl` or (by file name) `.jsonl.zst`, published atomically on `finish()`.
///
/// Contract: each `write(line:)` call writes one record and its `\n`; the caller supplies a
/// complete JSON text without newlines (see `JSONOutput` to build one). Nothing appears at `path`
/// until `finish()` succeeds; an existing file there is refused unless `existing` is `.replace`.
public final class JSONLWriter {
    public let path: String
    private let file: AtomicFileWriter
    private let compressor: ZstdStreamCompressor?
    public private(set) var lines = 0

    public init(path: String, existing: ExistingFile = .refuse, zstdLevel: Int32 = 3, hashing: Bool = false) throws {
        self.path = path
        file = try AtomicFileWriter(path: path, existing: existing, hashing: hashing)
        compressor = ShardCompression(path: path) == .zstd ? try ZstdStreamCompressor(level: zstdLevel, path: path) : nil
        if ShardCompression(path: path) == .gzip {
            throw ConfigurationError(file: path, "writing .gz is not supported; use .jsonl or .jsonl.zst")
        }
    }

    public func write(line: [UInt8]) throws {
        try line.withUnsafeBytes { try write(line: $0) }
    }

    public func write(line: UnsafeRawBufferPointer) throws {
        lines += 1
        if let compressor {
            try compressor.compress(line, to: file)
            try withUnsafeBytes(of: UInt8(0x0A)) { try compressor.compress($0, to: file) }
        } else {
            try file.write(line)
            try file.write([0x0A])
        }
    }

    public func finish() throws {
        try compressor?.end(to: file)
        try file.commit()
    }

    /// Bytes written to the file (compressed size for `.zst`).
    public var bytesWritten: Int { file.bytesWritten }
    /// SHA-256 of the file's bytes, after `finish()` when made with `hashing`.
    public var sha256Hex: String? { file.sha256Hex }
}

/// Streaming zstd compression (`ZSTD_compressStream2`) into an `AtomicFileWriter`.
final class ZstdStreamCompressor {
    private let context: OpaquePointer
    private var output: [UInt8]
    private let path: String

    init(level: Int32, path: String) throws {
        self.path = path
        guard let context = ZSTD_createCCtx() else {
            throw InputError.file(path, reason: .unwritableFile, "cannot allocate a zstd compression context")
        }
        self.context = context
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        output = [UInt8](repeating: 0, count: ZSTD_CStreamOutSize())
    }

    deinit { ZSTD_freeCCtx(context) }

    func compress(_ bytes: UnsafeRawBufferPointer, to file: AtomicFileWriter) throws {
        var input = ZSTD_inBuffer(src: bytes.baseAddress, size: bytes.count, pos: 0)
        while input.pos < input.size {
            _ = try step(&input, ZSTD_e_continue, to: file)
        }
    }

    func end(to file: AtomicFileWriter) throws {
        var input = ZSTD_inBuffer(src: nil, size: 0, pos: 0)
        while try step(&input, ZSTD_e_end, to: file) != 0 {}
    }

    private func step(_ input: inout ZSTD_inBuffer, _ mode: ZSTD_EndDirective, to file: AtomicFileWriter) throws -> Int {
        try output.withUnsafeMutableBytes { raw in
            var out = ZSTD_outBuffer(dst: raw.baseAddress, size: raw.count, pos: 0)
            let remaining = ZSTD_compressStream2(context, &out, &input, mode)
            if ZSTD_isError(remaining) != 0 {
                throw InputError.file(path, reason: .unwritableFile, "zstd: \(String(cString: ZSTD_getErrorName(remaining)))")
            }
            try file.write(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(raw)[0..<out.pos]))
            return remaining
        }
    }
}
