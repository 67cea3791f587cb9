/// An error about input data: names the file, the line and (when there is one) the field, and says
/// what to do about it.
///
/// `reason` is a short stable key (`malformed-json`, `missing-field`, ...) used to count skipped
/// records by cause; `message` is the human explanation.
public struct InputError: Error, Sendable, CustomStringConvertible {
    public var location: RecordLocation?
    public var field: String?
    public var reason: DropReason
    public var message: String

    public init(location: RecordLocation?, field: String? = nil, reason: DropReason, message: String) {
        self.location = location
        self.field = field
        self.reason = reason
        self.message = message
    }

    /// A file-level error (no line), for example a missing file or an unreadable compressed stream.
    public static func file(_ path: String, reason: DropReason, _ message: String) -> InputError {
        InputError(location: RecordLocation(file: path, line: 0), reason: reason, message: message)
    }

    public var description: String {
        var where_ = ""
        if let location {
            where_ = location.line > 0 ? "\(location.file):\(location.line)" : location.file
        }
        if let field { where_ += where_.isEmpty ? "field '\(field)'" : ", field '\(field)'" }
        return where_.isEmpty ? "\(message) [\(reason.rawValue)]" : "\(where_): \(message) [\(reason.rawValue)]"
    }
}

/// An error in a configuration the user wrote (a mixture file, a command-line option): names the
/// file, the key and, when known, the line.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public var file: String?
    public var key: String?
    public var line: Int?
    public var message: String

    public init(file: String? = nil, key: String? = nil, line: Int? = nil, _ message: String) {
        self.file = file
        self.key = key
        self.line = line
        self.message = message
    }

    public var description: String {
        var parts: [String] = []
        if let file { parts.append(line.map { "\(file):\($0)" } ?? file) }
        if let key { parts.append("key '\(key)'") }
        return parts.isEmpty ? message : parts.joined(separator: ", ") + ": " + message
    }
}
