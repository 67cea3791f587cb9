import ArgumentParser
import Foundation
import LongMixCore
import Mixing
import Packing
import Pipeline
import ShardIO

/// Options shared by `build`, `plan` and `count`: the mixture and what may override it.
struct MixtureOptions: ParsableArguments {
    @Argument(help: "The mixture file (YAML), e.g. Mixtures/pretrain-32k.yaml.")
    var mixture: String

    @Option(name: .customLong("data-root"), help: "Directory the mixture's shard paths are relative to (overrides data_root).")
    var dataRoot: String?

    @Option(help: "Tokenizer file to use instead of the mixture's (tokenizer.model or tokenizer.json).")
    var tokenizer: String?

    @OptionGroup var threads: ThreadOptions
    @OptionGroup var keepGoing: KeepGoingOption
    @OptionGroup var progress: ProgressOptions

    /// The mixture, with its tokenizer checked to exist (a clear error naming the key otherwise).
    func load() throws -> MixtureSpec {
        let spec = try MixtureSpec.load(path: mixture, dataRoot: dataRoot, tokenizer: tokenizer)
        try spec.requireTokenizer()
        return spec
    }

    /// The meter over every source's shard files, labelled `label`.
    func meter(_ label: String, spec: MixtureSpec) throws -> ProgressMeter? {
        let files = try spec.sources.flatMap { try ShardPaths.expand($0.paths) }
        return progress.meter(label, totalBytes: ShardPaths.totalBytes(files))
    }

    func buildOptions(spec: MixtureSpec, label: String, output: String? = nil,
                      megatron: String? = nil) throws -> MixtureBuild.Options {
        .init(threads: threads.threads, output: output, megatronDirectory: megatron,
              skipBadRecords: keepGoing.keepGoing, progress: try meter(label, spec: spec))
    }
}

/// Which task of a job array this process is.
struct TaskOptions: ParsableArguments {
    @Option(name: .customLong("task-index"), help: "This task's index, 0..<count (default: SLURM_ARRAY_TASK_ID, else 0).")
    var taskIndex: Int?

    @Option(name: .customLong("task-count"), help: "Number of tasks sharing the shards (default: SLURM_ARRAY_TASK_COUNT, else 1).")
    var taskCount: Int?

    func resolve() throws -> BuildTask { try BuildTask.resolve(index: taskIndex, count: taskCount) }
}

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a mixture into a pack directory: read, count, sample, tokenize, decontaminate, mix, pack.",
        discussion: """
            With -o: the whole build in this process; writes tokens.bin, loss_mask.bin, segments.bin, \
            segment_index.bin, documents.jsonl and manifest.json (see README), atomically. \
            With --build-dir and no -o: the tokenize stage of one task of a distributed build (after \
            `longmix count`; then `longmix merge`).
            """)

    @OptionGroup var mixture: MixtureOptions
    @OptionGroup var task: TaskOptions

    @Option(name: .shortAndLong, help: "The pack directory to write.")
    var output: String?

    @Option(name: .customLong("build-dir"), help: "The build directory of a distributed build (see `longmix count`).")
    var buildDir: String?

    @Flag(help: "Tokenize every document (the full pass) instead of sampling first; same pack, exact counts.")
    var exact = false

    @Option(help: "Also export each source's filtered documents as a Megatron-LM indexed dataset (.bin/.idx) here (implies --exact: every document is tokenized).")
    var megatron: String?

    func validate() throws {
        if output == nil && buildDir == nil { throw ValidationError("give -o PACK, or --build-dir DIR for one task of a distributed build") }
        if output != nil && (task.taskIndex != nil || task.taskCount != nil) {
            throw ValidationError("--task-index/--task-count are for --build-dir without -o (one task); -o builds everything here")
        }
    }

    func run() throws {
        let spec = try mixture.load()
        var options = try mixture.buildOptions(spec: spec, label: "build \(spec.name)", output: output, megatron: megatron)
        options.exact = exact || megatron != nil
        options.buildDirectory = buildDir
        // One task of many: the index is only read (imported once before the tasks).
        if output == nil { options.testSets = .never }
        let build = try MixtureBuild(spec: spec, options: options)
        guard let output else {
            let task = try task.resolve()
            let ran = try build.tokenize(task: task)
            options.progress?.finish()
            print(ran ? "tokenize \(task) done in \(buildDir!)" : "tokenize \(task) was already complete in \(buildDir!)")
            return
        }
        let result = try build.run()
        options.progress?.finish()
        print(BuildSummary.table(result.manifest))
        print(String(format: "%d sequences of %d tokens in %@ (%.1f s, %.1f MB/s of text read)", result.manifest.sequences,
                     spec.seqLen, output, result.seconds, Double(result.textBytes) / 1e6 / max(result.seconds, 1e-9)))
        print(BuildSummary.tokenizedLine(result.manifest, raises: result.raises))
        if let megatron { print("Megatron datasets in \(megatron); --data-path: \(try String(contentsOfFile: megatron + "/data_path.txt", encoding: .utf8))", terminator: "") }
    }
}

