import ArgumentParser
import ShardIO

/// `--force`: whether a command's file outputs may replace existing files. A file carries no
/// marker saying LongMix wrote it, so without `--force` every file output that already exists
/// is refused (`OutputTarget.checkFile`); with it, an existing regular file is replaced. A
/// directory, a symbolic link or an input of the run is refused either way, and directory outputs
/// (packs, cleaned shards, training runs) follow their markers instead and take no `--force`.
struct ForceOption: ParsableArguments {
    @Flag(help: "Replace existing files at this command's file outputs (refused without it); never a directory, a link or an input.")
    var force = false

    /// The policy handed to the writers.
    var existing: ExistingFile { force ? .replace : .refuse }
}

/// `-o/--output FILE` where it is optional (the command writes to standard output, or writes
/// less), with `--force`.
struct OutputOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Where to write, atomically (what is written, and what happens without it: see the description above); an existing file needs --force.")
    var output: String?

    @OptionGroup var force: ForceOption
    var existing: ExistingFile { force.existing }
}

/// `-o/--output FILE` where a command must be told where to write, with `--force`.
struct RequiredOutputOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "Where to write, atomically (what is written: see the description above); an existing file needs --force.")
    var output: String

    @OptionGroup var force: ForceOption
    var existing: ExistingFile { force.existing }
}

/// `-o/--output DIR`: a LongMix output directory, written only where it is absent, empty or a
/// LongMix output of the same kind (`OutputTarget`); no `--force`.
struct OutputDirectoryOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The output directory (what is written: see the description above): absent, empty, or this command's own earlier output.")
    var output: String?
}

/// `-o/--output DIR` where a command must be told its output directory (same rules as
/// `OutputDirectoryOption`).
struct RequiredOutputDirectoryOption: ParsableArguments {
    @Option(name: .shortAndLong, help: "The output directory (what is written: see the description above): absent, empty, or this command's own earlier output.")
    var output: String
}
