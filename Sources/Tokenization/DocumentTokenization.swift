import LongMixCore
import ShardIO

/// Tokenizes a stream of documents into a `TokenSink` (JSON Lines, `.npy`, Megatron `.bin/.idx`),
/// one entry per document in input order. Reading, decompression and JSON parsing run on a
/// background thread a batch ahead (`DocumentBatches`); each batch is encoded on `threads` workers.
///
/// Memory is bounded by a few batches (`batchBytes` of text each, plus their ids). Output order and
/// content do not depend on the thread count.
public struct DocumentTokenization {
    public struct Summary: Sendable {
        public var documents = 0
        public var textBytes = 0
        public var tokens = 0
        /// Time spent encoding only (not reading or writing), in seconds.
        public var encodeSeconds = 0.0
        /// Encoding throughput in MB (10^6 bytes) of text per second.
        public var encodeMegabytesPerSecond: Double { encodeSeconds > 0 ? Double(textBytes) / encodeSeconds / 1e6 : 0 }
    }

    public var tokenizer: Tokenizer
    public var threads: Int
    public var addBOS: Bool
    public var addEOS: Bool
    public var batchBytes: Int

    public init(tokenizer: Tokenizer, threads: Int, addBOS: Bool = false, addEOS: Bool = false,
                batchBytes: Int = 4 << 20) {
        self.tokenizer = tokenizer
        self.threads = threads
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.batchBytes = batchBytes
    }

    /// Reads every document of `reader` and appends its ids to `sink` (the caller finishes the
    /// sink). The reader's counts are final when this returns.
    public func run(reader: DocumentReader, into sink: TokenSink) throws -> Summary {
        var summary = Summary()
        let clock = ContinuousClock()
        let pool = EncoderPool(tokenizer: tokenizer, threads: threads)
        let batches = DocumentBatches(reader: reader, batchBytes: batchBytes, maxDocuments: 4096)
        defer { batches.cancel() }
        var texts: [[UInt8]] = []
        while let batch = try batches.next() {
            texts.removeAll(keepingCapacity: true)
            for document in batch {
                texts.append(document.text)
                summary.textBytes += document.text.count
            }
            let start = clock.now
            let encoded = tokenizer.encodeBatch(texts, pool: pool, addBOS: addBOS, addEOS: addEOS)
            let elapsed = clock.now - start
            summary.encodeSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            for (document, ids) in zip(batch, encoded) {
                try sink.append(ids, documentID: document.id)
                summary.tokens += ids.count
            }
            summary.documents += batch.count
        }
        return summary
    }
}
