import LongMixCore

/// How records become documents, and what to do with bad ones.
public struct ReaderOptions: Sendable {
    /// Where the text comes from.
    public var text: TextSelector
    /// A field holding the record's own id (string or number). When nil, ids are
    /// `"<shard name>:<line>"` with the shard named relative to `idRoot` when set (see
    /// `ShardPaths.name(of:relativeTo:)`), else relative to the deepest directory holding all the
    /// reader's shards.
    public var idField: FieldPath?
    /// The directory default ids are relative to (a mixture's data root): with it, a document's id
    /// does not depend on which other shards are read, so adding shards or splitting the shards
    /// among tasks renames nothing.
    public var idRoot: String?
    /// A field whose value groups records (for example `meta.task_name` for Natural Instructions).
    public var groupField: FieldPath?
    /// Keep going past bad records and files, counting them by reason, instead of stopping at the
    /// first with an error.
    public var skipBadRecords: Bool
    /// Longest accepted line; longer lines are bad records (`line-too-long`).
    public var maxLineBytes: Int
    /// A completion appended to the text; `Document.completionStart` marks where it begins.
    public var completion: TextSelector?
    /// A few-shot group header, delivered as `Document.header`.
    public var header: TextSelector?
    /// Counts the shards' file bytes as they are read (for a progress bar); nil for none.
    public var progress: ProgressMeter?

    public init(text: TextSelector = .field("text"), idField: FieldPath? = nil, groupField: FieldPath? = nil,
                skipBadRecords: Bool = false, maxLineBytes: Int = 64 << 20,
                completion: TextSelector? = nil, header: TextSelector? = nil) {
        self.completion = completion
        self.header = header
        self.text = text
        self.idField = idField
        self.groupField = groupField
        self.skipBadRecords = skipBadRecords
        self.maxLineBytes = maxLineBytes
    }
}

/// What a reader has seen so far. `records == documents + skipped total` always holds; blank lines
/// are not records and are counted apart.
public struct ReadCounts: Sendable, Equatable, Codable {
    public var files = 0
    public var records = 0
    public var documents = 0
    public var blankLines = 0
    /// Reason key (`malformed-json`, `missing-field`, `invalid-utf8`, ...) -> records skipped.
    public var skipped: [String: Int] = [:]
    /// Files that could not be read to the end (`truncated-zstd`, `corrupt-gzip`, `empty-file`, ...),
    /// by reason. Any lines after the failure point are unknown and not counted as records.
    public var failedFiles: [String: Int] = [:]
    /// Where each file that failed part-way (or could not be opened) stopped: the records after
    /// that point are unknown, so `records` counts only those before it. An empty file is read
    /// to its end and has no entry.
    public var unreadTails: [UnreadTail] = []
    /// Decompressed bytes read.
    public var bytes = 0
    /// UTF-8 bytes of document text produced.
    public var textBytes = 0

    public init() {}

    public var skippedTotal: Int { skipped.values.reduce(0, +) }
    public var isBalanced: Bool { records == documents + skippedTotal }

    public mutating func add(_ other: ReadCounts) {
        files += other.files
        records += other.records
        documents += other.documents
        blankLines += other.blankLines
        bytes += other.bytes
        textBytes += other.textBytes
        for (k, v) in other.skipped { skipped[k, default: 0] += v }
        for (k, v) in other.failedFiles { failedFiles[k, default: 0] += v }
        unreadTails += other.unreadTails
    }
}

/// Where the reading of a file stopped when it failed part-way in keep-going mode: the records
/// before the point were read and counted; those after it are unknown (how many is not known,
/// and they are counted nowhere), so every count of records read is a lower bound for the file.
public struct UnreadTail: Sendable, Equatable, Codable, CustomStringConvertible {
    public var file: String
    /// The failure's `DropReason` key (`truncated-zstd`, `corrupt-gzip`, `unreadable-file`, ...).
    public var reason: String
    /// Whole lines read before the failure (0: nothing could be read).
    public var afterLine: Int
    /// The file's decompressed bytes up to the end of line `afterLine`, when known.
    public var afterByte: Int?

    public init(file: String, reason: DropReason, afterLine: Int, afterByte: Int?) {
        self.file = file
        self.reason = reason.rawValue
        self.afterLine = afterLine
        self.afterByte = afterByte
    }

