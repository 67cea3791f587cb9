import ArgumentParser
import Foundation
import Decontamination
import ShardIO

/// `longmix decontam index`: imports test sets into an n-gram index.
struct DecontamIndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Import HELM scenario exports or plain JSONL test sets into an n-gram index.",
        discussion: """
            Input lines are HELM exports ({"scenario_key": {...}, "instances": [{input, references, id}]}) \
            or plain ({"scenario", "split", "id", "text", optional "part"}). The index records its n \
            and normalization; re-importing the same file adds nothing. The index database is created \
            when missing.
            """
    )

    @OptionGroup var indexOption: IndexOption
    var index: String { indexOption.index }

    @OptionGroup var keepGoing: KeepGoingOption
    @OptionGroup var progress: ProgressOptions

    @OptionGroup var protocolOptions: ProtocolOptions

    @Option(help: "Comma-separated splits to index (HELM evaluates valid and test); 'all' for every split.")
    var splits = "valid,test"

    @Argument(help: "Test-set files, directories or globs (.jsonl, .jsonl.zst, .jsonl.gz).")
    var inputs: [String]

    func run() throws {
        let parameters = try protocolOptions.parameters()
        let files = try ShardPaths.expand(inputs)
        let splitSet: Set<String>? = splits == "all"
            ? nil : Set(splits.split(separator: ",").map { String($0.trimmingCharacters(in: .whitespaces)) })
        let database = try DecontaminationIndex.openOrCreate(path: index, n: parameters.n,
                                                             normalization: parameters.normalization)
        let clock = ContinuousClock()
        let start = clock.now
        var ledger = RecordLedger(skipBadRecords: keepGoing.keepGoing)
        let meter = progress.meter("index", totalBytes: ShardPaths.totalBytes(files))
        // Every file is read first and added in one transaction: all of them, or (on an error) none.
        let instances = try files.flatMap { try TestSetReader.read(path: $0, ledger: &ledger, progress: meter) }
        let total = try database.add(instances, splits: splitSet)
        meter?.finish()
        try database.checkpoint()
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        let (rows, distinct) = try database.ngramCounts()
        let size = (try? FileManager.default.attributesOfItem(atPath: index)[.size] as? Int) ?? 0
        print("index \(index): \(parameters.n)-grams, \(parameters.normalization) normalization")
        print("files \(files.count), instances read \(total.instancesRead), added \(total.instancesAdded), "
              + "skipped (split) \(total.instancesSkippedSplit), texts shorter than n words \(total.partsTooShort)")
        print("n-gram rows added \(total.ngramsAdded) in \(String(format: "%.2f", seconds)) s "
              + "(\(String(format: "%.0f", Double(total.ngramsAdded) / max(seconds, 1e-9))) rows/s)")
        print("index now \(rows) n-gram rows, \(distinct) distinct n-grams, database \(size) bytes "
              + "(\(String(format: "%.1f", Double(size) / Double(max(rows, 1)))) bytes/row)")
        var err = StandardError()
        printSkipped(ledger.counts, firstErrors: ledger.firstErrors, to: &err)
    }
}
