/// A per-encoder memo of segment encodings: normalized segment bytes -> token ids.
///
/// Natural text repeats the same few thousand words, so after warm-up almost every segment is a
/// hit and encoding costs a hash and a copy. Two levels:
/// - a direct-mapped front table for short segments (at most 16 bytes, at most 3 ids) with the
///   key and ids inline in 32 bytes, sized to stay in the CPU cache; it serves the frequent words;
/// - a growable open-addressing table with key and id arenas for everything up to
///   `maxKeyLength` bytes.
/// The cache belongs to one `TokenEncoder` (one thread), so it needs no locking; it never changes
/// results, only speed. Memory is bounded: past `maxEntries` segments (or the arena limits) the
/// main table is cleared and refills. Longer segments are not cached (they rarely repeat).
///
/// Contract: keys passed in must have 16 readable bytes from their start (callers pad their
/// buffers), so short keys load as two words; bytes past the key's length are masked off.
final class SegmentCache {
    static let maxKeyLength = 96
    private static let maxEntries = 1 << 20
    private static let maxKeyBytes = 32 << 20
    private static let maxIDs = 8 << 20
    private static let frontBits = 15

    private struct FrontEntry {
        var key0: UInt64
        var key1: UInt64
        var length: Int16  // -1 when empty
        var count: Int16
        var ids: (TokenID, TokenID, TokenID)
    }

    private struct Slot {
        var hash: UInt64
        var keyOffset: Int32
        var keyLength: Int32  // -1 marks an empty slot
        var idsOffset: Int32
        var idsCount: Int32
    }
    private static let emptySlot = Slot(hash: 0, keyOffset: 0, keyLength: -1, idsOffset: 0, idsCount: 0)

    private let front: UnsafeMutablePointer<FrontEntry>
    private var slots: UnsafeMutablePointer<Slot>
    private var capacity: Int
    private var keys: UnsafeMutablePointer<UInt8>
    private var keyCount = 0
    private var keyCapacity: Int
    private var ids: UnsafeMutablePointer<TokenID>
    private var idCount = 0
    private var idCapacity: Int
    private var entries = 0

    init() {
        let frontSize = 1 << Self.frontBits
        front = .allocate(capacity: frontSize)
        front.initialize(repeating: FrontEntry(key0: 0, key1: 0, length: -1, count: 0, ids: (0, 0, 0)), count: frontSize)
        capacity = 1024
        slots = .allocate(capacity: capacity)
        slots.initialize(repeating: Self.emptySlot, count: capacity)
        keyCapacity = 16 << 10
        keys = .allocate(capacity: keyCapacity)
        idCapacity = 4 << 10
        ids = .allocate(capacity: idCapacity)
    }

    deinit {
        front.deallocate()
        slots.deallocate()
        keys.deallocate()
        ids.deallocate()
    }

    /// A key of at most 16 bytes as two words, bytes past `length` zeroed.
    @inline(__always)
    private static func shortKey(_ key: UnsafePointer<UInt8>, _ length: Int) -> (UInt64, UInt64) {
        let raw = UnsafeRawPointer(key)
        var word0 = raw.loadUnaligned(as: UInt64.self)
        var word1 = raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        if length < 8 {
            word0 &= (1 << UInt64(length * 8)) &- 1
            word1 = 0
        } else if length < 16 {
            word1 &= (1 << UInt64((length - 8) * 8)) &- 1
        }
        return (word0, word1)
    }

    /// Hash of a key (short keys from their two words, so they are read once).
    @inline(__always)
    private static func hash(_ key: UnsafePointer<UInt8>, _ length: Int, short: (UInt64, UInt64)) -> UInt64 {
        guard length <= 16 else { return tokenizerHash(key, length) }
        var h = (short.0 ^ UInt64(length) &* 0x9E37_79B9_7F4A_7C15) &* 0xBF58_476D_1CE4_E5B9
        h = (h ^ (h >> 31) ^ short.1) &* 0x94D0_49BB_1331_11EB
        return h ^ (h >> 29)
    }

