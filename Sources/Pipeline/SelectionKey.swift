import LongMixCore

/// The selection key of a document (or cut piece): `hash(seed, source, id)`. Selection takes a
/// source's documents in increasing key order, so a document's fate depends on its own id only,
/// never on which task read it or what else was read (bottom-k sampling).
enum SelectionKey {
    static func key(seed: UInt64, source: String, id: String) -> UInt64 {
        StableHash.hash(keys: [source, id], seed: seed)
    }

    /// The key order of up-sampling pass `epoch` (1, 2, ...): a fresh order per pass.
    static func epochKey(seed: UInt64, source: String, id: String, epoch: Int) -> UInt64 {
        StableHash.hash(keys: [source, id, "epoch-\(epoch)"], seed: seed)
    }
}

/// Keys `lower ..< upper` (no upper bound: every key from `lower` on). Threshold raises add the
/// next range above the last one, so ranges never overlap and their union is `0 ..< upper`.
public struct KeyRange: Sendable, Codable, Equatable {
    public var lower: UInt64
    public var upper: UInt64?

    public static let all = KeyRange(lower: 0, upper: nil)

    public func contains(_ key: UInt64) -> Bool { key >= lower && (upper.map { key < $0 } ?? true) }

    /// The key bound for a fraction of the key space; fractions of 1 or more are unbounded.
    public static func bound(fraction: Double) -> UInt64? {
        fraction >= 1 ? nil : UInt64(max(0, fraction) * 0x1.0p64)
    }

    /// The fraction of the key space below `bound` (1 when unbounded).
    public static func fraction(_ bound: UInt64?) -> Double { bound.map { Double($0) * 0x1.0p-64 } ?? 1 }
}
