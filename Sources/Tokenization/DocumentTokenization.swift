import Dispatch
import Foundation
import LongMixCore
import ShardIO
import Synchronization

/// Tokenizes a stream of documents into a `TokenSink` (JSON Lines, `.npy`, Megatron `.bin/.idx`),
/// one entry per document in input order. Three stages overlap: reading, decompression and JSON
/// parsing run on a background thread a batch ahead (`DocumentBatches`); each batch is encoded on
/// `threads` workers; the sink is fed on a writer thread (`TokenSinkWriter`) while the next batch
/// is encoded, so writing is off the encoders' path.
///
/// Work units: a batch is cut into chunks of consecutive documents (about `chunkBytes` of text
/// each) that workers claim largest first, so a thread finishing early takes small chunks and the
/// workers finish a batch together; each chunk's ids go back to back into a buffer reused from
/// batch to batch (no array per document, no fresh pages to fault in).
///
/// Memory is bounded by a few batches (`batchBytes` of text each, plus their ids). Output order and
/// content do not depend on the thread count.
public struct DocumentTokenization {
    public struct Summary: Sendable {
        public var documents = 0
        public var textBytes = 0
        public var tokens = 0
        /// Wall time spent encoding only (the workers' time per batch, not reading or writing), in
        /// seconds.
        public var encodeSeconds = 0.0
        /// Encoding throughput in MB (10^6 bytes) of text per second.
        public var encodeMegabytesPerSecond: Double { encodeSeconds > 0 ? Double(textBytes) / encodeSeconds / 1e6 : 0 }
    }

    public var tokenizer: Tokenizer
    public var threads: Int
    public var addBOS: Bool
    public var addEOS: Bool
    public var batchBytes: Int
    /// Text per work unit (a chunk holds whole documents, so it may be larger).
    public var chunkBytes: Int

    public init(tokenizer: Tokenizer, threads: Int, addBOS: Bool = false, addEOS: Bool = false,
                batchBytes: Int = 8 << 20, chunkBytes: Int = 64 << 10) {
        self.tokenizer = tokenizer
        self.threads = threads
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.batchBytes = batchBytes
        self.chunkBytes = chunkBytes
    }

    /// Reads every document of `reader` and appends its ids to `sink` (the caller finishes the
    /// sink). The reader's counts are final when this returns. An error from the reader or the
    /// sink is thrown after the documents before it have gone to the sink.
    public func run(reader: DocumentReader, into sink: TokenSink) throws -> Summary {
        var summary = Summary()
        let clock = ContinuousClock()
        let pool = EncoderPool(tokenizer: tokenizer, threads: threads)
        let batches = DocumentBatches(reader: reader, batchBytes: batchBytes, maxDocuments: 8192)
        defer { batches.cancel() }
        let writer = TokenSinkWriter(sink: sink, buffers: 2)
        defer { writer.close() }
        while let batch = try batches.next() {
            let encoded = try writer.emptyBuffer()
            let start = clock.now
            encoded.encode(batch, pool: pool, chunkBytes: chunkBytes, addBOS: addBOS, addEOS: addEOS)
            let elapsed = clock.now - start
            summary.encodeSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            summary.documents += batch.count
            summary.textBytes += encoded.textBytes
            summary.tokens += encoded.tokens
            try writer.write(batch, encoded)
        }
        try writer.finish()
        return summary
    }
}

/// One batch's ids: per chunk of consecutive documents, their ids back to back and where each
/// document's ids end. Reused from batch to batch (the buffers keep their capacity).
final class EncodedBatch: @unchecked Sendable {
    final class Chunk: @unchecked Sendable {
        /// The chunk's first document (index in the batch) and its document count.
        var first = 0
        var count = 0
        var textBytes = 0
        var ids: [TokenID] = []
        /// `ends[k]`: the end in `ids` of document `first + k`.
        var ends: [Int] = []
    }

    private(set) var chunks: [Chunk] = []
    private(set) var chunkCount = 0
    private(set) var textBytes = 0
    private(set) var tokens = 0

