import Dispatch
import Foundation
import LongMixCore
import ShardIO
import Synchronization

/// A tokenizer loaded from a file, with what a build records about it (path, SHA-256).
///
/// `load(path:)` dispatches on the file: a SentencePiece `tokenizer.model` (protobuf) or a Hugging
/// Face `tokenizer.json` (LLaMA-2 family as written by transformers' LlamaConverter).
/// Immutable and `Sendable`; encode on many threads with one `TokenEncoder` per thread, or with
/// `encodeBatch(_:threads:)`.
public struct Tokenizer: Sendable {
    public enum Format: String, Sendable {
        case sentencePieceModel = "sentencepiece"
        case huggingFaceJSON = "tokenizer.json"
    }

    public let model: any TokenizerModel
    public let format: Format
    public let path: String
    private let digest: FileDigest
    /// SHA-256 of the file, 64 lowercase hex digits. Computed on first use from the bytes loaded
    /// (a run that records no provenance, like `longmix tokenize`, does not pay for hashing).
    public var sha256: String { digest.hex }

    public init(model: any TokenizerModel, format: Format, path: String, sha256: String) {
        self.init(model: model, format: format, path: path, digest: FileDigest(hex: sha256))
    }

    private init(model: any TokenizerModel, format: Format, path: String, digest: FileDigest) {
        self.model = model
        self.format = format
        self.path = path
        self.digest = digest
    }

    /// Loads `path`: `.json` files as tokenizer.json, anything else as a SentencePiece model.
    public static func load(path: String) throws -> Tokenizer {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TokenizerError(path: path, "cannot read the tokenizer file (missing or unreadable)")
        }
        InputFiles.register([path])
        let bytes = [UInt8](data)
        let digest = FileDigest(bytes: bytes)
        if path.lowercased().hasSuffix(".json") {
            let model = try HuggingFaceBPEModel(json: bytes, path: path)
            return Tokenizer(model: model, format: .huggingFaceJSON, path: path, digest: digest)
        }
        let model = try SentencePieceBPEModel(serialized: bytes, path: path)
        return Tokenizer(model: model, format: .sentencePieceModel, path: path, digest: digest)
    }

    public var vocabularySize: Int { model.vocabularySize }
    public var bosID: TokenID? { model.bosID }
    public var eosID: TokenID? { model.eosID }

    /// A new encoder for the calling thread (owns its cache; not thread-safe).
    public func makeEncoder() -> any TokenEncoder { model.makeEncoder() }

    /// Encodes one text with a fresh encoder. For many texts keep an encoder (its cache is the
    /// speed) or use `encodeBatch`.
    public func encode(_ text: [UInt8], addBOS: Bool = false, addEOS: Bool = false) -> [TokenID] {
        model.makeEncoder().encode(text, addBOS: addBOS, addEOS: addEOS)
    }

    public func decode(_ ids: [TokenID]) throws -> [UInt8] { try model.decode(ids) }

    /// Encodes `texts` on `threads` threads; result `i` is the encoding of `texts[i]` whatever the
    /// thread count or scheduling (each thread takes the next unclaimed index and writes its slot).
    public func encodeBatch(_ texts: [[UInt8]], threads: Int, addBOS: Bool = false, addEOS: Bool = false) -> [[TokenID]] {
        encodeBatch(texts, pool: EncoderPool(tokenizer: self, threads: threads), addBOS: addBOS, addEOS: addEOS)
    }

    /// As `encodeBatch(_:threads:)`, with the pool's encoders, whose caches stay warm from one
    /// batch to the next. One batch at a time per pool.
    public func encodeBatch(_ texts: [[UInt8]], pool: EncoderPool, addBOS: Bool = false, addEOS: Bool = false) -> [[TokenID]] {
        var results = [[TokenID]](repeating: [], count: texts.count)
        let workers = max(1, min(pool.threads, texts.count))
        let nextIndex = Atomic<Int>(0)
        results.withUnsafeMutableBufferPointer { buffer in
            let slots = SendableBuffer(buffer)
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                // Iteration `worker` runs once, on one thread: encoder `worker` is never shared.
                let encoder = pool.encoder(worker)
                while true {
                    let i = nextIndex.wrappingAdd(1, ordering: .relaxed).oldValue
                    guard i < texts.count else { break }
                    slots.buffer[i] = encoder.encode(texts[i], addBOS: addBOS, addEOS: addEOS)
                }
            }
        }
        return results
    }
}

/// The SHA-256 of a file's bytes, hashed once, on first request, by whichever thread asks first.
private final class FileDigest: Sendable {
    private let state: Mutex<(bytes: [UInt8], hex: String?)>

    init(bytes: [UInt8]) { state = Mutex((bytes, nil)) }
    init(hex: String) { state = Mutex(([], hex)) }

    var hex: String {
        state.withLock { state in
            if let hex = state.hex { return hex }
            let hex = SHA256.hexDigest(state.bytes)
            state = ([], hex)
            return hex
        }
    }
}

/// One encoder per worker thread, kept across batches so their segment caches stay warm.
///
/// Used by `Tokenizer.encodeBatch(_:pool:)`, which hands encoder `k` to worker `k` only; a pool
/// must not serve two batches at the same time.
public final class EncoderPool: @unchecked Sendable {
    private let encoders: [any TokenEncoder]
    public var threads: Int { encoders.count }

    public init(tokenizer: Tokenizer, threads: Int) {
        encoders = (0..<max(1, threads)).map { _ in tokenizer.makeEncoder() }
    }

    func encoder(_ worker: Int) -> any TokenEncoder { encoders[worker] }
}

/// Lets worker threads write disjoint slots of one buffer (each index is written by one thread).
private struct SendableBuffer<Element>: @unchecked Sendable {
    let buffer: UnsafeMutableBufferPointer<Element>
    init(_ buffer: UnsafeMutableBufferPointer<Element>) { self.buffer = buffer }
}
