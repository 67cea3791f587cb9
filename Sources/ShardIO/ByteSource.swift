#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LongMixCore

/// A forward-only stream of bytes: a file, or a decompressor over one.
///
/// Contract: `read(into:)` fills a prefix of `buffer` and returns how many bytes it wrote; it
/// returns 0 only at the end of the stream, and throws an `InputError` naming the file when the
/// stream is unreadable or ends early (a truncated compressed frame).
public protocol ByteSource {
    mutating func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int
}

/// Plain file reading with POSIX `read(2)`; the file is closed when the source is released.
/// Every chunk read is counted into `progress` (the file's own bytes, before decompression).
public final class FileByteSource: ByteSource {
    public let path: String
    private let fd: Int32
    private let progress: ProgressMeter?

    public init(path: String, progress: ProgressMeter? = nil) throws {
        self.path = path
        self.progress = progress
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw InputError.file(path, reason: .unreadableFile, "cannot open: \(String(cString: strerror(errno)))")
        }
        self.fd = fd
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 {
                if n > 0 { progress?.add(n) }
                return n
            }
            if errno == EINTR { continue }
            throw InputError.file(path, reason: .unreadableFile, "read failed: \(String(cString: strerror(errno)))")
        }
    }
}

/// The compression of a shard, decided by its file name.
public enum ShardCompression: Sendable {
    case none, zstd, gzip

    public init(path: String) {
        if path.hasSuffix(".zst") || path.hasSuffix(".zstd") {
            self = .zstd
        } else if path.hasSuffix(".gz") {
            self = .gzip
        } else {
            self = .none
        }
    }
}

/// Opens `path` as a stream of decompressed bytes, choosing the decompressor by file name.
/// Decompression runs on a background thread ahead of the reader (bounded to a few MiB), so a
/// reader that parses JSON overlaps with the decompressor on a second core. File bytes read are
/// counted into `progress`.
public func openShard(_ path: String, progress: ProgressMeter? = nil) throws -> ByteSource {
    let file = try FileByteSource(path: path, progress: progress)
    switch ShardCompression(path: path) {
    case .none: return file
    case .zstd: return PrefetchingByteSource(producer: ZstdRingDecoder(file: file))
    case .gzip: return PrefetchingByteSource(try GzipByteSource(file: file))
    }
}
