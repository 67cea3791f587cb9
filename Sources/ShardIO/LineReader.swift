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
///
/// Lines are returned in place from the chunks read (a decompressor's chunks are read where the
/// prefetcher put them, not copied); only a line that spans two chunks is copied, into a carry
/// buffer.
public final class LineReader {
    public let path: String
    public let maxLineBytes: Int
    /// Number of the last line returned (or being skipped).
    public private(set) var lineNumber = 0
    /// Decompressed bytes read so far.
    public private(set) var bytesRead = 0
    /// After the stream failed: its decompressed bytes up to the end of the last whole line
    /// (returned or skipped; the bytes of a partial line after it are dropped with the rest).
    public private(set) var bytesBeforeFailure: Int?
    /// Decompressed bytes up to and including the last line's `\n`.
    private var bytesThroughLastLine = 0

    private var source: ByteSource
    /// The source again when it hands out whole chunks.
    private let prefetching: PrefetchingByteSource?
    /// The current chunk (in the prefetcher's ring, or in `readBuffer`); bytes from `chunkStart`
    /// on are not consumed yet. It is not changed while lines point into it (it is only replaced,
    /// by `readChunk`, after the rest of a line in it has gone to the carry).
    private var chunk = UnsafeBufferPointer<UInt8>(start: nil, count: 0)
    private var chunkStart = 0
    /// Where chunks of a source that is not prefetched are read (one buffer for the whole stream).
    private var readBuffer: UnsafeMutableRawBufferPointer?
    /// The beginning of a line that started in an earlier chunk, `carryCount` bytes.
    private var carry: UnsafeMutablePointer<UInt8>
    private var carryCapacity = 1 << 16
    private var carryCount = 0
    private var discarding = false
    private var atEnd = false
    private let readSize = 1 << 20

    public init(source: ByteSource, path: String, maxLineBytes: Int = 64 << 20) {
        self.source = source
        prefetching = source as? PrefetchingByteSource
        self.path = path
        self.maxLineBytes = maxLineBytes
        carry = .allocate(capacity: carryCapacity)
    }

    /// Lines of the shard at `path`; its file bytes are counted into `progress` as they are read.
    public convenience init(path: String, maxLineBytes: Int = 64 << 20, progress: ProgressMeter? = nil) throws {
        self.init(source: try openShard(path, progress: progress), path: path, maxLineBytes: maxLineBytes)
    }

    deinit {
        carry.deallocate()
        readBuffer?.deallocate()
    }

    public func next() throws -> UnsafeBufferPointer<UInt8>? {
        while true {
            let rest = chunk.count - chunkStart
            let base = chunk.baseAddress
            if rest > 0, let base, let hit = memchr(base + chunkStart, 0x0A, rest) {
                let newline = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base
                let lineStart = chunkStart
                chunkStart = newline + 1
                lineNumber += 1
                bytesThroughLastLine = bytesRead - chunk.count + chunkStart
                if discarding {
                    discarding = false
                    carryCount = 0
                    continue
                }
                if carryCount + newline - lineStart > maxLineBytes {
                    carryCount = 0
                    throw tooLong()
                }
                var line = UnsafeBufferPointer(start: base + lineStart, count: newline - lineStart)
                if carryCount > 0 {
                    appendCarry(line)
                    line = UnsafeBufferPointer(start: carry, count: carryCount)
                    carryCount = 0  // the next call may reuse the carry
                }
                if let last = line.last, last == 0x0D { line = UnsafeBufferPointer(start: line.baseAddress, count: line.count - 1) }
                return line
            }
            // No newline in the rest of the chunk: the line goes on in the next one.
            if rest > 0, let base, !discarding {
                if carryCount + rest > maxLineBytes {
                    discarding = true
                    carryCount = 0
                    chunkStart = chunk.count
                    throw tooLong(line: lineNumber + 1)
                }
                appendCarry(UnsafeBufferPointer(start: base + chunkStart, count: rest))
            }
            chunkStart = chunk.count
            if atEnd {
                guard carryCount > 0, !discarding else { return nil }
                lineNumber += 1
                let count = carryCount
                carryCount = 0
                return UnsafeBufferPointer(start: carry, count: count)
            }
            try readChunk()
        }
    }

    private func tooLong(line: Int? = nil) -> InputError {
        InputError(location: RecordLocation(file: path, line: line ?? lineNumber), reason: .lineTooLong,
                   message: "line longer than \(maxLineBytes) bytes; raise the maximum line size or fix the shard")
    }

    /// Appends bytes to the carry, growing it as needed.
    private func appendCarry(_ bytes: UnsafeBufferPointer<UInt8>) {
        if carryCount + bytes.count > carryCapacity {
            let newCapacity = max(carryCapacity * 2, carryCount + bytes.count)
            let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
            grown.update(from: carry, count: carryCount)
            carry.deallocate()
            carry = grown
            carryCapacity = newCapacity
        }
        (carry + carryCount).update(from: bytes.baseAddress!, count: bytes.count)
        carryCount += bytes.count
    }

    /// Replaces the chunk by the next one (empty at the end of the stream).
    private func readChunk() throws {
        do {
            if let prefetching {
                let next = try prefetching.nextChunk()
                chunk = UnsafeBufferPointer(start: next?.baseAddress?.assumingMemoryBound(to: UInt8.self), count: next?.count ?? 0)
            } else {
                let buffer = readBuffer ?? .allocate(byteCount: readSize, alignment: 64)
                readBuffer = buffer
                let n = try source.read(into: buffer)
                chunk = UnsafeBufferPointer(start: buffer.baseAddress?.assumingMemoryBound(to: UInt8.self), count: n)
            }
        } catch {
            bytesBeforeFailure = bytesThroughLastLine
            atEnd = true
            discarding = true
            carryCount = 0
            chunk = UnsafeBufferPointer(start: nil, count: 0)
            chunkStart = 0
            throw error
        }
        chunkStart = 0
        if chunk.isEmpty { atEnd = true }
        bytesRead += chunk.count
    }
}
