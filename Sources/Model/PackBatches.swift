import Foundation
import LongMixCore
import Packing

/// Training windows from a pack directory, read through memory maps (`tokens.bin`,
/// `loss_mask.bin`, `segments.bin`, `segment_index.bin`; see `PackFormat`).
///
/// Each pack sequence of `seq_len` tokens is cut into `seq_len / context` windows; window w of
/// sequence s is sample `s * windowsPerSequence + w`. Row t of a window predicts token t + 1 of the
/// window, and counts in the loss where `loss_mask` of that target token is 1 (the window's last
/// row has no target). Windows without any target (all padding, or prompt only in a
/// completion-only pack) are left out of the stream and counted in `windowsWithoutTargets`.
/// Samples are visited in a fresh seeded permutation each epoch; the position (epoch, cursor) is
/// what a checkpoint stores to resume the same stream.
public final class PackBatches {
    public let directory: String
    public let manifest: PackManifest
    public let context: Int
    public let sequences: Range<Int>
    public let seed: UInt64
    public private(set) var epoch = 0
    public private(set) var cursor = 0
    private let tokenWidth: Int
    private let tokens: Data
    private let lossMask: Data
    private let segments: Data
    private let segmentIndex: Data
    /// By manifest source index: whether the source is packed few-shot (its groups are spans).
    private let fewShotSource: [Bool]
    private var order: [Int32]
    /// The samples with at least one target, in sample order.
    private var usable: [Int32]
    public private(set) var windowsWithoutTargets: Int