    /// Offset of the inline ids in a front entry.
    private static let frontIDsOffset = MemoryLayout<FrontEntry>.offset(of: \FrontEntry.ids)!

    /// The cached ids for the key, or nil on a miss. The buffer is valid until the next `insert`
    /// or lookup.
    @inline(__always)
    func cached(_ key: UnsafePointer<UInt8>, _ length: Int) -> UnsafeBufferPointer<TokenID>? {
        let isShort = length <= 16
        let short = isShort ? Self.shortKey(key, length) : (0, 0)
        let hash = Self.hash(key, length, short: short)
        let frontIndex = Int(truncatingIfNeeded: hash >> 40) & ((1 << Self.frontBits) - 1)
        if isShort {
            let entry = front[frontIndex]
            if entry.length == Int16(length) && entry.key0 == short.0 && entry.key1 == short.1 {
                let ids = (UnsafeRawPointer(front + frontIndex) + Self.frontIDsOffset).assumingMemoryBound(to: TokenID.self)
                return UnsafeBufferPointer(start: ids, count: Int(entry.count))
            }
        }
        let mask = capacity - 1
        var index = Int(truncatingIfNeeded: hash) & mask
        while true {
            let slot = slots[index]
            if slot.keyLength < 0 { return nil }
            if slot.hash == hash, Int(slot.keyLength) == length, memoryEqual(keys + Int(slot.keyOffset), key, length) {
                let found = UnsafeBufferPointer(start: ids + Int(slot.idsOffset), count: Int(slot.idsCount))
                if isShort { promote(frontIndex, short, length, found) }
                return found
            }
            index = (index + 1) & mask
        }
    }

    @inline(__always)
    private func promote(_ frontIndex: Int, _ short: (UInt64, UInt64), _ length: Int, _ value: UnsafeBufferPointer<TokenID>) {
        guard value.count <= 3 else { return }
        var entry = FrontEntry(key0: short.0, key1: short.1, length: Int16(length), count: Int16(value.count), ids: (0, 0, 0))
        withUnsafeMutableBytes(of: &entry.ids) { raw in
            for (k, id) in value.enumerated() { raw.storeBytes(of: id, toByteOffset: k * 4, as: TokenID.self) }
        }
        front[frontIndex] = entry
    }

    /// Remembers `value` for a key that `cached` just missed.
    func insert(_ key: UnsafePointer<UInt8>, _ length: Int, value: UnsafeBufferPointer<TokenID>) {
        let short = length <= 16 ? Self.shortKey(key, length) : (0, 0)
        let hash = Self.hash(key, length, short: short)
        if length <= 16 {
            let frontIndex = Int(truncatingIfNeeded: hash >> 40) & ((1 << Self.frontBits) - 1)
            promote(frontIndex, short, length, value)
        }
        if entries >= Self.maxEntries || keyCount + length > Self.maxKeyBytes || idCount + value.count > Self.maxIDs {
            slots.update(repeating: Self.emptySlot, count: capacity)
            keyCount = 0
            idCount = 0
            entries = 0
        } else if (entries + 1) * 2 > capacity {
            grow()
        }
        if keyCount + length > keyCapacity {
            keyCapacity = max(keyCapacity * 2, keyCount + length)
            let bigger = UnsafeMutablePointer<UInt8>.allocate(capacity: keyCapacity)
            bigger.update(from: keys, count: keyCount)
            keys.deallocate()
            keys = bigger
        }
        if idCount + value.count > idCapacity {
            idCapacity = max(idCapacity * 2, idCount + value.count)
            let bigger = UnsafeMutablePointer<TokenID>.allocate(capacity: idCapacity)
            bigger.update(from: ids, count: idCount)
            ids.deallocate()
            ids = bigger
        }
        (keys + keyCount).update(from: key, count: length)
        if let base = value.baseAddress { (ids + idCount).update(from: base, count: value.count) }
        place(Slot(hash: hash, keyOffset: Int32(keyCount), keyLength: Int32(length),
                   idsOffset: Int32(idCount), idsCount: Int32(value.count)))
        keyCount += length
        idCount += value.count
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
