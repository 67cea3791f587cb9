import Foundation

/// Errors from Foundation and `Codable` restated for a user, never with the raw
/// `NSCocoaErrorDomain` / `NSPOSIXErrorDomain` domain and code or a `DecodingError` dump.
///
/// Contract: `describe(_:)` returns one line of plain text for any error. A Foundation file error
/// becomes its problem (`no such file or directory`, `permission denied`, ...; the path is the
/// caller's to name, `path(of:)` gives it when the error carries one); a `DecodingError` becomes
/// what is wrong at which key path; Foundation's JSON parser's errors keep their readable detail
/// ("Unexpected character ... around line 1, column 5"); any other error is its own description.
public enum ReadableError {
    public static func describe(_ error: Error) -> String {
        if let decoding = error as? DecodingError { return describe(decoding) }
        let ns = error as NSError
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))).lowercased() }
        guard ns.domain == NSCocoaErrorDomain else { return "\(error)" }
        if ns.code == CocoaError.Code.propertyListReadCorrupt.rawValue {  // 3840: JSONSerialization
            let detail = (ns.userInfo[NSDebugDescriptionErrorKey] as? String).map { ": \($0)" } ?? ""
            return "not valid JSON" + detail
        }
        switch CocoaError.Code(rawValue: ns.code) {
        case .fileNoSuchFile, .fileReadNoSuchFile: return "no such file or directory"
        case .fileReadNoPermission, .fileWriteNoPermission: return "permission denied"
        case .fileWriteOutOfSpace: return "no space left on the device"
        case .fileWriteVolumeReadOnly: return "the volume is read-only"
        case .fileWriteFileExists: return "already exists (nothing was overwritten)"
        case .fileReadCorruptFile: return "cannot be read: corrupt, or not the expected format"
        case .fileReadInapplicableStringEncoding: return "is not UTF-8 text"
        case .fileReadTooLarge: return "is too large to read"
        default:
            if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
                return String(cString: strerror(Int32(underlying.code))).lowercased()
            }
            return ns.code >= 256 && ns.code < 768 ? "cannot be read or written" : "file operation failed"
        }
    }

    /// Whether `error` is a Foundation file or POSIX error (whose text `describe` restates).
    public static func isFoundationError(_ error: Error) -> Bool {
        let domain = (error as NSError).domain
        return !(error is DecodingError) && (domain == NSCocoaErrorDomain || domain == NSPOSIXErrorDomain)
    }

    /// The file a Foundation error names, if any.
    public static func path(of error: Error) -> String? {
        let ns = error as NSError
        return ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
    }

    private static func describe(_ error: DecodingError) -> String {
        func at(_ context: DecodingError.Context, _ extra: CodingKey? = nil) -> String {
            let keys = (context.codingPath + (extra.map { [$0] } ?? [])).map { key in
                key.intValue.map { "[\($0)]" } ?? key.stringValue
            }
            return keys.isEmpty ? "at the top level" : "at '" + keys.joined(separator: ".").replacingOccurrences(of: ".[", with: "[") + "'"
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing key '\(key.stringValue)' \(at(context))"
        case .typeMismatch(let type, let context):
            return "wrong type \(at(context)): expected \(readableType(type))"
        case .valueNotFound(let type, let context):
            return "missing or null value \(at(context)): expected \(readableType(type))"
        case .dataCorrupted(let context):
            if let underlying = context.underlyingError { return describe(underlying) }
            // Foundation on Linux reports a JSON syntax error this way, without an underlying error.
            if context.codingPath.isEmpty && context.debugDescription.contains("not valid JSON") { return "not valid JSON" }
            return "invalid value \(at(context)): \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }

    private static func readableType(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: return "a string"
        case is Bool.Type: return "true or false"
        case is Int.Type, is Int64.Type, is Int32.Type, is UInt64.Type, is UInt32.Type, is UInt16.Type, is UInt8.Type:
            return "an integer"
        case is Double.Type, is Float.Type: return "a number"
        default:
            let name = "\(type)"
            if name.hasPrefix("Array") { return "an array" }
            if name.hasPrefix("Dictionary") { return "an object" }
            return "a \(name)"
        }
    }
}