struct CountCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "count",
        abstract: "The counting stage of one task of a distributed build: read the task's shards, count, sample.",
        discussion: "Writes count/task-I-of-N.json into the build directory (and build.json on first use). Then `longmix build MIXTURE --build-dir DIR` per task, then `longmix merge DIR -o PACK`. The tasks only read the decontamination index: when the mixture names test_sets, import them once first with `longmix decontam index --mixture MIXTURE`.")

    @OptionGroup var mixture: MixtureOptions
    @OptionGroup var task: TaskOptions

    @Option(name: .customLong("build-dir"), help: "The build directory (created if missing).")
    var buildDir: String

    @Flag(help: "Plan to tokenize every document (the full pass).")
    var exact = false

    func run() throws {
        let spec = try mixture.load()
        var options = try mixture.buildOptions(spec: spec, label: "count \(spec.name)")
        options.exact = exact
        options.buildDirectory = buildDir
        options.testSets = .never
        let build = try MixtureBuild(spec: spec, options: options)
        let task = try task.resolve()
        let ran = try build.count(task: task)
        options.progress?.finish()
        print(ran ? "count \(task) done in \(buildDir)" : "count \(task) was already complete in \(buildDir)")
    }
}

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Select, pack and write the manifest from a build directory's parts.",
        discussion: "Needs every count and tokenize task complete (`longmix status DIR`). A source whose tokenized documents fall short is topped up here: the merge tokenizes only the documents between the old and a raised threshold.")

    @Argument(help: "The build directory.")
    var buildDir: String

    @Option(name: .shortAndLong, help: "The pack directory to write.")
    var output: String

    @OptionGroup var threads: ThreadOptions
    @OptionGroup var progress: ProgressOptions

    @Option(help: "Also export each source's filtered documents as a Megatron-LM indexed dataset here (exact builds only).")
    var megatron: String?

    func run() throws {
        // Progress shows a threshold raise's reading, if any.
        let meter = progress.meter("merge", totalBytes: 0)
        var options = MixtureBuild.Options(threads: threads.threads, output: output, megatronDirectory: megatron, progress: meter)
        options.testSets = .never
        let build = try MixtureBuild(directory: buildDir, options: options)
        let result = try build.merge(output: output)
        meter?.finish()
        print(BuildSummary.table(result.manifest))
        print(String(format: "%d sequences of %d tokens in %@ (merge %.1f s)", result.manifest.sequences, build.spec.seqLen, output, result.seconds))
        print(BuildSummary.tokenizedLine(result.manifest, raises: result.raises))
    }
}

struct StatusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Which tasks of a build directory are done, running (or stale: their process is gone) or missing.")

    @Argument(help: "The build directory.")
    var buildDir: String

    func run() throws {
        let directory = BuildDirectory(path: buildDir)
        let recipe = try BuildRecipe.load(directory)
        print("build of \(recipe.mixture)\(recipe.exact ? " (exact)" : "")")
        let stages = directory.status()
        if stages.isEmpty { print("no parts yet") }
        for stage in stages {
            var done: [Int] = [], running: [String] = [], stale: [String] = [], missing: [Int] = []
            for (i, state) in stage.states.enumerated() {
                switch state {
                case .done: done.append(i)
                case .running(let holder): running.append("\(i) (\(holder))")
                case .stale(let holder): stale.append("\(i) (\(holder), process gone)")
                case .missing: missing.append(i)
                }
            }
            print("\(stage.stage): \(done.count) of \(stage.taskCount) tasks done")
            if !running.isEmpty { print("  running: " + running.joined(separator: ", ")) }
            if !stale.isEmpty { print("  stale: " + stale.joined(separator: ", ")) }
            if !missing.isEmpty { print("  missing: " + BuildSummary.ranges(missing)) }
        }
        print(FileManager.default.fileExists(atPath: directory.planFile) ? "plan.json written" : "no plan yet")
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "What each source offers after filtering and decontamination, and the sampling rate each needs.",
        discussion: "By default from the counting pass (reads every document, tokenizes a sample): estimates, marked as such, with their error bound. --exact tokenizes everything for exact figures.")

    @OptionGroup var mixture: MixtureOptions

    @Flag(help: "Tokenize every document for exact figures.")
    var exact = false

    @Flag(help: "Print per source {name, tokens, errorBound, exact, target} as JSON instead of the table.")
    var json = false

    func run() throws {
        let spec = try mixture.load()
        let start = Date()
        var options = try mixture.buildOptions(spec: spec, label: "plan \(spec.name)")
        options.exact = exact
        let build = try MixtureBuild(spec: spec, options: options)
        defer { options.progress?.finish() }
        var rows: [[String: Any]] = []
        if exact {
            let result = try build.run()
            if !json { print(BuildSummary.planTable(result.manifest, targets: result.targets, seqLen: spec.seqLen)) }
            rows = zip(result.manifest.sources, result.targets).map {
                ["name": $0.name, "tokens": $0.tokensAvailable, "errorBound": 0, "exact": true, "target": $1.tokens]
            }
        } else {
            let plan = try build.estimate()
            if !json { print(BuildSummary.estimateTable(plan, spec: spec)) }
            rows = plan.sources.map {
                ["name": $0.name, "tokens": $0.estimatedTokens, "errorBound": $0.errorBound, "exact": $0.estimateIsExact,
                 "target": $0.estimatedTarget]
            }
        }
        let seconds = Date().timeIntervalSince(start)
        if json {
            let data = try JSONSerialization.data(withJSONObject: ["sources": rows, "seconds": seconds], options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "(%.1f s)", seconds))
        }
    }
}
