#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LongMixCore

/// The kinds of directory LongMix writes. Each published directory holds a marker file
/// (`OutputTarget.markerFile`) naming its kind; only a directory with the same marker may be
/// replaced.
public enum OutputKind: String, Sendable, CaseIterable {
    /// A pack directory (`longmix build -o`).
    case pack
    /// Megatron-LM indexed datasets (`longmix build --megatron`).
    case megatron
    /// Cleaned shards (`longmix decontam scan --output`).
    case cleanedShards = "cleaned-shards"
    /// A model checkpoint (`longmix train`).
    case checkpoint
    /// A training run directory (`longmix train -o`): its log and checkpoints, written in place
    /// (`OutputTarget.openInPlace`).
    case trainingRun = "training-run"
}

/// The one way LongMix decides whether it may write somewhere, and how it publishes.
///
/// Rules (every command that writes goes through them):
/// - A directory output (`OutputTarget(directory:kind:)`) is built in a hidden staging directory
///   beside its destination, `.<name>.partial-<host>-<pid>`, and published by `publish()`: one
///   rename. An existing destination is replaced only if it is a LongMix output of the same kind
///   (its marker file says so) or an empty directory; a regular file, a symbolic link, a directory
///   without the marker or with another kind's marker is refused with a clear error, before any
///   work is done. A replaced output is moved aside first and removed only after the new one is
///   in place.
/// - A directory written in place while the command runs (a training run: it grows checkpoint by
///   checkpoint, so it cannot be published in one rename) is opened with `openInPlace`: absent,
///   empty, or, when the command continues its own earlier output, a directory with its kind's
///   marker; it gets the marker at once.
/// - A file output (`checkFile`) carries no marker, so LongMix cannot tell a file it wrote from
///   the user's: an existing file is refused unless the caller says it may be replaced
///   (`ExistingFile.replace`: the user passed `--force`, or the file lies inside a directory the
///   command owns). A directory, a symbolic link or a special file there is always refused.
/// - Any output that is, contains or lies inside a file or directory this process reads
///   (`InputFiles`) is refused: an output can never overwrite its own inputs.
/// - Stale temporaries of dead processes beside the destination are removed first
///   (`TemporaryFiles.removeStale`); the staging directory is removed on SIGINT/SIGTERM and when
///   the target is released unpublished. Directories inside it are made with
///   `TemporaryFiles.makeSubdirectory` (never with intermediates), so nothing recreates it after
///   the signal cleanup.
public final class OutputTarget {
    public static let markerFile = ".longmix-output"

    public let path: String
    public let kind: OutputKind
    /// Where everything goes until `publish()`.
    public let staging: String
    private var token: Int?
    private var published = false

