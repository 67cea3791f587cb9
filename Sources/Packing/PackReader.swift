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
        do {
            manifest = try JSONDecoder().decode(PackManifest.self, from: manifestData)
        } catch {
            throw PackError("\(manifestURL.path): unreadable manifest: \(error)")
        }
        guard manifest.segmentRecordBytes == PackFormat.segmentRecordSize else {
            throw PackError("\(directory): segment records of \(manifest.segmentRecordBytes) bytes; this longmix reads \(PackFormat.segmentRecordSize)")
        }
        tokenWidth = manifest.tokenDtype == "uint16" ? 2 : 4
        func map(_ name: String) throws -> Data {
            try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .alwaysMapped)
        }
        tokens = try map(PackFormat.tokensFile)
        lossMask = try map(PackFormat.lossMaskFile)
        segments = try map(PackFormat.segmentsFile)
        segmentIndex = try map(PackFormat.segmentIndexFile)
        let n = manifest.sequences, l = manifest.seqLen
        guard tokens.count == n * l * tokenWidth, lossMask.count == n * l, segmentIndex.count == (n + 1) * 8,
              segments.count % PackFormat.segmentRecordSize == 0 else {
            throw PackError("\(directory): file sizes do not match \(n) sequences of \(l) tokens (truncated or mixed files)")
        }
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
                                   group: Int32(bitPattern: u32(16)), source: u16(20), kind: SegmentKind(rawValue: u16(22)) ?? .padding)
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

    /// Checks every sequence: segments tile it, padding has mask 0, ids inside the vocabulary,
    /// documents named exist, every few-shot example follows its own group's header (when the
    /// sequence holds one), and the totals (padding, loss tokens per source) agree with the
    /// manifest. Returns problems found (empty: sound).
    public func verify() throws -> [String] {
        var problems: [String] = []
        let documentCount = try documents().count
        var padding = 0
        var loss = [Int](repeating: 0, count: manifest.sources.count)
        let vocabulary = manifest.tokenizer.vocabularySize
        for i in 0..<count {
            let segs = segments(of: i)
            let mask = lossMask(of: i)
            let ids = tokens(of: i)
            var expected: UInt32 = 0
            let headed = Set(segs.filter { $0.kind == .header }.map(\.group))
            var lastHeader: Int32?
            if let first = segs.first, Int(first.source) < loss.count { loss[Int(first.source)] += mask.reduce(0) { $0 + Int($1) } }
            for s in segs {
                if s.kind == .header { lastHeader = s.group }
                if s.kind == .document && s.group >= 0 && headed.contains(s.group) && lastHeader != s.group {
                    problems.append("sequence \(i): example of group \(s.group) at token \(s.start) is not under its group's header")
                }
                if s.start != expected { problems.append("sequence \(i): gap or overlap at token \(expected)"); break }
                expected += s.length
                if s.kind == .padding {
                    padding += Int(s.length)
                    if mask[Int(s.start)..<Int(s.start + s.length)].contains(where: { $0 != 0 }) {
                        problems.append("sequence \(i): padding with loss mask 1")
                    }
                } else if s.kind == .document && (s.document < 0 || Int(s.document) >= documentCount) {
                    problems.append("sequence \(i): segment names document \(s.document) of \(documentCount)")
                }
            }
            if expected != UInt32(manifest.seqLen) { problems.append("sequence \(i): segments cover \(expected) tokens") }
            if let bad = ids.first(where: { Int($0) >= vocabulary }) { problems.append("sequence \(i): token \(bad) outside the vocabulary") }
            if problems.count > 20 { break }
        }
        if problems.isEmpty && padding != manifest.totals.paddingTokens {
            problems.append("padding tokens \(padding) differ from the manifest's \(manifest.totals.paddingTokens)")
        }
        if problems.isEmpty {
            for (s, source) in manifest.sources.enumerated() where loss[s] != source.lossTokens {
                problems.append("source \(source.name): \(loss[s]) tokens with loss, the manifest says \(source.lossTokens)")
            }
        }
        return problems
    }
}
