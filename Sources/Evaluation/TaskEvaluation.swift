import Foundation
import LongMixCore
import ShardIO
import Tokenization

/// Generates answers for a `longmix tasks mqa|booksum` file and scores them, per number of
/// documents (the shape of the LLaMA-2-7B-32K multi-document QA table).
///
/// Contract: every record is read (prompt, references from `referenceField`, the group from
/// `num_documents` when present); each prompt is encoded with BOS and completed by
/// `CompletionGenerator`; the completion is scored against the references with `metrics`. A bad
/// record stops the run with file, line and field. Groups are ordered by number of documents.
public enum TaskEvaluation {
    public struct Options: Sendable {
        public var tasks: String
        public var referenceField: String
        public var metrics: [Metric]
        public var sampling = SamplingOptions()
        public var maxExamples: Int?

        public init(tasks: String, referenceField: String, metrics: [Metric]) {
            self.tasks = tasks
            self.referenceField = referenceField
            self.metrics = metrics
        }
    }

    public struct Group: Sendable, Codable, Equatable {
        /// Documents in the prompt; nil for tasks without `num_documents` (BookSum).
        public var documents: Int?
        public var examples: Int
        /// Mean score per metric, in `Summary.metrics` order.
        public var means: [Double]
    }

    public struct Prediction: Sendable {
        public var line: Int
        public var id: String?
        public var prediction: String
        public var stop: Completion.Stop
        public var promptTokensCut: Int
        public var scores: [Double]
        public var documents: Int?
    }

    public struct Summary: Sendable, Codable {
        public var metrics: [String]
        public var groups: [Group]
        public var examples: Int
        public var promptsCut: Int
    }

    public static func run(_ options: Options, generator: CompletionGenerator,
                           each: (Prediction) throws -> Void = { _ in }) throws -> Summary {
        let suite = MetricSuite(metrics: options.metrics)
        let stream = try RecordStream(path: options.tasks)
        var sums: [Int?: [Double]] = [:], counts: [Int?: Int] = [:]
        var examples = 0, promptsCut = 0
        let encoder = generator.tokenizer.makeEncoder()
        while let (record, location) = try stream.next() {
            if let limit = options.maxExamples, examples >= limit { break }
            let fields = FieldReader(record: record, location: location)
            let prompt = try fields.string("prompt")
            let references = try fields.references(options.referenceField)
            var documents: Int?
            if case .number(let n)? = record["num_documents"] {
                guard let value = Int(n) else {
                    throw InputError(location: location, field: "num_documents", reason: .wrongType, message: "expected an integer, found \(n)")
                }
                documents = value
            }
            let id = try? fields.identifier("id")
            let completion = try generator.generate(prompt: encoder.encode(Array(prompt.utf8), addBOS: true, addEOS: false),
                                                    options: options.sampling)
            let scores = suite.score(prediction: completion.text, references: references)
            sums[documents, default: Array(repeating: 0, count: scores.count)] =
                zip(sums[documents] ?? Array(repeating: 0, count: scores.count), scores).map(+)
            counts[documents, default: 0] += 1
            examples += 1
            if completion.promptTokensCut > 0 { promptsCut += 1 }
            try each(Prediction(line: location.line, id: id, prediction: completion.text, stop: completion.stop,
                                promptTokensCut: completion.promptTokensCut, scores: scores, documents: documents))
        }
        guard examples > 0 else { throw InputError.file(options.tasks, reason: .emptyFile, "the task file holds no records") }
        let groups = counts.keys.sorted { ($0 ?? -1) < ($1 ?? -1) }.map { key in
            Group(documents: key, examples: counts[key]!, means: sums[key]!.map { $0 / Double(counts[key]!) })
        }
        return Summary(metrics: options.metrics.map(\.rawValue), groups: groups, examples: examples, promptsCut: promptsCut)
    }
}
