/// Builds JSON text into a byte buffer, for writers on the hot path (no Foundation, no tree).
///
/// Strings are written as UTF-8 with only the escapes JSON requires (`"`, `\`, control bytes),
/// so non-ASCII text stays readable; the caller's bytes must be valid UTF-8.
public struct JSONOutput {
    public var bytes: [UInt8] = []

    public init() {}

    public mutating func clear() { bytes.removeAll(keepingCapacity: true) }

    public mutating func raw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    public mutating func string(_ value: String) {
        var value = value
        value.withUTF8 { string($0) }
    }

    public mutating func string(_ value: [UInt8]) {
        value.withUnsafeBufferPointer { string($0) }
    }

    public mutating func string(_ value: UnsafeBufferPointer<UInt8>) {
        bytes.append(UInt8(ascii: "\""))
        var runStart = 0
        let hex: [UInt8] = Array("0123456789abcdef".utf8)
        for i in 0..<value.count {
            let b = value[i]
            guard b < 0x20 || b == 0x22 || b == 0x5C else { continue }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: value[runStart..<i]))
            runStart = i + 1
            switch b {
            case 0x22: bytes += [0x5C, 0x22]
            case 0x5C: bytes += [0x5C, 0x5C]
            case 0x0A: bytes += [0x5C, UInt8(ascii: "n")]
            case 0x0D: bytes += [0x5C, UInt8(ascii: "r")]
            case 0x09: bytes += [0x5C, UInt8(ascii: "t")]
            case 0x08: bytes += [0x5C, UInt8(ascii: "b")]
            case 0x0C: bytes += [0x5C, UInt8(ascii: "f")]
            default: bytes += [0x5C, UInt8(ascii: "u"), 0x30, 0x30, hex[Int(b >> 4)], hex[Int(b & 15)]]
            }
        }
        bytes.append(contentsOf: UnsafeBufferPointer(rebasing: value[runStart...]))
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func integer<T: BinaryInteger>(_ value: T) {
        bytes.append(contentsOf: String(value).utf8)
    }

    /// Writes an array of integers (token ids) as `[1,2,3]`. Inlinable so that callers in other
    /// modules get a version specialized for their integer type (the generic one is slow).
    @inlinable
    public mutating func integers<T: BinaryInteger>(_ values: some Sequence<T>) {
        bytes.append(UInt8(ascii: "["))
        var first = true
        for v in values {
            if !first { bytes.append(UInt8(ascii: ",")) }
            first = false
            appendDecimal(Int64(v))
        }
        bytes.append(UInt8(ascii: "]"))
    }

    /// Writes `"key":` (the key must need no escaping beyond what `string` does).
    public mutating func key(_ name: String) {
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    @usableFromInline
    mutating func appendDecimal(_ value: Int64) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        if magnitude == 0 { bytes.append(0x30); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            while magnitude > 0 {
                d[n] = UInt8(0x30 + magnitude % 10)
                magnitude /= 10
                n += 1
            }
            for i in stride(from: n - 1, through: 0, by: -1) { bytes.append(d[i]) }
        }
    }
}
