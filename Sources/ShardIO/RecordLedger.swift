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

    /// A file could not be opened (`lines` nil) or read to the end (`lines` stopped at the
    /// failure): throws in strict mode, else counts it by reason and records where it stopped
    /// (`ReadCounts.unreadTails`: the records after that point are unknown).
    public mutating func fileFailed(_ error: InputError, lines: LineReader?) throws {
        guard skipBadRecords else { throw error }
        counts.failedFiles[error.reason.rawValue, default: 0] += 1
        if error.reason != .emptyFile { counts.unreadTails.append(UnreadTail(error, lines: lines)) }
        keep(error)
    }

    private mutating func keep(_ error: InputError) {
        if firstErrors.count < maxKeptErrors { firstErrors.append(error) }
    }
}

extension RecordLedger {
    /// Hands `body` each non-blank line of the file at `path` with its location, accounting for
    /// everything under this ledger: the file is counted as opened; a file that cannot be opened
    /// or read to the end (corrupt or truncated compression) is `fileFailed` (lines before the
    /// failure point were handed out); a too-long line, or a line for which `body` throws an
    /// `InputError`, is `skip`ped; every other line is `kept`. In strict mode the first such
    /// error is thrown. File bytes are counted into `progress`.
    public mutating func forEachLine(of path: String, progress: ProgressMeter? = nil,
                                     _ body: (UnsafeBufferPointer<UInt8>, RecordLocation) throws -> Void) throws {
        openedFile()
        let lines: LineReader
        do {
            lines = try LineReader(path: path, progress: progress)
        } catch let error as InputError {
            try fileFailed(error, lines: nil)
            return
        }
        while true {
            let next: UnsafeBufferPointer<UInt8>?
            do {
                next = try lines.next()
            } catch let error as InputError where error.reason == .lineTooLong {
                try skip(error)
                continue
            } catch let error as InputError {
                try fileFailed(error, lines: lines)
                return
            }
            guard let line = next else { return }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
            do {
                try body(line, RecordLocation(file: path, line: lines.lineNumber))
                kept()
            } catch let error as InputError {
                try skip(error)
            }
        }
    }
}
