import LongMixCore
import ShardIO

/// Where the predictions and references are and how to read and pair them.
public struct ScoringOptions: Sendable {
    /// JSONL (or .jsonl.zst / .jsonl.gz) with one prediction per record.
    public var predictions: String
    /// JSONL with the references; nil when the prediction records carry them.
    public var references: String?
    /// Field of a prediction record holding the model's answer (Lost in the Middle: `model_answer`).
    public var predictionField = "prediction"
    /// Field of a reference record holding the gold answer: a string or a list of strings
    /// (`answers` of the MQA task output, `summary` of the BookSum output). Dots address nested fields.
    public var referenceField = "answers"
    /// When set, predictions and references are paired by this field (each id once in each file);
    /// otherwise the n-th prediction record pairs with the n-th reference record.
    public var idField: String?
    public var metrics: [Metric] = Metric.allCases
    /// Porter stemming for ROUGE (rouge-score's `use_stemmer`).
    public var useStemmer = false
    /// Skip bad prediction records (and their references), counting them by reason, instead of
    /// stopping at the first; unpaired references are then counted, not an error.
    public var skipBadRecords = false

    public init(predictions: String, references: String? = nil) {
        self.predictions = predictions
        self.references = references
    }
}

/// The means of a scoring run, in `metrics` order.
public struct ScoringSummary: Sendable {
    public var examples = 0
    public var metrics: [Metric] = []
    public var means: [Double] = []
    /// Prediction records read, scored (`documents`) and skipped by reason.
    public var reading = ReadCounts()
    public var firstErrors: [InputError] = []
    /// References no scored prediction was paired with (keep-going mode only; else an error).
    public var unpairedReferences = 0
}

/// Scores a predictions file against references and writes per-example scores.
///
/// Contract: every prediction must have a non-empty reference and every reference a prediction;
/// otherwise an `InputError` names the file, line and field (nothing is skipped silently). The
/// per-example output, when asked for, is JSONL in prediction order:
/// `{"line": <prediction line>, "id": <id, when pairing by id>, "<metric>": <score>, ...}`,
/// published atomically; an existing file there is replaced only if `existing` is `.replace`, and
/// never when it is the predictions or references file.
public enum PredictionScoring {
    public static func run(_ options: ScoringOptions, perExampleOutput: String? = nil,
                           existing: ExistingFile = .refuse) throws -> ScoringSummary {
        InputFiles.register([options.predictions] + (options.references.map { [$0] } ?? []))
        let suite = MetricSuite(metrics: options.metrics, useStemmer: options.useStemmer)
        var sums = [Double](repeating: 0, count: options.metrics.count)
        var summary = ScoringSummary()
        summary.metrics = options.metrics
        let writer = try perExampleOutput.map { try JSONLWriter(path: $0, existing: existing) }
        let references = try options.references.map { try ReferenceSource(path: $0, options: options) }
        let predictions = try RecordStream(path: options.predictions)
        var ledger = RecordLedger(skipBadRecords: options.skipBadRecords)
        ledger.openedFile()
        let pairedByOrder = references != nil && options.idField == nil
        while true {
            let next: (JSONValue, RecordLocation)?
            do {
                next = try predictions.next()
            } catch let error as InputError {
                if predictions.failed {
                    try ledger.fileFailed(error, lines: predictions.lines)
                    break
                }
                // The n-th record pairs with the n-th reference even when it is unreadable.
                if pairedByOrder, let location = error.location {
                    _ = try? references!.references(for: nil, predictionLocation: location)
                }
                try ledger.skip(error)
                continue
            }
            guard let (record, location) = next else { break }
            do {
                let fields = FieldReader(record: record, location: location)
                var id: String? = nil
                let gold: [String]
                if pairedByOrder {
                    gold = try references!.references(for: nil, predictionLocation: location)
                } else if let references {
                    id = try fields.identifier(options.idField!)
                    gold = try references.references(for: id, predictionLocation: location)
                } else {
                    if let idField = options.idField { id = try fields.identifier(idField) }
                    gold = try fields.references(options.referenceField)
                }
                let prediction = try fields.string(options.predictionField)
                let scores = suite.score(prediction: prediction, references: gold)
                for (i, s) in scores.enumerated() { sums[i] += s }
                summary.examples += 1
                if let writer {
                    var out = JSONOutput()
                    out.raw("{"); out.key("line"); out.integer(location.line)
                    if let id { out.raw(","); out.key("id"); out.string(id) }
                    for (metric, score) in zip(options.metrics, scores) {
                        out.raw(","); out.key(metric.rawValue)
                        out.bytes.append(contentsOf: score.description.utf8)
                    }
                    out.raw("}")
                    try writer.write(line: out.bytes)
                }
                ledger.kept()
            } catch let error as InputError {
                try ledger.skip(error)
            }
        }
        summary.reading = ledger.counts
        summary.firstErrors = ledger.firstErrors
        if options.skipBadRecords {
            summary.unpairedReferences = try references?.unpaired() ?? 0
        } else {
            try references?.finish(predictionsPath: options.predictions)
        }
        guard summary.examples > 0 else {
            throw InputError.file(options.predictions, reason: .emptyFile, "the predictions file holds no records")
        }
        try writer?.finish()
        summary.means = sums.map { $0 / Double(summary.examples) }
        return summary
    }
}

