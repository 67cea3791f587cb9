import CStringMasks

/// Measuring a JSON string 64 bytes at a time, with no branch per escape.
///
/// Real text has an escape every few dozen bytes (`\n` above all; `\uXXXX` runs in ASCII-escaped
/// JSON), and the word-at-a-time loop of `scanString` leaves it at each one: a mispredicted branch
/// per escape, most of the cost of reading such text. Here a whole block's quotes, backslashes and
/// stop bytes (control and non-ASCII) become bit masks first (`longmix_string_masks`: SSE2
/// compares); the escapes are then visited in a loop over set bits, so a block costs about one
/// misprediction however many escapes it holds.
/// The block path only measures (it does not decode) and only accepts what is plainly valid:
/// printable ASCII, the simple escapes and `\uXXXX` escapes outside the surrogate range. It stops
/// before anything else (non-ASCII bytes, control bytes, surrogates, invalid escapes, an escape
/// cut by the block's end), and the exact scalar path takes over there, so results and errors are
/// the scalar path's own.
extension JSONScanner {
    /// What `measureStringBlock` found: `consumed` bytes of string content, which decode to
    /// `decoded` bytes; `ended` when the byte after them is the closing quote.
    struct StringBlockStep {
        var consumed: Int
        var decoded: Int
        var ended: Bool
    }

    /// Measures the string content starting at `p`, which must not be inside an escape and must
    /// have 64 readable bytes. Every byte it consumes is one the scalar path would accept, with the
    /// same decoded length.
    @inline(__always)
    static func measureStringBlock(_ p: UnsafePointer<UInt8>) -> StringBlockStep {
        let masks = longmix_string_masks(p)
        let quotes = masks.quotes, stops = masks.stops
        var limit = stops == 0 ? 64 : stops.trailingZeroBitCount
        var removed = 0  // escape bytes beyond their decoded bytes
        var escaped: UInt64 = 0  // bytes inside escapes (after their backslash)
        var pending = masks.backslashes
        while pending != 0 {
            let at = pending.trailingZeroBitCount
            // A real quote (not inside an escape) before this backslash ends the string first.
            if at >= limit || quotes & ~escaped & ((1 &<< UInt64(at)) &- 1) != 0 { break }
            guard at < 63 else { limit = at; break }
            let e = p[at &+ 1]
            if simpleEscapeTarget(e) {
                removed &+= 1
                escaped |= 1 &<< UInt64(at &+ 1)
                pending &= ~(1 &<< UInt64(at &+ 1))  // an escaped backslash escapes nothing
            } else if e == UInt8(ascii: "u") && at &+ 5 < 64 {
                let digits = hexValue(p[at &+ 2]) << 12 | hexValue(p[at &+ 3]) << 8
                    | hexValue(p[at &+ 4]) << 4 | hexValue(p[at &+ 5])
                // Invalid digits set bits above 0xFFFF; surrogates go to the scalar path.
                guard digits < 0xD800 || (digits > 0xDFFF && digits <= 0xFFFF) else { limit = at; break }
                removed &+= digits < 0x80 ? 5 : digits < 0x800 ? 4 : 3
                escaped |= 0x3E &<< UInt64(at)
            } else {
                limit = at
                break
            }
            pending &= pending &- 1
        }
        let real = quotes & ~escaped
        if real != 0 && real.trailingZeroBitCount < limit {
            let end = real.trailingZeroBitCount
            return StringBlockStep(consumed: end, decoded: end &- removed, ended: true)
        }
        return StringBlockStep(consumed: limit, decoded: limit &- removed, ended: false)
    }

    /// Whether `\` + `e` is one of JSON's one-letter escapes: `"` `\` `/` `b` `f` `n` `r` `t`.
    @inline(__always)
    private static func simpleEscapeTarget(_ e: UInt8) -> Bool {
        let below64: UInt64 = 1 << 0x22 | 1 << 0x2F
        let from64: UInt64 = 1 << (0x5C - 64) | 1 << (0x62 - 64) | 1 << (0x66 - 64) | 1 << (0x6E - 64)
            | 1 << (0x72 - 64) | 1 << (0x74 - 64)
        let set = e < 64 ? below64 : from64
        return e < 128 && (set >> UInt64(e & 63)) & 1 != 0
    }

    /// A hex digit's value, or 0x10000 for any other byte (so four of them combine above 0xFFFF).
    @inline(__always)
    private static func hexValue(_ c: UInt8) -> UInt32 {
        let digit = UInt32(c) &- 0x30
        let letter = (UInt32(c) | 0x20) &- 0x61
        return digit < 10 ? digit : letter < 6 ? letter &+ 10 : 0x10000
    }
}
