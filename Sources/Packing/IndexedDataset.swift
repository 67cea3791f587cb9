import Foundation
import LongMixCore
import ShardIO
import Tokenization

/// Megatron-LM's indexed dataset (`P.bin` + `P.idx`, megatron/core/datasets/indexed_dataset.py):
/// the build's per-source store of filtered, decontaminated, tokenized documents, and its
/// optional export.
///
/// `.idx` (little-endian): magic `MMIDIDX\0\0`, u64 version 1, u8 dtype code (uint16 = 8,
/// int32 = 4), u64 sequence count S, u64 document count S + 1, int32 lengths[S], int64 byte
/// pointers[S], int64 document indices[S + 1] = 0, 1, ..., S (one sequence per document).
/// `.bin`: the tokens, back to back.
public enum IndexedDataset {
    static let magic: [UInt8] = Array("MMIDIDX".utf8) + [0, 0]

    /// The dtype Megatron uses for a vocabulary: uint16 below 65,500 ids, else int32.
    public static func dtypeCode(vocabularySize: Int) -> UInt8 { vocabularySize < 65_500 ? 8 : 4 }
}

/// Appends documents to `prefix.bin` and writes `prefix.idx` on `finish()`, publishing the two as
/// one pair (`AtomicFileWriter.commit(_:)` with the `.idx` as the record): the `.bin` is put in
/// place first and the `.idx` last, and a pair being replaced loses its `.idx` before its `.bin`
/// is replaced. The `.idx` is what makes the pair a dataset (Megatron and `IndexedDatasetReader`
/// open it first; the reader refuses a `.bin` whose size differs from what the `.idx` declares),
/// so a kill at any point leaves the old pair, the new pair, or a `.bin` alone: never the new
/// `.bin` with the old `.idx`. Both paths are checked against `existing` before any document
/// is written.
public final class IndexedDatasetWriter {
    public let prefix: String
    private let bin: AtomicFileWriter
    private let idx: AtomicFileWriter
    private let width: Int
    private let dtype: UInt8
    private var lengths: [Int32] = []

    public init(prefix: String, vocabularySize: Int, existing: ExistingFile = .refuse) throws {
        self.prefix = prefix
        dtype = IndexedDataset.dtypeCode(vocabularySize: vocabularySize)
        width = dtype == 8 ? 2 : 4
        bin = try AtomicFileWriter(path: prefix + ".bin", existing: existing)
        idx = try AtomicFileWriter(path: prefix + ".idx", existing: existing)
    }

    public var documentCount: Int { lengths.count }

    public func append(_ ids: some Collection<TokenID>) throws {
        try TokenEncoding.withLittleEndian(ids, width: width) { try bin.write($0) }
        lengths.append(Int32(ids.count))
    }

    public func finish() throws {
        var header = IndexedDataset.magic
        header += UInt64(1).littleEndianBytes
        header.append(dtype)
        header += UInt64(lengths.count).littleEndianBytes
        header += UInt64(lengths.count + 1).littleEndianBytes
        try idx.write(header)
        var out: [UInt8] = []
        out.reserveCapacity(lengths.count * 20 + 8)
        for l in lengths { out += l.littleEndianBytes }
        var pointer: Int64 = 0
        for l in lengths {
            out += pointer.littleEndianBytes
            pointer += Int64(l) * Int64(width)
        }
        for k in 0...lengths.count { out += Int64(k).littleEndianBytes }
        try idx.write(out)
        try AtomicFileWriter.commit([bin, idx])
    }
}

/// Reads an indexed dataset through a memory map of `.bin`.
public final class IndexedDatasetReader: @unchecked Sendable {
    public let lengths: [Int]
    private let pointers: [Int]
    private let width: Int
    private let bin: Data

