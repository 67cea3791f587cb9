#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Foundation
import LongMixCore

/// The temporaries this process has made (half-written files, staging directories), so that
/// SIGINT and SIGTERM remove them before exiting, and so that a later run can recognise and
/// remove those of a process that died (kill -9, power loss).
///
/// Contract:
/// - Every temporary name ends in `.<kind>-<host>-<pid>` (`kind` is `tmp`, `partial` or `old`),
///   made by `suffix(_:)`; nothing else is ever removed as stale.
/// - `removeStale(beside:)` removes only temporaries named after the given path whose host is
///   this host and whose process no longer exists (a temporary of a live process, or of another
///   machine sharing the file system, is left alone).
/// - After `installSignalCleanup()`, SIGINT, SIGTERM, SIGHUP and SIGUSR1 (Slurm's warning before a
///   time limit, see `SlurmJobScripts`) remove every registered temporary and exit with 128 + the
///   signal number.
/// - A removed temporary never comes back, so the cleanup is final: temporaries are made only
///   under this type's lock (`create`, `createDirectory`), which refuses once interrupted; nothing
///   inside a temporary directory is made with intermediate directories (`makeSubdirectory`), so a
///   writer still running after the cleanup fails with ENOENT instead of recreating the tree; and
///   a temporary becomes final (`commit`) under the same lock, so the cleanup never removes half of
///   something while it is being renamed into place, and nothing is committed once interrupted.
public enum TemporaryFiles {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var registered: [Int: String] = [:]
    nonisolated(unsafe) private static var nextToken = 0
    nonisolated(unsafe) private static var signalSources: [any DispatchSourceSignal] = []
    nonisolated(unsafe) private static var interruptedFlag = false

    /// True once SIGINT/SIGTERM arrived: no new temporary may be made (`AtomicFileWriter`
    /// refuses), and an exit from another thread waits for the cleanup to finish.
    public static var interrupted: Bool {
        lock.lock()
        defer { lock.unlock() }
        return interruptedFlag
    }

