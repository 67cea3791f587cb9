/// SentencePiece merges between two piece symbols, keyed by their ids: (left, right) -> the id and
/// rank (`SentencePieceBPEModel.ranks`) of the piece their concatenation spells, for every mergeable piece that splits into two
/// mergeable pieces. Turns the encoder's byte-string lookups into one integer probe.
///
/// Exact: two adjacent symbols that are pieces spell `pieces[left] + pieces[right]`, which is a
/// mergeable piece exactly when this table has the pair. Compact (8-byte slots holding the id and
/// the rank, so a probe touches one cache line and LLaMA-2's 61K pairs take 1 MB); for vocabularies
/// of at most 65536 pieces, whose id pairs fit a 32-bit key and whose ids and ranks fit 16 bits
/// each (the model falls back to byte lookups otherwise).
final class PieceMergeTable: @unchecked Sendable {
    static let maxVocabulary = 1 << 16

    private struct Slot {
        var key: UInt32  // left << 16 | right; UInt32.max marks an empty slot (ids < 65535)
        var value: UInt32  // result << 16 | rank
    }

    private let slots: UnsafeMutablePointer<Slot>
    private let mask: Int

    init(_ merges: [(left: TokenID, right: TokenID, result: TokenID, rank: UInt32)]) {
        var capacity = 16
        while capacity < merges.count * 2 { capacity <<= 1 }
        let mask = capacity - 1
        let slots = UnsafeMutablePointer<Slot>.allocate(capacity: capacity)
        slots.initialize(repeating: Slot(key: .max, value: 0), count: capacity)
        for merge in merges {
            precondition(merge.result < Self.maxVocabulary && merge.rank < Self.maxVocabulary, "a piece id or rank past 16 bits")
            let key = merge.left << 16 | merge.right
            var index = Self.slotIndex(key, mask)
            while slots[index].key != .max && slots[index].key != key { index = (index + 1) & mask }
            slots[index] = Slot(key: key, value: merge.result << 16 | merge.rank)
        }
        self.slots = slots
        self.mask = mask
    }

    deinit { slots.deallocate() }

    @inline(__always)
    private static func slotIndex(_ key: UInt32, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 29) & mask
    }

    /// The piece (id, rank) spelled by pieces `left` and `right` together, if it is mergeable.
    @inline(__always)
    func lookup(_ left: TokenID, _ right: TokenID) -> (id: TokenID, rank: UInt32)? {
        let key = left << 16 | right
        var index = Self.slotIndex(key, mask)
        while true {
            let slot = slots[index]
            if slot.key == key { return (slot.value >> 16, slot.value & 0xFFFF) }
            if slot.key == .max { return nil }
            index = (index + 1) & mask
        }
    }
}
