import ArgumentParser

/// `-o/--output` where it is optional (the command writes to standard output, or writes less).
struct OutputOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Where to write, atomically (what is written, and what happens without it: see the description above).")
    var output: String?
}

/// `-o/--output` where a command must be told where to write.
struct RequiredOutputOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Where to write, atomically (what is written: see the description above).")
    var output: String
}
