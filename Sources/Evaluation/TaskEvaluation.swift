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
/// record (unparsable line, missing or mistyped prompt, references or num_documents) stops the run
/// with file, line and field, or with `skipBadRecords` is counted under its reason and left out
/// (`Summary.reading`: records == examples + skipped). Groups are ordered by number of documents.
public enum TaskEvaluation {
    public struct Options: Sendable {
        public var tasks: String
        public var referenceField: String
        public var metrics: [Metric]
        public var sampling = SamplingOptions()
        public var maxExamples: Int?
        /// Skip bad task records, counting them by reason, instead of stopping at the first.
        public var skipBadRecords = false

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
        /// Task records read, scored (`documents`) and skipped by reason.
        public var reading: ReadCounts
        /// The first errors met in keep-going mode.
        public var firstErrors: [InputError] = []

        private enum CodingKeys: String, CodingKey { case metrics, groups, examples, promptsCut, reading }
    }

    /// Non-blank lines of the task file, the records `run` will read (as far as the file can be
    /// read; `run` reports a file that cannot): the total of its progress meter.
    public static func recordCount(_ path: String) -> Int {
        guard let lines = try? LineReader(path: path) else { return 0 }
        var count = 0
        while let line = try? lines.next() {
            if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { count += 1 }
        }
        return count
    }

    /// `progress` counts the task records read (scored or skipped), one at a time.
    public static func run(_ options: Options, generator: CompletionGenerator, progress: ProgressMeter? = nil,
                           each: (Prediction) throws -> Void = { _ in }) throws -> Summary {
        let suite = MetricSuite(metrics: options.metrics)
        let stream = try RecordStream(path: options.tasks)
        var ledger = RecordLedger(skipBadRecords: options.skipBadRecords)
        ledger.openedFile()
        var sums: [Int?: [Double]] = [:], counts: [Int?: Int] = [:]
        var examples = 0, promptsCut = 0
        let encoder = generator.tokenizer.makeEncoder()
        while true {
            if let limit = options.maxExamples, examples >= limit { break }
            let next: (JSONValue, RecordLocation)?
            do {
                next = try stream.next()
            } catch let error as InputError {
                if stream.failed {
                    try ledger.fileFailed(error, lines: stream.lines)
                    break
                }
                try ledger.skip(error)
                progress?.add(1)
                continue
            }
            guard let (record, location) = next else { break }
            defer { progress?.add(1) }
            let task: Task
            do {
                task = try Task(record: record, location: location, referenceField: options.referenceField)
            } catch let error as InputError {
                try ledger.skip(error)
                continue
            }
            let completion = try generator.generate(prompt: encoder.encode(Array(task.prompt.utf8), addBOS: true, addEOS: false),
                                                    options: options.sampling)
            let scores = suite.score(prediction: completion.text, references: task.references)
            sums[task.documents, default: Array(repeating: 0, count: scores.count)] =
                zip(sums[task.documents] ?? Array(repeating: 0, count: scores.count), scores).map(+)
            counts[task.documents, default: 0] += 1
            examples += 1
            ledger.kept()
            if completion.promptTokensCut > 0 { promptsCut += 1 }
            try each(Prediction(line: location.line, id: task.id, prediction: completion.text, stop: completion.stop,
                                promptTokensCut: completion.promptTokensCut, scores: scores, documents: task.documents))
        }
        guard examples > 0 else { throw InputError.file(options.tasks, reason: .emptyFile, "the task file holds no records") }
        let groups = counts.keys.sorted { ($0 ?? -1) < ($1 ?? -1) }.map { key in
            Group(documents: key, examples: counts[key]!, means: sums[key]!.map { $0 / Double(counts[key]!) })
        }
        return Summary(metrics: options.metrics.map(\.rawValue), groups: groups, examples: examples, promptsCut: promptsCut,
                       reading: ledger.counts, firstErrors: ledger.firstErrors)
    }

    /// One task record's fields: every check that can fail happens here, before any generation.
    private struct Task {
        var prompt: String
        var references: [String]
        var documents: Int?
        var id: String?

        init(record: JSONValue, location: RecordLocation, referenceField: String) throws {
            let fields = FieldReader(record: record, location: location)
            prompt = try fields.string("prompt")
            references = try fields.references(referenceField)
            switch record["num_documents"] {
            case nil, .null?:
                documents = nil
            case .number(let n)?:
                guard let value = Int(n), value >= 0 else {
                    throw InputError(location: location, field: "num_documents", reason: .wrongType,
                                     message: "expected a non-negative integer, found \(n)")
                }
                documents = value
            case let other?:
                throw InputError(location: location, field: "num_documents", reason: .wrongType,
                                 message: "expected an integer, found \(other.kind)")
            }
            id = try? fields.identifier("id")
        }
    }
}
