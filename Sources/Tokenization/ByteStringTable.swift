/// Fast, process-independent hash of a byte string for the tokenizer's tables.
///
/// Not Swift's `Hasher` (randomly seeded, and slower through its generic interface). Reads eight
/// bytes at a time; used only for table placement, never stored.
@inline(__always)
func tokenizerHash(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> UInt64 {
    let raw = UnsafeRawPointer(bytes)
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ (UInt64(count) &* 0xFF51_AFD7_ED55_8CCD)
    if count >= 8 {
        // Whole words, then the last eight bytes (overlapping the previous word if needed).
        var i = 0
        while i + 8 < count {
            h = (h ^ raw.loadUnaligned(fromByteOffset: i, as: UInt64.self)) &* 0xBF58_476D_1CE4_E5B9
            h ^= h >> 29
            i += 8
        }
        h = (h ^ raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self)) &* 0x94D0_49BB_1331_11EB
    } else if count >= 4 {
        let first = UInt64(raw.loadUnaligned(as: UInt32.self))
        let last = UInt64(raw.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self))
        h = (h ^ (first | last << 32)) &* 0x94D0_49BB_1331_11EB
    } else if count > 0 {
        let value = UInt64(bytes[0]) | UInt64(bytes[count >> 1]) << 8 | UInt64(bytes[count - 1]) << 16
        h = (h ^ value) &* 0x94D0_49BB_1331_11EB
    }
    h ^= h >> 32
    return h &* 0xD6E8_FEB8_6659_FD93 ^ (h >> 29)
}

/// The first slot to probe for `hash` in a table of `mask + 1` slots (a power of two).
///
/// Multiplies before taking the high bits: the low bits of `tokenizerHash` alone cluster (LLaMA-2's
/// vocabulary at half load averaged 7 probes per key by them, 1.5 this way).
@inline(__always)
func tokenizerSlot(_ hash: UInt64, _ mask: Int) -> Int {
    Int(truncatingIfNeeded: ((hash & 0xFFFF_FFFF) &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
}

/// An immutable map from byte strings to `UInt32` values (vocabulary pieces to ids).
///
/// Keys are compared as bytes, never as `String` (Swift's `String` equality would merge
/// canonically-equivalent pieces that the vocabulary keeps apart). Open addressing with linear
/// probing in a power-of-two table at most half full; storage is allocated once and never
/// mutated after `init`, which makes sharing across threads safe.
final class ByteStringTable: @unchecked Sendable {
    /// 16 bytes, so the whole table of a 32K vocabulary fits in 1 MB of CPU cache.
    private struct Slot {
        var hash: UInt32  // the low 32 bits of the key's hash
        var keyOffset: UInt32
        var keyLength: UInt32  // UInt32.max marks an empty slot
        var value: UInt32
    }

    private let slots: UnsafeMutablePointer<Slot>
    private let mask: Int
    private let arena: UnsafeMutablePointer<UInt8>
    let count: Int

    /// Builds the table; when a key repeats, the first value is kept (as SentencePiece does).
    init(_ entries: [(key: [UInt8], value: UInt32)]) {
        var capacity = 16
        while capacity < entries.count * 2 { capacity <<= 1 }
        let mask = capacity - 1
        let slots = UnsafeMutablePointer<Slot>.allocate(capacity: capacity)
        slots.initialize(repeating: Slot(hash: 0, keyOffset: 0, keyLength: .max, value: 0), count: capacity)
        let arena = UnsafeMutablePointer<UInt8>.allocate(capacity: max(entries.reduce(0) { $0 + $1.key.count }, 1))
        var used = 0
        var stored = 0
        for (key, value) in entries {
            key.withUnsafeBufferPointer { keyBuffer in
                let keyBase = keyBuffer.baseAddress ?? UnsafePointer(arena)
                let hash = UInt32(truncatingIfNeeded: tokenizerHash(keyBase, key.count))
                var index = tokenizerSlot(UInt64(hash), mask)
                while slots[index].keyLength != .max {
                    if slots[index].hash == hash, Int(slots[index].keyLength) == key.count,
                       memoryEqual(arena + Int(slots[index].keyOffset), keyBase, key.count) {
                        return  // keep the first value
                    }
                    index = (index + 1) & mask
                }
                (arena + used).update(from: keyBase, count: key.count)
                slots[index] = Slot(hash: hash, keyOffset: UInt32(used), keyLength: UInt32(key.count), value: value)
                used += key.count
                stored += 1
            }
        }
        self.slots = slots
        self.mask = mask
        self.arena = arena
        count = stored
    }

    deinit {
        slots.deallocate()
        arena.deallocate()
    }

    /// The value stored for the `length` bytes at `key`, if any.
    @inline(__always)
    func lookup(_ key: UnsafePointer<UInt8>, _ length: Int) -> UInt32? {
        let hash = UInt32(truncatingIfNeeded: tokenizerHash(key, length))
        var index = tokenizerSlot(UInt64(hash), mask)
        while true {
            let slot = slots[index]
            if slot.keyLength == .max { return nil }
            if slot.hash == hash, Int(slot.keyLength) == length,
               memoryEqual(arena + Int(slot.keyOffset), key, length) {
                return slot.value
            }
            index = (index + 1) & mask
        }
    }

    func lookup(_ key: [UInt8]) -> UInt32? {
        key.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else {
                return withUnsafePointer(to: UInt8(0)) { lookup($0, 0) }
            }
            return lookup(base, buffer.count)
        }
    }
}

/// Byte-wise equality of two regions (`length` may be 0; `b` may then be nil).
@inline(__always)
func memoryEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>?, _ length: Int) -> Bool {
    guard length > 0, let b else { return true }
    var i = 0
    while i + 8 <= length {
        if UnsafeRawPointer(a).loadUnaligned(fromByteOffset: i, as: UInt64.self)
            != UnsafeRawPointer(b).loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
        i += 8
    }
    while i < length {
        if a[i] != b[i] { return false }
        i += 1
    }
    return true
}
