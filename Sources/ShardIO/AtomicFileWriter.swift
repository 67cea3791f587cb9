#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LongMixCore

/// Writes a file under a temporary name beside its destination and renames it into place on
/// `commit()`, so a reader never sees a half-written file and a killed run leaves nothing that
/// looks finished. Released without `commit()`, it removes the temporary file.
///
/// Output is buffered (1 MiB); `write` copies bytes, so callers may reuse their buffers.
/// The destination must pass `OutputTarget.checkFile` (absent or a regular file, no input of the
/// run); the temporary is named `<path>.tmp-<host>-<pid>` and removed on SIGINT/SIGTERM
/// (`TemporaryFiles`). With `hashing`, the SHA-256 of everything written is kept (`sha256Hex`).
public final class AtomicFileWriter {
    public let path: String
    public let temporaryPath: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let bufferLimit = 1 << 20
    private var committed = false
    public private(set) var bytesWritten = 0
    private var hasher: SHA256?
    private let token: Int
    /// The SHA-256 of the bytes written (64 hex digits), after `commit()` when hashing.
    public private(set) var sha256Hex: String?

    public init(path: String, hashing: Bool = false) throws {
        self.path = path
        try OutputTarget.checkFile(path)
        let temporaryPath = path + TemporaryFiles.suffix("tmp")
        self.temporaryPath = temporaryPath
        hasher = hashing ? SHA256() : nil
        (fd, token) = try TemporaryFiles.create(temporaryPath) { open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644) }
        guard fd >= 0 else {
            throw InputError.file(path, reason: .unwritableFile, "cannot create \(temporaryPath): \(String(cString: strerror(errno)))")
        }
        buffer.reserveCapacity(bufferLimit)
    }

    deinit {
        if !committed {
            if fd >= 0 { close(fd) }
            unlink(temporaryPath)
        }
        TemporaryFiles.unregister(token)
    }

    public func write(_ bytes: UnsafeRawBufferPointer) throws {
        bytesWritten += bytes.count
        hasher?.update(bytes)
        if buffer.count + bytes.count > bufferLimit { try flush() }
        if bytes.count >= bufferLimit {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    public func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    /// Replaces bytes already written at `offset` (for a header whose counts are known only at
    /// the end); the file keeps its length.
    public func rewrite(at offset: Int, _ bytes: [UInt8]) throws {
        precondition(offset >= 0 && offset + bytes.count <= bytesWritten, "rewrite past the end of the file")
        try flush()
        try bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = pwrite(fd, raw.baseAddress! + done, raw.count - done, off_t(offset + done))
                if n < 0 {
                    if errno == EINTR { continue }
                    throw failure("write")
                }
                done += n
            }
        }
    }

    /// Flushes, closes and renames the file into place.
    public func commit() throws {
        try flush()
        guard fsync(fd) == 0 || errno == EINVAL else { throw failure("fsync") }
        close(fd)
        fd = -1
        // Under the temporaries' lock: refused once a signal's cleanup has begun.
        try TemporaryFiles.commit(token) { guard rename(temporaryPath, path) == 0 else { throw failure("rename") } }
        committed = true
        if var hasher { sha256Hex = SHA256.hex(hasher.finalize()) }
    }

    private func flush() throws {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { try writeAll($0) }
        buffer.removeAll(keepingCapacity: true)
    }

    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                throw failure("write")
            }
            offset += n
        }
    }

    private func failure(_ operation: String) -> InputError {
        InputError.file(path, reason: .unwritableFile, "\(operation) failed: \(String(cString: strerror(errno)))")
    }
}
