import ArgumentParser

/// The `longmix` command tree. `Sources/longmix/main.swift` runs it; tests parse against it.
public struct LongMix: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "longmix",
        abstract: "Build long-context (32K-token) training data: read, tokenize, decontaminate, mix, pack; train a reference LLaMA on it.",
        subcommands: [
            StatsCommand.self,
            CatCommand.self,
            TokenizeCommand.self,
            DetokenizeCommand.self,
            DecontamCommand.self,
            PlanCommand.self,
            BuildCommand.self,
            CountCommand.self,
            MergeCommand.self,
            StatusCommand.self,
            InspectCommand.self,
            TasksCommand.self,
            ScoreCommand.self,
            TrainCommand.self,
            LossCommand.self,
            EvalCommand.self,
            GenerateCommand.self,
        ]
    )

    public init() {}
}
