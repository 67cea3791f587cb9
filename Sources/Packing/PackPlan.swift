/// Where one stretch of a planned sequence comes from: `length` tokens of item `item` starting at
/// token `offset` of its stream, or a group's header.
public struct PlannedPiece: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case item
        /// The header of few-shot group `group` (its whole token stream).
        case header(group: Int)
    }

    public var kind: Kind
    public var item: Int
    public var offset: Int
    public var length: Int

    public static func item(_ item: Int, offset: Int, length: Int) -> PlannedPiece {
        PlannedPiece(kind: .item, item: item, offset: offset, length: length)
    }
}

/// One planned sequence: pieces in order; whatever they leave of `seqLen` is padding.
public struct PlannedSequence: Sendable, Equatable {
    public var pieces: [PlannedPiece] = []
    public var used: Int { pieces.reduce(0) { $0 + $1.length } }

    public init(pieces: [PlannedPiece] = []) { self.pieces = pieces }
}

/// A source's packing plan, made from token counts alone (before any token is read), so the
/// number of sequences per source is known before writing, and the build can interleave sources
/// exactly.
public struct PackPlan: Sendable {
    public var sequences: [PlannedSequence] = []
    public var counts = PackingCounts()

    public init() {}
}

/// What packing did, per source and in total: the figures `manifest.json` reports.
public struct PackingCounts: Sendable, Equatable, Codable {
    public var sequences = 0
    /// Items (documents or examples) with at least one token written.
    public var documents = 0
    /// Item tokens written into sequences.
    public var documentTokens = 0
    /// Few-shot header tokens written.
    public var headerTokens = 0
    public var paddingTokens = 0
    /// Tokens of selected items not written: concat's cut tail, few-shot examples longer than a sequence.
    public var truncatedTokens = 0
    /// Items with some tokens not written.
    public var documentsTruncated = 0
    /// Items whose tokens span more than one sequence.
    public var documentsSplit = 0
    /// The least padding any plan could have for the same written items under the same rules
    /// (see each planner): `paddingTokens - paddingLowerBound` is what the packer lost.
    public var paddingLowerBound = 0
    /// Tokens with loss mask 1 (counted by `PackWriter` from the masks it writes).
    public var lossTokens = 0

    public init() {}

    public mutating func add(_ o: PackingCounts) {
        sequences += o.sequences
        documents += o.documents
        documentTokens += o.documentTokens
        headerTokens += o.headerTokens
        paddingTokens += o.paddingTokens
        truncatedTokens += o.truncatedTokens
        documentsTruncated += o.documentsTruncated
        documentsSplit += o.documentsSplit
        paddingLowerBound += o.paddingLowerBound
        lossTokens += o.lossTokens
    }

    /// Padding of the fewest `capacity`-token sequences that hold `tokens` tokens:
    /// `ceil(tokens / capacity) * capacity - tokens`.
    public static func paddingOfFewestSequences(tokens: Int, capacity: Int) -> Int {
        guard tokens > 0, capacity > 0 else { return 0 }
        return (tokens + capacity - 1) / capacity * capacity - tokens
    }
}
