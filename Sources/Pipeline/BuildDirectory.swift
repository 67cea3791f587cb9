#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LongMixCore
import ShardIO

/// A build directory: what each stage of a (possibly distributed) build left for the next.
///
///     build.json                                what is built (mixture, overrides, mode)
///     count/task-00003-of-00007/                count part of task 3 (of 7): count.json and
///                                               s<s>.candidates (documents of smallest keys)
///     count/task-00003-of-00007.done            its completion marker, written last
///     plan.json                                 the sampling plan (summed counts, thresholds)
///     tokenize/r0/task-00003-of-00007/          tokenize part of task 3 for key range 0
///     tokenize/r0/task-00003-of-00007.done
///     tokenize/r1/task-00000-of-00001/          a threshold raise (range 1) run by `merge`
///     */*.lock                                  a running task: "host pid" (stale when pid is gone)
///
/// Contract: data is written under a temporary name and renamed into place, and the marker is
/// written after it, so nothing partial ever looks complete; a task rerun after a kill at any
/// point removes its leftovers and writes the same bytes. Parts never hold times or pids.
public struct BuildDirectory: Sendable {
    public let path: String

    public init(path: String) { self.path = path }

    public var specFile: String { path + "/build.json" }
    public var planFile: String { path + "/plan.json" }
    public func countDirectory() -> String { path + "/count" }
    public func tokenizeDirectory(range: Int) -> String { path + "/tokenize/r\(range)" }

    /// A stage's task slot: part (file or directory), marker and lock paths, below `root` (the
    /// build directory).
    public struct Slot: Sendable {
        public let root: String
        public let part: String
        public var marker: String { part + ".done" }
        public var lock: String { part + ".lock" }
        public var isComplete: Bool { FileManager.default.fileExists(atPath: marker) }
    }

    public func countSlot(_ task: BuildTask) -> Slot { Slot(root: path, part: countDirectory() + "/\(task.name)") }
    public func tokenizeSlot(_ task: BuildTask, range: Int) -> Slot {
        Slot(root: path, part: tokenizeDirectory(range: range) + "/\(task.name)")
    }

    /// Runs `write` for a slot unless it is complete: takes the lock (refusing a live holder),
    /// clears leftovers of killed runs, lets `write` fill a fresh temporary directory (made here,
    /// `<part>.tmp-<host>-<pid>`), renames it to the part, then writes the marker. Returns false
    /// when it was already complete.
    ///
    /// The lock and the temporary are `TemporaryFiles`: a signal (SIGINT, SIGTERM, Slurm's SIGUSR1)
    /// removes both, so the task can be rerun at once, here or on another node. The rename and the
    /// marker happen together under the temporaries' lock and never after a signal, so a stopped
    /// task never leaves a part that looks complete. Directories below the build directory are
    /// made one level at a time (`TemporaryFiles.makeSubdirectory`), never recreating a removed one.
    @discardableResult
    public static func publish(_ slot: Slot, _ write: (_ temporary: String) throws -> Void) throws -> Bool {
        let fm = FileManager.default
        if slot.isComplete { return false }
        let directory = (slot.part as NSString).deletingLastPathComponent
        try TemporaryFiles.makeSubdirectories(String(directory.dropFirst(slot.root.count)), under: slot.root)
        let lock = try TaskLock.acquire(slot.lock)
        defer { TaskLock.release(slot.lock, lock) }
        if slot.isComplete { return false }
        let base = (slot.part as NSString).lastPathComponent
        for leftover in (try? fm.contentsOfDirectory(atPath: directory)) ?? [] where leftover.hasPrefix(base + ".tmp-") {
            try? fm.removeItem(atPath: directory + "/" + leftover)
        }
        if fm.fileExists(atPath: slot.part) { try fm.removeItem(atPath: slot.part) }
        let temporary = slot.part + TemporaryFiles.suffix("tmp")
        let token = try TemporaryFiles.createDirectory(temporary)
        defer {
            TemporaryFiles.unregister(token)
            try? fm.removeItem(atPath: temporary)  // a failed write's leftovers (gone once renamed)
        }
        try write(temporary)
        try TemporaryFiles.commit(token) {
            guard rename(temporary, slot.part) == 0 else {
                throw InputError.file(slot.part, reason: .unwritableFile, "cannot rename \(temporary) into place: \(String(cString: strerror(errno)))")
            }
            let fd = open(slot.marker, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            guard fd >= 0 else {
                throw InputError.file(slot.marker, reason: .unwritableFile, "cannot write the completion marker: \(String(cString: strerror(errno)))")
            }
            close(fd)
        }
        return true
    }

    /// The task counts a stage's parts were written for (normally one).
    public static func taskCounts(in directory: String) -> Set<Int> {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return Set(names.compactMap { name -> Int? in
            guard name.hasPrefix("task-"), let of = name.range(of: "-of-") else { return nil }
            return Int(name[of.upperBound...].prefix(5))
        })
    }

    /// What each task of a stage is doing.
    public enum TaskState: Equatable, Sendable {
        case done
        case running(holder: String)
        case stale(holder: String)
        case missing
    }

    public static func state(of slot: Slot) -> TaskState {
        if slot.isComplete { return .done }
        if let holder = TaskLock.holder(slot.lock) {
            return TaskLock.isAlive(holder) ? .running(holder: holder) : .stale(holder: holder)
        }
        return .missing
    }
}

/// A lock file naming its holder: "host pid", and " job ID" inside a Slurm job. A holder on this
/// host whose pid is gone is stale and is taken over; so is a holder that ran under this very
/// Slurm job id (a requeued job keeps its id, and Slurm runs a job only once at a time: the earlier
/// run is over, killed on whatever node it was). Any other holder on another host is trusted to be
/// running. The lock is a registered temporary: a signal removes it.
enum TaskLock {
    static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        gethostname(&buffer, buffer.count)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// This process as a holder.
    static func me(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        "\(hostName()) \(getpid())" + (environment["SLURM_JOB_ID"].map { " job \($0)" } ?? "")
    }

