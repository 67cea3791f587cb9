import ArgumentParser
import Tasks
import Tokenization

/// `longmix tasks`: long-context fine-tuning tasks written as prompt/completion JSONL.
struct TasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "Build long-context task data (prompt, completion, text JSONL) for fine-tuning and evaluation.",
        discussion: "-o/--output is the task JSONL (.jsonl or .jsonl.zst).",
        subcommands: [TasksMQACommand.self, TasksBookSumCommand.self]
    )
}

/// Options every task builder shares.
struct TaskIOOptions: ParsableArguments {
    @Argument(help: "Input files, directories or glob patterns (.jsonl, .jsonl.zst, .jsonl.gz).")
    var inputs: [String]

    @OptionGroup var outputOption: RequiredOutputOption
    var output: String { outputOption.output }

    @OptionGroup var keepGoing: KeepGoingOption

    @Option(help: "Tokenizer (SentencePiece .model or tokenizer.json): adds token_count (tokens of text, no BOS/EOS).")
    var tokenizer: String?

    func makeBuilder() throws -> TaskFileBuilder {
        TaskFileBuilder(skipBadRecords: keepGoing.keepGoing, tokenizer: try tokenizer.map { try Tokenizer.load(path: $0) })
    }
}

extension TaskBuildSummary {
    /// Prints what was read, written and dropped; the counts add up.
    func printReport(output: String) {
        print("records read: \(counts.documentsRead) (files \(files), blank lines \(blankLines))")
        print("records kept: \(counts.documentsKept)")
        for (reason, n) in counts.documentsDropped.sorted(by: { $0.key < $1.key }) {
            print("records dropped [\(reason)]: \(n)")
        }
        print("examples written: \(counts.unitsKept) -> \(output)")
        if let tokens { print("tokens (text): \(tokens)") }
        if !firstErrors.isEmpty {
            print("first errors:")
            for error in firstErrors { print("  \(error)") }
        }
    }
}
