import ArgumentParser
import LongMixCore
import Tasks

/// `longmix tasks booksum`: chapter-level BookSum records into the chapter-summary template.
struct TasksBookSumCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "booksum",
        abstract: "BookSum chapter summaries: 'Chapter: {chapter}\\n\\nQ: Can you write an appropriate summary of the above paragraphs?\\nA:' + ' {summary}'.",
        discussion: "Output fields: id, prompt, completion, text (= prompt + completion), summary (the reference)."
    )

    @OptionGroup var io: TaskIOOptions

    @Option(help: "Field holding the chapter text.")
    var chapterField = "chapter"

    @Option(help: "Field holding the reference summary (kmfoda/booksum: summary_text).")
    var summaryField = "summary_text"

    @Option(help: "Fields tried in turn for the example id (else <file>:<line>), comma-separated.")
    var idFields = "id,summary_id"

    func run() throws {
        let ids = idFields.split(separator: ",").map(String.init)
        let summary = try io.makeBuilder().build(inputs: io.inputs, output: io.output, existing: io.outputOption.existing) { json, location in
            [try BookSumRecord(json: json, location: location, chapterField: chapterField, summaryField: summaryField, idFields: ids).taskExample]
        }
        summary.printReport(output: io.output)
    }
}
