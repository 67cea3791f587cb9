import ArgumentParser

/// `--keep-going`: every command that reads input takes it, with this one meaning.
struct KeepGoingOption: ParsableArguments {
    @Flag(name: .customLong("keep-going"),
          help: "Skip bad records and unreadable files, counting them by reason, instead of stopping at the first.")
    var keepGoing = false
}
