import LongMixCore

/// What happens to one training document.
public enum Verdict: Sendable, Equatable {
    case keep
    /// Dropped whole; `reason` is a stable key for `StageCounts` (`contaminated`,
    /// `contaminated-group`, `contaminated-too-many-pieces`, `contaminated-no-clean-piece`).
    case drop(reason: DropReason)
    /// GPT-3 cutting: keep only these byte ranges of the text, each as its own document.
    case cleaned(pieces: [Range<Int>])
}

/// The scanner's answer for one document: the verdict and every n-gram that hit the index.
public struct ScanResult: Sendable, Equatable {
    public var verdict: Verdict
    /// Index n-grams found in the document, in text order (n-grams ignored by the document
    /// frequency rule are not included).
    public var hits: [NGramOccurrence]

    public init(verdict: Verdict, hits: [NGramOccurrence]) {
        self.verdict = verdict
        self.hits = hits
    }
}

/// Scans training documents against the in-memory n-gram set of an index.
///
/// Usage: `let scanner = try ContaminationScanner(ngrams: index.loadNGramSet(), parameters: p)`; for the GPT-3
/// protocol first run `DocumentFrequencyCounter` over all training documents and pass its
/// `frequentNGrams(...)`; for group dropping run the `GroupVerdicts` pre-pass and apply it to
/// each result. `ContaminationScanner` is immutable and `Sendable`: call `scan` from any number of threads;
/// results depend only on the document, never on the thread or the order of calls.
public struct ContaminationScanner: Sendable {
    public let parameters: ScanParameters
    public let hasher: NGramHasher
    let ngrams: NGramSet
    let ignored: NGramSet

    /// - Parameters:
    ///   - ngrams: the index's n-gram hashes (`DecontaminationIndex.loadNGramSet()`).
    ///   - frequentNGrams: n-grams to ignore, from the counting pre-pass; required when
    ///     `parameters.maximumDocumentFrequency` is set, refused otherwise.
    public init(ngrams: NGramSet, parameters: ScanParameters, frequentNGrams: NGramSet? = nil) throws {
        if parameters.maximumDocumentFrequency != nil && frequentNGrams == nil {
            throw ConfigurationError(key: "maximumDocumentFrequency",
                "the document-frequency rule needs the counting pre-pass (DocumentFrequencyCounter) first")
        }
        if parameters.maximumDocumentFrequency == nil && frequentNGrams != nil {
            throw ConfigurationError(key: "maximumDocumentFrequency",
                "frequent n-grams were given but the parameters set no document-frequency limit")
        }
        self.parameters = parameters
        self.hasher = NGramHasher(n: parameters.n, normalization: parameters.normalization)
        self.ngrams = ngrams
        self.ignored = frequentNGrams ?? .empty
    }

    /// N-grams are checked in batches of this many: first the Bloom filter over the whole batch
    /// (independent loads that the CPU overlaps), then the table for the few that pass.
    static let batchSize = 256

    /// The index n-grams in `text`, in order, without those ignored as frequent.
    public func hits(in text: UnsafeBufferPointer<UInt8>) -> [NGramOccurrence] {
        var hits: [NGramOccurrence] = []
        let ngrams = self.ngrams, ignored = self.ignored
        let checkIgnored = !ignored.isEmpty
        withUnsafeTemporaryAllocation(of: NGramOccurrence.self, capacity: Self.batchSize) { batch in
            var count = 0
            @inline(__always) func flush() {
                var candidates = 0
                for i in 0..<count {
                    // Branch-free compaction keeps the filter loads independent of each other.
                    batch[candidates] = batch[i]
                    candidates &+= ngrams.mayContain(batch[i].hash) ? 1 : 0
                }
                for i in 0..<candidates {
                    let hash = batch[i].hash
                    if ngrams.contains(hash) && !(checkIgnored && ignored.contains(hash)) {
                        hits.append(batch[i])
                    }
                }
                count = 0
            }
            hasher.forEachNGram(in: text) { occurrence in
                batch.initializeElement(at: count, to: occurrence)
                count += 1
                if count == Self.batchSize { flush() }
            }
            flush()
        }
        return hits
    }

    public func hits(in text: [UInt8]) -> [NGramOccurrence] {
        text.withUnsafeBufferPointer { hits(in: $0) }
    }

    /// Scans a few-shot group's header (its shared instruction) exactly as an example's text:
    /// same n-grams, same normalization. The verdict is for the group: `drop` with reason
    /// `contaminated-header` on any hit unless the action only reports (a header cannot be cut
    /// into pieces: it is written whole beside every example). Feed it to
    /// `GroupVerdicts.recordHeader` so every member falls with it.
    public func scanHeader(_ header: [UInt8]) -> ScanResult {
        let hits = self.hits(in: header)
        guard !hits.isEmpty else { return ScanResult(verdict: .keep, hits: []) }
        if case .reportOnly = parameters.action { return ScanResult(verdict: .keep, hits: hits) }
        return ScanResult(verdict: .drop(reason: .contaminatedHeader), hits: hits)
    }

    /// Scans one document under the parameters' action. Group dropping is not applied here (it
    /// needs the whole group): pass the result through `GroupVerdicts.apply`.
    public func scan(_ document: Document) -> ScanResult {
        let hits = self.hits(in: document.text)
        guard !hits.isEmpty else { return ScanResult(verdict: .keep, hits: []) }
        switch parameters.action {
        case .reportOnly:
            return ScanResult(verdict: .keep, hits: hits)
        case .dropDocument:
            return ScanResult(verdict: .drop(reason: .contaminated), hits: hits)
        case let .cutWindows(window, minimumPieceLength, maximumPieces):
            let verdict = WindowCutter(window: window, minimumPieceLength: minimumPieceLength,
                                       maximumPieces: maximumPieces)
                .verdict(text: document.text, hitRanges: hits.map(\.range))
            return ScanResult(verdict: verdict, hits: hits)
        }
    }
}
