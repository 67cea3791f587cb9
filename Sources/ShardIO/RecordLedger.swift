import LongMixCore

/// The accounting of a reader that is not a `DocumentReader` (test sets, id lines, predictions):
/// each record is kept or, under `--keep-going`, skipped and counted by reason; each file that
/// cannot be read to the end is counted too. In strict mode the first bad record or file throws.
///
/// Contract: `counts.records == counts.documents + counts.skippedTotal` always holds.
public struct RecordLedger: Sendable {
    public let skipBadRecords: Bool
    public private(set) var counts = ReadCounts()
    /// The first errors met in keep-going mode (at most `maxKeptErrors`).
    public private(set) var firstErrors: [InputError] = []
    public let maxKeptErrors = 20

    public init(skipBadRecords: Bool) { self.skipBadRecords = skipBadRecords }

    /// A file is being opened.
    public mutating func openedFile() { counts.files += 1 }

    /// A record was read and kept.
    public mutating func kept() {
        counts.records += 1
        counts.documents += 1
    }

    /// A record was bad: throws `error` in strict mode, else counts it under its reason.
    public mutating func skip(_ error: InputError) throws {
        guard skipBadRecords else { throw error }
        counts.records += 1
        counts.skipped[error.reason.rawValue, default: 0] += 1
        keep(error)
    }

    /// A file could not be opened or read to the end: throws in strict mode, else counts it.
    public mutating func fileFailed(_ error: InputError) throws {
        guard skipBadRecords else { throw error }
        counts.failedFiles[error.reason.rawValue, default: 0] += 1
        keep(error)
    }

    private mutating func keep(_ error: InputError) {
        if firstErrors.count < maxKeptErrors { firstErrors.append(error) }
    }
}
