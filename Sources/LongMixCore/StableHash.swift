/// Deterministic 64-bit hashing for sampling decisions and n-gram keys.
///
/// Swift's `Hasher` is randomly seeded per process, so nothing that must be reproducible may use it.
/// These functions give the same value on every machine, run, thread count and job-array split.
/// The mixer (`wyhash`-style multiply-fold) is not cryptographic; it is fast and well distributed.
public enum StableHash {
    @inline(__always)
    static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// Finalizer of SplitMix64: a bijection on UInt64 with full avalanche.
    @inline(__always)
    public static func splitMix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Hash of a byte sequence under `seed`.
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        var h = splitMix(seed ^ UInt64(bytes.count))
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self).littleEndian
            h = mix(h ^ word, 0xA076_1D64_78BD_642F)
            i += 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < n {
            tail |= UInt64(bytes[i]) << shift
            shift += 8
            i += 1
        }
        h = mix(h ^ tail, 0xE703_7ED1_A0B4_28DB)
        return splitMix(h)
    }

    public static func hash(_ bytes: [UInt8], seed: UInt64 = 0) -> UInt64 {
        bytes.withUnsafeBytes { hash($0, seed: seed) }
    }

    public static func hash(_ string: String, seed: UInt64 = 0) -> UInt64 {
        var s = string
        return s.withUTF8 { hash(UnsafeRawBufferPointer($0), seed: seed) }
    }

    /// Hash of a sequence of keys, each length-delimited so that ("ab","c") != ("a","bc").
    public static func hash(keys: [String], seed: UInt64) -> UInt64 {
        var h = splitMix(seed)
        for key in keys {
            h = hash(key, seed: h)
        }
        return h
    }

    /// A uniform number in [0, 1) drawn from `(seed, keys...)`: the same keys always give the same number.
    public static func unitInterval(seed: UInt64, keys: [String]) -> Double {
        Double(hash(keys: keys, seed: seed) >> 11) * 0x1.0p-53
    }
}