/// Non-blank JSONL records of one file, parsed, with their locations.
final class RecordStream {
    let lines: LineReader
    let path: String
    /// The file could not be read to the end (the last error was the stream's, not a record's).
    private(set) var failed = false

    init(path: String) throws {
        self.path = path
        lines = try LineReader(path: path)
    }

    func next() throws -> (JSONValue, RecordLocation)? {
        while true {
            let next: UnsafeBufferPointer<UInt8>?
            do {
                next = try lines.next()
            } catch let error as InputError {
                if error.reason != .lineTooLong { failed = true }
                throw error
            }
            guard let line = next else { return nil }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            let location = RecordLocation(file: path, line: lines.lineNumber)
            do {
                return (try JSONValue.parse(line), location)
            } catch {
                throw InputError(location: location, reason: error.reason, message: "\(error.message) at column \(error.offset + 1)")
            }
        }
    }
}

/// The references file, read in step with the predictions or indexed by id.
final class ReferenceSource {
    private let stream: RecordStream
    private let field: String
    private var byID: [String: (gold: [String], location: RecordLocation, used: Bool)]?

    init(path: String, options: ScoringOptions) throws {
        stream = try RecordStream(path: path)
        field = options.referenceField
        guard let idField = options.idField else { return }
        var table: [String: (gold: [String], location: RecordLocation, used: Bool)] = [:]
        while let (record, location) = try stream.next() {
            let fields = FieldReader(record: record, location: location)
            let id = try fields.identifier(idField)
            if let earlier = table[id] {
                throw InputError(location: location, field: idField, reason: .duplicateId,
                                 message: "id '\(id)' already appears at line \(earlier.location.line)")
            }
            table[id] = (try fields.references(field), location, false)
        }
        byID = table
    }

    func references(for id: String?, predictionLocation: RecordLocation) throws -> [String] {
        if let id, byID != nil {
            guard let entry = byID![id] else {
                throw InputError(location: predictionLocation, reason: .unknownId,
                                 message: "no reference in \(stream.path) has id '\(id)'")
            }
            if entry.used {
                throw InputError(location: predictionLocation, reason: .duplicateId, message: "id '\(id)' is predicted twice")
            }
            byID![id]!.used = true
            return entry.gold
        }
        guard let (record, location) = try stream.next() else {
            throw InputError(location: predictionLocation, reason: .countMismatch,
                             message: "more predictions than references in \(stream.path); pair by id with --id-field or fix the files")
        }
        return try FieldReader(record: record, location: location).references(field)
    }

    /// The references left without a prediction (read to the end in order mode).
    func unpaired() throws -> Int {
        if let byID { return byID.values.filter { !$0.used }.count }
        var count = 0
        while true {
            do {
                guard try stream.next() != nil else { return count }
            } catch {
                if stream.failed { return count }
            }
            count += 1
        }
    }

    /// Checks that every reference was paired with a prediction.
    func finish(predictionsPath: String) throws {
        if let byID {
            if let missing = byID.values.filter({ !$0.used }).min(by: { $0.location.line < $1.location.line }) {
                let count = byID.values.filter { !$0.used }.count
                throw InputError(location: missing.location, reason: .countMismatch,
                                 message: "\(count) reference(s) have no prediction in \(predictionsPath), the first here")
            }
        } else if let (_, location) = try stream.next() {
            throw InputError(location: location, reason: .countMismatch,
                             message: "more references than predictions in \(predictionsPath); the first unpaired reference is here")
        }
    }
}

/// Typed field access with errors that name file, line and field.
struct FieldReader {
    let record: JSONValue
    let location: RecordLocation

    func value(_ path: String) throws -> JSONValue {
        var current: JSONValue? = record
        for key in path.split(separator: ".") { current = current?[String(key)] }
        guard let found = current, found != .null else {
            throw InputError(location: location, field: path, reason: .missingField, message: "the record has no '\(path)'")
        }
        return found
    }

    func string(_ path: String) throws -> String {
        let v = try value(path)
        guard let s = v.stringValue else {
            throw InputError(location: location, field: path, reason: .wrongType, message: "expected a string, found \(v.kind)")
        }
        return s
    }

    func identifier(_ path: String) throws -> String {
        switch try value(path) {
        case .string(let s): return s
        case .number(let n): return n
        case let v: throw InputError(location: location, field: path, reason: .wrongType, message: "expected a string or number id, found \(v.kind)")
        }
    }

    /// A string or a non-empty list of strings.
    func references(_ path: String) throws -> [String] {
        let v: JSONValue
        do { v = try value(path) } catch let error as InputError {
            throw InputError(location: location, field: path, reason: .missingAnswers, message: error.message + "; every example needs a reference")
        }
        if let s = v.stringValue { return [s] }
        guard let items = v.arrayValue else {
            throw InputError(location: location, field: path, reason: .wrongType, message: "expected a string or a list of strings, found \(v.kind)")
        }
        if items.isEmpty {
            throw InputError(location: location, field: path, reason: .missingAnswers, message: "the reference list is empty")
        }
        return try items.enumerated().map { i, item in
            guard let s = item.stringValue else {
                throw InputError(location: location, field: "\(path)[\(i)]", reason: .wrongType, message: "expected a string, found \(item.kind)")
            }
            return s
        }
    }
}
