import ArgumentParser
import Foundation
import Decontamination
import LongMixCore
import ShardIO

/// `longmix decontam scan`: scans shards against an index under a protocol.
struct DecontamScanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scan",
        abstract: "Scan training shards against an index; write cleaned shards, a report and a summary.",
        discussion: """
            The index's n and normalization must equal the protocol's (after overrides). The gpt3 \
            protocol reads the input twice (counting pass over this scan's inputs: n-grams in more \
            than 10 of them are ignored; scan all sources together to count over a whole mixture); \
            together reads grouped input twice (a group with any hit is dropped whole). \
            -o/--output is the directory for cleaned shards (same relative names as the inputs; none when \
            omitted). Cleaned records are {"id", "source", "text"} (+ "group", + "piece" for GPT-3 pieces).
            """
    )

    @OptionGroup var indexOption: IndexOption

    @OptionGroup var protocolOptions: ProtocolOptions

    @Option(help: "GPT-3 cutting: characters removed on each side of a hit.")
    var window: Int?
    @Option(help: "GPT-3 cutting: pieces shorter than this many characters are dropped.")
    var minPiece: Int?
    @Option(help: "GPT-3 cutting: documents split into more pieces than this are dropped.")
    var maxPieces: Int?
    @Option(help: "Ignore n-grams found in more than this many training documents (gpt3 default 10; 0 disables).")
    var maxDocumentFrequency: Int?
    @Flag(help: "Do not drop whole groups (together protocol).")
    var noGroupDrop = false

    @Option(help: "Source name written into records and the report.")
    var source = "input"
    @OptionGroup var reading: ReadingOptions
    @OptionGroup var progress: ProgressOptions

    @OptionGroup var output: OutputDirectoryOption
    @OptionGroup var force: ForceOption
    @Option(help: "Report JSONL: one row per matched run of n-grams and test instance part.")
    var report: String
    @Option(help: "Per-scenario summary JSONL in HELM's terms.")
    var summary: String?

    @Argument(help: "Training shards, directories or globs (.jsonl, .jsonl.zst, .jsonl.gz).")
    var inputs: [String]

    func run() throws {
        var parameters = try protocolOptions.parameters()
        if case let .cutWindows(w, m, p) = parameters.action {
            parameters.action = .cutWindows(window: window ?? w, minimumPieceLength: minPiece ?? m,
                                            maximumPieces: maxPieces ?? p)
        } else if window != nil || minPiece != nil || maxPieces != nil {
            throw ValidationError("--window, --min-piece and --max-pieces apply to the gpt3 protocol only")
        }
        if let maxDocumentFrequency {
            parameters.maximumDocumentFrequency = maxDocumentFrequency > 0 ? maxDocumentFrequency : nil
        }
        if noGroupDrop { parameters.dropWholeGroup = false }
        let files = try ShardPaths.expand(inputs)
        let database = try DecontaminationIndex.open(path: indexOption.index)
        var job = ScanJob(inputs: files, source: source, readerOptions: try reading.readerOptions(),
                          parameters: parameters, outputDirectory: output.output, reportPath: report, summaryPath: summary)
        job.existingFiles = force.existing
        job.readerOptions.progress = progress.meter("scan", totalBytes: ShardPaths.totalBytes(files) * job.passes)
        let outcome = try job.run(index: database)
        job.readerOptions.progress?.finish()
        let counts = outcome.counts
        let megabytes = Double(counts.unitsRead) / 1e6
        print("protocol \(protocolOptions.protocol): \(parameters.n)-grams, \(parameters.normalization) normalization, "
              + "index \(outcome.indexNGrams) n-grams (loaded in \(format(outcome.indexLoadSeconds)) s)")
        let drops = counts.documentsDropped.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        print("documents read \(counts.documentsRead), kept \(counts.documentsKept), dropped "
              + "\(counts.totalDocumentsDropped)" + (drops.isEmpty ? "" : " (" + drops.joined(separator: ", ") + ")"))
        print("text bytes read \(counts.unitsRead), kept \(counts.unitsKept), dropped \(counts.totalUnitsDropped); "
              + "documents with hits \(outcome.documentsWithHits), GPT-3 pieces \(outcome.piecesWritten), "
              + "report rows \(outcome.reportRows)")
        if outcome.reading.skippedTotal > 0 {
            print("records skipped: " + outcome.reading.skipped.sorted { $0.key < $1.key }
                .map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        if !outcome.reading.failedFiles.isEmpty {
            print("files not read to the end: " + outcome.reading.failedFiles
                .sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
            var tails = ""
            printUnreadTails(outcome.reading.unreadTails, to: &tails)
            print(tails, terminator: "")
        }
        if !outcome.shardsWithheld.isEmpty {
            print("cleaned shards withheld (their input is incomplete): " + outcome.shardsWithheld.joined(separator: ", "))
        }
        if parameters.maximumDocumentFrequency != nil {
            print("n-grams ignored as frequent (in > \(parameters.maximumDocumentFrequency!) documents): \(outcome.frequentNGrams)")
        }
        if !outcome.dirtyGroups.isEmpty {
            print("groups dropped whole: \(outcome.dirtyGroups.count) (" + outcome.dirtyGroups.prefix(10)
                .map(\.description).joined(separator: ", ") + (outcome.dirtyGroups.count > 10 ? ", ..." : "") + ")")
        }
        print("scan \(format(outcome.scanSeconds)) s (\(format(megabytes / max(outcome.scanSeconds, 1e-9))) MB/s of text); "
              + "main pass with reading and writing \(format(outcome.mainPassSeconds)) s "
              + "(\(format(megabytes / max(outcome.mainPassSeconds, 1e-9))) MB/s); pre-passes \(format(outcome.prePassSeconds)) s")
        let overlapping = outcome.summary.filter {
            !$0.instanceIDsWithOverlappingInput.isEmpty || !$0.instanceIDsWithOverlappingReference.isEmpty
        }
        if !overlapping.isEmpty { print(OverlapSummary.table(overlapping)) }
    }

    private func format(_ value: Double) -> String { String(format: "%.2f", value) }
}
