import ArgumentParser
import Foundation

/// A Foundation file error (`NSCocoaErrorDomain`, `NSPOSIXErrorDomain`) restated for a user: the
/// path and what went wrong, never the raw domain and code.
struct FileErrorMessage: Error, CustomStringConvertible {
    var path: String?
    var problem: String

    var description: String { path.map { "\($0): \(problem)" } ?? problem }

    /// `error` restated when it is a Foundation file error; otherwise `error` itself.
    static func restating(_ error: Error) -> Error {
        let ns = error as NSError
        guard ns.domain == NSCocoaErrorDomain || ns.domain == NSPOSIXErrorDomain else { return error }
        let path = ns.userInfo[NSFilePathErrorKey] as? String ?? (ns.userInfo[NSURLErrorKey] as? URL)?.path
        return FileErrorMessage(path: path, problem: problem(ns))
    }

    private static func problem(_ ns: NSError) -> String {
        if ns.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(ns.code))).lowercased() }
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
            return ns.domain == NSCocoaErrorDomain && (ns.code >= 256 && ns.code < 768)
                ? "cannot be read or written" : "file operation failed"
        }
    }
}

extension LongMix {
    /// Parses the process arguments and runs the command; errors are printed (Foundation file
    /// errors restated with their path) and turned into the exit status.
    public static func runMain() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: FileErrorMessage.restating(error))
        }
    }
}
