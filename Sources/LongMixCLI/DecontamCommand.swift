import ArgumentParser
import Decontamination

/// `longmix decontam`: n-gram decontamination against HELM test sets.
struct DecontamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decontam",
        abstract: "Decontaminate training data against HELM test sets (word n-gram index in SQLite).",
        discussion: """
            1. `longmix decontam index` imports HELM scenario exports (or plain JSONL) into an index
               built for one n and one normalization.
            2. `longmix decontam scan` streams shards through a protocol (together, gpt3, helm) and
               writes cleaned shards, a report JSONL and a per-scenario summary.
            3. `longmix decontam report` summarizes report files in HELM's terms.
            """,
        subcommands: [DecontamIndexCommand.self, DecontamScanCommand.self, DecontamReportCommand.self]
    )
}

/// The protocol choice and its overrides, shared by `index` and `scan`.
struct ProtocolOptions: ParsableArguments {
    @Option(help: "Protocol preset: together (10-grams, drop document and group), gpt3 (13-grams, cut 200-character windows), helm (13-grams, report only).")
    var `protocol`: DecontaminationProtocol = .helm

    @Option(help: "Override the n-gram length.")
    var n: Int?

    @Option(help: "Override the normalization: helm, gpt3 or unicode.")
    var normalization: Normalization?

    func parameters() throws -> ScanParameters {
        var parameters = `protocol`.parameters
        if let n {
            guard n >= 1 else { throw ValidationError("--n must be at least 1") }
            parameters.n = n
        }
        if let normalization { parameters.normalization = normalization }
        return parameters
    }
}

extension DecontaminationProtocol: ExpressibleByArgument {}
extension Normalization: ExpressibleByArgument {}
