import ArgumentParser
import LongMixCore
import ShardIO

/// The options every command that reads shards shares: which files, how text is made, and what
/// to do with bad records.
struct ShardOptions: ParsableArguments {
    @Argument(help: "Shard files (.jsonl, .jsonl.zst, .jsonl.gz), directories or glob patterns.")
    var shards: [String]

    @Option(help: "Field path holding the text, e.g. text or meta.title.")
    var field: String = "text"

    @Option(help: ArgumentHelp("Template over several fields instead of --field, e.g. '{definition}\\n\\n{inputs}'.",
                               discussion: "\\n and \\t in the template stand for newline and tab."))
    var template: String?

    @Option(name: .customLong("id-field"), help: "Field path holding the record's own id (default: shard:line).")
    var idField: String?

    @Option(name: .customLong("group-field"), help: "Field path grouping records, e.g. meta.task_name.")
    var groupField: String?

    @Flag(name: .customLong("keep-going"), help: "Skip bad records and files, counting them by reason, instead of stopping.")
    var keepGoing = false

    @Option(name: .customLong("max-line-mb"), help: "Longest accepted line, in MiB.")
    var maxLineMB: Int = 64

    func readerOptions() throws -> ReaderOptions {
        let text: TextSelector
        if let template {
            let unescaped = template.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\t", with: "\t")
            text = try TextSelector.template(unescaped)
        } else {
            text = .field(field)
        }
        return ReaderOptions(text: text, idField: idField.map(FieldPath.init), groupField: groupField.map(FieldPath.init),
                             skipBadRecords: keepGoing, maxLineBytes: maxLineMB << 20)
    }

    func makeReader(source: String = "input") throws -> DocumentReader {
        DocumentReader(paths: try ShardPaths.expand(shards), source: source, options: try readerOptions())
    }
}

/// Prints what a reader skipped, so nothing is dropped without a word.
func printSkipped(_ reader: DocumentReader, to stream: inout some TextOutputStream) {
    let c = reader.counts
    guard c.skippedTotal > 0 || !c.failedFiles.isEmpty else { return }
    print("skipped \(c.skippedTotal) of \(c.records) records: "
          + c.skipped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "), to: &stream)
    if !c.failedFiles.isEmpty {
        print("files not read to the end: "
              + c.failedFiles.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "), to: &stream)
    }
    for error in reader.firstErrors.prefix(5) { print("  \(error)", to: &stream) }
}
