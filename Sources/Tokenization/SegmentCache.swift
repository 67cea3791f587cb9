/// A per-encoder memo of segment encodings: normalized segment bytes -> token ids.
///
/// Natural text repeats the same few thousand words, so after warm-up almost every segment is a
/// hit and encoding costs a hash and a copy. The cache belongs to one `TokenEncoder` (one thread),
/// so it needs no locking; it never changes results, only speed. It starts small and grows; memory
/// is bounded: past `maxEntries` segments (or the arena limits) the whole cache is cleared and
/// refills. Segments longer than `maxKeyLength` are not cached (they rarely repeat).
final class SegmentCache {
    static let maxKeyLength = 96
    private static let maxEntries = 1 << 17
    private static let maxKeyBytes = 4 << 20
    private static let maxIDs = 1 << 20

    private struct Slot {
        var hash: UInt64
        var keyOffset: Int32
        var keyLength: Int32  // -1 marks an empty slot
        var idsOffset: Int32
        var idsCount: Int32
    }
    private static let emptySlot = Slot(hash: 0, keyOffset: 0, keyLength: -1, idsOffset: 0, idsCount: 0)

    private var slots: UnsafeMutablePointer<Slot>
    private var capacity: Int
    private var keys: [UInt8] = []
    private var ids: [TokenID] = []
    private var entries = 0

    init() {
        capacity = 1024
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Self.emptySlot, count: capacity)
        keys.reserveCapacity(16 << 10)
        ids.reserveCapacity(4 << 10)
    }

    deinit { slots.deallocate() }

    /// Calls `body` with the cached ids for the key, returning false on a miss.
    @inline(__always)
    func withCached(_ key: UnsafePointer<UInt8>, _ length: Int, hash: UInt64,
                    _ body: (UnsafeBufferPointer<TokenID>) -> Void) -> Bool {
        let mask = capacity - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot.keyLength < 0 { return false }
            if slot.hash == hash, Int(slot.keyLength) == length {
                let equal = keys.withUnsafeBufferPointer { memoryEqual($0.baseAddress! + Int(slot.keyOffset), key, length) }
                if equal {
                    ids.withUnsafeBufferPointer {
                        body(UnsafeBufferPointer(rebasing: $0[Int(slot.idsOffset)..<Int(slot.idsOffset + slot.idsCount)]))
                    }
                    return true
                }
            }
            index = (index + 1) & mask
        }
    }

    /// Remembers `value` for a key that `withCached` just missed.
    func insert(_ key: UnsafePointer<UInt8>, _ length: Int, hash: UInt64, value: UnsafeBufferPointer<TokenID>) {
        if entries >= Self.maxEntries || keys.count + length > Self.maxKeyBytes || ids.count + value.count > Self.maxIDs {
            slots.update(repeating: Self.emptySlot, count: capacity)
            keys.removeAll(keepingCapacity: true)
            ids.removeAll(keepingCapacity: true)
            entries = 0
        } else if (entries + 1) * 2 > capacity {
            grow()
        }
        let slot = Slot(hash: hash, keyOffset: Int32(keys.count), keyLength: Int32(length),
                        idsOffset: Int32(ids.count), idsCount: Int32(value.count))
        keys.append(contentsOf: UnsafeBufferPointer(start: key, count: length))
        ids.append(contentsOf: value)
        place(slot)
        entries += 1
    }

    private func place(_ slot: Slot) {
        let mask = capacity - 1
        var index = Int(truncatingIfNeeded: slot.hash) & mask
        while slots[index].keyLength >= 0 { index = (index + 1) & mask }
        slots[index] = slot
    }

    private func grow() {
        let old = slots, oldCapacity = capacity
        capacity *= 2
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Self.emptySlot, count: capacity)
        for i in 0..<oldCapacity where old[i].keyLength >= 0 { place(old[i]) }
        old.deallocate()
    }
}
