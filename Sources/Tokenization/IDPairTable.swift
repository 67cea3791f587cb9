/// An immutable map from a pair of token ids to a merge (rank, resulting id): the merges of a
/// Hugging Face BPE model. Open addressing over 64-bit keys, at most half full, built once.
final class IDPairTable: @unchecked Sendable {
    private struct Slot {
        var key: UInt64  // left << 32 | right; UInt64.max marks an empty slot
        var rank: UInt32
        var result: UInt32
    }

    private let slots: UnsafeMutablePointer<Slot>
    private let mask: Int

    /// Builds the table; when a pair repeats, the later entry wins (as a Rust HashMap built by
    /// inserting merges in rank order does).
    init(_ merges: [(left: TokenID, right: TokenID, rank: UInt32, result: TokenID)]) {
        var capacity = 16
        while capacity < merges.count * 2 { capacity <<= 1 }
        let mask = capacity - 1
        let slots = UnsafeMutablePointer<Slot>.allocate(capacity: capacity)
        slots.initialize(repeating: Slot(key: .max, rank: 0, result: 0), count: capacity)
        for merge in merges {
            let key = UInt64(merge.left) << 32 | UInt64(merge.right)
            var index = Self.slotIndex(key, mask)
            while slots[index].key != .max && slots[index].key != key { index = (index + 1) & mask }
            slots[index] = Slot(key: key, rank: merge.rank, result: merge.result)
        }
        self.slots = slots
        self.mask = mask
    }

    deinit { slots.deallocate() }

    @inline(__always)
    private static func slotIndex(_ key: UInt64, _ mask: Int) -> Int {
        var h = key &* 0x9E37_79B9_7F4A_7C15
        h ^= h >> 31
        return Int(truncatingIfNeeded: h) & mask
    }

    /// The merge of (left, right), if the model has one.
    @inline(__always)
    func lookup(_ left: TokenID, _ right: TokenID) -> (rank: UInt32, result: TokenID)? {
        let key = UInt64(left) << 32 | UInt64(right)
        var index = Self.slotIndex(key, mask)
        while true {
            let slot = slots[index]
            if slot.key == key { return (slot.rank, slot.result) }
            if slot.key == .max { return nil }
            index = (index + 1) & mask
        }
    }
}