    public init(directory path: String, kind: OutputKind) throws {
        self.path = path
        self.kind = kind
        let url = URL(fileURLWithPath: path)
        staging = url.deletingLastPathComponent().appendingPathComponent(
            "." + url.lastPathComponent + TemporaryFiles.suffix("partial")).path
        try Self.checkDirectory(path, kind: kind)
        TemporaryFiles.removeStale(beside: path)
        try? FileManager.default.removeItem(atPath: staging)
        // The destination's parent directories are the user's (kept); the staging directory is
        // the only temporary, made without intermediates (see `TemporaryFiles`).
        let parent = url.deletingLastPathComponent().path
        do {
            try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true)
        } catch {
            throw OutputError(path: path, "cannot create its parent directory \(parent): \(ReadableError.describe(error))")
        }
        token = try TemporaryFiles.createDirectory(staging)
    }

    deinit {
        if !published { try? FileManager.default.removeItem(atPath: staging) }
        if let token { TemporaryFiles.unregister(token) }
    }

    /// Writes the marker and renames the staging directory to `path`, replacing the previous
    /// output of the same kind (checked again now: it may have changed during the run).
    public func publish() throws {
        try Self.marker(kind).write(toFile: staging + "/" + Self.markerFile, atomically: false, encoding: .utf8)
        try Self.checkDirectory(path, kind: kind)
        let fm = FileManager.default
        guard let token else { throw OutputError(path: path, "already published") }
        let url = URL(fileURLWithPath: path)
        let old = url.deletingLastPathComponent().appendingPathComponent("." + url.lastPathComponent + TemporaryFiles.suffix("old")).path
        try? fm.removeItem(atPath: old)
        // The previous output, once moved aside, is a temporary: a signal after the swap removes it.
        let oldToken = TemporaryFiles.register(old)
        defer { TemporaryFiles.unregister(oldToken) }
        var replaced = false
        // Both renames happen under the temporaries' lock: a signal either finds the staging
        // directory whole (and removes it, the previous output untouched) or the swap done.
        try TemporaryFiles.commit(token) {
            if Self.exists(path) {
                guard rename(path, old) == 0 else { throw OutputError(path: path, "cannot move the previous output aside: \(String(cString: strerror(errno)))") }
                replaced = true
            }
            guard rename(staging, path) == 0 else {
                let reason = String(cString: strerror(errno))
                if replaced { _ = rename(old, path) }
                throw OutputError(path: path, "cannot publish \(staging): \(reason)")
            }
        }
        published = true
        self.token = nil
        if replaced { try? fm.removeItem(atPath: old) }
    }

    /// Prepares `path` as a `kind` directory written in place (see the rules above): refused
    /// unless it passes `checkDirectory` (absent, empty or marked `kind`; no input overlap) and,
    /// when it is already marked, unless `reopening` (the command continues its own earlier run
    /// there). Created if absent, with its parents; the marker is written at once so a later run
    /// recognises it. Returns true when an existing `kind` directory was reopened.
    @discardableResult
    public static func openInPlace(directory path: String, kind: OutputKind, reopening: Bool) throws -> Bool {
        try checkDirectory(path, kind: kind)
        let marker = path + "/" + markerFile
        if exists(marker) {
            guard reopening else {
                throw OutputError(path: path, "holds a LongMix \(kind.rawValue) already; refusing to start another one in it: choose a new directory")
            }
            return true
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try Self.marker(kind).write(toFile: marker, atomically: true, encoding: .utf8)
        } catch {
            throw OutputError(path: path, "cannot create it: \(ReadableError.describe(error))")
        }
        return false
    }

    /// The marker file's exact content for `kind`.
    public static func marker(_ kind: OutputKind) -> String { "{\"kind\": \"\(kind.rawValue)\", \"format\": 1}\n" }

    /// Refuses (throws) unless `path` may become a `kind` output: absent, an empty directory, or
    /// a directory whose marker names `kind`; and not overlapping any input.
    public static func checkDirectory(_ path: String, kind: OutputKind) throws {
        try InputFiles.refuseOverlap(path)
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        switch info.st_mode & S_IFMT {
        case S_IFDIR: break
        case S_IFLNK: throw OutputError(path: path, "is a symbolic link; refusing to replace it with a \(kind.rawValue) directory")
        default: throw OutputError(path: path, "is a file, not a LongMix \(kind.rawValue) directory; refusing to replace it")
        }
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
        if entries.isEmpty { return }
        guard let marker = try? String(contentsOfFile: path + "/" + markerFile, encoding: .utf8) else {
            throw OutputError(path: path, "exists and is not a LongMix \(kind.rawValue) (no \(markerFile) marker; "
                + "\(entries.count) entries); refusing to replace it: choose another path or remove it yourself")
        }
        guard let found = OutputKind.allCases.first(where: { marker.contains("\"kind\": \"\($0.rawValue)\"") }) else {
            throw OutputError(path: path, "has an unreadable \(markerFile) marker; refusing to replace it")
        }
        guard found == kind else {
            throw OutputError(path: path, "holds a LongMix \(found.rawValue) output, not a \(kind.rawValue); refusing to replace it")
        }
    }

    /// Refuses (throws) unless `path` may be written as a file: absent, or a regular file when
    /// `existing` is `.replace`; and not overlapping any input. Also removes stale temporaries of
    /// `path`.
    public static func checkFile(_ path: String, existing: ExistingFile) throws {
        try InputFiles.refuseOverlap(path)
        var info = stat()
        if lstat(path, &info) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG:
                guard existing == .replace else { throw OutputError.existingFile(path) }
            case S_IFDIR: throw OutputError(path: path, "is a directory; refusing to replace it with a file")
            case S_IFLNK: throw OutputError(path: path, "is a symbolic link; refusing to replace it")
            default: throw OutputError(path: path, "is not a regular file; refusing to replace it")
            }
        }
        TemporaryFiles.removeStale(beside: path)
    }

    static func exists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}

