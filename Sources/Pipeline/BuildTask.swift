import Foundation
import LongMixCore
import Mixing
import ShardIO

/// Task `index` of `count`: which share of the shards one process (one Slurm array task) reads.
public struct BuildTask: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    public static let single = BuildTask(unchecked: 0, 1)

    public init(index: Int, count: Int) throws {
        guard count > 0, index >= 0, index < count else {
            throw ConfigurationError(key: "task-index", "task \(index) of \(count): the index must be in 0..<count and the count positive")
        }
        self.index = index
        self.count = count
    }

    private init(unchecked index: Int, _ count: Int) {
        self.index = index
        self.count = count
    }

    /// The task from explicit options, else from `SLURM_ARRAY_TASK_ID` / `SLURM_ARRAY_TASK_COUNT`
    /// (an array `--array=0-(N-1)`), else task 0 of 1.
    public static func resolve(index: Int?, count: Int?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> BuildTask {
        func env(_ name: String) throws -> Int? {
            guard let value = environment[name] else { return nil }
            guard let n = Int(value) else { throw ConfigurationError(key: name, "environment variable \(name)='\(value)' is not an integer") }
            return n
        }
        let i = try index ?? env("SLURM_ARRAY_TASK_ID") ?? 0
        let n = try count ?? env("SLURM_ARRAY_TASK_COUNT") ?? 1
        return try BuildTask(index: i, count: n)
    }

    /// `task-00003-of-00007`: the name of this task's parts and markers.
    public var name: String { String(format: "task-%05d-of-%05d", index, count) }
    public var description: String { "task \(index) of \(count)" }
}

/// Every shard of a mixture, numbered globally (source order, then each source's shard order),
/// and the deterministic partition of those numbers among tasks: shard g belongs to task
/// g mod N (datatrove's rank-strided split), so each task's share is fixed by the mixture alone.
public struct ShardLayout: Sendable {
    public struct Shard: Sendable {
        public var source: Int
        /// Global shard number: orders documents across tasks exactly as one reader would see them.
        public var number: Int
        public var path: String
    }

    /// Per source, its shards in reading order.
    public let shards: [[Shard]]

    public init(spec: MixtureSpec) throws {
        var number = 0
        var all: [[Shard]] = []
        for (s, source) in spec.sources.enumerated() {
            let paths = try ShardPaths.expand(source.paths)
            all.append(paths.map { path in
                defer { number += 1 }
                return Shard(source: s, number: number, path: path)
            })
        }
        shards = all
    }

    /// Source `source`'s shards that `task` reads.
    public func shards(of source: Int, for task: BuildTask) -> [Shard] {
        shards[source].filter { $0.number % task.count == task.index }
    }
}
