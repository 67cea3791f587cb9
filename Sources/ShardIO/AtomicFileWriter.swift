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
/// The destination must pass `OutputTarget.checkFile` (absent, or a regular file that `existing`
/// allows to replace; no input of the run), checked when the writer is made and again when it is
/// committed: with `.refuse` the file is put in place by `link(2)`, which fails rather than
/// replace a file that appeared meanwhile. The temporary is named `<path>.tmp-<host>-<pid>` and
/// removed on SIGINT/SIGTERM (`TemporaryFiles`). With `hashing`, the SHA-256 of everything written
/// is kept (`sha256Hex`).
public final class AtomicFileWriter {
    public let path: String
    public let temporaryPath: String
    public let existing: ExistingFile
    private var fd: Int32
    private var buffer: [UInt8] = []
    private let bufferLimit = 1 << 20
    private var committed = false
    public private(set) var bytesWritten = 0
    private var hasher: SHA256?
    private let token: Int
    /// The SHA-256 of the bytes written (64 hex digits), after `commit()` when hashing.
    public private(set) var sha256Hex: String?

    public init(path: String, existing: ExistingFile = .refuse, hashing: Bool = false) throws {
        self.path = path
        self.existing = existing
        try OutputTarget.checkFile(path, existing: existing)
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

    /// Flushes, closes and puts the file in place.
    public func commit() throws { try Self.commit([self]) }

    /// Publishes `files` as one set whose last file is its record, the file a reader opens first
    /// and without which the set does not exist (Megatron's `.idx` of a `.bin`): every file is
    /// flushed and closed, then, under the temporaries' lock (so a signal's cleanup finds all of
    /// them temporary or none), a record being replaced is removed first, the other files are put
    /// in place, and the record last. A kill -9 part-way thus leaves the old set whole, or files
    /// without a record (no set), or the new set whole; never new files beside an old record. If
    /// one cannot be placed (a file appeared at a `.refuse` path), those already placed are
    /// removed and the error is thrown.
    public static func commit(_ files: [AtomicFileWriter]) throws {
        for file in files { try file.closeForCommit() }
        // Under the temporaries' lock: refused once a signal's cleanup has begun.
        try TemporaryFiles.commit(files.map(\.token)) {
            if files.count > 1, let record = files.last, record.existing == .replace, OutputTarget.exists(record.path) {
                guard unlink(record.path) == 0 else { throw record.failure("unlink the previous") }
            }
            var placed: [AtomicFileWriter] = []
            do {
                for file in files {
                    try file.place()
                    placed.append(file)
                }
            } catch {
                for file in placed { unlink(file.path) }
                throw error
            }
        }
        for file in files {
            file.committed = true
            if var hasher = file.hasher { file.sha256Hex = SHA256.hex(hasher.finalize()) }
        }
    }

    private func closeForCommit() throws {
        try flush()
        guard fsync(fd) == 0 || errno == EINVAL else { throw failure("fsync") }
        Glibc.close(fd)
        fd = -1
    }

    /// Moves the closed temporary to `path`: a rename when replacing is allowed; else a hard link,
    /// which fails on an existing file (on a file system without hard links: a check, then a
    /// rename).
    private func place() throws {
        if existing == .refuse {
            if link(temporaryPath, path) == 0 {
                unlink(temporaryPath)
                return
            }
            guard errno != EEXIST, !OutputTarget.exists(path) else { throw OutputError.existingFile(path) }
        }
        guard rename(temporaryPath, path) == 0 else { throw failure("rename") }
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