/// What a file output may do with a regular file already at its path (see `OutputTarget`).
public enum ExistingFile: Sendable, Equatable {
    /// Refuse it: the default for every path a user names, since a file has no marker saying
    /// LongMix wrote it. The refusal holds until the file is in place (`AtomicFileWriter.commit`
    /// links it without replacing), so a file appearing during the run is not overwritten either.
    case refuse
    /// Replace it: the user passed `--force`, or the path lies in a directory the command owns
    /// (a build directory's plan, written by whichever task gets there first).
    case replace
}

/// The files and directories this process reads (shards, tokenizer, index, mixture, test sets),
/// registered where they are opened or expanded, so that `OutputTarget` can refuse outputs that
/// overlap them. Paths are compared after resolving symbolic links and `..`.
public enum InputFiles {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var inputs: [String: String] = [:]

    /// Records `paths` (as given, resolved) as inputs of this process.
    public static func register(_ paths: [String]) {
        let resolved = paths.map { ($0, canonical($0)) }
        lock.lock()
        for (given, path) in resolved { inputs[path] = given }
        lock.unlock()
    }

    /// Throws if `output` is an input, lies inside an input directory, or contains an input.
    public static func refuseOverlap(_ output: String) throws {
        let out = canonical(output)
        lock.lock()
        let all = inputs
        lock.unlock()
        for (input, given) in all {
            if input == out {
                throw OutputError(path: output, "is an input of this run (\(given)); refusing to overwrite it")
            }
            if input.hasPrefix(out == "/" ? "/" : out + "/") {
                throw OutputError(path: output, "contains an input of this run (\(given)); refusing to write there")
            }
            if out.hasPrefix(input + "/") {
                throw OutputError(path: output, "lies inside an input directory of this run (\(given)); refusing to write there")
            }
        }
    }

    /// The absolute path with symbolic links and `.`/`..` resolved; for a path that does not exist
    /// yet, its deepest existing ancestor resolved and the rest appended.
    public static func canonical(_ path: String) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var head = URL(fileURLWithPath: absolute).standardized.path
        var tail: [String] = []
        while true {
            if let resolved = realpath(head, nil) {
                defer { free(resolved) }
                let base = String(cString: resolved)
                return tail.isEmpty ? base : (base == "/" ? "" : base) + "/" + tail.reversed().joined(separator: "/")
            }
            let url = URL(fileURLWithPath: head)
            if head == "/" || head.isEmpty { return absolute }
            tail.append(url.lastPathComponent)
            head = url.deletingLastPathComponent().path
        }
    }
}

/// An output LongMix refuses to write (it would replace or overlap something it does not own),
/// or could not publish. Names the path.
public struct OutputError: Error, CustomStringConvertible, Sendable {
    public var path: String
    public var message: String
    public init(path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { "\(path): \(message)" }

    /// The refusal of an existing file without `--force`.
    public static func existingFile(_ path: String) -> OutputError {
        OutputError(path: path, "exists; refusing to overwrite a file LongMix cannot tell it wrote: pass --force to replace it, or choose another path")
    }
}
