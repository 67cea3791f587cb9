import ArgumentParser
import LongMixCore
import Tasks

/// `longmix tasks mqa`: Lost in the Middle multi-document QA prompts.
struct TasksMQACommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mqa",
        abstract: "Multi-document QA prompts from Lost-in-the-Middle records (question, answers, ctxs, nq_annotated_gold).",
        discussion: """
            Each record gives k documents: the gold passage (nq_annotated_gold, or the one ctx marked isgold) \
            inserted at the gold position among the first k-1 distractors (ctxs with hasanswer false) in \
            retrieval order, rendered with the exact Lost in the Middle QA prompt. Output fields: id, prompt, \
            completion, text (= prompt + completion), question, answers, gold_position (0-based), num_documents.
            """
    )

    @OptionGroup var io: TaskIOOptions

    @Option(name: [.customShort("k"), .long], help: "Number of documents per prompt (for example 20, 30, 50, 100).")
    var documents: Int

    @Option(help: "0-based gold position, 'every' (one example per position) or 'random' (seeded per record).")
    var goldPosition: String = "0"

    @Option(help: "Seed of the random gold position: the position depends on (seed, record id) only.")
    var seed: UInt64 = 0

    @Option(help: "Completion form: 'answer' (` {answer}`) or 'long-data-collections' (Answer / Long Answer / Gold Document ID).")
    var completion: String = MQACompletionStyle.answer.rawValue

    func run() throws {
        let placement: GoldPlacement
        switch goldPosition {
        case "every": placement = .every
        case "random": placement = .random(seed: seed)
        default:
            guard let position = Int(goldPosition) else {
                throw ValidationError("--gold-position must be a 0-based integer, 'every' or 'random', got '\(goldPosition)'")
            }
            placement = .fixed(position)
        }
        guard let style = MQACompletionStyle(rawValue: completion) else {
            throw ValidationError("--completion must be one of \(MQACompletionStyle.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let builder = try MultiDocumentQABuilder(documentCount: documents, placement: placement, completionStyle: style)
        let summary = try io.makeBuilder().build(inputs: io.inputs, output: io.output, existing: io.outputOption.existing) { json, location in
            try builder.examples(for: LostInTheMiddleRecord(json: json, location: location)).map(\.taskExample)
        }
        summary.printReport(output: io.output)
    }
}
