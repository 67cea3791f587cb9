/// A token id. Vocabularies here are far below 2^32; packers narrow to UInt16 where they fit.
public typealias TokenID = UInt32

/// A loaded tokenizer vocabulary and its rules: immutable and safe to share across threads.
///
/// Encoding goes through a `TokenEncoder` made by `makeEncoder()`, one per thread: the encoder owns
/// scratch buffers and a segment cache, which is what makes encoding fast.
public protocol TokenizerModel: Sendable {
    /// Number of ids (the largest id + 1).
    var vocabularySize: Int { get }
    /// The beginning-of-sequence id, when the vocabulary has one.
    var bosID: TokenID? { get }
    /// The end-of-sequence id, when the vocabulary has one.
    var eosID: TokenID? { get }
    /// A new encoder for the calling thread.
    func makeEncoder() -> any TokenEncoder
    /// The text (UTF-8 bytes) of `ids`, as the reference implementation decodes them.
    /// Throws `TokenizerError` for an id outside the vocabulary.
    func decode(_ ids: [TokenID]) throws -> [UInt8]
}

/// Encodes text on one thread. Not thread-safe: make one per thread with `makeEncoder()`.
public protocol TokenEncoder: AnyObject {
    var bosID: TokenID? { get }
    var eosID: TokenID? { get }
    /// Appends the ids of `text` to `ids` (no BOS/EOS). `text` may hold any bytes: invalid UTF-8
    /// is treated as the reference tokenizer treats it (U+FFFD per invalid byte).
    func encode(_ text: UnsafeBufferPointer<UInt8>, into ids: inout [TokenID])
}

extension TokenEncoder {
    /// Appends BOS (if asked and defined), the ids of `text`, then EOS (if asked and defined).
    public func encode(_ text: UnsafeBufferPointer<UInt8>, addBOS: Bool, addEOS: Bool, into ids: inout [TokenID]) {
        if addBOS, let bos = bosID { ids.append(bos) }
        encode(text, into: &ids)
        if addEOS, let eos = eosID { ids.append(eos) }
    }

    /// The ids of `text`, optionally framed by BOS/EOS.
    public func encode(_ text: [UInt8], addBOS: Bool = false, addEOS: Bool = false) -> [TokenID] {
        var ids: [TokenID] = []
        ids.reserveCapacity(text.count / 2 + 16)
        text.withUnsafeBufferPointer { encode($0, addBOS: addBOS, addEOS: addEOS, into: &ids) }
        return ids
    }
}

/// A tokenizer file that cannot be loaded, or a request it cannot serve.
public struct TokenizerError: Error, CustomStringConvertible, Sendable {
    /// The tokenizer file concerned, when there is one.
    public var path: String?
    public var message: String

    public init(path: String? = nil, _ message: String) {
        self.path = path
        self.message = message
    }

    public var description: String { path.map { "\($0): \(message)" } ?? message }
}