    /// - Parameters: sequences: the pack sequences to draw from (all when nil).
    public init(directory: String, context: Int, sequences: Range<Int>? = nil, seed: UInt64) throws {
        let reader = try PackReader(directory: directory)
        self.directory = directory
        manifest = reader.manifest
        self.context = context
        self.seed = seed
        let all = 0..<manifest.sequences
        self.sequences = sequences ?? all
        guard context >= 2, context <= manifest.seqLen else {
            throw ConfigurationError(key: "context", "\(context) tokens: must be between 2 and the pack's seq_len \(manifest.seqLen)")
        }
        guard !self.sequences.isEmpty, self.sequences.clamped(to: all) == self.sequences else {
            throw ConfigurationError(key: "sequences", "\(self.sequences) is empty or outside the pack's 0..<\(manifest.sequences)")
        }
        tokenWidth = reader.tokenWidth
        fewShotSource = manifest.sources.map { $0.packing == Self.fewShotPacking }
        func map(_ name: String) throws -> Data {
            try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .alwaysMapped)
        }
        tokens = try map(PackFormat.tokensFile)
        lossMask = try map(PackFormat.lossMaskFile)
        segments = try map(PackFormat.segmentsFile)
        segmentIndex = try map(PackFormat.segmentIndexFile)
        let windows = self.sequences.count * (manifest.seqLen / context)
        order = []
        usable = []
        windowsWithoutTargets = 0
        for sample in 0..<windows where targetCount(sample) > 0 { usable.append(Int32(sample)) }
        guard !usable.isEmpty else {
            throw ConfigurationError(file: directory, "no window of \(context) tokens in sequences \(self.sequences) has a token with loss mask 1")
        }
        windowsWithoutTargets = windows - usable.count
        order = usable
        shuffle()
    }

    /// The manifest's `packing` of few-shot sources (Mixing's `Packing.fewShot`).
    static let fewShotPacking = "few-shot"

    public var windowsPerSequence: Int { manifest.seqLen / context }
    /// Windows with at least one target.
    public var sampleCount: Int { usable.count }
    public var vocabularySize: Int { manifest.tokenizer.vocabularySize }

    /// Moves to a stored position (from a checkpoint).
    public func seek(epoch: Int, cursor: Int) {
        self.epoch = epoch
        self.cursor = cursor
        shuffle()
    }

    /// The next sample of the stream, advancing the position.
    public func next() -> Int {
        if cursor == order.count {
            epoch += 1
            cursor = 0
            shuffle()
        }
        defer { cursor += 1 }
        return Int(order[cursor])
    }

    /// The k-th window with a target, in pack order (for evaluation).
    public func sample(_ k: Int) -> Int { Int(usable[k]) }

    private func shuffle() {
        for i in order.indices { order[i] = usable[i] }
        var rng = SplitMix64(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
        for i in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(i, rng.below(i + 1))
        }
    }

    private func location(_ sample: Int) -> (sequence: Int, offset: Int) {
        (sequences.lowerBound + sample / windowsPerSequence, (sample % windowsPerSequence) * context)
    }

    /// Rows of `sample` that have a target (without filling anything).
    public func targetCount(_ sample: Int) -> Int {
        let (s, offset) = location(sample)
        let base = s * manifest.seqLen + offset
        return lossMask.withUnsafeBytes { (mask: UnsafeRawBufferPointer) in
            var count = 0
            for t in 1..<context where mask[base + t] == 1 { count += 1 }
            return count
        }
    }

    /// Writes `sample` into rows `row * context ..< (row + 1) * context` of `inputs`: tokens,
    /// targets (-1 where the target's loss mask is 0 and at the last row), positions (0 ..< context
    /// in sequence mode; restarting at each document in document mode) and each row's document start.
    ///
    /// A document is a span of the sequence's segments, cut to the window: one segment (a document
    /// or a piece of one, padding), except in a few-shot source, where a group's header and the
    /// examples after it (segments of the same `group`) are one span — the README's
    /// `few_shot_spans`, so each example sees its task's definition and the examples before it.
    /// Segments with a group in other sources (a `group_field` used only for decontamination) stay
    /// one span each.
    public func fill(_ inputs: BatchInputs, row: Int, sample: Int, mode: AttentionMode) {
        let (s, offset) = location(sample)
        let base = s * manifest.seqLen + offset, r0 = row * context
        tokens.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            lossMask.withUnsafeBytes { (mask: UnsafeRawBufferPointer) in
                for t in 0..<context {
                    inputs.tokens[r0 + t] = token(raw, base + t)
                    inputs.targets[r0 + t] = t + 1 < context && mask[base + t + 1] == 1 ? token(raw, base + t + 1) : -1
                }
            }
        }
        for t in 0..<context { inputs.documentStart[r0 + t] = 0 }
        segmentIndex.withUnsafeBytes { index in
            segments.withUnsafeBytes { seg in
                let lo = Int(UInt64(littleEndian: index.loadUnaligned(fromByteOffset: s * 8, as: UInt64.self)))
                let hi = Int(UInt64(littleEndian: index.loadUnaligned(fromByteOffset: (s + 1) * 8, as: UInt64.self)))
                func field(_ k: Int, _ at: Int) -> UInt32 {
                    UInt32(littleEndian: seg.loadUnaligned(fromByteOffset: k * PackFormat.segmentRecordSize + at, as: UInt32.self))
                }
                func half(_ k: Int, _ at: Int) -> UInt16 {
                    UInt16(littleEndian: seg.loadUnaligned(fromByteOffset: k * PackFormat.segmentRecordSize + at, as: UInt16.self))
                }
                var spanStart = 0, previousGroup: Int32 = -1
                for k in lo..<hi {
                    let start = Int(field(k, 0)), length = Int(field(k, 4)), group = Int32(bitPattern: field(k, 16))
                    let source = Int(half(k, 20)), kind = half(k, PackFormat.segmentKindOffset)
                    // A few-shot example continues the span of the segment before it when both belong to its group.
                    let joins = kind == SegmentKind.document.rawValue && group >= 0 && group == previousGroup
                        && source < fewShotSource.count && fewShotSource[source]
                    if !joins { spanStart = start }
                    previousGroup = group
                    let a = max(start, offset), b = min(start + length, offset + context)
                    guard a < b else { continue }
                    // Never after the segment's own first row, whatever the bytes say (a row's
                    // document start must not follow the row).
                    let first = Int32(min(max(spanStart, offset), a) - offset)
                    for t in a..<b { inputs.documentStart[r0 + t - offset] = first }
                }
            }
        }
        for t in 0..<context {
            inputs.positions[r0 + t] = mode == .document ? Int32(t) - inputs.documentStart[r0 + t] : Int32(t)
        }
    }

    private func token(_ raw: UnsafeRawBufferPointer, _ i: Int) -> Int32 {
        tokenWidth == 2 ? Int32(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
            : Int32(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
    }
}
