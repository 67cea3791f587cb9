/// An immutable set of 64-bit n-gram hashes for the scanner's membership test.
///
/// Open addressing with linear probing in a power-of-two table at most half full; slots hold the
/// hash itself (0 marks an empty slot; the hash 0 is kept in a flag). Hashes are already
/// well mixed (SplitMix64), so the slot is taken from the top bits. Immutable after `init`, so
/// it is `Sendable` and shared freely between scanning threads.
public struct NGramSet: Sendable {
    private let slots: [UInt64]
    private let shift: UInt64
    private let containsZero: Bool
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
        self.slots = slots
        self.shift = shift
        self.containsZero = zero
        self.count = distinct
    }

    public static let empty = NGramSet([])

    /// Whether `hash` is in the set. Safe to call from any number of threads.
    @inline(__always)
    public func contains(_ hash: UInt64) -> Bool {
        if hash == 0 { return containsZero }
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
    public var memoryBytes: Int { slots.count * 8 }
}
