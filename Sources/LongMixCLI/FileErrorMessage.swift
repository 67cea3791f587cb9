import ArgumentParser
import Foundation
import LongMixCore

/// A Foundation file error (`NSCocoaErrorDomain`, `NSPOSIXErrorDomain`) or a `DecodingError`
/// restated for a user: the path and what went wrong, never the raw domain and code
/// (`LongMixCore.ReadableError`).
struct FileErrorMessage: Error, CustomStringConvertible {
    var path: String?
    var problem: String

    var description: String { path.map { "\($0): \(problem)" } ?? problem }

    /// `error` restated when it is a Foundation file error or a `DecodingError`; otherwise `error` itself.
    static func restating(_ error: Error) -> Error {
        guard ReadableError.isFoundationError(error) || error is DecodingError else { return error }
        return FileErrorMessage(path: ReadableError.path(of: error), problem: ReadableError.describe(error))
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
