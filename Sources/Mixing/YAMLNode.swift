import LongMixCore
import Yams

/// A YAML node with its file and line, for reading configuration with errors that name the key
/// and line. Wraps Yams' composed `Node`.
struct YAMLNode {
    let node: Node
    let file: String
    let path: String

    var line: Int? { node.mark.map { $0.line } }

    func error(_ message: String, key: String? = nil) -> ConfigurationError {
        ConfigurationError(file: file, key: key ?? path, line: line, message)
    }

    /// The mapping's entries, refusing keys outside `allowed` (a typo must not be ignored).
    func mapping(allowed: Set<String>) throws -> [String: YAMLNode] {
        guard let mapping = node.mapping else { throw error("expected a mapping (key: value lines)") }
        var out: [String: YAMLNode] = [:]
        for (k, v) in mapping {
            guard let key = k.string else { throw error("keys must be strings") }
            let child = YAMLNode(node: v, file: file, path: path.isEmpty ? key : "\(path).\(key)")
            guard allowed.contains(key) else {
                throw ConfigurationError(file: file, key: child.path, line: k.mark.map { $0.line },
                                         "unknown key; expected one of: \(allowed.sorted().joined(separator: ", "))")
            }
            guard out[key] == nil else { throw ConfigurationError(file: file, key: child.path, line: k.mark.map { $0.line }, "duplicate key") }
            out[key] = child
        }
        return out
    }

    func sequence() throws -> [YAMLNode] {
        guard let sequence = node.sequence else { throw error("expected a list") }
        return sequence.enumerated().map { YAMLNode(node: $1, file: file, path: "\(path)[\($0)]") }
    }

    func string() throws -> String {
        guard let scalar = node.scalar else { throw error("expected a string") }
        return scalar.string
    }

    func strings() throws -> [String] {
        if node.scalar != nil { return [try string()] }
        return try sequence().map { try $0.string() }
    }

    func int() throws -> Int {
        guard let value = node.int else { throw error("expected a whole number, found '\(node.scalar?.string ?? "?")'") }
        return value
    }

    /// A whole number inside `range` (every number a mixture gives is range-checked here, so no
    /// later arithmetic on it can trap or overflow).
    func int(in range: ClosedRange<Int>) throws -> Int {
        let value = try int()
        guard range.contains(value) else {
            let upper = range.upperBound == Int.max ? "" : " and at most \(range.upperBound)"
            throw error("\(value) is out of range: must be at least \(range.lowerBound)\(upper)")
        }
        return value
    }

    /// A finite number inside `range`.
    func double(in range: ClosedRange<Double>) throws -> Double {
        let value = try double()
        guard value.isFinite, range.contains(value) else {
            throw error("\(value) is out of range: must be a finite number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func double() throws -> Double {
        guard let value = node.float ?? node.int.map(Double.init) else {
            throw error("expected a number, found '\(node.scalar?.string ?? "?")'")
        }
        return value
    }

    func bool() throws -> Bool {
        guard let value = node.bool else { throw error("expected true or false, found '\(node.scalar?.string ?? "?")'") }
        return value
    }

    func oneOf<T: RawRepresentable>(_ type: T.Type) throws -> T where T.RawValue == String, T: CaseIterable {
        let raw = try string()
        guard let value = T(rawValue: raw) else {
            throw error("'\(raw)' is not one of: \(T.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return value
    }
}
