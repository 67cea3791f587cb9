import LongMixCore

/// GPT-3's counting pre-pass: in how many training documents each index n-gram occurs, so that
/// n-grams found in more than `ScanParameters.maximumDocumentFrequency` documents (boilerplate)
/// are ignored by the scanner.
///
/// Contract: call `add` once per training document of the whole mixture (every source, before
/// any filtering by this scan); a document counts once per n-gram however often it repeats it.
/// Counters filled on different threads over disjoint documents are combined with `merge`; the
/// result does not depend on how the documents were split.
public struct DocumentFrequencyCounter: Sendable {
    let hasher: NGramHasher
    let ngrams: NGramSet
    /// Index n-gram hash -> number of documents containing it.
    public private(set) var documentCounts: [UInt64: Int] = [:]
    public private(set) var documentsCounted = 0

    /// - Parameters: `ngrams` and `parameters` as given to the `ContaminationScanner` that will use the result.
    public init(ngrams: NGramSet, parameters: ScanParameters) {
        self.hasher = NGramHasher(n: parameters.n, normalization: parameters.normalization)
        self.ngrams = ngrams
    }

    public mutating func add(_ text: [UInt8]) {
        var seen = Set<UInt64>()
        let ngrams = self.ngrams
        text.withUnsafeBufferPointer { buffer in
            hasher.forEachNGram(in: buffer) { occurrence in
                if ngrams.contains(occurrence.hash) { seen.insert(occurrence.hash) }
            }
        }
        for hash in seen { documentCounts[hash, default: 0] += 1 }
        documentsCounted += 1
    }

    public mutating func merge(_ other: DocumentFrequencyCounter) {
        for (hash, count) in other.documentCounts { documentCounts[hash, default: 0] += count }
        documentsCounted += other.documentsCounted
    }

    /// The n-grams found in more than `maximumDocumentFrequency` documents, for `ContaminationScanner.init`.
    public func frequentNGrams(maximumDocumentFrequency: Int) -> NGramSet {
        NGramSet(documentCounts.lazy.filter { $0.value > maximumDocumentFrequency }.map(\.key))
    }
}
