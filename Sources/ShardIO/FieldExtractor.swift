/// A dotted path to a value inside a JSON record: `text`, `meta.title`, `meta.task_name`.
public struct FieldPath: Hashable, Sendable, CustomStringConvertible {
    public let components: [[UInt8]]
    public let description: String

    public init(_ dotted: String) {
        description = dotted
        components = dotted.split(separator: ".", omittingEmptySubsequences: false).map { Array($0.utf8) }
    }
}

/// What a record holds at a field path.
public enum FieldValue: Sendable, Equatable {
    /// A string, decoded to UTF-8 bytes.
    case string([UInt8])
    /// A number, as its JSON source text.
    case number([UInt8])
    /// Anything else: `null`, `boolean`, `array` or `object`.
    case other(kind: String)
    /// A string that was validated (grammar, escapes, UTF-8) but not decoded, with the length of
    /// its UTF-8 decoding: what a path in `extract`'s `measuring` set yields for a string.
    case measuredString(length: Int)
}

/// Pulls a few fields out of a JSON object record in one validating pass, decoding only the
/// wanted strings and skipping the rest without building any tree.
///
/// Contract: the whole record is checked (grammar, escapes, UTF-8) even where nothing is
/// extracted, so a malformed record is never half-used. With duplicate keys the last one wins, as
/// in Python's `json`. A path that is a prefix of another path yields `.other(kind: "object")` for
/// the shorter one.
public struct FieldExtractor: Sendable {
    public let paths: [FieldPath]

    public init(paths: [FieldPath]) {
        precondition(paths.count <= 64, "at most 64 field paths")
        self.paths = paths
    }

    /// Extracts `paths` from `line`; `values[i]` is nil when path i is absent. Paths whose bit is
    /// set in `measuring` (bit i for path i) yield `.measuredString(length:)` for a string instead
    /// of its bytes: the same checks, the same errors, no copy (for a pass that needs a text's
    /// size but not the text).
    public func extract(_ line: UnsafeBufferPointer<UInt8>, into values: inout [FieldValue?],
                        measuring: UInt64 = 0) throws(JSONSyntaxError) {
        values.removeAll(keepingCapacity: true)
        values.append(contentsOf: repeatElement(nil, count: paths.count))
        var scanner = JSONScanner(line)
        scanner.skipWhitespace()
        guard scanner.peek() == UInt8(ascii: "{") else {
            throw scanner.fail("the record is not a JSON object (found \(scanner.describeByte(at: scanner.pos)))")
        }
        let all: UInt64 = paths.count == 64 ? ~0 : (1 << UInt64(paths.count)) - 1
        try walkObject(&scanner, depth: 0, level: 0, alive: all, measuring: measuring, values: &values)
        try scanner.expectEnd()
    }

    private func walkObject(_ s: inout JSONScanner, depth: Int, level: Int, alive: UInt64, measuring: UInt64,
                            values: inout [FieldValue?]) throws(JSONSyntaxError) {
        guard depth <= JSONScanner.maxDepth else { throw s.fail("nesting deeper than \(JSONScanner.maxDepth)") }
        s.pos += 1  // '{'
        s.skipWhitespace()
        if s.peek() == UInt8(ascii: "}") { s.pos += 1; return }
        var keyBuffer: [UInt8] = []
        while true {
            s.skipWhitespace()
            guard s.peek() == UInt8(ascii: "\"") else {
                throw s.fail("expected a string key, found \(s.describeByte(at: s.pos))")
            }
            keyBuffer.removeAll(keepingCapacity: true)
            try withUnsafeMutablePointer(to: &keyBuffer) { (p) throws(JSONSyntaxError) in try s.scanString(into: p) }
            s.skipWhitespace()
            try s.expect(UInt8(ascii: ":"), "':'")
            s.skipWhitespace()

            var leaf = -1
            var children: UInt64 = 0
            var bits = alive
            while bits != 0 {
                let i = bits.trailingZeroBitCount
                bits &= bits - 1
                let components = paths[i].components
                if components.count > level && components[level] == keyBuffer {
                    if components.count == level + 1 { leaf = i } else { children |= 1 << UInt64(i) }
                }
            }
            if leaf >= 0 && measuring & (1 << UInt64(leaf)) != 0 && s.peek() == UInt8(ascii: "\"") {
                values[leaf] = .measuredString(length: try s.scanString(writingTo: nil))
            } else if leaf >= 0 {
                values[leaf] = try capture(&s, depth: depth + 1)
                // The same value may also be the parent of longer paths: re-walking is not
                // possible after capture, so those stay absent (documented above).
            } else if children != 0 && s.peek() == UInt8(ascii: "{") {
                try walkObject(&s, depth: depth + 1, level: level + 1, alive: children, measuring: measuring, values: &values)
            } else {
                try s.skipValue(depth: depth + 1)
            }
            s.skipWhitespace()
            if s.peek() == UInt8(ascii: ",") { s.pos += 1; continue }
            try s.expect(UInt8(ascii: "}"), "',' or '}'")
            return
        }
    }

    private func capture(_ s: inout JSONScanner, depth: Int) throws(JSONSyntaxError) -> FieldValue {
        switch s.peek() {
        case UInt8(ascii: "\"")?:
            var out: [UInt8] = []
            try withUnsafeMutablePointer(to: &out) { (p) throws(JSONSyntaxError) in try s.scanString(into: p, oneShot: true) }
            return .string(out)
        case let b? where b == UInt8(ascii: "-") || (b >= 0x30 && b <= 0x39):
            let range = try s.scanNumber()
            return .number(Array(UnsafeBufferPointer(start: s.base + range.lowerBound, count: range.count)))
        case let b?:
            let kind: String
            switch b {
            case UInt8(ascii: "{"): kind = "object"
            case UInt8(ascii: "["): kind = "array"
            case UInt8(ascii: "n"): kind = "null"
            default: kind = "boolean"
            }
            try s.skipValue(depth: depth)
            return .other(kind: kind)
        case nil:
            throw s.fail("expected a value, found end of line")
        }
    }
}