    /// Encodes `batch` with the pool's encoders (worker `k` uses encoder `k` only).
    func encode(_ batch: [Document], pool: EncoderPool, chunkBytes: Int, addBOS: Bool, addEOS: Bool) {
        chunkCount = 0
        var i = 0
        while i < batch.count {
            if chunkCount == chunks.count { chunks.append(Chunk()) }
            let chunk = chunks[chunkCount]
            chunkCount += 1
            chunk.first = i
            chunk.textBytes = 0
            while i < batch.count && (chunk.textBytes == 0 || chunk.textBytes + batch[i].text.count <= chunkBytes) {
                chunk.textBytes += batch[i].text.count
                i += 1
            }
            chunk.count = i - chunk.first
        }
        // Largest chunks first, so the last ones claimed are small and the workers end together.
        let order = (0..<chunkCount).sorted { chunks[$0].textBytes > chunks[$1].textBytes }
        let workers = max(1, min(pool.threads, chunkCount))
        let next = Atomic<Int>(0)
        let work = UncheckedSendable((batch, order, chunks))
        @Sendable func run(_ worker: Int) {
            let (batch, order, chunks) = work.value
            let encoder = pool.encoder(worker)
            while true {
                let k = next.wrappingAdd(1, ordering: .relaxed).oldValue
                guard k < order.count else { break }
                let chunk = chunks[order[k]]
                chunk.ids.removeAll(keepingCapacity: true)
                chunk.ends.removeAll(keepingCapacity: true)
                chunk.ids.reserveCapacity(chunk.textBytes / 2 + 64)
                for d in chunk.first..<(chunk.first + chunk.count) {
                    batch[d].text.withUnsafeBufferPointer {
                        encoder.encode($0, addBOS: addBOS, addEOS: addEOS, into: &chunk.ids)
                    }
                    chunk.ends.append(chunk.ids.count)
                }
            }
        }
        if workers == 1 {
            run(0)
        } else {
            // Iteration `worker` runs once, on one thread: encoder `worker` is never shared.
            DispatchQueue.concurrentPerform(iterations: workers, execute: run)
        }
        textBytes = 0
        tokens = 0
        for chunk in chunks.prefix(chunkCount) {
            textBytes += chunk.textBytes
            tokens += chunk.ids.count
        }
    }

    /// Calls `body` with each document's ids, in batch order.
    func forEachDocument(_ body: (Int, UnsafeBufferPointer<TokenID>) throws -> Void) rethrows {
        for chunk in chunks.prefix(chunkCount) {
            try chunk.ids.withUnsafeBufferPointer { ids in
                var start = 0
                for (k, end) in chunk.ends.enumerated() {
                    try body(chunk.first + k, UnsafeBufferPointer(rebasing: ids[start..<end]))
                    start = end
                }
            }
        }
    }
}

/// Feeds a `TokenSink` on its own thread, batch by batch in submission order, and recycles the
/// batches' id buffers (a fixed number, so the encoders stay at most that many batches ahead).
///
/// Contract: one producer calls `emptyBuffer()`, then `write(_:_:)` with that buffer, repeatedly,
/// then `finish()`; `close()` (always, also after an error) stops the thread and waits for it, so
/// the sink is not touched once `close()` returns. A sink error is rethrown by the next
/// `emptyBuffer()`, `write` or `finish()`. Neither `emptyBuffer()` nor `write` may follow
/// `finish()` or `close()`.
final class TokenSinkWriter: Sendable {
    /// Batches queued for the sink, in order: the producer puts, the thread takes. The thread fails
    /// it with a sink error, so the producer's next call throws that error.
    private let pending: BoundedHandOff<([Document], EncodedBatch)>
    /// Written buffers, ready for reuse: the thread puts, the producer takes. The thread ends it as
    /// its last step (closes it, or fails it with the sink error), so taking from it until the end
    /// waits for the thread.
    private let free: BoundedHandOff<EncodedBatch>

    init(sink: TokenSink, buffers: Int) {
        let count = max(1, buffers)
        // Room for every buffer in both: neither hand-off is ever full when a buffer is put.
        let pending = BoundedHandOff<([Document], EncodedBatch)>(capacity: count)
        let free = BoundedHandOff(capacity: count, contents: (0..<count).map { _ in EncodedBatch() })
        self.pending = pending
        self.free = free
        let box = UncheckedSendable(sink)
        let thread = Thread {
            let sink = box.value
            do {
                // `take` throws only once `pending` has failed, and only this thread fails it.
                while let (batch, encoded) = try pending.take() {
                    try encoded.forEachDocument { d, ids in try sink.append(ids, documentID: batch[d].id) }
                    // Always queued: there is room, and only this thread ends `free`.
                    _ = free.put(encoded)
                }
                free.close()
            } catch {
                pending.fail(error)
                free.fail(error)
            }
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// A buffer for the next batch (waits while all are queued for writing).
    func emptyBuffer() throws -> EncodedBatch {
        if let failure = pending.failure { throw failure }
        guard let encoded = try free.take() else { preconditionFailure("TokenSinkWriter.emptyBuffer() after finish() or close()") }
        return encoded
    }

    /// Queues `encoded`, the ids of `batch`, for the sink.
    func write(_ batch: [Document], _ encoded: EncodedBatch) throws {
        guard pending.put((batch, encoded)) else {
            if let failure = pending.failure { throw failure }
            preconditionFailure("TokenSinkWriter.write(_:_:) after finish() or close()")
        }
    }

    /// Waits until everything queued is in the sink; rethrows a sink error.
    func finish() throws {
        pending.close()
        while try free.take() != nil {}
    }

    /// Lets the thread write what is queued, then end; waits for it. Idempotent.
    func close() {
        pending.close()
        while (try? free.take()) != nil {}
    }
}

/// Carries a value into a closure that runs on other threads, where the caller guarantees the
/// threads only read it or touch disjoint parts of it.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
