import Decontamination
import Foundation
import LongMixCore
import Mixing
import ShardIO

/// What a build does about the mixture's `test_sets` when its index lacks some of them.
public enum TestSetImport: Sendable {
    /// Import the missing ones first, in one transaction (the build's one write; an index that
    /// already holds them all is only read). For a build or plan in one process.
    case ifMissing
    /// Never write: refuse, naming the missing file and the import command. For the tasks of a
    /// distributed build, which open the index all at once (`longmix slurm` imports first).
    case never
}

/// The mixture's decontamination index and its test sets: the only place a build writes to the
/// index (`prepare`), and the check every reader makes without writing.
public enum MixtureIndex {
    /// Splits of the test sets a mixture imports (HELM evaluates valid and test).
    public static let splits: Set<String> = ["valid", "test"]

    /// What `prepare` found and did.
    public struct Prepared: Sendable {
        public var index: String
        public var parameters: ScanParameters
        /// Test-set files imported now (empty: the index held them all and was not written).
        public var imported: [String]
        /// Test-set files the index already held.
        public var present: [String]
        public var counts: ImportCounts
    }

    /// The protocol's parameters with the mixture's overrides; nil without decontamination.
    static func parameters(_ spec: MixtureSpec) throws -> ScanParameters? {
        guard let d = spec.decontamination else { return nil }
        guard let preset = DecontaminationProtocol(rawValue: d.protocolName) else {
            throw ConfigurationError(file: spec.path, key: "decontamination.protocol",
                                     "unknown protocol '\(d.protocolName)'; expected one of: \(DecontaminationProtocol.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        var p = preset.parameters
        if let n = d.n { p.n = n }
        if let name = d.normalization {
            guard let normalization = Normalization(rawValue: name) else {
                throw ConfigurationError(file: spec.path, key: "decontamination.normalization", "unknown normalization '\(name)'")
            }
            p.normalization = normalization
        }
        return p
    }

    /// The mixture's test-set files the index does not hold (all of them when there is no index
    /// file yet). Read only.
    static func missing(_ d: DecontaminationSpec, files: [String]) throws -> [String] {
        guard !files.isEmpty, FileManager.default.fileExists(atPath: d.index) else { return files }
        let index = try DecontaminationIndex.open(path: d.index, requireNGrams: false)
        return try index.missingTestSets(files, splits: splits)
    }

    /// Imports the mixture's test sets that its index lacks, creating the index if needed
    /// (`longmix decontam index --mixture`, and a local build's first step). An index that holds
    /// them all is opened read-only and not written. Nil when the mixture names no test sets.
    public static func prepare(_ spec: MixtureSpec) throws -> Prepared? {
        guard let d = spec.decontamination, let p = try parameters(spec), !d.testSets.isEmpty else { return nil }
        let files = try ShardPaths.expand(d.testSets)
        let lacking = try missing(d, files: files)
        var counts = ImportCounts()
        if !lacking.isEmpty {
            counts = try DecontaminationIndex.openOrCreate(path: d.index, n: p.n, normalization: p.normalization)
                .importFiles(lacking, splits: splits)
        }
        return Prepared(index: d.index, parameters: p, imported: lacking, present: files.filter { !lacking.contains($0) }, counts: counts)
    }

    /// The import command for a mixture, for messages.
    static func importCommand(_ spec: MixtureSpec) -> String { "longmix decontam index --mixture \(spec.path)" }
}

/// A mixture's decontamination, opened once per process: the index (read for provenance), the
/// scanner over its n-grams and the protocol's parameters. The index is opened read-only; the
/// mixture's test sets must be in it (`MixtureIndex`), imported first when `testSets` allows.
final class DecontaminationContext {
    let index: DecontaminationIndex
    let scanner: ContaminationScanner
    let parameters: ScanParameters
    let indexNGrams: Int

    /// Nil when the mixture asks for no decontamination.
    static func open(_ spec: MixtureSpec, testSets: TestSetImport) throws -> DecontaminationContext? {
        guard let d = spec.decontamination, let p = try MixtureIndex.parameters(spec) else { return nil }
        guard p.maximumDocumentFrequency == nil else {
            throw ConfigurationError(file: spec.path, key: "decontamination.protocol",
                                     "the gpt3 protocol's document-frequency pre-pass is not part of the mixture build yet; run `longmix decontam scan --protocol gpt3` on the shards first and build from its cleaned output")
        }
        if !d.testSets.isEmpty {
            switch testSets {
            case .ifMissing:
                _ = try MixtureIndex.prepare(spec)
            case .never:
                let files = try ShardPaths.expand(d.testSets)
                if let first = try MixtureIndex.missing(d, files: files).first {
                    throw ConfigurationError(file: d.index, key: "decontamination.test_sets",
                        "the index does not hold the mixture's test set \(first); tasks of a distributed build only read the index: "
                        + "import the test sets once first with `\(MixtureIndex.importCommand(spec))`")
                }
            }
        }
        // Builds read the index only: a read-only connection, never a write lock.
        let index = try DecontaminationIndex.open(path: d.index)
        try index.require(n: p.n, normalization: p.normalization)
        let ngrams = try index.loadNGramSet()
        return DecontaminationContext(index: index, scanner: try ContaminationScanner(ngrams: ngrams, parameters: p),
                                      parameters: p, indexNGrams: ngrams.count)
    }

    private init(index: DecontaminationIndex, scanner: ContaminationScanner, parameters: ScanParameters, indexNGrams: Int) {
        self.index = index
        self.scanner = scanner
        self.parameters = parameters
        self.indexNGrams = indexNGrams
    }

    /// Whether a whole group falls with one dirty member for `source` (Together on NI/P3).
    func dropsWholeGroups(_ source: MixtureSource) -> Bool { parameters.dropWholeGroup && source.reader.groupField != nil }

    /// Whether the protocol cuts documents into pieces (each piece with its own selection key).
    var cutsDocuments: Bool {
        if case .cutWindows = parameters.action { return true }
        return false
    }

    /// The report rows of one scanned document (JSON lines), empty without hits.
    func reportLines(_ document: Document, _ scan: ScanResult) throws -> [[UInt8]] {
        guard !scan.hits.isEmpty else { return [] }
        let provenance = try index.provenance(of: scan.hits.map(\.hash))
        return try ContaminationReport.rows(document: document, hits: scan.hits, verdict: scan.verdict,
                                            n: parameters.n, normalization: parameters.normalization,
                                            provenance: provenance).map { try $0.jsonLine() }
    }
}
