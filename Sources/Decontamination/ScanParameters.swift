import LongMixCore

/// What the scanner does with a training document that shares n-grams with a test set.
public enum ContaminationAction: Sendable, Equatable, Codable {
    /// Drop the whole document on any hit (Together / RedPajama-Data-Instruct, datatrove).
    case dropDocument
    /// GPT-3: remove every hit together with `window` characters on each side, splitting the
    /// document into pieces; drop pieces shorter than `minimumPieceLength` characters; drop the
    /// document when the split yields more than `maximumPieces` pieces.
    /// Characters are Unicode scalars (a UTF-8 lead byte starts one).
    case cutWindows(window: Int, minimumPieceLength: Int, maximumPieces: Int)
    /// HELM: record overlaps, change nothing.
    case reportOnly
}

/// Everything that decides what counts as an overlap and what happens to it.
///
/// `n` and `normalization` must equal the index's own (`DecontaminationIndex` refuses otherwise);
/// the rest can change from scan to scan.
public struct ScanParameters: Sendable, Equatable, Codable {
    public var n: Int
    public var normalization: Normalization
    public var action: ContaminationAction
    /// When a document carries a `group` (for example a Natural Instructions task), a hit in any
    /// member drops every member of the group. Needs the `GroupVerdicts` pre-pass.
    public var dropWholeGroup: Bool
    /// GPT-3's boilerplate rule: n-grams found in more than this many training documents are
    /// ignored. Needs the `DocumentFrequencyCounter` pre-pass. `nil`: no such rule.
    public var maximumDocumentFrequency: Int?

    public init(n: Int, normalization: Normalization, action: ContaminationAction,
                dropWholeGroup: Bool = false, maximumDocumentFrequency: Int? = nil) {
        self.n = n
        self.normalization = normalization
        self.action = action
        self.dropWholeGroup = dropWholeGroup
        self.maximumDocumentFrequency = maximumDocumentFrequency
    }
}

/// The named protocols of REFERENCE.md section 3; each is a preset of `ScanParameters` whose
/// fields can be overridden.
public enum DecontaminationProtocol: String, Sendable, CaseIterable, Codable {
    /// Together / RedPajama-Data-Instruct: 10-grams, HELM normalization, drop the document on any
    /// hit, drop the whole group (task) when any member hits.
    case together
    /// GPT-3: 13-grams, GPT-3 normalization, cut 200 characters around each hit, drop pieces under
    /// 200 characters and documents split into more than 10 pieces, ignore n-grams in more than
    /// 10 training documents.
    case gpt3
    /// HELM data overlap: 13-grams, HELM normalization, report only.
    case helm

    public var parameters: ScanParameters {
        switch self {
        case .together:
            return ScanParameters(n: 10, normalization: .helm, action: .dropDocument, dropWholeGroup: true)
        case .gpt3:
            return ScanParameters(n: 13, normalization: .gpt3,
                                  action: .cutWindows(window: 200, minimumPieceLength: 200, maximumPieces: 10),
                                  maximumDocumentFrequency: 10)
        case .helm:
            return ScanParameters(n: 13, normalization: .helm, action: .reportOnly)
        }
    }
}
