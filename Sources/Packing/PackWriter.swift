import Foundation
import LongMixCore
import ShardIO

/// Writes a pack directory (see `PackFormat`) sequence by sequence, with bounded memory.
///
/// Contract: everything goes to the staging directory of an `OutputTarget` of kind `.pack`,
/// published by `commit(manifest:)` in one rename (an older pack there is replaced only then,
/// and a directory that is not a pack is never replaced), so a killed build never leaves a
/// directory that looks finished. Each sequence is checked: exactly `seqLen` tokens and mask
/// values, segments tiling it in order, ids inside the vocabulary. The manifest records the size
/// and SHA-256 of every file (`PackManifest.files`), `extraFiles` included.
public final class PackWriter {
    public let target: OutputTarget
    public var directory: String { target.path }
    public let seqLen: Int
    public let vocabularySize: Int
    public let tokenWidth: Int
    private let tokens: AtomicFileWriter
    private let lossMask: AtomicFileWriter
    private let segments: AtomicFileWriter
    private let segmentIndex: AtomicFileWriter
    private let documents: JSONLWriter
    private var segmentCount: UInt64 = 0
    private var scratch: [UInt8] = []
    public private(set) var sequences = 0
    public private(set) var documentsWritten = 0
    /// Tokens with loss mask 1 written so far, by `PackedSequence.source`.
    public private(set) var lossTokensBySource: [Int] = []

    /// Starts a pack in `target`'s staging directory.
    public init(target: OutputTarget, seqLen: Int, vocabularySize: Int) throws {
        precondition(target.kind == .pack, "a PackWriter writes pack outputs")
        self.target = target
        self.seqLen = seqLen
        self.vocabularySize = vocabularySize
        tokenWidth = PackFormat.tokenWidth(vocabularySize: vocabularySize)
        let staging = target.staging
        tokens = try AtomicFileWriter(path: staging + "/" + PackFormat.tokensFile, hashing: true)
        lossMask = try AtomicFileWriter(path: staging + "/" + PackFormat.lossMaskFile, hashing: true)
        segments = try AtomicFileWriter(path: staging + "/" + PackFormat.segmentsFile, hashing: true)
        segmentIndex = try AtomicFileWriter(path: staging + "/" + PackFormat.segmentIndexFile, hashing: true)
        documents = try JSONLWriter(path: staging + "/" + PackFormat.documentsFile, hashing: true)
        try segmentIndex.write(UInt64(0).littleEndianBytes)
    }

    /// Starts a pack for `directory` (checked and staged by a new `OutputTarget`).
    public convenience init(directory: String, seqLen: Int, vocabularySize: Int) throws {
        try self.init(target: try OutputTarget(directory: directory, kind: .pack), seqLen: seqLen, vocabularySize: vocabularySize)
    }

    /// Registers document `k` (k = 0, 1, ... in call order) with its provenance: its few-shot
    /// group (name), its stream length `tokens` (BOS/EOS included as packed), the tokens of it
    /// the pack holds (`written`, summed over uses when up-sampled), and whether some use left
    /// tokens out (`cut`: concat's cut at the target, or a few-shot example too long for a sequence).
    public func addDocument(source: String, id: String, group: String? = nil, tokens: Int? = nil, written: Int? = nil,
                            cut: Bool? = nil) throws {
        var json = JSONOutput()
        json.raw("{")
        json.key("document"); json.integer(documentsWritten); json.raw(",")
        json.key("source"); json.string(source); json.raw(",")
        json.key("id"); json.string(id)
        if let group { json.raw(","); json.key("group"); json.string(group) }
        if let tokens { json.raw(","); json.key("tokens"); json.integer(tokens) }
        if let written { json.raw(","); json.key("written"); json.integer(written) }
        if let cut { json.raw(","); json.key("cut"); json.raw(cut ? "true" : "false") }
        json.raw("}")
        try documents.write(line: json.bytes)
        documentsWritten += 1
    }

