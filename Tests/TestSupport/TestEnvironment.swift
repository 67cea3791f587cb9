import Foundation
import Testing

/// Paths and tools the test suites share: the repository root, the fixtures, `../shared` (CI and
/// developers have it; a user's clone may not) and the Python venv with the oracle packages.
///
/// Tests that need something absent carry the `.needsPython` / `.needsLlama2` traits: the test
/// runner then reports them as skipped, with the reason, and a user's clone still runs every
/// test it can.
public enum TestEnvironment {
    /// The repository root, found from this file's location (Tests/TestSupport/ -> ../..).
    public static let repoRoot: URL = {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
    }()

    public static var fixtures: URL { repoRoot.appendingPathComponent("Fixtures") }
    public static var oracles: URL { repoRoot.appendingPathComponent("Tests/Oracles") }

    /// `LONGMIX_SHARED` if set, else `../shared` beside the repository.
    public static var shared: URL? {
        let env = ProcessInfo.processInfo.environment["LONGMIX_SHARED"]
        let url = env.map { URL(fileURLWithPath: $0) }
            ?? repoRoot.deletingLastPathComponent().appendingPathComponent("shared")
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// The real LLaMA-2 tokenizer, when `../shared` is present.
    public static var llama2Model: URL? {
        guard let url = shared?.appendingPathComponent("tokenizers/llama2.model"),
              FileManager.default.fileExists(atPath: url.path) else { return nil }
        return url
    }

    /// `LONGMIX_PYTHON` if set, else `.venv/bin/python` in the repository (made by scripts/setup.sh).
    public static var python: URL? {
        let env = ProcessInfo.processInfo.environment["LONGMIX_PYTHON"]
        let url = env.map { URL(fileURLWithPath: $0) } ?? repoRoot.appendingPathComponent(".venv/bin/python")
        return FileManager.default.isExecutableFile(atPath: url.path) ? url : nil
    }

    /// A fresh temporary directory inside this test process's scratch root. Tests may remove
    /// it themselves; whatever is left goes with the root when the process exits, so no test
    /// leaves files behind in the system's temporary directory, whether it passes or fails
    /// (set `LONGMIX_KEEP_TEST_DIRS=1` to keep them for inspection: the root's path is printed).
    public static func temporaryDirectory(_ name: String = "test") throws -> URL {
        let url = scratchRoot.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// `longmix-tests-<pid>-<random>` in the system's temporary directory, made on first use and
    /// removed at exit.
    private static let scratchRoot: URL = {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("longmix-tests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        if ProcessInfo.processInfo.environment["LONGMIX_KEEP_TEST_DIRS"] != nil {
            print("test directories kept in \(url.path)")
        } else {
            atexit { try? FileManager.default.removeItem(at: TestEnvironment.scratchRoot) }
        }
        return url
    }()

    /// Every regular file below `root` with its bytes (symbolic links not followed): what
    /// output-safety tests compare before and after a command.
    public static func snapshot(_ root: URL) -> [String: Data] {
        var files: [String: Data] = [:]
        let e = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .isSymbolicLinkKey])!
        for case let url as URL in e {
            let values = try? url.resourceValues(forKeys: [.isRegularFileKey, .isSymbolicLinkKey])
            if values?.isRegularFile == true && values?.isSymbolicLink != true { files[url.path] = try? Data(contentsOf: url) }
        }
        return files
    }
}

/// Runs a Python oracle script from `Tests/Oracles` with the venv's interpreter.
public enum Oracle {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `Tests/Oracles/<script>` with `arguments`, feeding `input` on stdin; returns stdout.
    /// Throws with the script's stderr when it exits non-zero.
    public static func run(_ script: String, arguments: [String] = [], input: Data = Data()) throws -> Data {
        guard let python = TestEnvironment.python else {
            throw Failure(description: "no Python venv; run scripts/setup.sh")
        }
        // stdin and stderr go through temporary files so large payloads cannot deadlock the pipes.
        let scratch = try TestEnvironment.temporaryDirectory("oracle")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let inURL = scratch.appendingPathComponent("stdin"), errURL = scratch.appendingPathComponent("stderr")
        try input.write(to: inURL)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = python
        process.arguments = [TestEnvironment.oracles.appendingPathComponent(script).path] + arguments
        process.standardInput = try FileHandle(forReadingFrom: inURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        let out = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errData = (try? Data(contentsOf: errURL)) ?? Data()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "oracle \(script) exited \(process.terminationStatus): "
                + (String(data: errData, encoding: .utf8) ?? ""))
        }
        return out
    }
}

extension Trait where Self == ConditionTrait {
    /// Runs the test only when the oracle venv is there; otherwise the runner reports it skipped.
    public static var needsPython: Self {
        .enabled(if: TestEnvironment.python != nil,
                 "needs the oracle venv (.venv/bin/python; run scripts/setup.sh or set LONGMIX_PYTHON)")
    }

    /// Runs the test only when the built `longmix` binary is there (`.build/debug/longmix` or
    /// `LONGMIX_BIN`); otherwise the runner reports it skipped.
    public static var needsBinary: Self {
        .enabled(if: CommandRunner.binary != nil, "needs the longmix binary (swift build, or LONGMIX_BIN)")
    }

    /// Runs the test only when the real LLaMA-2 tokenizer is there; otherwise reported skipped.
    public static var needsLlama2: Self {
        .enabled(if: TestEnvironment.llama2Model != nil,
                 "needs ../shared/tokenizers/llama2.model (set LONGMIX_SHARED to the shared folder)")
    }
}
