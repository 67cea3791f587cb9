import ArgumentParser

/// `--index`: the decontamination index database, one name in `decontam index`, `scan` and `report`.
struct IndexOption: ParsableArguments {
    @Option(help: "The n-gram index database (SQLite) made by `longmix decontam index`.")
    var index: String
}
