import Foundation

/// Runs the `longmix` executable in a subprocess, for tests that must see how the process ends
/// (an exit with a message, never a signal) whatever the input.
public enum CommandRunner {
    public struct Outcome: Sendable {
        /// The exit status, or the signal number when `signaled`.
        public var status: Int32
        public var signaled: Bool
        public var timedOut: Bool
        public var stdout: String
        public var stderr: String
    }

    /// `LONGMIX_BIN` if set, else the debug build's `.build/debug/longmix` (built by
    /// `swift build --build-tests`); nil when absent.
    public static var binary: URL? {
        let env = ProcessInfo.processInfo.environment["LONGMIX_BIN"]
        let url = env.map { URL(fileURLWithPath: $0) }
            ?? TestEnvironment.repoRoot.appendingPathComponent(".build/debug/longmix")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }

    /// Runs `longmix arguments...` in `directory`, killing it after `timeout` seconds; `environment`
    /// entries are added to (or replace) this process's.
    public static func run(_ arguments: [String], in directory: URL? = nil, environment: [String: String] = [:],
                           timeout: TimeInterval = 120) throws -> Outcome {
        guard let binary else { throw Oracle.Failure(description: "no longmix binary; run swift build or set LONGMIX_BIN") }
        let scratch = try TestEnvironment.temporaryDirectory("run")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        if let directory { process.currentDirectoryURL = directory }
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                process.terminate()
                break
            }
            usleep(5_000)
        }
        process.waitUntilExit()
        return Outcome(status: process.terminationStatus, signaled: process.terminationReason == .uncaughtSignal,
                       timedOut: timedOut,
                       stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
    }
}
