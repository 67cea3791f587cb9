import ArgumentParser
import Evaluation

/// How `generate` and `eval tasks` draw completions: one set of flags for both.
struct SamplingOptionGroup: ParsableArguments {
    @Option(help: "Most tokens to generate.")
    var maxTokens = 64

    @Option(help: "0 decodes greedily; otherwise logits are divided by it before sampling.")
    var temperature = 0.0

    @Option(help: "Nucleus sampling: draw from the smallest set of tokens whose probability reaches P.")
    var topP = 1.0

    @Option(help: "Seed of the sampling draws.")
    var seed: UInt64 = 0

    @Flag(inversion: .prefixedNo, help: "Stop at the first newline of the completion (the answer's first line).")
    var stopAtNewline = true

    func validate() throws {
        do { try options.validate() } catch let error as EvaluationError { throw ValidationError(error.description) }
    }

    var options: SamplingOptions {
        var o = SamplingOptions()
        o.maxTokens = maxTokens
        o.temperature = temperature
        o.topP = topP
        o.seed = seed
        o.stopAtNewline = stopAtNewline
        return o
    }
}

/// The checkpoint a command generates with, and its context.
struct GenerationModelOptions: ParsableArguments {
    @Option(help: "Checkpoint directory (model.safetensors + config.json).")
    var checkpoint: String

    @Option(help: "The tokenizer the checkpoint was trained with (SentencePiece .model or tokenizer.json).")
    var tokenizer: String

    @Option(help: "Tokens of context (prompt + completion); longer prompts keep their last tokens, and say so.")
    var context = 2048

    @Option(help: "Replace the checkpoint's linear RoPE (Position Interpolation) factor.")
    var ropeFactor: Double?

    @OptionGroup var threadOptions: ThreadOptions
}
