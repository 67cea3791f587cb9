import ArgumentParser
import Foundation
import Decontamination
import Mixing
import Pipeline
import ShardIO

/// `longmix decontam index`: imports test sets into an n-gram index, the one command that writes
/// to an index (builds, scans and the tasks of a distributed build only read it).
struct DecontamIndexCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Import HELM scenario exports or plain JSONL test sets into an n-gram index.",
        discussion: """
            Input lines are HELM exports ({"scenario_key": {...}, "instances": [{input, references, id}]}) \
            or plain ({"scenario", "split", "id", "text", optional "part"}). The index records its n \
            and normalization, and each file imported whole (by sha256); re-importing the same file \
            adds nothing. The index database is created when missing. \
            With --mixture MIXTURE instead of --index and files: imports the mixture's test_sets into \
            its decontamination index with its protocol (valid and test splits), only the files the \
            index does not hold yet; run it once before the tasks of a distributed build (`longmix \
            slurm` does), which only read the index.
            """
    )

    @Option(help: "The n-gram index database (SQLite) to create or add to.")
    var index: String?

    @Option(help: "Import the test_sets of this mixture file into its index, with its protocol (instead of --index and files).")
    var mixture: String?

    @OptionGroup var keepGoing: KeepGoingOption
    @OptionGroup var progress: ProgressOptions

    @OptionGroup var protocolOptions: ProtocolOptions

    @Option(help: "Comma-separated splits to index (HELM evaluates valid and test); 'all' for every split.")
    var splits = "valid,test"

    @Argument(help: "Test-set files, directories or globs (.jsonl, .jsonl.zst, .jsonl.gz).")
    var inputs: [String] = []

    func validate() throws {
        if mixture != nil {
            guard index == nil, inputs.isEmpty else {
                throw ValidationError("--mixture takes the index and the test sets from the mixture file: give no --index and no files")
            }
            guard protocolOptions.n == nil, protocolOptions.normalization == nil else {
                throw ValidationError("--mixture takes n and the normalization from the mixture file's decontamination section")
            }
        } else {
            guard index != nil else { throw ValidationError("missing --index (or --mixture MIXTURE)") }
            guard !inputs.isEmpty else { throw ValidationError("missing test-set files to import") }
        }
    }

    func run() throws {
        if let mixture { return try importMixture(mixture) }
        let index = index!
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
        // A file is recorded as imported only when it was read whole (nothing skipped).
        var instances: [TestInstance] = []
        var whole: [String] = []
        for file in files {
            let before = (ledger.counts.skippedTotal, ledger.counts.failedFiles.values.reduce(0, +))
            instances += try TestSetReader.read(path: file, ledger: &ledger, progress: meter)
            if (ledger.counts.skippedTotal, ledger.counts.failedFiles.values.reduce(0, +)) == before {
                whole.append(try DecontaminationIndex.fileDigest(file))
            }
        }
        let total = try database.add(instances, splits: splitSet, files: whole)
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

    /// `--mixture`: the mixture's test sets, strictly read (a bad line fails the import), added
    /// only when the index lacks them.
    private func importMixture(_ path: String) throws {
        if keepGoing.keepGoing { throw ValidationError("--keep-going does not apply to --mixture: a mixture's test sets are imported whole or not at all") }
        let spec = try MixtureSpec.load(path: path)
        guard let prepared = try MixtureIndex.prepare(spec) else {
            print("\(path): no decontamination test_sets to import")
            return
        }
        let p = prepared.parameters
        print("index \(prepared.index): \(p.n)-grams, \(p.normalization) normalization")
        if prepared.imported.isEmpty {
            print("all \(prepared.present.count) test-set files already imported; index not written")
        } else {
            let c = prepared.counts
            print("imported \(prepared.imported.count) test-set files (\(prepared.present.count) already there): instances read \(c.instancesRead), "
                  + "added \(c.instancesAdded), skipped (split) \(c.instancesSkippedSplit), n-gram rows added \(c.ngramsAdded)")
        }
    }
}
