#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LongMixCore

/// Splits a byte stream into lines without holding more than one line (plus one read chunk).
///
/// Contract:
/// - `next()` returns each line without its `\n` (and without a `\r` before it), numbered from 1
///   counting every line including blank ones; the last line may lack a `\n`.
/// - The returned buffer is valid only until the next call.
/// - A line longer than `maxLineBytes` throws `line-too-long` naming the file and line; calling
///   `next()` again skips the rest of that line without buffering it and goes on.
/// - Errors of the underlying stream (for example a truncated zstd frame) are rethrown; after one,
///   `next()` returns nil.
public final class LineReader {
    public let path: String
    public let maxLineBytes: Int
    /// Number of the last line returned (or being skipped).
    public private(set) var lineNumber = 0
    /// Decompressed bytes read so far.
    public private(set) var bytesRead = 0
    /// After the stream failed: its decompressed bytes up to the end of the last whole line
    /// returned (the bytes of a partial line after it are dropped with the rest).
    public private(set) var bytesBeforeFailure: Int?

    private var source: ByteSource
    private var buffer: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    private var start = 0, end = 0, scanFrom = 0
    private var discarding = false
    private var atEnd = false
    private let readSize = 1 << 20

    public init(source: ByteSource, path: String, maxLineBytes: Int = 64 << 20) {
        self.source = source
        self.path = path
        self.maxLineBytes = maxLineBytes
        capacity = 4 << 20
        buffer = .allocate(capacity: capacity)
    }

    /// Lines of the shard at `path`; its file bytes are counted into `progress` as they are read.
    public convenience init(path: String, maxLineBytes: Int = 64 << 20, progress: ProgressMeter? = nil) throws {
        self.init(source: try openShard(path, progress: progress), path: path, maxLineBytes: maxLineBytes)
    }

    deinit { buffer.deallocate() }

    public func next() throws -> UnsafeBufferPointer<UInt8>? {
        while true {
            if scanFrom < end, let hit = memchr(buffer + scanFrom, 0x0A, end - scanFrom) {
                let newline = hit.assumingMemoryBound(to: UInt8.self) - buffer
                let lineStart = start
                start = newline + 1
                scanFrom = start
                lineNumber += 1
                if discarding {
                    discarding = false
                    continue
                }
                if newline - lineStart > maxLineBytes { throw tooLong() }
                var lineEnd = newline
                if lineEnd > lineStart && buffer[lineEnd - 1] == 0x0D { lineEnd -= 1 }
                return UnsafeBufferPointer(start: buffer + lineStart, count: lineEnd - lineStart)
            }
            scanFrom = end
            if discarding {
                start = 0; end = 0; scanFrom = 0
            } else if end - start > maxLineBytes {
                discarding = true
                throw tooLong(line: lineNumber + 1)
            }
            if atEnd {
                guard end > start, !discarding else { return nil }
                lineNumber += 1
                if end - start > maxLineBytes { start = end; throw tooLong() }
                let lineStart = start
                start = end
                return UnsafeBufferPointer(start: buffer + lineStart, count: end - lineStart)
            }
            try fill()
        }
    }

    private func tooLong(line: Int? = nil) -> InputError {
        InputError(location: RecordLocation(file: path, line: line ?? lineNumber), reason: .lineTooLong,
                   message: "line longer than \(maxLineBytes) bytes; raise the maximum line size or fix the shard")
    }

    /// Reads the next chunk, compacting and growing the buffer as needed.
    private func fill() throws {
        if start > 0 {
            let pending = end - start
            if pending > 0 { memmove(buffer, buffer + start, pending) }
            end = pending
            scanFrom -= start
            start = 0
        }
        if capacity - end < readSize {
            let newCapacity = max(capacity * 2, end + readSize)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: buffer, count: end)
            buffer.deallocate()
            buffer = grown
            capacity = newCapacity
        }
        let n: Int
        do {
            n = try source.read(into: UnsafeMutableRawBufferPointer(start: buffer + end, count: capacity - end))
        } catch {
            bytesBeforeFailure = bytesRead - (end - start)
            atEnd = true
            start = end
            discarding = true
            throw error
        }
        if n == 0 { atEnd = true }
        end += n
        bytesRead += n
    }
}
