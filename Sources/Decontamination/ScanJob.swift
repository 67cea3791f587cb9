import Foundation
import LongMixCore
import ShardIO

/// What a `ScanJob` did.
public struct ScanOutcome: Sendable {
    /// Documents and text bytes read, kept and dropped by reason. A GPT-3-cut document counts as
    /// kept; the bytes cut out of it are dropped under `contaminated-cut`.
    public var counts = StageCounts()
    /// What the shard reader saw (records, blank lines, skipped records by reason).
    public var reading = ReadCounts()
    public var documentsWithHits = 0
    /// Documents cut into pieces (GPT-3) and the pieces kept from them.
    public var documentsCut = 0
    public var piecesWritten = 0
    public var reportRows = 0
    public var dirtyGroups: [GroupKey] = []
    /// Cleaned shards not published because their input could not be read to the end (a partial
    /// shard is never published as if whole); their documents moved from kept to dropped under
    /// `in-unreadable-file`.
    public var shardsWithheld: [String] = []
    /// N-grams ignored by the document-frequency rule.
    public var frequentNGrams = 0
    public var indexNGrams = 0
    public var summary: [OverlapSummary.Entry] = []
    /// Seconds spent loading the index into memory, in the pre-passes, in the scanner proper
    /// (`ContaminationScanner.scan` only) and in the whole main pass (reading, scanning, writing).
    public var indexLoadSeconds = 0.0
    public var prePassSeconds = 0.0
    public var scanSeconds = 0.0
    public var mainPassSeconds = 0.0
}

/// One decontamination run over one source's shards, as `longmix decontam scan` performs it:
/// optional pre-passes (GPT-3 document counting, group verdicts), then a pass that scans every
/// document and writes cleaned shards, the report JSONL and the HELM-style summary.
///
/// Outputs are deterministic (documents in shard then line order) and atomic (each file appears
/// only once complete). The mixture builder composes the same parts (`ContaminationScanner`,
/// `DocumentFrequencyCounter`, `GroupVerdicts`, `ContaminationReport`) in its own passes.
public struct ScanJob {
    public var inputs: [String]
    public var source: String
    public var readerOptions: ReaderOptions
    public var parameters: ScanParameters
    /// Where cleaned shards go, one per input shard under the same relative name; nil: none.
    public var outputDirectory: String?
    public var reportPath: String
    /// HELM-style per-scenario summary (JSONL); nil: not written (still returned).
    public var summaryPath: String?
    /// Whether the report and summary may replace existing files (`--force`).
    public var existingFiles: ExistingFile = .refuse

    public init(inputs: [String], source: String, readerOptions: ReaderOptions, parameters: ScanParameters,
                outputDirectory: String?, reportPath: String, summaryPath: String?) {
        self.inputs = inputs
        self.source = source
        self.readerOptions = readerOptions
        self.parameters = parameters
        self.outputDirectory = outputDirectory
        self.reportPath = reportPath
        self.summaryPath = summaryPath
    }

    /// How many times `run` reads the inputs: the GPT-3 counting pass, the group pass (groups
    /// dropped whole), and the main pass. A progress meter in `readerOptions` counts every pass.
    public var passes: Int {
        1 + (parameters.maximumDocumentFrequency != nil ? 1 : 0)
            + (parameters.dropWholeGroup && readerOptions.groupField != nil ? 1 : 0)
    }

    public func run(index: DecontaminationIndex) throws -> ScanOutcome {
        try index.require(n: parameters.n, normalization: parameters.normalization)
        // Outputs are checked before the pre-passes: a refusal costs nothing.
        for file in [reportPath, summaryPath].compactMap({ $0 }) { try OutputTarget.checkFile(file, existing: existingFiles) }
        if let outputDirectory {
            try OutputTarget.checkDirectory(outputDirectory, kind: .cleanedShards)
            let directory = InputFiles.canonical(outputDirectory)
            for file in [reportPath, summaryPath].compactMap({ $0 }) where InputFiles.canonical(file).hasPrefix(directory + "/") {
                throw OutputError(path: file, "lies inside the cleaned-shards output \(outputDirectory), which is replaced as a whole; write it elsewhere")
            }
        }
        var outcome = ScanOutcome()
        let clock = ContinuousClock()
        var started = clock.now
        let ngrams = try index.loadNGramSet()
        outcome.indexNGrams = ngrams.count
        outcome.indexLoadSeconds = seconds(clock.now - started)

        started = clock.now
        var frequent: NGramSet?
        if let limit = parameters.maximumDocumentFrequency {
            var counter = DocumentFrequencyCounter(ngrams: ngrams, parameters: parameters)
            let reader = DocumentReader(paths: inputs, source: source, options: readerOptions)
            while let document = try reader.next() { counter.add(document.text) }
            frequent = counter.frequentNGrams(maximumDocumentFrequency: limit)
            outcome.frequentNGrams = frequent!.count
        }
        let scanner = try ContaminationScanner(ngrams: ngrams, parameters: parameters, frequentNGrams: frequent)
        var groups = GroupVerdicts()
        if parameters.dropWholeGroup && readerOptions.groupField != nil {
            let reader = DocumentReader(paths: inputs, source: source, options: readerOptions)
            while let document = try reader.next() {
                if document.group != nil { groups.record(document, scanner.scan(document)) }
            }
            outcome.dirtyGroups = groups.dirtyGroups.sorted()
        }
        outcome.prePassSeconds = seconds(clock.now - started)

        started = clock.now
        let reader = DocumentReader(paths: inputs, source: source, options: readerOptions)
        let report = try JSONLWriter(path: reportPath, existing: existingFiles)
        let shards = try outputDirectory.map { try CleanedShards(directory: $0, inputs: inputs) }
        var summary = OverlapSummary()
        var provenanceCache: [UInt64: [Provenance]] = [:]
        var scanDuration = Duration.zero
        while let document = try reader.next() {
            let scanStart = clock.now
            var result = scanner.scan(document)
            scanDuration += clock.now - scanStart
            result = groups.apply(result, to: document)
            record(result, of: document, in: &outcome)
            try shards?.write(document, verdict: result.verdict, reader: reader, outcome: &outcome)
            guard !result.hits.isEmpty else { continue }
            outcome.documentsWithHits += 1
            let unknown = Set(result.hits.map(\.hash)).filter { provenanceCache[$0] == nil }
            if !unknown.isEmpty { provenanceCache.merge(try index.provenance(of: unknown)) { a, _ in a } }
            for row in ContaminationReport.rows(document: document, hits: result.hits, verdict: result.verdict,
                                                n: parameters.n, normalization: parameters.normalization,
                                                provenance: provenanceCache) {
                try report.write(line: row.jsonLine())
                summary.add(row)
                outcome.reportRows += 1
            }
        }
        try shards?.finish(reader: reader, outcome: &outcome)
        try report.finish()
        outcome.reading = reader.counts
        outcome.summary = summary.entries(scenarios: try index.scenarios(), n: parameters.n)
        if let summaryPath { try OverlapSummary.write(outcome.summary, to: summaryPath, existing: existingFiles) }
        outcome.scanSeconds = seconds(scanDuration)
        outcome.mainPassSeconds = seconds(clock.now - started)
        return outcome
    }

