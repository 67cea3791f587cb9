import ArgumentParser
import LongMixCore
import ShardIO

/// What every command that reads shard records into documents shares: the text and id fields,
/// grouping, bad-record handling and the longest line. Commands add their own positional inputs
/// (`ShardOptions` for the common `SHARDS...` form).
struct ReadingOptions: ParsableArguments {
    @OptionGroup var text: TextOptions

    @Option(name: .customLong("group-field"), help: "Field path grouping records, e.g. meta.task_name.")
    var groupField: String?

    @OptionGroup var keepGoing: KeepGoingOption

    @Option(name: .customLong("max-line-mb"), help: "Longest accepted line, in MiB.")
    var maxLineMB: Int = 64

    func validate() throws {
        guard maxLineMB >= 1 else { throw ValidationError("--max-line-mb must be at least 1") }
    }

    func readerOptions(progress: ProgressMeter? = nil) throws -> ReaderOptions {
        var options = ReaderOptions(text: try text.selector(), idField: text.idField.map(FieldPath.init),
                                    groupField: groupField.map(FieldPath.init),
                                    skipBadRecords: keepGoing.keepGoing, maxLineBytes: maxLineMB << 20)
        options.progress = progress
        return options
    }
}

/// `SHARDS...` plus the reading options.
struct ShardOptions: ParsableArguments {
    @Argument(help: "Shard files (.jsonl, .jsonl.zst, .jsonl.gz), directories or glob patterns.")
    var shards: [String]

    @OptionGroup var reading: ReadingOptions

    func makeReader(source: String = "input") throws -> DocumentReader {
        DocumentReader(paths: try ShardPaths.expand(shards), source: source, options: try reading.readerOptions())
    }
}

/// Prints what a reader skipped, so nothing is dropped without a word.
func printSkipped(_ reader: DocumentReader, to stream: inout some TextOutputStream) {
    printSkipped(reader.counts, firstErrors: reader.firstErrors, to: &stream)
}

/// Says, for each file that failed part-way, that the records after its failure point are
/// unknown: the record counts printed are those before it, not the file's.
func printUnreadTails(_ tails: [UnreadTail], to stream: inout some TextOutputStream) {
    guard !tails.isEmpty else { return }
    print("records unknown (not counted; the counts above stop at each failure point) in \(tails.count) file\(tails.count == 1 ? "" : "s"):", to: &stream)
    for tail in tails.prefix(20) { print("  \(tail)", to: &stream) }
    if tails.count > 20 { print("  ... and \(tails.count - 20) more files", to: &stream) }
}

/// Prints skipped records and unreadable files by reason, where each unreadable file stopped,
/// and the first few errors.
func printSkipped(_ c: ReadCounts, firstErrors: [InputError], to stream: inout some TextOutputStream) {
    guard c.skippedTotal > 0 || !c.failedFiles.isEmpty else { return }
    print("skipped \(c.skippedTotal) of \(c.records) records: "
          + c.skipped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "), to: &stream)
    if !c.failedFiles.isEmpty {
        print("files not read to the end: "
              + c.failedFiles.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "), to: &stream)
    }
    printUnreadTails(c.unreadTails, to: &stream)
    for error in firstErrors.prefix(5) { print("  \(error)", to: &stream) }
}
