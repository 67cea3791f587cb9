import ArgumentParser

/// `-o/--output` where a command may write to standard output instead.
struct OutputOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Where to write (written atomically; see the command's description); standard output when absent.")
    var output: String?
}

/// `-o/--output` where a command must be told where to write.
struct RequiredOutputOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Where to write (written atomically; see the command's description).")
    var output: String
}
