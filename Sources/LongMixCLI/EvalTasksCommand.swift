import ArgumentParser
import Model
import Evaluation
import Foundation
import ShardIO
import Tokenization

/// `longmix eval tasks`: generated answers to task prompts, scored per number of documents.
struct EvalTasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tasks",
        abstract: "Generate answers for `longmix tasks mqa|booksum` prompts and score them, per number of documents.",
        discussion: """
        Reads the task JSONL (prompt, answers or summary, num_documents), completes each prompt with the \
        checkpoint (greedy by default, stopping at EOS, --max-tokens or the first newline) and scores the \
        completion with the same metrics as `longmix score`. Default metrics: best_subspan_em, em, f1 when \
        records have `answers` (multi-document QA), rouge1, rouge2, rougeL with --reference-field summary (BookSum).
        """)

    @OptionGroup var model: GenerationModelOptions

    @Option(help: "The task file (.jsonl, .jsonl.zst or .jsonl.gz) from `longmix tasks`.")
    var tasks: String

    @Option(help: "Field holding the references: answers (MQA) or summary (BookSum).")
    var referenceField = "answers"

    @Option(parsing: .upToNextOption, help: "Metrics: best_subspan_em em f1 rouge1 rouge2 rougeL.")
    var metrics: [String] = []

    @Option(help: "Score at most this many examples (in file order).")
    var maxExamples: Int?

    @OptionGroup var sampling: SamplingOptionGroup

    @OptionGroup var keepGoing: KeepGoingOption

    @OptionGroup var outputOption: OutputOption

    @OptionGroup var progressOptions: ProgressOptions

    func run() throws {
        try loadOpenBLAS(threads: model.threadOptions.threads)  // once per process, before any model runs
        let chosen: [Metric] = try metrics.isEmpty
            ? (referenceField == "summary" ? [.rouge1, .rouge2, .rougeL] : [.bestSubspanEM, .exactMatch, .f1])
            : metrics.map { name in
                guard let m = Metric(rawValue: name) else {
                    throw ValidationError("unknown metric '\(name)'; expected one of \(Metric.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return m
            }
        InputFiles.register([tasks])
        let writer = try outputOption.output.map { try JSONLWriter(path: $0, existing: outputOption.existing) }
        let tokenizer = try Tokenizer.load(path: model.tokenizer)
        let generator = try CompletionGenerator(checkpoint: model.checkpoint, tokenizer: tokenizer, context: model.context,
                                                ropeFactor: model.ropeFactor)
        var options = TaskEvaluation.Options(tasks: tasks, referenceField: referenceField, metrics: chosen)
        options.sampling = sampling.options
        options.maxExamples = maxExamples
        options.skipBadRecords = keepGoing.keepGoing
        let records = TaskEvaluation.recordCount(tasks)
        let meter = progressOptions.meter("eval tasks", total: min(records, maxExamples ?? records), unit: .items("examples"))
        let summary = try TaskEvaluation.run(options, generator: generator, progress: meter) { p in
            guard let writer else { return }
            var out = JSONOutput()
            out.raw("{"); out.key("line"); out.integer(p.line)
            if let id = p.id { out.raw(","); out.key("id"); out.string(id) }
            if let d = p.documents { out.raw(","); out.key("num_documents"); out.integer(d) }
            out.raw(","); out.key("prediction"); out.string(p.prediction)
            out.raw(","); out.key("stop"); out.string(p.stop.rawValue)
            out.raw(","); out.key("prompt_tokens_cut"); out.integer(p.promptTokensCut)
            for (metric, score) in zip(chosen, p.scores) {
                out.raw(","); out.key(metric.rawValue)
                out.bytes.append(contentsOf: score.description.utf8)
            }
            out.raw("}")
            try writer.write(line: out.bytes)
        }
        meter?.finish()
        try writer?.finish()
        print("documents".padding(toLength: 11, withPad: " ", startingAt: 0) + "examples"
              + chosen.map { $0.rawValue.leftPadded(to: 17) }.joined())
        for g in summary.groups {
            print((g.documents.map(String.init) ?? "-").padding(toLength: 11, withPad: " ", startingAt: 0)
                  + String(g.examples).leftPadded(to: 8) + g.means.map { String(format: "%.4f", $0).leftPadded(to: 17) }.joined())
        }
        var err = StandardError()
        printSkipped(summary.reading, firstErrors: summary.firstErrors, to: &err)
        print("\(summary.examples) examples" + (summary.promptsCut > 0 ? "; \(summary.promptsCut) prompts longer than the context kept their last tokens" : ""))
    }
}

private extension String {
    func leftPadded(to width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
