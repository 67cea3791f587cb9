import LongMixCore
import ShardIO

/// Typed access to the fields of one parsed input record, throwing `InputError`s that name the
/// file, line and field (with `reason` keys `missing-field` and `wrong-type`).
struct RecordFields {
    let value: JSONValue
    let location: RecordLocation
    /// The dotted path of `value` inside the record, for error messages ("ctxs[3]").
    let path: String

    init(_ value: JSONValue, location: RecordLocation, path: String = "") {
        self.value = value
        self.location = location
        self.path = path
    }

    func fieldPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func optional(_ key: String) -> JSONValue? {
        guard let v = value[key], v != .null else { return nil }
        return v
    }

    func required(_ key: String) throws -> JSONValue {
        guard let v = optional(key) else {
            throw InputError(location: location, field: fieldPath(key), reason: .missingField,
                             message: "the record has no '\(fieldPath(key))'")
        }
        return v
    }

    func string(_ key: String) throws -> String {
        let v = try required(key)
        guard let s = v.stringValue else { throw wrongType(key, expected: "a string", found: v) }
        return s
    }

    func optionalBool(_ key: String) throws -> Bool? {
        guard let v = optional(key) else { return nil }
        guard let b = v.boolValue else { throw wrongType(key, expected: "true or false", found: v) }
        return b
    }

    /// A string, or the string's own text for a number (ids are sometimes numbers).
    func identifier(_ key: String) throws -> String? {
        guard let v = optional(key) else { return nil }
        switch v {
        case .string(let s): return s
        case .number(let n): return n
        default: throw wrongType(key, expected: "a string or a number", found: v)
        }
    }

    func stringList(_ key: String) throws -> [String] {
        let v = try required(key)
        guard let items = v.arrayValue else { throw wrongType(key, expected: "a list of strings", found: v) }
        return try items.enumerated().map { i, item in
            guard let s = item.stringValue else { throw wrongType("\(key)[\(i)]", expected: "a string", found: item) }
            return s
        }
    }

    func objectList(_ key: String) throws -> [RecordFields] {
        let v = try required(key)
        guard let items = v.arrayValue else { throw wrongType(key, expected: "a list of objects", found: v) }
        return try items.enumerated().map { i, item in
            guard case .object = item else { throw wrongType("\(key)[\(i)]", expected: "an object", found: item) }
            return RecordFields(item, location: location, path: fieldPath("\(key)[\(i)]"))
        }
    }

    func object(_ key: String) throws -> RecordFields? {
        guard let v = optional(key) else { return nil }
        guard case .object = v else { throw wrongType(key, expected: "an object", found: v) }
        return RecordFields(v, location: location, path: fieldPath(key))
    }

    func invalid(_ key: String, reason: DropReason, _ message: String) -> InputError {
        InputError(location: location, field: fieldPath(key), reason: reason, message: message)
    }

    private func wrongType(_ key: String, expected: String, found: JSONValue) -> InputError {
        InputError(location: location, field: fieldPath(key), reason: .wrongType,
                   message: "expected \(expected), found \(found.kind)")
    }
}