    /// The tail of the file `lines` was reading when `error` stopped it (nil `lines`: it could
    /// not be opened).
    public init(_ error: InputError, lines: LineReader?) {
        self.init(file: lines?.path ?? error.location?.file ?? "?", reason: error.reason,
                  afterLine: lines?.lineNumber ?? 0, afterByte: lines == nil ? 0 : lines?.bytesBeforeFailure)
    }

    public var description: String {
        "\(file): \(reason): records after line \(afterLine)"
            + (afterByte.map { " (byte \($0) of its decompressed text)" } ?? "") + " unknown, not counted"
    }
}

/// What `DocumentReader.nextSummary()` tells of a document without decoding its text.
public struct DocumentSummary: Sendable {
    public var id: String
    public var group: String?
    /// UTF-8 bytes of the document's text (completion included): `Document.text.count`.
    public var textBytes: Int
    public var location: RecordLocation
    public var header: [UInt8]?
    /// The whole document, when the caller asked for it.
    public var document: Document?

    init(id: String, group: String?, textBytes: Int, location: RecordLocation, header: [UInt8]?, document: Document?) {
        self.id = id
        self.group = group
        self.textBytes = textBytes
        self.location = location
        self.header = header
        self.document = document
    }

    init(_ document: Document) {
        self.init(id: document.id, group: document.group, textBytes: document.text.count, location: document.location,
                  header: document.header, document: document)
    }
}

/// Streams the documents of one source's shards, in shard order then line order.
///
/// Contract: memory is bounded by one line plus the decompressor's buffers, whatever the shard
/// size. In strict mode the first bad record or file throws an `InputError` naming file, line and
/// field. With `skipBadRecords` the reader goes on, counts each bad record in `counts.skipped` by
/// reason, each unreadable file in `counts.failedFiles`, and keeps the first few errors in
/// `firstErrors` for the summary.
public final class DocumentReader {
    public let source: String
    public let options: ReaderOptions
    public private(set) var counts = ReadCounts()
    /// Files not read to the end (path -> reason), in keep-going mode: their documents so far were
    /// delivered, the rest is lost, so anything derived from them is partial.
    public private(set) var failedPaths: [String: DropReason] = [:]
    /// The first errors met in keep-going mode (at most `maxKeptErrors`).
    public private(set) var firstErrors: [InputError] = []
    public let maxKeptErrors = 20

    private let paths: [String]
    private let names: [String]
    private var fileIndex = -1
    private var lines: LineReader?
    private var recordsInFile = 0
    private let extractor: FieldExtractor
    private var values: [FieldValue?] = []
    private var text: [UInt8] = []
    // Indices into extractor.paths.
    private let idSlot: Int?
    private let groupSlot: Int?
    /// Paths read only into the text (text and completion selectors): `nextSummary` measures
    /// them instead of decoding them.
    private let measuredFields: UInt64

    public init(paths: [String], source: String, options: ReaderOptions) {
        self.paths = paths
        self.names = options.idRoot.map { root in paths.map { ShardPaths.name(of: $0, relativeTo: root) } }
            ?? ShardPaths.relativeNames(paths)
        self.source = source
        self.options = options
        var fieldPaths = options.text.fieldPaths
        for p in (options.completion?.fieldPaths ?? []) + (options.header?.fieldPaths ?? []) where !fieldPaths.contains(p) {
            fieldPaths.append(p)
        }
        func slot(_ p: FieldPath?) -> Int? {
            guard let p else { return nil }
            if let i = fieldPaths.firstIndex(of: p) { return i }
            fieldPaths.append(p)
            return fieldPaths.count - 1
        }
        idSlot = slot(options.idField)
        groupSlot = slot(options.groupField)
        extractor = FieldExtractor(paths: fieldPaths)
        let decoded = Set((options.header?.fieldPaths ?? []) + [options.idField, options.groupField].compactMap { $0 })
        measuredFields = fieldPaths.indices.reduce(UInt64(0)) { mask, i in
            decoded.contains(fieldPaths[i]) ? mask : mask | 1 << UInt64(i)
        }
    }

    /// The next document, or nil when every shard has been read.
    public func next() throws -> Document? {
        while let (line, location) = try nextRecordLine() {
            do {
                let document = try makeDocument(line, location: location)
                counts.documents += 1
                counts.textBytes += document.text.count
                return document
            } catch let error as InputError {
                try handle(error)
            }
        }
        return nil
    }

