import ArgumentParser
import Evaluation

/// `longmix score`: predictions against references with QA and ROUGE metrics.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score predictions JSONL against references: best_subspan_em, em, f1, rouge1, rouge2, rougeL.",
        discussion: """
            best_subspan_em (Lost in the Middle): the prediction's first line, SQuAD-normalized, contains a \
            normalized gold answer. em / f1: SQuAD v1.1 on the whole prediction, best over gold answers. \
            rouge*: google-research rouge-score F-measure, reference as target, best over references. \
            Prints the mean of each metric; -o/--output writes one JSON line of scores per prediction.
            """
    )

    @Argument(help: "Predictions JSONL (.jsonl, .jsonl.zst, .jsonl.gz).")
    var predictions: String

    @Option(name: .shortAndLong, help: "References JSONL (default: the references are in the prediction records).")
    var references: String?

    @Option(help: "Field with the model's answer (Lost in the Middle files: model_answer).")
    var predictionField = "prediction"

    @Option(help: "Field with the reference: a string or a list of strings (BookSum task output: summary).")
    var referenceField = "answers"

    @Option(help: "Pair predictions and references by this field instead of by record order.")
    var idField: String?

    @Option(help: "Comma-separated metrics (default: all).")
    var metrics: String = Metric.allCases.map(\.rawValue).joined(separator: ",")

    @Flag(help: "Porter stemming for ROUGE (rouge-score use_stemmer=True).")
    var stem = false

    @OptionGroup var outputOption: OutputOption
    var output: String? { outputOption.output }

    @OptionGroup var keepGoing: KeepGoingOption

    func run() throws {
        var options = ScoringOptions(predictions: predictions, references: references)
        options.predictionField = predictionField
        options.referenceField = referenceField
        options.idField = idField
        options.useStemmer = stem
        options.skipBadRecords = keepGoing.keepGoing
        options.metrics = try metrics.split(separator: ",").map { name in
            guard let metric = Metric(rawValue: String(name)) else {
                throw ValidationError("unknown metric '\(name)'; choose from \(Metric.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return metric
        }
        let summary = try PredictionScoring.run(options, perExampleOutput: output, existing: outputOption.existing)
        print("examples: \(summary.examples)")
        for (metric, mean) in zip(summary.metrics, summary.means) { print("\(metric.rawValue): \(mean)") }
        if let output { print("per-example scores -> \(output)") }
        if summary.unpairedReferences > 0 { print("references without a scored prediction: \(summary.unpairedReferences)") }
        var err = StandardError()
        printSkipped(summary.reading, firstErrors: summary.firstErrors, to: &err)
    }
}
