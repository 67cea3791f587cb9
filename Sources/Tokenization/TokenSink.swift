import LongMixCore
import ShardIO

/// Where tokenized documents go, in input order: JSON Lines, a `.npy` array, or (in Packing) a
/// Megatron indexed dataset.
public protocol TokenSink: AnyObject {
    /// Appends one document's ids; `documentID` is the reader's id for formats that keep it.
    /// `ids` is valid during the call only.
    func append(_ ids: UnsafeBufferPointer<TokenID>, documentID: String) throws
    /// Completes the output (files appear only now, atomically).
    func finish() throws
}

extension TokenSink {
    /// Appends one document's ids from an array.
    public func append(_ ids: [TokenID], documentID: String) throws {
        try ids.withUnsafeBufferPointer { try append($0, documentID: documentID) }
    }
}

/// JSON Lines `{"id"?: ..., "ids": [...]}`, one line (without newline) per document through
/// `writeLine`.
public final class JSONLTokenSink: TokenSink {
    private let includeID: Bool
    private let writeLine: ([UInt8]) throws -> Void
    private let complete: () throws -> Void
    private var line = JSONOutput()

    public init(includeID: Bool, writeLine: @escaping ([UInt8]) throws -> Void, finish: @escaping () throws -> Void) {
        self.includeID = includeID
        self.writeLine = writeLine
        complete = finish
    }

    public func append(_ ids: UnsafeBufferPointer<TokenID>, documentID: String) throws {
        line.clear()
        line.raw("{")
        if includeID {
            line.key("id")
            line.string(documentID)
            line.raw(",")
        }
        line.key("ids")
        line.integers(ids)
        line.raw("}")
        try writeLine(line.bytes)
    }

    public func finish() throws { try complete() }
}
