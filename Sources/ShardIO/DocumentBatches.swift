import Foundation
import LongMixCore

/// Reads a source's documents on a background thread, a batch or two ahead of the workers, so
/// reading, decompression and JSON parsing overlap with tokenizing and scanning.
///
/// Contract: `next()` returns batches in stream order (each up to `batchBytes` of text or
/// `maxDocuments` documents), at most `depth` of them read ahead, then nil; a reader error is
/// rethrown by `next()` after every document read before it (the batch being filled when the
/// reader throws is handed out first). The reader belongs to the background thread
/// until `next()` has returned nil or thrown; only then may the caller look at its counts.
/// `cancel()` (for a build that failed elsewhere) stops the thread at its next batch; `next()`
/// then returns nil, and the reader may still be in use until the thread reaches that batch, so
/// its counts are not to be read.
public final class DocumentBatches: Sendable {
    private let ready: BoundedHandOff<[Document]>

    public init(reader: DocumentReader, batchBytes: Int = 4 << 20, maxDocuments: Int = 1024, depth: Int = 2) {
        let ready = BoundedHandOff<[Document]>(capacity: depth)
        self.ready = ready
        let box = ReaderHandOff(reader: reader)
        let thread = Thread {
            let reader = box.reader
            var batch: [Document] = []
            var bytes = 0
            do {
                while let document = try reader.next() {
                    bytes += document.text.count
                    batch.append(document)
                    if bytes >= batchBytes || batch.count >= maxDocuments {
                        guard ready.put(batch) else { return }
                        batch = []
                        bytes = 0
                    }
                }
                if !batch.isEmpty && !ready.put(batch) { return }
                ready.close()
            } catch {
                if !batch.isEmpty { _ = ready.put(batch) }
                ready.fail(error)
            }
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Stops the background thread at its next batch and drops the batches read ahead.
    public func cancel() {
        ready.cancel()
    }

    public func next() throws -> [Document]? {
        try ready.take()
    }
}

/// Moves the reader to the background thread, which alone uses it until the batches end.
private struct ReaderHandOff: @unchecked Sendable {
    let reader: DocumentReader
}
