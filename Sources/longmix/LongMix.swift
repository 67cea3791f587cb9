import ArgumentParser
import ShardIO

@main
struct LongMix: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "longmix",
        abstract: "Build long-context (32K-token) training data: read, tokenize, decontaminate, mix, pack.",
        subcommands: [
            StatsCommand.self,
            CatCommand.self,
            TokenizeCommand.self,
            DetokenizeCommand.self,
            DecontamCommand.self,
            PlanCommand.self,
            BuildCommand.self,
            InspectCommand.self,
            TasksCommand.self,
            ScoreCommand.self,
        ]
    )

    /// Installs the SIGINT/SIGTERM cleanup of temporaries, then runs the command.
    static func main() {
        TemporaryFiles.installSignalCleanup()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}
