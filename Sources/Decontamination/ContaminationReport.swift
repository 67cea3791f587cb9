import Foundation
import LongMixCore
import ShardIO

/// One row of the contamination report (`report.jsonl`): a run of overlapping n-gram hits in a
/// training document that match one test instance part.
///
/// A run is a maximal sequence of hits whose windows share words; it gets one row per matched
/// (scenario, split, instance, part). `ngram` is the normalized text of the first matching
/// n-gram of the run; `range` spans, in the document's bytes, from the first to the last
/// matching n-gram; `ngrams` counts them.
public struct ReportRow: Sendable, Equatable, Codable {
    public var documentID: String
    public var source: String
    public var file: String
    public var line: Int
    public var scenario: String
    public var split: String
    public var instanceID: String
    public var part: String
    public var ngram: String
    public var start: Int
    public var end: Int
    public var ngrams: Int
    /// `kept` (report only), `cut` (GPT-3 pieces kept), or `dropped:<reason>`.
    public var action: String

    enum CodingKeys: String, CodingKey {
        case documentID = "document_id", source, file, line, scenario, split
        case instanceID = "instance_id", part, ngram, start, end, ngrams, action
    }

    /// The row as one JSON line (keys sorted, no trailing newline).
    public func jsonLine() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    public static func parse(jsonLine: Data, location: RecordLocation) throws -> ReportRow {
        do {
            return try JSONDecoder().decode(ReportRow.self, from: jsonLine)
        } catch {
            throw InputError(location: location, reason: .malformedReportRow,
                             message: "not a decontamination report row: \(ReadableError.describe(error))")
        }
    }
}

public enum ContaminationReport {
    /// The action column for a verdict.
    public static func action(_ verdict: Verdict) -> String {
        switch verdict {
        case .keep: return "kept"
        case .cleaned: return "cut"
        case let .drop(reason): return "dropped:\(reason.rawValue)"
        }
    }

    /// The report rows of one scanned document. `provenance` must hold every hit hash
    /// (`DecontaminationIndex.provenance(of:)`); `verdict` is the final one (after group rules).
    public static func rows(document: Document, hits: [NGramOccurrence], verdict: Verdict, n: Int,
                            normalization: Normalization,
                            provenance: [UInt64: [Provenance]]) -> [ReportRow] {
        guard !hits.isEmpty else { return [] }
        let action = action(verdict)
        var rows: [ReportRow] = []
        var runStart = 0
        while runStart < hits.count {
            var runEnd = runStart + 1
            while runEnd < hits.count && hits[runEnd].firstWord - hits[runEnd - 1].firstWord < n { runEnd += 1 }
            // Per matched instance part: first hit, last hit, count, in text order.
            var order: [Provenance] = []
            var spans: [Provenance: (first: NGramOccurrence, last: NGramOccurrence, count: Int)] = [:]
            for hit in hits[runStart..<runEnd] {
                for source in provenance[hit.hash] ?? [] {
                    if let span = spans[source] {
                        spans[source] = (span.first, hit, span.count + 1)
                    } else {
                        spans[source] = (hit, hit, 1)
                        order.append(source)
                    }
                }
            }
            for source in order {
                let span = spans[source]!
                let ngramText = normalization.normalizedText(of: Array(document.text[span.first.range]))
                rows.append(ReportRow(documentID: document.id, source: document.source,
                                      file: document.location.file, line: document.location.line,
                                      scenario: source.scenario, split: source.split,
                                      instanceID: source.instanceID, part: source.part.description,
                                      ngram: ngramText, start: span.first.range.lowerBound,
                                      end: span.last.range.upperBound, ngrams: span.count, action: action))
            }
            runStart = runEnd
        }
        return rows
    }
}

/// The per-scenario summary in HELM's terms: for each indexed (scenario, split), the instances
/// whose input, and those whose references, overlap the training data (at the scan's n).
public struct OverlapSummary: Sendable {
    public struct Entry: Sendable, Equatable, Codable {
        public var scenario: String
        public var scenarioSpec: String?
        public var split: String
        public var n: Int
        public var numInstances: Int
        public var instanceIDsWithOverlappingInput: [String]
        public var instanceIDsWithOverlappingReference: [String]

        enum CodingKeys: String, CodingKey {
            case scenario, scenarioSpec = "scenario_spec", split, n
            case numInstances = "num_instances"
            case instanceIDsWithOverlappingInput = "instance_ids_with_overlapping_input"
            case instanceIDsWithOverlappingReference = "instance_ids_with_overlapping_reference"
        }
    }

    private var inputs: [String: Set<String>] = [:]
    private var references: [String: Set<String>] = [:]

    public init() {}

    private static func key(_ scenario: String, _ split: String) -> String { scenario + "\u{0}" + split }

    public mutating func add(_ row: ReportRow) {
        let key = Self.key(row.scenario, row.split)
        if row.part == InstancePart.reference.description {
            references[key, default: []].insert(row.instanceID)
        } else {
            inputs[key, default: []].insert(row.instanceID)
        }
    }

    /// One entry per indexed (scenario, split), in the index's order (by name, then split).
    public func entries(scenarios: [IndexedScenario], n: Int) -> [Entry] {
        scenarios.map { indexed in
            let key = Self.key(indexed.scenario, indexed.split)
            return Entry(scenario: indexed.scenario, scenarioSpec: indexed.spec, split: indexed.split, n: n,
                         numInstances: indexed.instanceCount,
                         instanceIDsWithOverlappingInput: (inputs[key] ?? []).sorted(),
                         instanceIDsWithOverlappingReference: (references[key] ?? []).sorted())
        }
    }
}

extension OverlapSummary {
    /// Adds every row of report files written by `ScanJob` (several scans may share one index).
    public mutating func add(reportAt path: String) throws {
        let lines = try LineReader(path: path)
        while let line = try lines.next() {
            if line.isEmpty { continue }
            add(try ReportRow.parse(jsonLine: Data(line), location: RecordLocation(file: path, line: lines.lineNumber)))
        }
    }

    /// Writes `entries` as JSON Lines (keys sorted), atomically (an existing file only if
    /// `existing` is `.replace`).
    public static func write(_ entries: [Entry], to path: String, existing: ExistingFile = .refuse) throws {
        let writer = try JSONLWriter(path: path, existing: existing)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        for entry in entries { try writer.write(line: Array(try encoder.encode(entry))) }
        try writer.finish()
    }

    /// A fixed-width table: scenario, split, instances, and how many overlap by input / reference.
    public static func table(_ entries: [Entry]) -> String {
        let width = max(8, entries.map(\.scenario.count).max() ?? 0)
        func pad(_ s: String, _ w: Int) -> String { s.count >= w ? s : s + String(repeating: " ", count: w - s.count) }
        func lpad(_ s: String, _ w: Int) -> String { s.count >= w ? s : String(repeating: " ", count: w - s.count) + s }
        var lines = [pad("scenario", width) + "  " + pad("split", 6) + lpad("instances", 10) + lpad("input", 8)
                     + lpad("reference", 10)]
        for e in entries {
            lines.append(pad(e.scenario, width) + "  " + pad(e.split, 6) + lpad(String(e.numInstances), 10)
                         + lpad(String(e.instanceIDsWithOverlappingInput.count), 8)
                         + lpad(String(e.instanceIDsWithOverlappingReference.count), 10))
        }
        return lines.joined(separator: "\n")
    }
}