    static func holder(_ path: String) -> String? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func isAlive(_ holder: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        let parts = holder.split(separator: " ")
        guard parts.count == 2 || (parts.count == 4 && parts[2] == "job"), let pid = Int32(parts[1]) else { return false }
        if parts.count == 4, let job = environment["SLURM_JOB_ID"], String(parts[3]) == job, holder != me(environment: environment) {
            return false
        }
        guard String(parts[0]) == hostName() else { return true }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Takes the lock; returns its `TemporaryFiles` token for `release`.
    static func acquire(_ path: String) throws -> Int {
        let me = me()
        for _ in 0..<3 {
            let (fd, token) = try TemporaryFiles.create(path) { open(path, O_WRONLY | O_CREAT | O_EXCL, 0o644) }
            if fd >= 0 {
                _ = me.withCString { write(fd, $0, strlen($0)) }
                close(fd)
                return token
            }
            let failure = errno
            TemporaryFiles.unregister(token)
            guard failure == EEXIST else {
                throw InputError.file(path, reason: .unwritableFile, "cannot create lock: \(String(cString: strerror(failure)))")
            }
            if let holder = holder(path), isAlive(holder) {
                throw InputError.file(path, reason: .taskRunning, "another process (\(holder)) is running this task; "
                    + "if it is gone (a node that died), remove this lock file")
            }
            unlink(path)  // stale: its holder is gone
        }
        throw InputError.file(path, reason: .taskRunning, "could not take the task lock")
    }

    static func release(_ path: String, _ token: Int) {
        unlink(path)
        TemporaryFiles.unregister(token)
    }
}

extension BuildDirectory {
    /// One stage's tasks and their states.
    public struct StageStatus: Sendable {
        public var stage: String
        public var taskCount: Int
        public var states: [TaskState]
    }

    /// The count stage and every tokenize range found, each with the task count its parts name.
    public func status() -> [StageStatus] {
        func stage(_ name: String, _ folder: String, _ slot: (BuildTask) -> Slot) -> [StageStatus] {
            BuildDirectory.taskCounts(in: folder).sorted().map { n in
                StageStatus(stage: name, taskCount: n, states: (0..<n).map { BuildDirectory.state(of: slot(try! BuildTask(index: $0, count: n))) })
            }
        }
        var result = stage("count", countDirectory(), countSlot)
        var r = 0
        while FileManager.default.fileExists(atPath: tokenizeDirectory(range: r)) {
            let range = r
            result += stage(r == 0 ? "tokenize" : "tokenize (raise \(r))", tokenizeDirectory(range: r)) { tokenizeSlot($0, range: range) }
            r += 1
        }
        return result
    }
}

/// JSON for parts and plans: sorted keys, so the same content is always the same bytes.
enum PartJSON {
    static func encode<T: Encodable>(_ value: T, pretty: Bool = false) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted] : [.sortedKeys]
        return try encoder.encode(value)
    }

    /// Writes `value` to `path` in the build directory atomically (`AtomicFileWriter`: a registered
    /// temporary, renamed), replacing the same file written by another task of the build.
    static func write<T: Encodable>(_ value: T, pretty: Bool = false, to path: String) throws {
        let file = try AtomicFileWriter(path: path, existing: .replace)
        try file.write([UInt8](try encode(value, pretty: pretty)))
        try file.commit()
    }
}
