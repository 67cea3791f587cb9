import Foundation
import LongMixCore

/// A decoder that writes its output into a `ByteRing` itself, on the prefetching thread: it asks
/// the ring for space, writes there, commits, and returns at the end of its stream (throwing for
/// an unreadable or corrupt one). It returns early, without error, once the ring is cancelled
/// (`space` or `commit` gave nil or false).
protocol RingProducer {
    mutating func produce(into ring: ByteRing) throws
}

/// Runs a decoder (or any other `ByteSource`) on a background thread, a few chunks ahead of the
/// reader, so decompression and parsing overlap on two cores.
///
/// The bytes go through one `ByteRing` reused for the whole stream: a `RingProducer` (the zstd
/// decoder) writes its output straight into it, any other source is read into it, and the reader
/// takes chunks in place (`nextChunk`). Memory is bounded by the ring: `depth` chunks of about
/// `chunkSize` bytes waiting, plus what the producer itself keeps there (a zstd window). An error
/// of the producer is rethrown after the bytes that came before it. The thread stops when the
/// stream ends, fails, or this object is released.
public final class PrefetchingByteSource: ByteSource {
    private let ring: ByteRing
    /// The chunk being read by `read(into:)`, and how far.
    private var current = UnsafeRawBufferPointer(start: nil, count: 0)
    private var currentOffset = 0

    /// Prefetches a source that fills buffers given to it: read into the ring, `chunkSize` bytes
    /// at most per chunk.
    public convenience init(_ source: ByteSource, chunkSize: Int = 1 << 20, depth: Int = 4) {
        self.init(producer: ReadingProducer(source: source, chunkSize: chunkSize),
                  ring: ByteRing(capacity: (depth + 2) * chunkSize, depth: depth, chunkTarget: chunkSize))
    }

    /// Prefetches a decoder that writes into the ring itself (it sizes the ring with `reserve`).
    convenience init(producer: RingProducer, chunkSize: Int = 1 << 20, depth: Int = 4) {
        self.init(producer: producer, ring: ByteRing(capacity: 0, depth: depth, chunkTarget: chunkSize))
    }

    private init(producer: RingProducer, ring: ByteRing) {
        self.ring = ring
        let box = ProducerBox(producer)
        let thread = Thread {
            var producer = box.producer
            do {
                try producer.produce(into: ring)
                ring.finish()
            } catch {
                ring.fail(error)
            }
        }
        thread.start()
    }

    deinit { ring.cancel() }

    /// The rest of the current chunk, else the next chunk whole, in place (no copy); nil at the
    /// end. Valid until the next call of `nextChunk()` or `read(into:)`. Rethrows the producer's
    /// error as `read(into:)` does.
    public func nextChunk() throws -> UnsafeRawBufferPointer? {
        if currentOffset < current.count {
            defer { current = UnsafeRawBufferPointer(start: nil, count: 0); currentOffset = 0 }
            return UnsafeRawBufferPointer(rebasing: current[currentOffset...])
        }
        return try ring.next()
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if currentOffset == current.count {
            guard let next = try ring.next() else { return 0 }
            current = next
            currentOffset = 0
        }
        let n = min(buffer.count, current.count - currentOffset)
        buffer.baseAddress!.copyMemory(from: current.baseAddress! + currentOffset, byteCount: n)
        currentOffset += n
        return n
    }
}

/// Reads a `ByteSource` into the ring, filling each region it is given as far as the source
/// allows, so chunks are large.
private struct ReadingProducer: RingProducer {
    var source: ByteSource
    let chunkSize: Int

    mutating func produce(into ring: ByteRing) throws {
        while true {
            guard let space = ring.space(minimum: 1, maximum: chunkSize) else { return }
            var filled = 0
            var failure: Error?
            do {
                while filled < space.count {
                    let n = try source.read(into: UnsafeMutableRawBufferPointer(rebasing: space[filled...]))
                    if n == 0 { break }
                    filled += n
                }
            } catch {
                failure = error
            }
            // The bytes before the end or an error go first.
            guard ring.commit(filled) else { return }
            if let failure { throw failure }
            if filled < space.count { return }
        }
    }
}

/// Moves a non-Sendable producer into the prefetching thread; only that thread uses it afterwards.
private final class ProducerBox: @unchecked Sendable {
    let producer: RingProducer
    init(_ producer: RingProducer) { self.producer = producer }
}
