import LongMixCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A syntax or encoding error inside one JSON text, at a byte offset of that text.
public struct JSONSyntaxError: Error, Sendable {
    /// `malformed-json`, `invalid-utf8` or `lone-surrogate`.
    public var reason: DropReason
    public var message: String
    /// 0-based byte offset into the line.
    public var offset: Int
}

/// A validating JSON reader over bytes (RFC 8259, as strict as Python's `json.loads` on UTF-8
/// bytes, minus its non-standard `NaN`/`Infinity`): it checks the grammar, the UTF-8 of every string
/// byte and every escape, while skipping what the caller does not need and decoding what it does.
///
/// Strings decode to UTF-8 bytes; a `\u` escape of a lone surrogate is an error (`lone-surrogate`),
/// since the result could not be written as UTF-8. Nesting deeper than `maxDepth` is an error.
/// Hot loops examine 8 bytes at a time and copy unescaped runs in bulk; strings that are only
/// measured go 64 bytes at a time (`measureStringBlock`).
struct JSONScanner {
    let base: UnsafePointer<UInt8>
    let count: Int
    var pos = 0
    static let maxDepth = 512

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        // An empty buffer may have a nil base address; point at a valid dummy byte then.
        base = bytes.baseAddress ?? JSONScanner.emptyBase
        count = bytes.count
    }

    private nonisolated(unsafe) static let emptyBase: UnsafePointer<UInt8> = {
        let p = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        p.initialize(to: 0)
        return UnsafePointer(p)
    }()

    // MARK: Errors

    func fail(_ message: String, reason: DropReason = .malformedJSON, at offset: Int? = nil) -> JSONSyntaxError {
        JSONSyntaxError(reason: reason, message: message, offset: offset ?? pos)
    }

    func describeByte(at i: Int) -> String {
        guard i < count else { return "end of line" }
        let b = base[i]
        return b >= 0x21 && b < 0x7F ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16))"
    }

    // MARK: Structure

    @inline(__always)
    mutating func skipWhitespace() {
        while pos < count {
            let b = base[pos]
            guard b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 else { return }
            pos += 1
        }
    }

    @inline(__always)
    func peek() -> UInt8? { pos < count ? base[pos] : nil }

    mutating func expect(_ byte: UInt8, _ what: String) throws(JSONSyntaxError) {
        guard pos < count, base[pos] == byte else {
            throw fail("expected \(what), found \(describeByte(at: pos))")
        }
        pos += 1
    }

    /// After the top-level value: only whitespace may remain.
    mutating func expectEnd() throws(JSONSyntaxError) {
        skipWhitespace()
        if pos < count { throw fail("unexpected \(describeByte(at: pos)) after the JSON value") }
    }

    /// Skips one value of any kind, validating it. `pos` must be at its first byte.
    mutating func skipValue(depth: Int) throws(JSONSyntaxError) {
        guard depth <= JSONScanner.maxDepth else { throw fail("nesting deeper than \(JSONScanner.maxDepth)") }
        guard let b = peek() else { throw fail("expected a value, found end of line") }
        switch b {
        case UInt8(ascii: "\""):
            try scanString(into: nil)
        case UInt8(ascii: "{"):
            pos += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "}") { pos += 1; return }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key, found \(describeByte(at: pos))") }
                try scanString(into: nil)
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':'")
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { pos += 1; continue }
                try expect(UInt8(ascii: "}"), "',' or '}'")
                return
            }
        case UInt8(ascii: "["):
            pos += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { pos += 1; return }
            while true {
                skipWhitespace()
                try skipValue(depth: depth + 1)
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { pos += 1; continue }
                try expect(UInt8(ascii: "]"), "',' or ']'")
                return
            }
        case UInt8(ascii: "t"): try skipLiteral("true")
        case UInt8(ascii: "f"): try skipLiteral("false")
        case UInt8(ascii: "n"): try skipLiteral("null")
        default:
            _ = try scanNumber()
        }
    }

    mutating func skipLiteral(_ word: StaticString) throws(JSONSyntaxError) {
        let n = word.utf8CodeUnitCount
        guard pos + n <= count, memcmp(base + pos, word.utf8Start, n) == 0 else {
            throw fail("invalid literal starting with \(describeByte(at: pos))")
        }
        pos += n
    }

    /// Scans a number (JSON grammar) and returns its byte range.
    mutating func scanNumber() throws(JSONSyntaxError) -> Range<Int> {
        let start = pos
        @inline(__always) func isDigit(_ i: Int) -> Bool { i < count && base[i] >= 0x30 && base[i] <= 0x39 }
        if pos < count && base[pos] == UInt8(ascii: "-") { pos += 1 }
        guard isDigit(pos) else { throw fail("expected a value, found \(describeByte(at: pos))") }
        if base[pos] == UInt8(ascii: "0") {
            pos += 1
        } else {
            while isDigit(pos) { pos += 1 }
        }
        if pos < count && base[pos] == UInt8(ascii: ".") {
            pos += 1
            guard isDigit(pos) else { throw fail("expected a digit after '.'") }
            while isDigit(pos) { pos += 1 }
        }
        if pos < count && (base[pos] | 0x20) == UInt8(ascii: "e") {
            pos += 1
            if pos < count && (base[pos] == UInt8(ascii: "+") || base[pos] == UInt8(ascii: "-")) { pos += 1 }
            guard isDigit(pos) else { throw fail("expected a digit in the exponent") }
            while isDigit(pos) { pos += 1 }
        }
        return start..<pos
    }

    // MARK: Strings

    /// Scans the string at `pos` (which must be its opening quote), validating escapes and UTF-8.
    /// When `output` is given, appends the decoded UTF-8 bytes to it.
    ///
    /// The decoded string is never longer than its source, so it is decoded straight into
    /// uninitialised capacity with no per-byte bounds or uniqueness checks. With `oneShot` (for a
    /// large value read once, such as a document's text) that capacity is the rest of the line and
    /// the string is scanned once; otherwise (keys, small values, many strings per line) it is
    /// scanned twice, first to learn its exact source length.
    mutating func scanString(into output: UnsafeMutablePointer<[UInt8]>?, oneShot: Bool = false) throws(JSONSyntaxError) {
        guard let output else {
            try scanString(writingTo: nil)
            return
        }
        var bound = count - pos
        if !oneShot {
            let start = pos
            try scanString(writingTo: nil)
            // + 8: the word-at-a-time loop stores whole 8-byte words, up to 7 bytes past the
            // decoded end (the closing quote and what follows it on the line).
            bound = pos - start + 8
            pos = start
        }
        var failure: JSONSyntaxError?
        let decoded = [UInt8](unsafeUninitializedCapacity: bound) { buffer, initialized in
            do throws(JSONSyntaxError) {
                initialized = try scanString(writingTo: buffer.baseAddress)
            } catch {
                failure = error
                initialized = 0
            }
        }
        if let failure { throw failure }
        if output.pointee.isEmpty {
            output.pointee = decoded
        } else {
            output.pointee.append(contentsOf: decoded)
        }
    }

    /// Scans (and, with a destination, decodes) the string at `pos`; returns the bytes written.
    /// `destination` must have room for `count - pos` bytes.
    ///
    /// The loop moves 8 bytes at a time: it stores each word to the destination whole (the room
    /// rule above makes the overshoot safe) and advances past its clean prefix, so escapes and
    /// non-ASCII cost a few instructions each instead of a copy call.
    @discardableResult
    mutating func scanString(writingTo destination: UnsafeMutablePointer<UInt8>?) throws(JSONSyntaxError) -> Int {
        // Locals, not stored properties, in the loop: they stay in registers.
        let base = self.base, count = self.count
        let opening = pos
        var i = pos &+ 1  // after the opening quote
        var written = 0
        defer { pos = i }
        // Measuring only: whole blocks first (see `measureStringBlock`); the scalar loop below
        // takes over where a block stops, for one special byte, then blocks resume. After a block
        // that stops within its first half, they resume only 64 bytes on, so text the block path
        // defers to the scalar path (raw UTF-8, say) pays for a block at most once per 64 bytes.
        var blocksFrom = destination == nil ? i : Int.max
        while true {
            while i >= blocksFrom && i &+ 64 <= count {
                let step = JSONScanner.measureStringBlock(base + i)
                i &+= step.consumed
                written &+= step.decoded
                if step.ended {
                    i &+= 1
                    return written
                }
                if step.consumed < 64 {
                    if step.consumed < 32 { blocksFrom = i &+ 64 }
                    break
                }
            }
            while i &+ 8 <= count {
                let w = UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self)
                destination.map { UnsafeMutableRawPointer($0 + written).storeBytes(of: w, as: UInt64.self) }
                let special = JSONScanner.specialBytes(w)
                if special == 0 {
                    i &+= 8
                    written &+= 8
                    continue
                }
                let clean = special.trailingZeroBitCount >> 3
                i &+= clean
                written &+= clean
                break
            }
            guard i < count else { throw fail("unterminated string", at: opening) }
            let b = base[i]
            if b == UInt8(ascii: "\"") {
                i &+= 1
                return written
            } else if b == UInt8(ascii: "\\") {
                // Common escapes inline; \u and errors in the general routine.
                let e: UInt8 = i &+ 1 < count ? base[i &+ 1] : 0
                let simple: UInt8
                switch e {
                case UInt8(ascii: "n"): simple = 0x0A
                case UInt8(ascii: "\""): simple = 0x22
                case UInt8(ascii: "\\"): simple = 0x5C
                case UInt8(ascii: "t"): simple = 0x09
                default: simple = 0
                }
                if simple != 0 {
                    destination?[written] = simple
                    written &+= 1
                    i &+= 2
                } else {
                    pos = i
                    written &+= try scanEscape(writingTo: destination.map { $0 + written })
                    i = pos
                }
            } else if b < 0x20 {
                pos = i
                throw fail("control character 0x\(String(b, radix: 16)) inside a string (must be escaped)")
            } else if b < 0x80 {
                destination?[written] = b
                written &+= 1
                i &+= 1
            } else {
                pos = i
                try validateUTF8Sequence()
                let length = pos &- i
                destination.map { ($0 + written).update(from: base + i, count: length) }
                written &+= length
                i = pos
            }
        }
    }

    /// A word whose high bit is set in each byte of `w` that is '"', '\\', below 0x20, or 0x80
    /// and above; exact for the lowest such byte (bytes above it may be flagged spuriously).
    @inline(__always)
    static func specialBytes(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = w ^ (ones &* 0x22)
        let backslash = w ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        // Exact for bytes below 0x80; `| w` flags the others anyway.
        let hasControl = w &- (ones &* 0x20)
        return (hasQuote | hasBackslash | hasControl | w) & highs
    }

    /// Validates one multi-byte UTF-8 sequence at `pos` (lead byte >= 0x80) and steps over it.
    @inline(__always)
    mutating func validateUTF8Sequence() throws(JSONSyntaxError) {
        let b0 = base[pos]
        @inline(__always) func cont(_ i: Int, _ lo: UInt8 = 0x80, _ hi: UInt8 = 0xBF) -> Bool {
            pos + i < count && base[pos + i] >= lo && base[pos + i] <= hi
        }
        let length: Int
        switch b0 {
        case 0xC2...0xDF: length = cont(1) ? 2 : 0
        case 0xE0: length = cont(1, 0xA0) && cont(2) ? 3 : 0
        case 0xE1...0xEC, 0xEE...0xEF: length = cont(1) && cont(2) ? 3 : 0
        case 0xED: length = cont(1, 0x80, 0x9F) && cont(2) ? 3 : 0
        case 0xF0: length = cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0
        case 0xF1...0xF3: length = cont(1) && cont(2) && cont(3) ? 4 : 0
        case 0xF4: length = cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : 0
        default: length = 0
        }
        guard length > 0 else {
            throw fail("invalid UTF-8 byte 0x\(String(b0, radix: 16, uppercase: true))", reason: .invalidUTF8)
        }
        pos += length
    }

    /// Decodes the escape at `pos` (a backslash), writing its UTF-8 (1 to 4 bytes) to
    /// `destination` when given; returns the number of bytes it stands for.
    mutating func scanEscape(writingTo destination: UnsafeMutablePointer<UInt8>?) throws(JSONSyntaxError) -> Int {
        let escapeStart = pos
        pos += 1
        guard pos < count else { throw fail("unterminated string") }
        let e = base[pos]
        pos += 1
        let simple: UInt8
        switch e {
        case UInt8(ascii: "\""): simple = 0x22
        case UInt8(ascii: "\\"): simple = 0x5C
        case UInt8(ascii: "/"): simple = 0x2F
        case UInt8(ascii: "b"): simple = 0x08
        case UInt8(ascii: "f"): simple = 0x0C
        case UInt8(ascii: "n"): simple = 0x0A
        case UInt8(ascii: "r"): simple = 0x0D
        case UInt8(ascii: "t"): simple = 0x09
        case UInt8(ascii: "u"):
            var scalar = try readHex4()
            if scalar >= 0xD800 && scalar <= 0xDBFF {
                guard pos + 6 <= count, base[pos] == UInt8(ascii: "\\"), base[pos + 1] == UInt8(ascii: "u") else {
                    throw fail("lone high surrogate \\u\(String(scalar, radix: 16)) (cannot be UTF-8)",
                               reason: .loneSurrogate, at: escapeStart)
                }
                pos += 2
                let low = try readHex4()
                guard low >= 0xDC00 && low <= 0xDFFF else {
                    throw fail("high surrogate not followed by a low surrogate", reason: .loneSurrogate, at: escapeStart)
                }
                scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
            } else if scalar >= 0xDC00 && scalar <= 0xDFFF {
                throw fail("lone low surrogate \\u\(String(scalar, radix: 16)) (cannot be UTF-8)",
                           reason: .loneSurrogate, at: escapeStart)
            }
            // A \uXXXX escape is 6 bytes and its UTF-8 at most 3 (4 for a 12-byte pair): it fits.
            return JSONScanner.writeUTF8(scalar, to: destination)
        default:
            throw fail("invalid escape \\\(describeByte(at: pos - 1))", at: escapeStart)
        }
        destination?.pointee = simple
        return 1
    }

    mutating func readHex4() throws(JSONSyntaxError) -> UInt32 {
        guard pos + 4 <= count else { throw fail("truncated \\u escape") }
        var value: UInt32 = 0
        for i in 0..<4 {
            let c = base[pos + i]
            let digit: UInt32
            switch c {
            case 0x30...0x39: digit = UInt32(c - 0x30)
            case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
            default: throw fail("invalid hex digit in \\u escape")
            }
            value = value << 4 | digit
        }
        pos += 4
        return value
    }

    /// Writes the UTF-8 of `scalar` to `destination` (when given); returns its length.
    static func writeUTF8(_ scalar: UInt32, to destination: UnsafeMutablePointer<UInt8>?) -> Int {
        switch scalar {
        case 0..<0x80:
            destination?[0] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            destination?[0] = UInt8(0xC0 | scalar >> 6)
            destination?[1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            destination?[0] = UInt8(0xE0 | scalar >> 12)
            destination?[1] = UInt8(0x80 | (scalar >> 6) & 0x3F)
            destination?[2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        default:
            destination?[0] = UInt8(0xF0 | scalar >> 18)
            destination?[1] = UInt8(0x80 | (scalar >> 12) & 0x3F)
            destination?[2] = UInt8(0x80 | (scalar >> 6) & 0x3F)
            destination?[3] = UInt8(0x80 | scalar & 0x3F)
            return 4
        }
    }
}
