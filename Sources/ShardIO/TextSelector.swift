import LongMixCore

/// How a document's text is made from a record: one field, or a template over several fields.
///
/// Templates name fields in braces: `{definition}\n\n{inputs}`; `{{` and `}}` stand for literal
/// braces. Every named field must be a string in every record (a missing or non-string field is an
/// error naming the field).
public struct TextSelector: Sendable, CustomStringConvertible {
    public enum Part: Sendable, Equatable {
        case literal([UInt8])
        case field(FieldPath)
    }

    public let parts: [Part]
    public let description: String

    public static func field(_ path: String) -> TextSelector {
        TextSelector(parts: [.field(FieldPath(path))], description: path)
    }

    public static func template(_ template: String) throws -> TextSelector {
        var parts: [Part] = []
        var literal: [UInt8] = []
        let bytes = Array(template.utf8)
        var i = 0
        while i < bytes.count {
            let b = bytes[i]
            if b == UInt8(ascii: "{") || b == UInt8(ascii: "}") {
                if i + 1 < bytes.count && bytes[i + 1] == b {
                    literal.append(b)
                    i += 2
                    continue
                }
                guard b == UInt8(ascii: "{"), let close = bytes[(i + 1)...].firstIndex(of: UInt8(ascii: "}")) else {
                    throw ConfigurationError("template \"\(template)\": unbalanced brace at byte \(i) (write {{ or }} for a literal brace)")
                }
                let name = String(decoding: bytes[(i + 1)..<close], as: UTF8.self)
                guard !name.isEmpty, !name.contains("{") else {
                    throw ConfigurationError("template \"\(template)\": empty or nested field name at byte \(i)")
                }
                if !literal.isEmpty { parts.append(.literal(literal)); literal = [] }
                parts.append(.field(FieldPath(name)))
                i = close + 1
            } else {
                literal.append(b)
                i += 1
            }
        }
        if !literal.isEmpty { parts.append(.literal(literal)) }
        guard parts.contains(where: { if case .field = $0 { true } else { false } }) else {
            throw ConfigurationError("template \"\(template)\" names no field; write a field in braces, e.g. {text}")
        }
        return TextSelector(parts: parts, description: template)
    }

    /// The field paths the selector reads, in order of first use, without repeats.
    public var fieldPaths: [FieldPath] {
        var seen: [FieldPath] = []
        for case .field(let p) in parts where !seen.contains(p) { seen.append(p) }
        return seen
    }
}
