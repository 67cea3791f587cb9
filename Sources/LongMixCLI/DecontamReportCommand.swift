import ArgumentParser
import Decontamination
import ShardIO

/// `longmix decontam report`: the per-scenario summary of one or more scan reports.
struct DecontamReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Summarize scan reports per HELM scenario and split: instances whose input or references overlap.",
        discussion: "Every indexed (scenario, split) is listed, with num_instances taken from the index."
    )

    @OptionGroup var indexOption: IndexOption
    var index: String { indexOption.index }

    @Option(help: "Write the summary as JSONL (HELM's fields) here.")
    var summary: String?
    @OptionGroup var force: ForceOption

    @Flag(help: "List every scenario, not only those with overlap.")
    var all = false

    @Argument(help: "Report JSONL files written by `longmix decontam scan`.")
    var reports: [String]

    func run() throws {
        let database = try DecontaminationIndex.open(path: index)
        InputFiles.register(reports)
        if let summary { try OutputTarget.checkFile(summary, existing: force.existing) }
        var overlap = OverlapSummary()
        for report in reports { try overlap.add(reportAt: report) }
        let entries = overlap.entries(scenarios: try database.scenarios(), n: database.n)
        if let summary { try OverlapSummary.write(entries, to: summary, existing: force.existing) }
        let shown = all ? entries : entries.filter {
            !$0.instanceIDsWithOverlappingInput.isEmpty || !$0.instanceIDsWithOverlappingReference.isEmpty
        }
        print(OverlapSummary.table(shown))
        let contaminated = entries.filter {
            !$0.instanceIDsWithOverlappingInput.isEmpty || !$0.instanceIDsWithOverlappingReference.isEmpty
        }.count
        print("\(contaminated) of \(entries.count) scenario splits overlap the training data (\(database.n)-grams)")
    }
}
