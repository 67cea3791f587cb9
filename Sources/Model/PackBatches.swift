import Foundation
import LongMixCore
import Packing

/// Training windows from a pack directory, read through memory maps (`tokens.bin`,
/// `loss_mask.bin`, `segments.bin`, `segment_index.bin`; see `PackFormat`).
///
/// Each pack sequence of `seq_len` tokens is cut into `seq_len / context` windows; window w of
/// sequence s is sample `s * windowsPerSequence + w`. Row t of a window predicts token t + 1 of the
/// window, and counts in the loss where `loss_mask` of that target token is 1 (the window's last
/// row has no target). Samples are visited in a fresh seeded permutation each epoch; the position
/// (epoch, cursor) is what a checkpoint stores to resume the same stream.
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
    private var order: [Int32]

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
        func map(_ name: String) throws -> Data {
            try Data(contentsOf: URL(fileURLWithPath: directory).appendingPathComponent(name), options: .alwaysMapped)
        }
        tokens = try map(PackFormat.tokensFile)
        lossMask = try map(PackFormat.lossMaskFile)
        segments = try map(PackFormat.segmentsFile)
        segmentIndex = try map(PackFormat.segmentIndexFile)
        order = Array(repeating: 0, count: self.sequences.count * (manifest.seqLen / context))
        shuffle()
    }

    public var windowsPerSequence: Int { manifest.seqLen / context }
    public var sampleCount: Int { order.count }
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

    private func shuffle() {
        for i in order.indices { order[i] = Int32(i) }
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
    /// in sequence mode; restarting at each segment in document mode) and each row's document start.
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
                for k in lo..<hi {
                    let start = Int(UInt32(littleEndian: seg.loadUnaligned(fromByteOffset: k * PackFormat.segmentRecordSize, as: UInt32.self)))
                    let length = Int(UInt32(littleEndian: seg.loadUnaligned(fromByteOffset: k * PackFormat.segmentRecordSize + 4, as: UInt32.self)))
                    let a = max(start, offset), b = min(start + length, offset + context)
                    guard a < b else { continue }
                    for t in a..<b { inputs.documentStart[r0 + t - offset] = Int32(a - offset) }
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