    /// The next document's summary, or nil when every shard has been read: the fast path of a
    /// pass that needs each document's id, group, header and text size, and the text itself of
    /// only a few: those for which `wholeIf(id, group)` is true come with `document` set.
    ///
    /// Contract: the same records are accepted and rejected, for the same reasons and with the
    /// same errors, and the same counts are kept (`textBytes` included) as by `next()`; a text
    /// not asked for is validated but not decoded. When the id and group are known before
    /// parsing (default ids, no group field) `wholeIf` is asked first and a wanted record is
    /// parsed once; otherwise it is asked after a measuring parse, and a wanted record is parsed
    /// again, whole.
    public func nextSummary(wholeIf wanted: (String, String?) -> Bool) throws -> DocumentSummary? {
        while let (line, location) = try nextRecordLine() {
            do {
                var summary: DocumentSummary
                if idSlot == nil && groupSlot == nil && wanted(defaultID(location), nil) {
                    let document = try makeDocument(line, location: location)
                    summary = DocumentSummary(document)
                } else {
                    summary = try makeSummary(line, location: location)
                    if (idSlot != nil || groupSlot != nil) && wanted(summary.id, summary.group) {
                        summary.document = try makeDocument(line, location: location)
                    }
                }
                counts.documents += 1
                counts.textBytes += summary.textBytes
                return summary
            } catch let error as InputError {
                try handle(error)
            }
        }
        return nil
    }