    private func record(_ result: ScanResult, of document: Document, in outcome: inout ScanOutcome) {
        switch result.verdict {
        case .keep:
            outcome.counts.keep(units: document.text.count)
        case let .drop(reason):
            outcome.counts.drop(units: document.text.count, reason: reason)
        case let .cleaned(pieces):
            outcome.documentsCut += 1
            let kept = pieces.reduce(0) { $0 + $1.count }
            outcome.counts.keep(units: kept)
            outcome.counts.unitsRead += document.text.count - kept
            outcome.counts.dropUnits(document.text.count - kept, reason: .contaminatedCut)
        }
    }

    private func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }
}

/// Cleaned output shards: one per input shard, same relative name, same compression. Records are
/// `{"id", "source", "text"}` plus `"group"` when the document has one; a GPT-3 piece is written
/// as its own record with id `<id>#<k>` (k from 0) and `"piece": k`.
///
/// The directory is an `OutputTarget` of kind `.cleanedShards`: written in staging, published in
/// one rename by `finish`. The shard of an input the reader could not read to the end is withheld.
final class CleanedShards {
    private let target: OutputTarget
    private var names: [String: String] = [:]
    private var current: (input: String, writer: JSONLWriter, documents: Int, units: Int)?
    private var output = JSONOutput()

    init(directory: String, inputs: [String]) throws {
        target = try OutputTarget(directory: directory, kind: .cleanedShards)
        for (input, name) in zip(inputs, ShardPaths.relativeNames(inputs)) {
            guard !name.split(separator: "/").contains("..") else {
                throw OutputError(path: directory, "input \(input) would be written outside the output directory")
            }
            names[input] = name
        }
    }

    func write(_ document: Document, verdict: Verdict, reader: DocumentReader, outcome: inout ScanOutcome) throws {
        if current?.input != document.location.file {
            try closeCurrent(reader: reader, outcome: &outcome)
            let name = names[document.location.file] ?? (document.location.file as NSString).lastPathComponent
            let path = (target.staging as NSString).appendingPathComponent(name)
            // One level at a time below the staging directory, never recreating it after a signal.
            try TemporaryFiles.makeSubdirectories((name as NSString).deletingLastPathComponent, under: target.staging)
            current = (document.location.file, try JSONLWriter(path: path), 0, 0)
        }
        switch verdict {
        case .drop: return
        case .keep:
            try writeRecord(document, id: document.id, text: document.text[...], piece: nil)
            current!.documents += 1
            current!.units += document.text.count
        case let .cleaned(pieces):
            for (k, piece) in pieces.enumerated() {
                try writeRecord(document, id: "\(document.id)#\(k)", text: document.text[piece], piece: k)
                outcome.piecesWritten += 1
                current!.units += piece.count
            }
            current!.documents += 1
        }
    }

    private func writeRecord(_ document: Document, id: String, text: ArraySlice<UInt8>, piece: Int?) throws {
        output.clear()
        output.raw("{")
        output.key("id")
        output.string(id)
        output.raw(",")
        output.key("source")
        output.string(document.source)
        if let group = document.group {
            output.raw(",")
            output.key("group")
            output.string(group)
        }
        if let piece {
            output.raw(",")
            output.key("piece")
            output.integer(piece)
        }
        output.raw(",")
        output.key("text")
        text.withUnsafeBufferPointer { output.string($0) }
        output.raw("}")
        try current!.writer.write(line: output.bytes)
    }

    /// Finishes the current shard, or withholds it (its temporary removed, its documents counted
    /// as dropped) when the reader could not read its input to the end.
    private func closeCurrent(reader: DocumentReader, outcome: inout ScanOutcome) throws {
        guard let current else { return }
        self.current = nil
        guard reader.failedPaths[current.input] == nil else {
            outcome.shardsWithheld.append(current.writer.path)
            outcome.counts.reclassify(documents: current.documents, units: current.units, as: .inUnreadableFile)
            return
        }
        try current.writer.finish()
    }

    /// Finishes the last shard and publishes the directory.
    func finish(reader: DocumentReader, outcome: inout ScanOutcome) throws {
        try closeCurrent(reader: reader, outcome: &outcome)
        try target.publish()
    }
}
