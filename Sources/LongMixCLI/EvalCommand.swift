import ArgumentParser

/// `longmix eval`: evaluations of reference-model checkpoints.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate checkpoints: perplexity per byte across contexts; generated task answers, scored.",
        subcommands: [EvalPerplexityCommand.self, EvalTasksCommand.self]
    )
}