    public init(prefix: String) throws {
        if !FileManager.default.fileExists(atPath: prefix + ".idx") && FileManager.default.fileExists(atPath: prefix + ".bin") {
            throw PackError("\(prefix).bin has no \(prefix).idx: half a pair (a run interrupted while publishing it?); not a dataset")
        }
        let idx = try Data(contentsOf: URL(fileURLWithPath: prefix + ".idx"))
        guard idx.count >= 34, Array(idx.prefix(9)) == IndexedDataset.magic else {
            throw PackError("\(prefix).idx: not a Megatron indexed dataset (bad magic)")
        }
        let declared = idx.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 18, as: UInt64.self).littleEndian }
        guard declared <= UInt64((idx.count - 34) / 12) else {
            throw PackError("\(prefix).idx: declares \(declared) documents, more than its \(idx.count) bytes hold")
        }
        let (width, lengths, pointers): (Int, [Int], [Int]) = idx.withUnsafeBytes { raw in
            let dtype = raw[17]
            let count = Int(declared)
            var offset = 34
            var lengths: [Int] = [], pointers: [Int] = []
            lengths.reserveCapacity(count)
            for _ in 0..<count { lengths.append(Int(raw.loadUnaligned(fromByteOffset: offset, as: Int32.self).littleEndian)); offset += 4 }
            for _ in 0..<count { pointers.append(Int(raw.loadUnaligned(fromByteOffset: offset, as: Int64.self).littleEndian)); offset += 8 }
            return (dtype == 8 ? 2 : 4, lengths, pointers)
        }
        self.width = width
        self.lengths = lengths
        self.pointers = pointers
        bin = try Data(contentsOf: URL(fileURLWithPath: prefix + ".bin"), options: .alwaysMapped)
        for k in lengths.indices where lengths[k] < 0 || pointers[k] < 0 || pointers[k] > bin.count
            || lengths[k] > (bin.count - pointers[k]) / width {
            throw PackError("\(prefix).idx: document \(k) (\(lengths[k]) tokens at byte \(pointers[k])) lies outside the \(bin.count)-byte .bin")
        }
        let end = lengths.last.map { pointers[lengths.count - 1] + $0 * width } ?? 0
        guard end == bin.count else {
            throw PackError("\(prefix).bin: \(bin.count) bytes, but its .idx declares \(end): not this .idx's pair")
        }
    }

    public var count: Int { lengths.count }

    public func document(_ k: Int) -> [TokenID] { document(k, range: 0..<lengths[k]) }

    /// Tokens `range` of document `k` only (a piece of a long document costs its own length, not
    /// the document's).
    public func document(_ k: Int, range: Range<Int>) -> [TokenID] {
        precondition(range.lowerBound >= 0 && range.upperBound <= lengths[k], "token range outside document \(k)")
        return bin.withUnsafeBytes { raw in
            range.map { t in
                let o = pointers[k] + t * width
                return width == 2 ? TokenID(raw.loadUnaligned(fromByteOffset: o, as: UInt16.self).littleEndian)
                    : TokenID(bitPattern: raw.loadUnaligned(fromByteOffset: o, as: Int32.self).littleEndian)
            }
        }
    }
}

/// Token ids as little-endian bytes of a given width (2: uint16, 4: uint32/int32 bit pattern).
enum TokenEncoding {
    /// Calls `body` with the bytes of `ids` narrowed to `width`; one bulk conversion, no per-byte appends.
    static func withLittleEndian<R>(_ ids: some Collection<TokenID>, width: Int, _ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if width == 2 {
            let narrow = ids.map { UInt16(truncatingIfNeeded: $0).littleEndian }
            return try narrow.withUnsafeBytes(body)
        }
        let wide = ids.map { $0.littleEndian }
        return try wide.withUnsafeBytes(body)
    }
}

/// `longmix tokenize -o FILE.bin` writes `FILE.bin` + `FILE.idx`, one sequence per document.
extension IndexedDatasetWriter: TokenSink {
    public func append(_ ids: UnsafeBufferPointer<TokenID>, documentID: String) throws { try append(ids) }
}
