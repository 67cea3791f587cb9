import Decontamination
import LongMixCore
import Mixing
import ShardIO

/// A mixture's decontamination, opened once per process: the index (read for provenance), the
/// scanner over its n-grams and the protocol's parameters.
final class DecontaminationContext {
    let index: DecontaminationIndex
    let scanner: ContaminationScanner
    let parameters: ScanParameters
    let indexNGrams: Int

    /// Nil when the mixture asks for no decontamination.
    static func open(_ spec: MixtureSpec) throws -> DecontaminationContext? {
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
        guard p.maximumDocumentFrequency == nil else {
            throw ConfigurationError(file: spec.path, key: "decontamination.protocol",
                                     "the gpt3 protocol's document-frequency pre-pass is not part of the mixture build yet; run `longmix decontam scan --protocol gpt3` on the shards first and build from its cleaned output")
        }
        if !d.testSets.isEmpty {
            try DecontaminationIndex.openOrCreate(path: d.index, n: p.n, normalization: p.normalization)
                .importFiles(try ShardPaths.expand(d.testSets), splits: ["valid", "test"])
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
