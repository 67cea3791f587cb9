#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import LongMixCore

/// Turns what a user names (files, directories, glob patterns) into a list of shard files in a
/// stable order, the same on every machine: the key to job-array task splits.
public enum ShardPaths {
    /// File names recognised as shards inside directories.
    public static let shardSuffixes = [".jsonl", ".jsonl.zst", ".jsonl.zstd", ".jsonl.gz", ".json.zst", ".json.gz"]

    /// Expands each pattern in turn: a file stands for itself; a directory for every shard file
    /// below it (recursively); a pattern with `*`, `?` or `[` for its glob(3) matches. Each
    /// pattern's files are sorted by path (byte order); duplicates after the first are dropped.
    /// A pattern that matches nothing is an error, so a typo never builds from less data silently.
    /// The summed sizes of `paths` on disk (compressed bytes, as a progress meter counts them);
    /// a file that cannot be stat'ed counts 0 (reading it reports the error).
    public static func totalBytes(_ paths: [String]) -> Int {
        paths.reduce(0) { sum, path in
            var info = stat()
            return sum + (stat(path, &info) == 0 ? Int(info.st_size) : 0)
        }
    }

    /// The patterns that exist and the files found are registered as inputs (`InputFiles`), so no
    /// output of the run may overlap them.
    public static func expand(_ patterns: [String]) throws -> [String] {
        var result: [String] = []
        var seen = Set<String>()
        for pattern in patterns {
            var matches: [String] = []
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: pattern, isDirectory: &isDirectory) {
                matches = isDirectory.boolValue ? try shardsBelow(pattern) : [pattern]
            } else if pattern.contains(where: { "*?[".contains($0) }) {
                matches = glob(pattern)
            }
            guard !matches.isEmpty else {
                throw InputError.file(pattern, reason: .noShards,
                                      FileManager.default.fileExists(atPath: pattern)
                                          ? "directory holds no shard files (\(shardSuffixes.joined(separator: ", ")))"
                                          : "no such file, and no file matches it as a pattern")
            }
            for path in matches.sorted(by: { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) })
            where seen.insert(path).inserted {
                result.append(path)
            }
            if FileManager.default.fileExists(atPath: pattern) { InputFiles.register([pattern]) }
        }
        InputFiles.register(result)
        return result
    }

    /// The deterministic subset of `paths` for task `index` of `count` (Slurm array style):
    /// shard j goes to task j mod count.
    public static func subset(_ paths: [String], task index: Int, of count: Int) -> [String] {
        precondition(count > 0 && index >= 0 && index < count, "task index must be in 0..<count")
        return paths.enumerated().filter { $0.offset % count == index }.map(\.element)
    }

    /// A stable name for a shard inside its source: its path relative to the deepest directory
    /// that holds all of the source's shards (so moving the data directory changes no document id).
    public static func relativeNames(_ paths: [String]) -> [String] {
        guard paths.count > 1 else { return paths.map { ($0 as NSString).lastPathComponent } }
        var common = paths[0].split(separator: "/", omittingEmptySubsequences: false).dropLast()
        for path in paths.dropFirst() {
            let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropLast()
            var n = 0
            while n < common.count && n < parts.count && common[common.startIndex + n] == parts[parts.startIndex + n] { n += 1 }
            common = common.prefix(n)
        }
        let prefix = common.count
        return paths.map { path in
            path.split(separator: "/", omittingEmptySubsequences: false).dropFirst(prefix).joined(separator: "/")
        }
    }

    /// A shard's name for default document ids: its path relative to `root` when it lies below
    /// `root` (both standardized), else its full standardized path.
    public static func name(of path: String, relativeTo root: String) -> String {
        let file = URL(fileURLWithPath: path).standardized.path
        var base = URL(fileURLWithPath: root).standardized.path
        if !base.hasSuffix("/") { base += "/" }
        return file.hasPrefix(base) ? String(file.dropFirst(base.count)) : file
    }

    private static func shardsBelow(_ directory: String) throws -> [String] {
        guard let enumerator = FileManager.default.enumerator(atPath: directory) else {
            throw InputError.file(directory, reason: .unreadableFile, "cannot list directory")
        }
        var files: [String] = []
        let base = directory.hasSuffix("/") ? String(directory.dropLast()) : directory
        while let relative = enumerator.nextObject() as? String {
            if shardSuffixes.contains(where: { relative.hasSuffix($0) }) {
                files.append(base + "/" + relative)
            }
        }
        return files
    }

    private static func glob(_ pattern: String) -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        guard Glibc.glob(pattern, 0, nil, &g) == 0 else { return [] }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }
    }
}
