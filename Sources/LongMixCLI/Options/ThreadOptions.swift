import ArgumentParser
import Foundation

/// `--threads`: one default (every core) and one validation for every command that uses workers.
struct ThreadOptions: ParsableArguments {
    /// More workers than this many per core only add contention.
    static let maximumPerCore = 4
    static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }

    @Option(help: "Worker threads (default: one per core; output does not depend on it).")
    var threads: Int = ThreadOptions.cores

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
        let cap = ThreadOptions.maximumPerCore * ThreadOptions.cores
        guard threads <= cap else {
            throw ValidationError("--threads \(threads) is more than \(ThreadOptions.maximumPerCore) per core "
                                  + "(\(ThreadOptions.cores) cores here): use at most \(cap)")
        }
    }
}
