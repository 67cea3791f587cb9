import ArgumentParser
import Model
import Evaluation
import Tokenization

/// `longmix generate`: a completion of one prompt by a checkpoint, with a key/value cache.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Complete a prompt with a checkpoint (greedy, or temperature / top-p sampling; key/value cache).",
        discussion: "The prompt is encoded with BOS; generation stops at EOS, at --max-tokens, or (by default) at the first newline.")

    @OptionGroup var model: GenerationModelOptions

    @Option(help: "The prompt text (\\n and \\t stand for newline and tab).")
    var prompt: String

    @OptionGroup var sampling: SamplingOptionGroup

    func run() throws {
        try loadOpenBLAS(threads: model.threadOptions.threads)  // once per process, before any model runs
        let tokenizer = try Tokenizer.load(path: model.tokenizer)
        let generator = try CompletionGenerator(checkpoint: model.checkpoint, tokenizer: tokenizer, context: model.context,
                                                ropeFactor: model.ropeFactor)
        let text = prompt.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\t", with: "\t")
        let completion = try generator.generate(prompt: tokenizer.encode(Array(text.utf8), addBOS: true), options: sampling.options)
        print(completion.text)
        var err = StandardError()
        print("[\(completion.ids.count) tokens, stopped at \(completion.stop.rawValue)"
              + (completion.promptTokensCut > 0 ? ", \(completion.promptTokensCut) prompt tokens cut at the front" : "") + "]", to: &err)
    }
}
