import Foundation
import LongMixCore
import ShardIO
import Tokenization

/// Reads a pack directory (see `PackFormat`) through memory maps: sequence i's tokens, loss mask
/// and segments, the document table, and an integrity check.
public final class PackReader {
    public let directory: String
    public let manifest: PackManifest
    public let tokenWidth: Int
    private let tokens: Data
    private let lossMask: Data
    private let segments: Data
    private let segmentIndex: Data
    private let manifestBytes: [UInt8]

    public init(directory: String) throws {
        self.directory = directory
        let manifestURL = URL(fileURLWithPath: directory).appendingPathComponent(PackFormat.manifestFile)
        guard let manifestData = try? Data(contentsOf: manifestURL) else {
            throw PackError("\(directory): no \(PackFormat.manifestFile); not a pack directory (or the build did not finish)")
        }
        // The version first: an older pack's manifest lacks newer fields.
        struct Version: Decodable { var version: Int }
        if let found = try? JSONDecoder().decode(Version.self, from: manifestData), found.version != PackFormat.version {
            throw PackError("\(directory): pack format version \(found.version); this longmix reads version \(PackFormat.version)")
        }
        manifestBytes = [UInt8](manifestData)
        do {
            manifest = try JSONDecoder().decode(PackManifest.self, from: manifestData)
        } catch {
            throw PackError("\(manifestURL.path): unreadable manifest: \(ReadableError.describe(error))")
        }
        guard manifest.segmentRecordBytes == PackFormat.segmentRecordSize else {
            throw PackError("\(directory): segment records of \(manifest.segmentRecordBytes) bytes; this longmix reads \(PackFormat.segmentRecordSize)")
        }
        guard manifest.tokenDtype == "uint16" || manifest.tokenDtype == "uint32" else {
            throw PackError("\(manifestURL.path): tokenDtype '\(manifest.tokenDtype)' is not uint16 or uint32")
        }
        tokenWidth = manifest.tokenDtype == "uint16" ? 2 : 4
        func map(_ name: String) throws -> Data {
            let url = URL(fileURLWithPath: directory).appendingPathComponent(name)
            do { return try Data(contentsOf: url, options: .alwaysMapped) } catch {
                throw PackError("\(url.path): cannot read: \(ReadableError.describe(error))")
            }
        }
        tokens = try map(PackFormat.tokensFile)
        lossMask = try map(PackFormat.lossMaskFile)
        segments = try map(PackFormat.segmentsFile)
        segmentIndex = try map(PackFormat.segmentIndexFile)
        let n = manifest.sequences, l = manifest.seqLen
        guard n >= 0, l > 0, l <= 1 << 22 else {
            throw PackError("\(manifestURL.path): \(n) sequences of \(l) tokens is not a valid shape")
        }
        let (cells, overflow) = n.multipliedReportingOverflow(by: l)
        guard !overflow, tokens.count == cells * tokenWidth, lossMask.count == cells, segmentIndex.count == (n + 1) * 8 else {
            throw PackError("\(directory): file sizes (\(PackFormat.tokensFile) \(tokens.count), \(PackFormat.lossMaskFile) \(lossMask.count), "
                + "\(PackFormat.segmentIndexFile) \(segmentIndex.count) bytes) do not match \(n) sequences of \(l) tokens (truncated or mixed files)")
        }
        guard segments.count % PackFormat.segmentRecordSize == 0 else {
            throw PackError("\(directory): \(PackFormat.segmentsFile) has \(segments.count) bytes, not a whole number of \(PackFormat.segmentRecordSize)-byte records")
        }
        // The segment index must rise from 0 to the number of segment records: then every
        // `segments(of:)` stays inside the file whatever the bytes say.
        let records = UInt64(segments.count / PackFormat.segmentRecordSize)
        let problem: String? = segmentIndex.withUnsafeBytes { raw in
            var previous: UInt64 = 0
            for i in 0...n {
                let value = raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self).littleEndian
                if i == 0 && value != 0 { return "entry 0 is \(value), not 0" }
                if value < previous || value > records { return "entry \(i) is \(value) (previous \(previous), \(records) segment records)" }
                previous = value
            }
            return previous == records ? nil : "last entry \(previous) differs from the \(records) segment records"
        }
        if let problem { throw PackError("\(directory)/\(PackFormat.segmentIndexFile): \(problem)") }
    }

    public var count: Int { manifest.sequences }

    public func tokens(of sequence: Int) -> [TokenID] {
        let l = manifest.seqLen
        return tokens.withUnsafeBytes { raw in
            (0..<l).map { t in
                let offset = (sequence * l + t) * tokenWidth
                return tokenWidth == 2 ? TokenID(raw.loadUnaligned(fromByteOffset: offset, as: UInt16.self).littleEndian)
                    : raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian
            }
        }
    }

    public func lossMask(of sequence: Int) -> [UInt8] {
        let l = manifest.seqLen
        return Array(lossMask[(sequence * l)..<((sequence + 1) * l)])
    }

    public func segments(of sequence: Int) -> [Segment] {
        segmentIndex.withUnsafeBytes { index in
            let lo = Int(index.loadUnaligned(fromByteOffset: sequence * 8, as: UInt64.self).littleEndian)
            let hi = Int(index.loadUnaligned(fromByteOffset: (sequence + 1) * 8, as: UInt64.self).littleEndian)
            return segments.withUnsafeBytes { raw in
                (lo..<hi).map { k in
                    let o = k * PackFormat.segmentRecordSize
                    func u32(_ at: Int) -> UInt32 { raw.loadUnaligned(fromByteOffset: o + at, as: UInt32.self).littleEndian }
                    func u16(_ at: Int) -> UInt16 { raw.loadUnaligned(fromByteOffset: o + at, as: UInt16.self).littleEndian }
                    return Segment(start: u32(0), length: u32(4), document: Int32(bitPattern: u32(8)), documentOffset: u32(12),
                                   group: Int32(bitPattern: u32(16)), source: u16(20), kind: SegmentKind(rawValue: u16(PackFormat.segmentKindOffset)) ?? .padding)
                }
            }
        }
    }

    /// The document table: index k -> (source, id).
    public func documents() throws -> [(source: String, id: String)] {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(PackFormat.documentsFile).path
        let reader = DocumentReader(paths: [path], source: "documents", options: ReaderOptions(text: .field("source"), idField: FieldPath("id")))
        var table: [(String, String)] = []
        while let d = try reader.next() { table.append((String(decoding: d.text, as: UTF8.self), d.id)) }
        return table
    }

    /// Checks the whole pack and returns the problems found (empty: sound); never traps, whatever
    /// the bytes. Checks: every file's size and SHA-256 against the manifest; segments tile each
    /// sequence inside it; kinds, sources and documents named exist; padding has mask 0 and every
    /// mask value is 0 or 1; ids inside the vocabulary; every few-shot example follows its own
    /// group's header (when the sequence holds one); the manifest's totals (sequences, document,
    /// header and padding tokens, loss tokens per source) equal those recomputed from the pack.
    public func verify(maxProblems: Int = 20) throws -> [String] {
        var problems: [String] = []
        problems += verifyFiles()
        let documentCount: Int
        do { documentCount = try documents().count } catch {
            problems.append("\(PackFormat.documentsFile): \(ReadableError.describe(error))")
            documentCount = 0
        }
        var recomputed = PackingCounts()
        recomputed.sequences = count
        var loss = [Int](repeating: 0, count: manifest.sources.count)
        let vocabulary = manifest.tokenizer.vocabularySize
        let l = manifest.seqLen
        for i in 0..<count {
            let segs = segments(of: i)
            let mask = lossMask(of: i)
            let ids = tokens(of: i)
            var expected = 0
            let headed = Set(segs.filter { $0.kind == .header }.map(\.group))
            var lastHeader: Int32?
            if let first = segs.first, Int(first.source) < loss.count { loss[Int(first.source)] += mask.reduce(0) { $0 + Int($1) } }
            for s in segs {
                let start = Int(s.start), length = Int(s.length)
                guard start == expected, length > 0, length <= l - start else {
                    problems.append("sequence \(i): segment [\(start), \(start + length)) does not continue the tiling at token \(expected)")
                    break
                }
                expected += length
                if s.kind == .header { lastHeader = s.group }
                if s.kind == .document && s.group >= 0 && headed.contains(s.group) && lastHeader != s.group {
                    problems.append("sequence \(i): example of group \(s.group) at token \(s.start) is not under its group's header")
                }
                switch s.kind {
                case .padding:
                    recomputed.paddingTokens += length
                    if mask[start..<(start + length)].contains(where: { $0 != 0 }) {
                        problems.append("sequence \(i): padding with loss mask 1")
                    }
                case .header:
                    recomputed.headerTokens += length
                case .document:
                    recomputed.documentTokens += length
                    if s.document < 0 || Int(s.document) >= documentCount {
                        problems.append("sequence \(i): segment names document \(s.document) of \(documentCount)")
                    }
                }
                if s.kind != .padding && Int(s.source) >= manifest.sources.count {
                    problems.append("sequence \(i): segment names source \(s.source) of \(manifest.sources.count)")
                }
            }
            if let bad = unknownKind(of: i) { problems.append("sequence \(i): segment kind \(bad) is not 0, 1 or 2") }
            if expected != l { problems.append("sequence \(i): segments cover \(expected) of \(l) tokens") }
            if let bad = mask.first(where: { $0 > 1 }) { problems.append("sequence \(i): loss mask value \(bad) (must be 0 or 1)") }
            if let bad = ids.first(where: { Int($0) >= vocabulary }) { problems.append("sequence \(i): token \(bad) outside the vocabulary") }
            if problems.count > maxProblems { return problems }
        }
        let t = manifest.totals
        for (name, found, recorded) in [("sequences", recomputed.sequences, t.sequences),
                                        ("document tokens", recomputed.documentTokens, t.documentTokens),
                                        ("header tokens", recomputed.headerTokens, t.headerTokens),
                                        ("padding tokens", recomputed.paddingTokens, t.paddingTokens)]
        where found != recorded {
            problems.append("\(name): \(found) in the segments, \(recorded) in the manifest's totals")
        }
        let sourceSum = manifest.sources.reduce(0) { $0 + $1.packing_.documentTokens }
        if sourceSum != t.documentTokens {
            problems.append("document tokens: the sources' \(sourceSum) do not add up to the totals' \(t.documentTokens)")
        }
        for (s, source) in manifest.sources.enumerated() where loss[s] != source.lossTokens {
            problems.append("source \(source.name): \(loss[s]) tokens with loss, the manifest says \(source.lossTokens)")
        }
        return problems
    }

    /// The first raw segment kind of `sequence` that is not a `SegmentKind`, if any.
    private func unknownKind(of sequence: Int) -> UInt16? {
        segmentIndex.withUnsafeBytes { index in
            let lo = Int(index.loadUnaligned(fromByteOffset: sequence * 8, as: UInt64.self).littleEndian)
            let hi = Int(index.loadUnaligned(fromByteOffset: (sequence + 1) * 8, as: UInt64.self).littleEndian)
            return segments.withUnsafeBytes { raw in
                (lo..<hi).lazy.map { raw.loadUnaligned(fromByteOffset: $0 * PackFormat.segmentRecordSize + PackFormat.segmentKindOffset, as: UInt16.self).littleEndian }
                    .first { SegmentKind(rawValue: $0) == nil }
            }
        }
    }

    /// Size and SHA-256 of every file the manifest lists; files of the pack it does not list.
    func verifyFiles() -> [String] {
        var problems: [String] = []
        if !PackManifest.isSealed(manifestBytes) {
            problems.append("\(PackFormat.manifestFile): its checksum does not match its content (edited or corrupted)")
        }
        let marker = try? String(contentsOfFile: directory + "/" + OutputTarget.markerFile, encoding: .utf8)
        if marker != OutputTarget.marker(.pack) {
            problems.append("\(OutputTarget.markerFile): \(marker == nil ? "missing" : "not the pack marker")")
        }
        if manifest.files.isEmpty { problems.append("\(PackFormat.manifestFile) records no file sizes and digests") }
        for (name, digest) in manifest.files.sorted(by: { $0.key < $1.key }) {
            guard !name.contains("/") else { problems.append("\(PackFormat.manifestFile) lists '\(name)', not a file of the pack"); continue }
            let path = URL(fileURLWithPath: directory).appendingPathComponent(name).path
            guard let handle = FileHandle(forReadingAtPath: path) else { problems.append("\(name): missing"); continue }
            defer { try? handle.close() }
            var hasher = SHA256()
            var size = 0
            while true {
                let chunk = handle.readData(ofLength: 1 << 20)
                if chunk.isEmpty { break }
                size += chunk.count
                chunk.withUnsafeBytes { hasher.update($0) }
            }
            if size != digest.bytes { problems.append("\(name): \(size) bytes, the manifest records \(digest.bytes)") }
            let found = SHA256.hex(hasher.finalize())
            if found != digest.sha256 { problems.append("\(name): sha256 \(found.prefix(16))… differs from the manifest's \(digest.sha256.prefix(16))…") }
        }
        let listed = Set(manifest.files.keys).union([PackFormat.manifestFile, OutputTarget.markerFile])
        for name in ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted() where !listed.contains(name) {
            problems.append("\(name): in the pack directory but not in the manifest")
        }
        return problems
    }
}
