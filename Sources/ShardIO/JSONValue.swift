/// A parsed JSON value, for records off the hot path (configuration, exports, task records).
///
/// Objects keep their members in file order; lookups by key return the last member with that
/// key, as Python's `json` does. Numbers keep their exact source text.
public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([JSONMember])

    /// Parses one complete JSON text (a line of a JSONL file, for example).
    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        let value = try scanner.parseValue(depth: 0)
        try scanner.expectEnd()
        return value
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (p) throws(JSONSyntaxError) -> JSONValue in try parse(p) }
    }

    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try parse(Array(text.utf8))
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.last(where: { $0.key == key })?.value
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var arrayValue: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let b) = self { return b }
        return nil
    }

    public var doubleValue: Double? {
        if case .number(let n) = self { return Double(n) }
        return nil
    }

    public var intValue: Int? {
        if case .number(let n) = self { return Int(n) }
        return nil
    }

    /// The JSON type name, for error messages ("expected a string, found a number").
    public var kind: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

public struct JSONMember: Sendable, Equatable {
    public var key: String
    public var value: JSONValue

    public init(key: String, value: JSONValue) {
        self.key = key
        self.value = value
    }
}

extension JSONScanner {
    mutating func parseValue(depth: Int) throws(JSONSyntaxError) -> JSONValue {
        guard depth <= JSONScanner.maxDepth else { throw fail("nesting deeper than \(JSONScanner.maxDepth)") }
        guard let b = peek() else { throw fail("expected a value, found end of line") }
        switch b {
        case UInt8(ascii: "\""):
            return .string(try decodeStringValue())
        case UInt8(ascii: "{"):
            pos += 1
            var members: [JSONMember] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "}") { pos += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard peek() == UInt8(ascii: "\"") else { throw fail("expected a string key, found \(describeByte(at: pos))") }
                let key = try decodeStringValue()
                skipWhitespace()
                try expect(UInt8(ascii: ":"), "':'")
                skipWhitespace()
                members.append(JSONMember(key: key, value: try parseValue(depth: depth + 1)))
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { pos += 1; continue }
                try expect(UInt8(ascii: "}"), "',' or '}'")
                return .object(members)
            }
        case UInt8(ascii: "["):
            pos += 1
            var items: [JSONValue] = []
            skipWhitespace()
            if peek() == UInt8(ascii: "]") { pos += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                if peek() == UInt8(ascii: ",") { pos += 1; continue }
                try expect(UInt8(ascii: "]"), "',' or ']'")
                return .array(items)
            }
        case UInt8(ascii: "t"): try skipLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try skipLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try skipLiteral("null"); return .null
        default:
            let range = try scanNumber()
            return .number(String(decoding: UnsafeBufferPointer(start: base + range.lowerBound, count: range.count), as: UTF8.self))
        }
    }

    mutating func decodeStringValue() throws(JSONSyntaxError) -> String {
        var bytes: [UInt8] = []
        try withUnsafeMutablePointer(to: &bytes) { (p) throws(JSONSyntaxError) in try scanString(into: p) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
