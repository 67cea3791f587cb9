/// An immutable set of 64-bit n-gram hashes for the scanner's membership test.
///
/// Open addressing with linear probing in a power-of-two table at most half full; slots hold the
/// hash itself (0 marks an empty slot; the hash 0 is kept in a flag). Hashes are already
/// well mixed (SplitMix64), so the slot is taken from the top bits.
///
/// A million n-grams make a 16-32 MB table, far beyond the L2 cache, and almost every training
/// n-gram is absent: in front of the table sits a blocked Bloom filter of about 8 bits per hash
/// (two bits set in one 64-bit word, word chosen by the low bits), small enough to stay in L2,
/// which answers most absent hashes with one cached load (about 5% false positives go on to the
/// table). Immutable after `init`, so it is `Sendable` and shared freely between threads.
public struct NGramSet: Sendable {
    private let slots: [UInt64]
    private let shift: UInt64
    private let containsZero: Bool
    private let filter: [UInt64]
    private let filterMask: UInt64
    /// The number of distinct hashes in the set.
    public let count: Int

    public init<S: Sequence>(_ hashes: S) where S.Element == UInt64 {
        let items = Array(hashes)
        var bits = 4
        while (1 << bits) < items.count * 2 { bits += 1 }
        var slots = [UInt64](repeating: 0, count: 1 << bits)
        let shift = UInt64(64 - bits)
        let mask = (1 << bits) - 1
        var zero = false
        var distinct = 0
        for hash in items {
            if hash == 0 {
                if !zero { distinct += 1 }
                zero = true
                continue
            }
            var i = Int(truncatingIfNeeded: hash >> shift)
            while true {
                let existing = slots[i]
                if existing == hash { break }
                if existing == 0 {
                    slots[i] = hash
                    distinct += 1
                    break
                }
                i = (i + 1) & mask
            }
        }
        var filterWords = 1
        while filterWords * 8 < distinct { filterWords <<= 1 }
        var filter = [UInt64](repeating: 0, count: filterWords)
        let filterMask = UInt64(filterWords - 1)
        for hash in slots where hash != 0 {
            filter[Int(hash & filterMask)] |= Self.filterBits(hash)
        }
        self.slots = slots
        self.shift = shift
        self.containsZero = zero
        self.count = distinct
        self.filter = filter
        self.filterMask = filterMask
    }

    /// The two filter bits of a hash, from bits independent of the word index and of the slot.
    @inline(__always)
    private static func filterBits(_ hash: UInt64) -> UInt64 {
        (1 as UInt64) << ((hash >> 20) & 63) | (1 as UInt64) << ((hash >> 26) & 63)
    }

    public static let empty = NGramSet([])

    /// False when `hash` is certainly absent (the Bloom filter alone, one load); true when it may
    /// be present. Scanners call it over a batch first so that the loads overlap.
    @inline(__always)
    public func mayContain(_ hash: UInt64) -> Bool {
        let bits = Self.filterBits(hash)
        let word = filter.withUnsafeBufferPointer { $0[Int(hash & filterMask)] }
        return word & bits == bits || hash == 0
    }

    /// Whether `hash` is in the set. Safe to call from any number of threads.
    @inline(__always)
    public func contains(_ hash: UInt64) -> Bool {
        if hash == 0 { return containsZero }
        if !mayContain(hash) { return false }
        return slots.withUnsafeBufferPointer { table in
            let mask = table.count - 1
            var i = Int(truncatingIfNeeded: hash >> shift)
            while true {
                let existing = table[i]
                if existing == hash { return true }
                if existing == 0 { return false }
                i = (i + 1) & mask
            }
        }
    }

    public var isEmpty: Bool { count == 0 }

    /// Memory held by the table, in bytes.
    public var memoryBytes: Int { (slots.count + filter.count) * 8 }
}
