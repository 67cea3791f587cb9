import Tokenization

/// What a stretch of a packed sequence holds.
public enum SegmentKind: UInt16, Sendable, Codable {
    /// Tokens of one document (or one few-shot example).
    case document = 0
    /// A few-shot group's shared instruction, written once at the top of a sequence.
    case header = 1
    /// Padding after the last document (loss mask 0).
    case padding = 2
}

/// One contiguous stretch of a sequence: its place in the sequence and where its tokens came from.
///
/// `document` indexes the pack's `documents.jsonl` (-1 for headers and padding);
/// `documentOffset` is the token offset of this stretch inside that document's token stream
/// (BOS/EOS included when the mixture adds them), so a document cut across sequences can be put
/// back together. `group` is the few-shot group (an index per source, the same for a header and
/// its examples; -1 for documents without a group and for padding): a header and the examples
/// that follow it with the same `group` form one attention span.
public struct Segment: Sendable, Equatable {
    public var start: UInt32
    public var length: UInt32
    public var document: Int32
    public var documentOffset: UInt32
    public var group: Int32
    public var source: UInt16
    public var kind: SegmentKind

    public init(start: UInt32, length: UInt32, document: Int32, documentOffset: UInt32, group: Int32 = -1, source: UInt16,
                kind: SegmentKind) {
        self.start = start
        self.length = length
        self.document = document
        self.documentOffset = documentOffset
        self.group = group
        self.source = source
        self.kind = kind
    }
}

/// One training sequence of exactly `seqLen` tokens with its loss mask and segments.
///
/// Invariants (checked by `PackWriter`): `tokens.count == lossMask.count == seqLen`; segments
/// tile `0..<seqLen` in order without gaps or overlaps.
public struct PackedSequence: Sendable {
    public var tokens: [TokenID] = []
    public var lossMask: [UInt8] = []
    public var segments: [Segment] = []
    /// The source whose data fills the sequence (sources never share a sequence).
    public var source: UInt16

    public init(source: UInt16, capacity: Int) {
        self.source = source
        tokens.reserveCapacity(capacity)
        lossMask.reserveCapacity(capacity)
    }

    /// Appends `ids` as one segment (`group`: the few-shot group of a header or example, else -1).
    public mutating func append(_ ids: UnsafeBufferPointer<TokenID>, mask: UnsafeBufferPointer<UInt8>?, document: Int32,
                                documentOffset: Int, group: Int32 = -1, kind: SegmentKind) {
        guard !ids.isEmpty else { return }
        segments.append(Segment(start: UInt32(tokens.count), length: UInt32(ids.count), document: document,
                                documentOffset: UInt32(documentOffset), group: group, source: source, kind: kind))
        tokens.append(contentsOf: ids)
        if let mask { lossMask.append(contentsOf: mask) } else { lossMask.append(contentsOf: repeatElement(1, count: ids.count)) }
    }

    /// Fills the rest of the sequence with `padID` (loss mask 0) up to `seqLen`; returns the number added.
    @discardableResult
    public mutating func pad(to seqLen: Int, with padID: TokenID) -> Int {
        let n = seqLen - tokens.count
        guard n > 0 else { return 0 }
        segments.append(Segment(start: UInt32(tokens.count), length: UInt32(n), document: -1, documentOffset: 0,
                                source: source, kind: .padding))
        tokens.append(contentsOf: repeatElement(padID, count: n))
        lossMask.append(contentsOf: repeatElement(0, count: n))
        return n
    }
}