    public func write(_ sequence: PackedSequence) throws {
        guard sequence.tokens.count == seqLen, sequence.lossMask.count == seqLen else {
            throw PackError("sequence \(sequences) has \(sequence.tokens.count) tokens and \(sequence.lossMask.count) mask values; expected \(seqLen)")
        }
        var expectedStart: UInt32 = 0
        for segment in sequence.segments {
            guard segment.start == expectedStart, segment.length > 0 else {
                throw PackError("sequence \(sequences): segments do not tile the sequence at token \(expectedStart)")
            }
            guard segment.document < Int32(documentsWritten) else {
                throw PackError("sequence \(sequences): segment names document \(segment.document), not registered")
            }
            expectedStart += segment.length
        }
        guard expectedStart == UInt32(seqLen) else {
            throw PackError("sequence \(sequences): segments cover \(expectedStart) of \(seqLen) tokens")
        }
        if let bad = sequence.tokens.first(where: { Int($0) >= vocabularySize }) {
            throw PackError("sequence \(sequences): token id \(bad) outside the vocabulary")
        }
        try TokenEncoding.withLittleEndian(sequence.tokens, width: tokenWidth) { try tokens.write($0) }
        try lossMask.write(sequence.lossMask)
        scratch.removeAll(keepingCapacity: true)
        for s in sequence.segments {
            scratch.append(contentsOf: s.start.littleEndianBytes)
            scratch.append(contentsOf: s.length.littleEndianBytes)
            scratch.append(contentsOf: UInt32(bitPattern: s.document).littleEndianBytes)
            scratch.append(contentsOf: s.documentOffset.littleEndianBytes)
            scratch.append(contentsOf: UInt32(bitPattern: s.group).littleEndianBytes)
            scratch.append(contentsOf: s.source.littleEndianBytes)
            scratch.append(contentsOf: s.kind.rawValue.littleEndianBytes)
        }
        try segments.write(scratch)
        let loss = sequence.lossMask.reduce(0) { $0 + Int($1) }
        let source = Int(sequence.source)
        if lossTokensBySource.count <= source { lossTokensBySource += [Int](repeating: 0, count: source + 1 - lossTokensBySource.count) }
        lossTokensBySource[source] += loss
        segmentCount += UInt64(sequence.segments.count)
        try segmentIndex.write(segmentCount.littleEndianBytes)
        sequences += 1
    }

    /// Finishes the files, records their sizes and digests (and those of `extraFiles`, names of
    /// files the caller wrote into `target.staging`, e.g. the decontamination report) in the
    /// manifest, writes `manifest.json` and publishes the directory.
    public func commit(manifest: inout PackManifest, extraFiles: [String: PackManifest.FileDigest] = [:]) throws {
        for file in [tokens, lossMask, segments, segmentIndex] { try file.commit() }
        try documents.finish()
        var files = extraFiles
        for (name, file) in [(PackFormat.tokensFile, tokens), (PackFormat.lossMaskFile, lossMask),
                             (PackFormat.segmentsFile, segments), (PackFormat.segmentIndexFile, segmentIndex)] {
            files[name] = .init(bytes: file.bytesWritten, sha256: file.sha256Hex!)
        }
        files[PackFormat.documentsFile] = .init(bytes: documents.bytesWritten, sha256: documents.sha256Hex!)
        manifest.files = files
        let sealed = try manifest.sealed()
        manifest = try JSONDecoder().decode(PackManifest.self, from: Data(sealed))
        let manifestFile = try AtomicFileWriter(path: target.staging + "/" + PackFormat.manifestFile)
        try manifestFile.write(sealed)
        try manifestFile.commit()
        try target.publish()
    }
}

/// A pack that is inconsistent or cannot be written.
public struct PackError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension FixedWidthInteger {
    /// The value's bytes, least significant first.
    var littleEndianBytes: [UInt8] {
        withUnsafeBytes(of: self.littleEndian) { Array($0) }
    }
}