    /// The next record's line and location: blank lines counted and passed over, unreadable
    /// files and over-long lines handled (counted, or thrown in strict mode); nil at the end.
    private func nextRecordLine() throws -> (UnsafeBufferPointer<UInt8>, RecordLocation)? {
        while true {
            guard let lines else {
                guard try openNextFile() else { return nil }
                continue
            }
            let line: UnsafeBufferPointer<UInt8>?
            do {
                line = try lines.next()
            } catch let error as InputError {
                if error.reason == .lineTooLong {
                    counts.records += 1
                    recordsInFile += 1
                    try handle(error)
                    continue
                }
                // The stream itself failed: the rest of the file is unreadable.
                try closeFile(failure: InputError(
                    location: RecordLocation(file: lines.path, line: lines.lineNumber), reason: error.reason,
                    message: error.message + " (after line \(lines.lineNumber))"))
                continue
            }
            guard let line else {
                try closeFile(failure: nil)
                continue
            }
            if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                counts.blankLines += 1
                continue
            }
            counts.records += 1
            recordsInFile += 1
            return (line, RecordLocation(file: lines.path, line: lines.lineNumber))
        }
    }

    private func handle(_ error: InputError) throws {
        guard options.skipBadRecords else { throw error }
        counts.skipped[error.reason.rawValue, default: 0] += 1
        if firstErrors.count < maxKeptErrors { firstErrors.append(error) }
    }

    private func openNextFile() throws -> Bool {
        fileIndex += 1
        guard fileIndex < paths.count else { return false }
        counts.files += 1
        recordsInFile = 0
        do {
            lines = try LineReader(path: paths[fileIndex], maxLineBytes: options.maxLineBytes, progress: options.progress)
        } catch let error as InputError {
            counts.failedFiles[error.reason.rawValue, default: 0] += 1
            counts.unreadTails.append(UnreadTail(file: paths[fileIndex], reason: error.reason, afterLine: 0, afterByte: 0))
            failedPaths[paths[fileIndex]] = error.reason
            guard options.skipBadRecords else { throw error }
            if firstErrors.count < maxKeptErrors { firstErrors.append(error) }
        }
        return true
    }

    private func closeFile(failure: InputError?) throws {
        guard let lines else { return }
        counts.bytes += lines.bytesRead
        self.lines = nil
        var failure = failure
        if failure == nil && recordsInFile == 0 {
            failure = InputError.file(lines.path, reason: .emptyFile, "the shard holds no records")
        }
        guard let failure else { return }
        counts.failedFiles[failure.reason.rawValue, default: 0] += 1
        if failure.reason != .emptyFile { counts.unreadTails.append(UnreadTail(failure, lines: lines)) }
        failedPaths[lines.path] = failure.reason
        guard options.skipBadRecords else { throw failure }
        if firstErrors.count < maxKeptErrors { firstErrors.append(failure) }
    }

    private func makeDocument(_ line: UnsafeBufferPointer<UInt8>, location: RecordLocation) throws -> Document {
        try extract(line, location: location, measuring: 0)
        text.removeAll(keepingCapacity: true)
        if options.text.parts.count == 1, case .field = options.text.parts[0], case .string(let bytes)? = values[0] {
            text = bytes  // the common single-field case: no copy
        } else {
            try render(options.text, into: &text, location: location)
        }
        var completionStart: Int?
        if let completion = options.completion {
            completionStart = text.count
            try render(completion, into: &text, location: location)
        }
        let header = try renderHeader(location: location)
        let (id, group) = try identity(location: location)
        return Document(id: id, source: source, text: text, group: group, location: location,
                        completionStart: completionStart, header: header)
    }

    /// The record's few-shot header (`options.header` rendered), nil when the source has none.
    private func renderHeader(location: RecordLocation) throws -> [UInt8]? {
        guard let selector = options.header else { return nil }
        var bytes: [UInt8] = []
        try render(selector, into: &bytes, location: location)
        return bytes
    }

    /// The summary of a record: extracted with the text-only fields measured, not decoded; the
    /// checks of `makeDocument` in the same order.
    private func makeSummary(_ line: UnsafeBufferPointer<UInt8>, location: RecordLocation) throws -> DocumentSummary {
        try extract(line, location: location, measuring: measuredFields)
        var textBytes = try measure(options.text, location: location)
        if let completion = options.completion { textBytes += try measure(completion, location: location) }
        let header = try renderHeader(location: location)
        let (id, group) = try identity(location: location)
        return DocumentSummary(id: id, group: group, textBytes: textBytes, location: location, header: header, document: nil)
    }

    private func extract(_ line: UnsafeBufferPointer<UInt8>, location: RecordLocation, measuring: UInt64) throws {
        do {
            try extractor.extract(line, into: &values, measuring: measuring)
        } catch {
            throw InputError(location: location, reason: error.reason,
                             message: "\(error.message) at column \(error.offset + 1)")
        }
    }

    /// Appends the text `selector` makes of the current record (literals and string fields).
    private func render(_ selector: TextSelector, into text: inout [UInt8], location: RecordLocation) throws {
        for part in selector.parts {
            switch part {
            case .literal(let bytes):
                text.append(contentsOf: bytes)
            case .field(let path):
                let i = extractor.paths.firstIndex(of: path)!
                guard case .string(let bytes)? = values[i] else { throw notAString(path, values[i], location: location) }
                text.append(contentsOf: bytes)
            }
        }
    }

    /// The UTF-8 length of the text `selector` makes of the current record; the errors of `render`.
    private func measure(_ selector: TextSelector, location: RecordLocation) throws -> Int {
        var length = 0
        for part in selector.parts {
            switch part {
            case .literal(let bytes):
                length += bytes.count
            case .field(let path):
                let i = extractor.paths.firstIndex(of: path)!
                switch values[i] {
                case .string(let bytes)?: length += bytes.count
                case .measuredString(let n)?: length += n
                default: throw notAString(path, values[i], location: location)
                }
            }
        }
        return length
    }

    /// The error for a template field that is absent or not a string.
    private func notAString(_ path: FieldPath, _ value: FieldValue?, location: RecordLocation) -> InputError {
        switch value {
        case nil:
            InputError(location: location, field: path.description, reason: .missingField, message: "the record has no such field")
        case .number?:
            InputError(location: location, field: path.description, reason: .nonStringField, message: "expected a string, found a number")
        case .other(let kind)?:
            InputError(location: location, field: path.description, reason: .nonStringField,
                       message: "expected a string, found \(kind == "array" || kind == "object" ? "an" : "a") \(kind)")
        case .string?, .measuredString?:
            preconditionFailure("a string is not an error")
        }
    }

    /// The document id (own id field, or shard:line) and group value.
    private func identity(location: RecordLocation) throws -> (String, String?) {
        let id: String
        if let idSlot {
            id = try scalarText(idSlot, location: location)
        } else {
            id = defaultID(location)
        }
        let group = try groupSlot.map { try scalarText($0, location: location) }
        return (id, group)
    }

    /// The id of a record of a source without an id field: shard name and line.
    private func defaultID(_ location: RecordLocation) -> String { "\(names[fileIndex]):\(location.line)" }

    /// An id or group value: a string or a number, as text.
    private func scalarText(_ slot: Int, location: RecordLocation) throws -> String {
        let field = extractor.paths[slot].description
        switch values[slot] {
        case .string(let bytes)?, .number(let bytes)?:
            return String(decoding: bytes, as: UTF8.self)
        case .measuredString?:
            preconditionFailure("id and group fields are always decoded")
        case nil:
            throw InputError(location: location, field: field, reason: .missingField, message: "the record has no such field")
        case .other(let kind)?:
            throw InputError(location: location, field: field, reason: .nonStringField,
                             message: "expected a string or a number, found \(kind)")
        }
    }
}
