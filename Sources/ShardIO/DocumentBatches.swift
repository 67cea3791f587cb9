import Foundation
import LongMixCore

/// Reads a source's documents on a background thread, a batch or two ahead of the workers, so
/// reading, decompression and JSON parsing overlap with tokenizing and scanning.
///
/// Contract: `next()` returns batches in stream order (each up to `batchBytes` of text or
/// `maxDocuments` documents), then nil; a reader error is rethrown by `next()` after the
/// batches before it. The reader belongs to the background thread until `next()` has returned
/// nil or thrown; only then may the caller look at its counts.
public final class DocumentBatches: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready: [[Document]] = []
    private var finished = false
    private var failure: Error?
    private var cancelled = false

    public init(reader: DocumentReader, batchBytes: Int = 4 << 20, maxDocuments: Int = 1024, depth: Int = 2) {
        let box = ReaderHandOff(reader: reader)
        let thread = Thread { [self] in
            let reader = box.reader
            var batch: [Document] = []
            var bytes = 0
            do {
                while let document = try reader.next() {
                    bytes += document.text.count
                    batch.append(document)
                    if bytes >= batchBytes || batch.count >= maxDocuments {
                        if !put(batch, depth: depth) { return }
                        batch = []
                        bytes = 0
                    }
                }
                if !batch.isEmpty && !put(batch, depth: depth) { return }
            } catch {
                condition.lock()
                failure = error
                condition.unlock()
            }
            condition.lock()
            finished = true
            condition.broadcast()
            condition.unlock()
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    /// Stops the background thread at its next batch (for a build that failed elsewhere).
    public func cancel() {
        condition.lock()
        cancelled = true
        condition.broadcast()
        condition.unlock()
    }

    private func put(_ batch: [Document], depth: Int) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while ready.count >= depth && !cancelled { condition.wait() }
        guard !cancelled else { return false }
        ready.append(batch)
        condition.broadcast()
        return true
    }

    public func next() throws -> [Document]? {
        condition.lock()
        defer { condition.unlock() }
        while ready.isEmpty && !finished { condition.wait() }
        if !ready.isEmpty {
            condition.broadcast()
            return ready.removeFirst()
        }
        if let failure { throw failure }
        return nil
    }
}

/// Moves the reader to the background thread, which alone uses it until the batches end.
private struct ReaderHandOff: @unchecked Sendable {
    let reader: DocumentReader
}
