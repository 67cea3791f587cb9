import Foundation
import LongMixCore

/// Runs another `ByteSource` (typically a decompressor) on a background thread, a few chunks ahead
/// of the reader, so decompression and parsing overlap on two cores.
///
/// Memory is bounded: at most `depth` chunks of `chunkSize` bytes wait in the queue. An error from
/// the underlying source is rethrown by `read(into:)` after the bytes that came before it. The
/// thread stops when the stream ends, fails, or this object is released.
public final class PrefetchingByteSource: ByteSource {
    /// The chunks read ahead: the thread puts, the reader takes.
    private let queue: BoundedHandOff<[UInt8]>
    private var current: [UInt8] = []
    private var currentOffset = 0

    public init(_ source: ByteSource, chunkSize: Int = 1 << 20, depth: Int = 4) {
        let queue = BoundedHandOff<[UInt8]>(capacity: depth)
        self.queue = queue
        let box = SourceBox(source)
        let thread = Thread {
            var source = box.source
            while true {
                var filled = 0
                var failure: Error?
                // Decompressed straight into uninitialised capacity (no zeroing of each chunk).
                let chunk = [UInt8](unsafeUninitializedCapacity: chunkSize) { buffer, initialized in
                    do {
                        // Fill the chunk as far as the source allows, so chunks are large.
                        while filled < chunkSize {
                            let n = try source.read(into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[filled...])))
                            if n == 0 { break }
                            filled += n
                        }
                    } catch {
                        failure = error
                    }
                    initialized = filled
                }
                // The bytes before the end or an error go first; an empty chunk is not queued.
                if !chunk.isEmpty && !queue.put(chunk) { return }
                if let failure {
                    queue.fail(failure)
                    return
                }
                if filled < chunkSize {
                    queue.close()
                    return
                }
            }
        }
        thread.start()
    }

    deinit { queue.cancel() }

    /// The rest of the current chunk, else the next chunk whole, as the producer made it (no
    /// copy); nil at the end. Rethrows the producer's error as `read(into:)` does.
    public func nextChunk() throws -> [UInt8]? {
        if currentOffset < current.count {
            defer { current = []; currentOffset = 0 }
            return currentOffset == 0 ? current : Array(current[currentOffset...])
        }
        return try queue.take()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if currentOffset == current.count {
            guard let next = try queue.take() else { return 0 }
            current = next
            currentOffset = 0
        }
        let n = min(buffer.count, current.count - currentOffset)
        current.withUnsafeBytes { src in
            buffer.baseAddress!.copyMemory(from: src.baseAddress! + currentOffset, byteCount: n)
        }
        currentOffset += n
        return n
    }
}

/// Moves a non-Sendable source into the producer thread; only that thread uses it afterwards.
private final class SourceBox: @unchecked Sendable {
    let source: ByteSource
    init(_ source: ByteSource) { self.source = source }
}
