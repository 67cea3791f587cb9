import LongMixCore
import ShardIO

/// Tokenizes a stream of documents into JSON Lines `{"id": ..., "ids": [...]}`, one line per
/// document in input order, encoding batches of documents in parallel.
///
/// Memory is bounded by one batch (`batchBytes` of text plus its ids). Output order and content do
/// not depend on the thread count.
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
    /// Writes the document id as `"id"` on each line.
    public var includeID: Bool
    public var batchBytes: Int

    public init(tokenizer: Tokenizer, threads: Int, addBOS: Bool = false, addEOS: Bool = false,
                includeID: Bool = false, batchBytes: Int = 8 << 20) {
        self.tokenizer = tokenizer
        self.threads = threads
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.includeID = includeID
        self.batchBytes = batchBytes
    }

    /// Reads every document of `reader`, writing one JSON line (without newline) per document
    /// through `writeLine`.
    public func run(reader: DocumentReader, writeLine: ([UInt8]) throws -> Void) throws -> Summary {
        var summary = Summary()
        var ids: [String] = []
        var texts: [[UInt8]] = []
        var pendingBytes = 0
        var line = JSONOutput()
        let clock = ContinuousClock()
        let pool = EncoderPool(tokenizer: tokenizer, threads: threads)

        func flush() throws {
            guard !texts.isEmpty else { return }
            let start = clock.now
            let encoded = tokenizer.encodeBatch(texts, pool: pool, addBOS: addBOS, addEOS: addEOS)
            let elapsed = clock.now - start
            summary.encodeSeconds += Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
            for (index, documentIDs) in encoded.enumerated() {
                line.clear()
                line.raw("{")
                if includeID {
                    line.key("id")
                    line.string(ids[index])
                    line.raw(",")
                }
                line.key("ids")
                line.integers(documentIDs)
                line.raw("}")
                try writeLine(line.bytes)
                summary.tokens += documentIDs.count
            }
            texts.removeAll(keepingCapacity: true)
            ids.removeAll(keepingCapacity: true)
            pendingBytes = 0
        }

        while let document = try reader.next() {
            summary.documents += 1
            summary.textBytes += document.text.count
            pendingBytes += document.text.count
            texts.append(document.text)
            if includeID { ids.append(document.id) }
            if pendingBytes >= batchBytes { try flush() }
        }
        try flush()
        return summary
    }
}
