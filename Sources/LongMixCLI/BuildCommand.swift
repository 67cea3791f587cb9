import ArgumentParser
import Foundation
import LongMixCore
import Mixing
import Packing
import Pipeline
import ShardIO

/// Options shared by `build` and `plan`: the mixture and what may override it.
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

    func load() throws -> MixtureSpec {
        try MixtureSpec.load(path: mixture, dataRoot: dataRoot, tokenizer: tokenizer)
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

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a mixture into a pack directory: read, tokenize, filter, decontaminate, mix, pack.",
        discussion: "-o/--output is the pack directory. Writes tokens.bin, loss_mask.bin, segments.bin, segment_index.bin, documents.jsonl and manifest.json (see README), atomically.")

    @OptionGroup var mixture: MixtureOptions

    @OptionGroup var outputOption: RequiredOutputOption
    var output: String { outputOption.output }

    @Option(help: "Also export each source's filtered documents as a Megatron-LM indexed dataset (.bin/.idx) here.")
    var megatron: String?

    func run() throws {
        let spec = try mixture.load()
        let options = try mixture.buildOptions(spec: spec, label: "build \(spec.name)", output: output, megatron: megatron)
        let build = try MixtureBuild(spec: spec, options: options)
        let result = try build.run()
        options.progress?.finish()
        print(BuildSummary.table(result.manifest))
        print(String(format: "%d sequences of %d tokens in %@ (%.1f s, %.1f MB/s of text)", result.manifest.sequences,
                     spec.seqLen, output, result.seconds, Double(result.textBytes) / 1e6 / max(result.seconds, 1e-9)))
        if let megatron { print("Megatron datasets in \(megatron); --data-path: \(try String(contentsOfFile: megatron + "/data_path.txt", encoding: .utf8))", terminator: "") }
    }
}

struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Count what each source offers after filtering and decontamination, and the sampling rate each needs.")

    @OptionGroup var mixture: MixtureOptions

    func run() throws {
        let spec = try mixture.load()
        let options = try mixture.buildOptions(spec: spec, label: "plan \(spec.name)")
        let build = try MixtureBuild(spec: spec, options: options)
        let result = try build.run()
        options.progress?.finish()
        print(BuildSummary.planTable(result.manifest, targets: result.targets, seqLen: spec.seqLen))
    }
}
