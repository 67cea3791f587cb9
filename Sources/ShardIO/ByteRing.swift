import Foundation
import LongMixCore

/// One contiguous ring of bytes between a producer thread, which writes decoded bytes into it in
/// place, and one consumer, which reads the chunks the producer publishes in place, in order: no
/// copy between them, and the same memory for the whole stream (no page of a fresh buffer to
/// fault in for every chunk).
///
/// Positions are virtual offsets that only grow; position `p` is byte `p % capacity` of the
/// storage, so a byte is overwritten exactly `capacity` positions after it was written. A chunk
/// never wraps around the end of the storage: when the room left before the end is too small, the
/// writer skips it and goes on at the start.
///
/// Contract:
/// - Producer side, one thread: `space(minimum:maximum:)` for a region to write at the current
///   position, `commit(_:)` for the bytes written there, `flush()`, then `finish()` or `fail(_:)`;
///   `reserve(capacity:)` between commits. A producer that must wait for room publishes what it
///   has first, so the consumer can always release something.
/// - Consumer side, one thread: `next()` releases the chunk it returned last (the producer may
///   overwrite those bytes from then on) and returns the next one; the bytes stay valid until the
///   next call of `next()`. `cancel()` ends the stream for both sides (a waiting producer returns).
/// - Bytes the producer wrote before publishing a chunk are visible to the consumer that takes it.
final class ByteRing: @unchecked Sendable {
    /// Published bytes: where they are, and the virtual position just past them.
    struct Chunk: @unchecked Sendable {
        let bytes: UnsafeRawBufferPointer
        let end: Int
    }

    private let chunks: BoundedHandOff<Chunk>
    /// A chunk is published once at least this many bytes are pending.
    private let chunkTarget: Int
    /// Room for the chunks waiting for the consumer and the one it reads (`depth + 1` chunks):
    /// a producer that keeps bytes of its own in the ring (a window) sizes it with this much on top,
    /// so it rarely waits for the reader.
    let readerRoom: Int
    private let condition = NSCondition()
    /// Guarded by `condition`: the consumer's release point, and whether the stream was cancelled.
    private var released = 0
    private var cancelled = false

    // The producer's own state.
    private var storage: UnsafeMutableRawPointer?
    private(set) var capacity = 0
    /// The write position, and the start of the bytes committed but not yet published.
    private var position = 0
    private var pendingStart = 0
    /// The end of the last published chunk: below `position` after a skip of the storage's end
    /// that no chunk has covered yet.
    private var publishedEnd = 0

    // The consumer's own state: the chunk returned last, not yet released.
    private var held: Chunk?

    /// A ring of `capacity` bytes (0: none until `reserve`) with at most `depth` published chunks
    /// waiting for the consumer, each of about `chunkTarget` bytes.
    init(capacity: Int, depth: Int, chunkTarget: Int) {
        chunks = BoundedHandOff(capacity: max(1, depth))
        self.chunkTarget = max(1, chunkTarget)
        readerRoom = (max(1, depth) + 1) * self.chunkTarget
        if capacity > 0 { allocate(capacity) }
    }

    deinit { storage?.deallocate() }

    private func allocate(_ bytes: Int) {
        storage?.deallocate()
        storage = .allocate(byteCount: bytes, alignment: 64)
        capacity = bytes
    }

    // MARK: Producer

    /// A region of at least `minimum` and at most `maximum` bytes (`minimum <= maximum <=
    /// capacity`) at the write position, free to write: every byte in it was released. Waits for
    /// the consumer when needed; nil once the stream was cancelled.
    func space(minimum: Int, maximum: Int) -> UnsafeMutableRawBufferPointer? {
        precondition(minimum >= 1 && minimum <= maximum && maximum <= capacity, "ByteRing.space: \(minimum)...\(maximum) of \(capacity)")
        var offset = position % capacity
        if capacity - offset < minimum {
            guard flush() else { return nil }
            position += capacity - offset
            pendingStart = position
            offset = 0
        }
        condition.lock()
        if position + minimum - capacity > released && !cancelled {
            condition.unlock()
            guard flush() else { return nil }
            condition.lock()
            while position + minimum - capacity > released && !cancelled { condition.wait() }
        }
        let free = released + capacity - position
        let stop = cancelled
        condition.unlock()
        guard !stop, let storage else { return nil }
        return UnsafeMutableRawBufferPointer(start: storage + offset, count: min(maximum, capacity - offset, free))
    }

    /// Marks `count` bytes written at the write position (inside the last `space`); publishes the
    /// pending bytes once there are enough, or when they reach the end of the storage (the next
    /// bytes go at its start, and a chunk never wraps). False once the stream was cancelled.
    @discardableResult
    func commit(_ count: Int) -> Bool {
        position += count
        return position - pendingStart >= chunkTarget || position % capacity == 0 ? flush() : true
    }

    /// Publishes the bytes committed since the last chunk, if any (waits while `depth` chunks
    /// wait). False once the stream was cancelled.
    @discardableResult
    func flush() -> Bool {
        guard position > pendingStart, let storage else { return !isCancelled }
        let chunk = Chunk(bytes: UnsafeRawBufferPointer(start: storage + pendingStart % capacity, count: position - pendingStart),
                          end: position)
        pendingStart = position
        publishedEnd = position
        return chunks.put(chunk)
    }

    /// Makes the storage at least `bytes` long: publishes what is pending, waits until the consumer
    /// has released everything, then replaces the storage (positions start again at 0). Bytes
    /// written before are gone, so only call it where no later write needs them. False once the
    /// stream was cancelled.
    func reserve(capacity bytes: Int) -> Bool {
        guard bytes > capacity else { return !isCancelled }
        guard flush() else { return false }
        condition.lock()
        // Everything published, not `position`: skipped room at the end of the storage is never
        // released by a chunk until bytes written after it are.
        while released < publishedEnd && !cancelled { condition.wait() }
        let stop = cancelled
        released = 0
        condition.unlock()
        guard !stop else { return false }
        allocate(bytes)
        position = 0
        pendingStart = 0
        publishedEnd = 0
        return true
    }

    /// The end of the stream: the consumer gets what was published, then nil.
    func finish() {
        flush()
        chunks.close()
    }

    /// The stream failed: the consumer gets what was published, then `error`.
    func fail(_ error: Error) {
        flush()
        chunks.fail(error)
    }

    private var isCancelled: Bool {
        condition.lock()
        defer { condition.unlock() }
        return cancelled
    }

    // MARK: Consumer

    /// Releases the chunk returned last and returns the next one; nil at the end of the stream.
    /// Rethrows the producer's failure after the chunks published before it.
    func next() throws -> UnsafeRawBufferPointer? {
        if let held {
            condition.lock()
            released = held.end
            condition.broadcast()
            condition.unlock()
            self.held = nil
        }
        guard let chunk = try chunks.take() else { return nil }
        held = chunk
        return chunk.bytes
    }

    /// Ends the stream for both sides: published chunks are dropped, a waiting producer returns.
    func cancel() {
        chunks.cancel()
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }
}
