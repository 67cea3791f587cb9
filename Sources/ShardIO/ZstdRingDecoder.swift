import CZstd
import LongMixCore

/// Decompresses a zstd file (one or more frames; skippable frames passed over) straight into the
/// prefetching `ByteRing`, with zstd's buffer-less API (`ZSTD_decompressContinue`): each block is
/// decoded in place next to the one before, the ring itself serving as zstd's window, so the
/// bytes are written once and read in place — no copy out of a window into a buffer per chunk.
///
/// The ring holds a frame's window (at most its content size) plus two blocks (the block being
/// written, and the room skipped at the end of the storage when a block does not fit there) plus
/// room for the chunks waiting for the reader; zstd finds its history across the wrap itself
/// (the older segment becomes its external dictionary). Windows up to 2 GiB are accepted
/// (`zstd --long=31`); the ring is sized per frame, so memory grows only with the window used.
///
/// Errors: a stream that ends inside a frame (or inside a frame header) throws `truncated-zstd`;
/// corrupt data throws `corrupt-zstd` with zstd's own message. An empty file is an empty stream.
final class ZstdRingDecoder: RingProducer {
    private let file: FileByteSource
    private var input: UnsafeMutableRawPointer
    private var inputCapacity = 1 << 20
    private var inputStart = 0
    private var inputEnd = 0
    private var inputFinished = false
    /// The largest window accepted: 2 GiB, what the streaming decoder allowed with
    /// `ZSTD_d_windowLogMax` 31 (`zstd --long=31`).
    static let maxWindow: UInt64 = 1 << 31
    /// Room past a block's maximum size given to zstd, so its fast copies never need the careful
    /// end-of-buffer paths.
    private static let blockSlack = 64

    init(file: FileByteSource) {
        self.file = file
        input = .allocate(byteCount: inputCapacity, alignment: 64)
    }

    deinit { input.deallocate() }

    func produce(into ring: ByteRing) throws {
        guard let context = ZSTD_createDCtx() else {
            throw InputError.file(file.path, reason: .corruptZstd, "cannot allocate a zstd decompression context")
        }
        defer { ZSTD_freeDCtx(context) }
        // Frame by frame, until the input ends between two frames.
        while try fill(atLeast: 1) {
            var header = ZSTD_frameHeader()
            while true {
                let needed = ZSTD_getFrameHeader(&header, input + inputStart, inputEnd - inputStart)
                try check(needed)
                if needed == 0 { break }
                guard try fill(atLeast: needed) else { throw truncated() }
            }
            if header.frameType == ZSTD_skippableFrame {
                // libzstd leaves `headerSize` 0 for skippable frames: their header is the magic
                // number and the 4-byte size.
                try skip(Int(ZSTD_SKIPPABLEHEADERSIZE) + Int(header.frameContentSize))
                continue
            }
            guard header.windowSize <= Self.maxWindow else {
                throw InputError.file(file.path, reason: .corruptZstd,
                                      "zstd: \(String(cString: ZSTD_getErrorString(ZSTD_error_frameParameter_windowTooLarge)))")
            }
            let history = Int(min(header.windowSize, header.frameContentSize))
            let block = Int(header.blockSizeMax) + Self.blockSlack
            guard ring.reserve(capacity: history + 2 * block + ring.readerRoom) else { return }
            try check(ZSTD_decompressBegin(context))
            while true {
                let needed = ZSTD_nextSrcSizeToDecompress(context)
                if needed == 0 { break }
                guard try fill(atLeast: needed) else { throw truncated() }
                // Every call gets the space a block needs at the write position: zstd tracks
                // the contiguity of its output through the pointers it is given.
                guard let space = ring.space(minimum: block, maximum: block) else { return }
                let written = ZSTD_decompressContinue(context, space.baseAddress, space.count, input + inputStart, needed)
                try check(written)
                inputStart += needed
                if written > 0 { guard ring.commit(written) else { return } }
            }
        }
    }

    /// Throws zstd's error, if `result` is one.
    private func check(_ result: Int) throws {
        guard ZSTD_isError(result) != 0 else { return }
        throw InputError.file(file.path, reason: .corruptZstd, "zstd: \(String(cString: ZSTD_getErrorName(result)))")
    }

    private func truncated() -> InputError {
        InputError.file(file.path, reason: .truncatedZstd, "the zstd stream ends inside a frame (file truncated?)")
    }

    /// Makes at least `count` input bytes available from `inputStart`, reading more as needed;
    /// false when the file ends first.
    private func fill(atLeast count: Int) throws -> Bool {
        if inputEnd - inputStart >= count { return true }
        if inputStart + count > inputCapacity {
            let kept = inputEnd - inputStart
            if count > inputCapacity {
                let grown = UnsafeMutableRawPointer.allocate(byteCount: count, alignment: 64)
                grown.copyMemory(from: input + inputStart, byteCount: kept)
                input.deallocate()
                input = grown
                inputCapacity = count
            } else {
                input.copyMemory(from: input + inputStart, byteCount: kept)
            }
            inputStart = 0
            inputEnd = kept
        }
        while inputEnd - inputStart < count && !inputFinished {
            let n = try file.read(into: UnsafeMutableRawBufferPointer(start: input + inputEnd, count: inputCapacity - inputEnd))
            if n == 0 { inputFinished = true }
            inputEnd += n
        }
        return inputEnd - inputStart >= count
    }

    /// Passes over `count` input bytes (a skippable frame), reading through them.
    private func skip(_ count: Int) throws {
        var left = count
        while left > 0 {
            guard try fill(atLeast: 1) else { throw truncated() }
            let n = min(left, inputEnd - inputStart)
            inputStart += n
            left -= n
        }
    }
}