    /// This machine's name as it appears in temporary names (no dots, dashes or slashes).
    public static let host: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count - 1)
        let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        let name = String(decoding: bytes, as: UTF8.self).split(separator: ".").first.map(String.init) ?? "host"
        let cleaned = name.map { $0.isLetter || $0.isNumber ? $0 : "_" }
        return cleaned.isEmpty ? "host" : String(cleaned)
    }()

    /// `.<kind>-<host>-<pid>`: the suffix of this process's temporaries of that kind.
    public static func suffix(_ kind: String) -> String { ".\(kind)-\(host)-\(getpid())" }

    /// Creates a temporary with `create` and registers `path` for removal, atomically with respect
    /// to the signal cleanup: either the cleanup sees the registration, or (once interrupted) the
    /// temporary is never created. Returns `create`'s result and the token for `unregister`.
    public static func create<T>(_ path: String, _ create: () throws -> T) throws -> (T, Int) {
        lock.lock()
        defer { lock.unlock() }
        guard !interruptedFlag else { throw InputError.file(path, reason: .unwritableFile, "interrupted; not creating \(path)") }
        let value = try create()
        nextToken += 1
        registered[nextToken] = path
        return (value, nextToken)
    }

    /// Makes the directory `path` as a registered temporary (its parent must exist: no
    /// intermediate directories are made). Returns the token for `commit` or `unregister`.
    public static func createDirectory(_ path: String) throws -> Int {
        try create(path) {
            guard mkdir(path, 0o755) == 0 else {
                throw InputError.file(path, reason: .unwritableDirectory, "cannot create directory: \(String(cString: strerror(errno)))")
            }
        }.1
    }

    /// Makes the directory `path` inside a temporary or build directory, never its parents: when
    /// the parent is gone (removed by the signal cleanup) this fails with ENOENT rather than
    /// recreating it. An existing directory is fine.
    public static func makeSubdirectory(_ path: String) throws {
        guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
            throw InputError.file(path, reason: .unwritableDirectory, "cannot create directory: \(String(cString: strerror(errno)))")
        }
    }

    /// Makes `root/relative` one level at a time (`makeSubdirectory`); `root` itself must exist.
    public static func makeSubdirectories(_ relative: String, under root: String) throws {
        var level = root
        for component in relative.split(separator: "/") where component != "." {
            level += "/" + component
            try makeSubdirectory(level)
        }
    }

    /// Makes the registered temporary `token` final: runs `body` (the rename into place) under the
    /// lock, then unregisters it. Refused once interrupted, so the signal cleanup and a commit never
    /// interleave: either the temporary is removed whole, or it was renamed whole.
    public static func commit(_ token: Int, _ body: () throws -> Void) throws {
        try commit([token], body)
    }

    /// Makes the registered temporaries `tokens` final together (one `body`, one hold of the lock).
    public static func commit(_ tokens: [Int], _ body: () throws -> Void) throws {
        lock.lock()
        defer { lock.unlock() }
        guard !interruptedFlag else {
            let names = tokens.map { registered[$0] ?? "?" }.joined(separator: ", ")
            throw InputError.file(tokens.first.flatMap { registered[$0] } ?? "?", reason: .unwritableFile, "interrupted; not publishing \(names)")
        }
        try body()
        for token in tokens { registered[token] = nil }
    }

    /// Registers `path` for removal on a signal; returns a token for `unregister`.
    public static func register(_ path: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        nextToken += 1
        registered[nextToken] = path
        return nextToken
    }

    public static func unregister(_ token: Int) {
        lock.lock()
        registered[token] = nil
        lock.unlock()
    }

    /// Removes `path`'s stale temporaries in its directory: `<name>.<kind>-<host>-<pid>` and
    /// `.<name>.<kind>-<host>-<pid>` for this host and a process that no longer exists.
    /// Returns the paths removed.
    @discardableResult
    public static func removeStale(beside path: String) -> [String] {
        let url = URL(fileURLWithPath: path)
        let name = url.lastPathComponent
        let parent = url.deletingLastPathComponent().path
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: parent) else { return [] }
        var removed: [String] = []
        for entry in entries {
            let rest: Substring
            if entry.hasPrefix(name + ".") {
                rest = entry.dropFirst(name.count + 1)
            } else if entry.hasPrefix("." + name + ".") {
                rest = entry.dropFirst(name.count + 2)
            } else {
                continue
            }
            let parts = rest.split(separator: "-", omittingEmptySubsequences: false)
            guard parts.count == 3, ["tmp", "partial", "old"].contains(parts[0]), parts[1] == host,
                  let pid = Int32(parts[2]), pid > 0, pid != getpid(), !processExists(pid) else { continue }
            let stale = parent + "/" + entry
            if (try? FileManager.default.removeItem(atPath: stale)) != nil { removed.append(stale) }
        }
        return removed
    }

    /// Whether a process with this id exists on this machine.
    public static func processExists(_ pid: Int32) -> Bool {
        kill(pid, 0) == 0 || errno == EPERM
    }

    /// The signals that remove every registered temporary and exit 128 + signal.
    public static let cleanupSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP, SIGUSR1]

    /// Makes `cleanupSignals` remove every registered temporary, then exit 128 + signal.
    /// Idempotent; call once at program start.
    public static func installSignalCleanup() {
        lock.lock()
        defer { lock.unlock() }
        guard signalSources.isEmpty else { return }
        let queue = DispatchQueue(label: "longmix.signal-cleanup")
        for sig in cleanupSignals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler {
                lock.lock()
                interruptedFlag = true
                lock.unlock()
                removeRegistered()
                FileHandle.standardError.write("\ninterrupted (signal \(sig)); temporaries removed\n".data(using: .utf8)!)
                _exit(128 + sig)
            }
            source.resume()
            signalSources.append(source)
        }
        // A thread that fails because its files vanished must not exit first with its own status.
        atexit {
            if TemporaryFiles.interrupted { while true { pause() } }
        }
    }

    /// Removes every registered temporary, retrying until each is gone (at most 2 s): other
    /// threads still running may add a file inside a temporary directory while it is being
    /// removed (the removal then fails with ENOTEMPTY), but once a temporary is gone nothing can
    /// recreate it (see the contract).
    static func removeRegistered() {
        lock.lock()
        let paths = Array(registered.values)
        lock.unlock()
        for _ in 0..<200 {
            var left = false
            for path in paths {
                var info = stat()
                if lstat(path, &info) == 0 {
                    left = true
                    try? FileManager.default.removeItem(atPath: path)
                }
            }
            if !left { return }
            usleep(10_000)
        }
    }
}
