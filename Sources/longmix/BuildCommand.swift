import ArgumentParser
import Foundation
import Mixing
import Packing
import Pipeline

/// Options shared by `build` and `plan`: the mixture and what may override it.
struct MixtureOptions: ParsableArguments {
    @Argument(help: "The mixture file (YAML), e.g. Mixtures/pretrain-32k.yaml.")
    var mixture: String

    @Option(name: .customLong("data-root"), help: "Directory the mixture's shard paths are relative to (overrides data_root).")
    var dataRoot: String?

    @Option(help: "Tokenizer file to use instead of the mixture's (tokenizer.model or tokenizer.json).")
    var tokenizer: String?

    @Option(help: "Worker threads for tokenizing and scanning (output does not depend on it).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .customLong("keep-going"), help: "Skip bad records, counting them by reason, instead of stopping.")
    var keepGoing = false

    func load() throws -> MixtureSpec {
        try MixtureSpec.load(path: mixture, dataRoot: dataRoot, tokenizer: tokenizer)
    }
}

struct BuildCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build a mixture into a pack directory: read, tokenize, filter, decontaminate, mix, pack.",
        discussion: "Writes tokens.bin, loss_mask.bin, segments.bin, segment_index.bin, documents.jsonl and manifest.json (see README), atomically.")

    @OptionGroup var mixture: MixtureOptions

    @Option(name: .shortAndLong, help: "The pack directory to write.")
    var output: String

    @Option(help: "Also export each source's filtered documents as a Megatron-LM indexed dataset (.bin/.idx) here.")
    var megatron: String?

    func run() throws {
        let spec = try mixture.load()
        let build = try MixtureBuild(spec: spec, options: .init(
            threads: mixture.threads, output: output, megatronDirectory: megatron, skipBadRecords: mixture.keepGoing,
            progress: isatty(2) != 0))
        let result = try build.run()
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
        let build = try MixtureBuild(spec: spec, options: .init(threads: mixture.threads, skipBadRecords: mixture.keepGoing,
                                                                progress: isatty(2) != 0))
        let result = try build.run()
        print(BuildSummary.planTable(result.manifest, targets: result.targets, seqLen: spec.seqLen))
    }
}
