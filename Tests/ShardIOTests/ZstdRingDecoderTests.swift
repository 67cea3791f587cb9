import CZstd
import Foundation
import Testing
import TestSupport
import LongMixCore
@testable import ShardIO

/// The ring decoder (`ZstdRingDecoder` through `PrefetchingByteSource`) against libzstd's own
/// streaming decoder (`ZSTD_decompressStream`, which keeps its window in its own buffer): the
/// same bytes, and for broken files the same bytes before the same kind of error.
@Suite struct ZstdRingDecoderTests {
    /// One zstd frame of `data`: `windowLog` bounds the window (small windows make the ring
    /// small, so it wraps many times per frame); without `contentSize` the header leaves the
    /// size out (as streaming compressors do).
    static func frame(_ data: [UInt8], level: Int32 = 3, windowLog: Int32 = 0, checksum: Bool = true,
                      contentSize: Bool = true) -> [UInt8] {
        let context = ZSTD_createCCtx()!
        defer { ZSTD_freeCCtx(context) }
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_compressionLevel, level)
        if windowLog > 0 { _ = ZSTD_CCtx_setParameter(context, ZSTD_c_windowLog, windowLog) }
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_checksumFlag, checksum ? 1 : 0)
        _ = ZSTD_CCtx_setParameter(context, ZSTD_c_contentSizeFlag, contentSize ? 1 : 0)
        var out = [UInt8](repeating: 0, count: ZSTD_compressBound(data.count))
        var output = ZSTD_outBuffer(dst: nil, size: out.count, pos: 0)
        out.withUnsafeMutableBytes { dst in
            data.withUnsafeBytes { src in
                output.dst = dst.baseAddress
                var input = ZSTD_inBuffer(src: src.baseAddress, size: data.count, pos: 0)
                // Streaming (not one-shot) compression honours contentSizeFlag = 0.
                let mode = contentSize ? ZSTD_e_end : ZSTD_e_continue
                var left = ZSTD_compressStream2(context, &output, &input, mode)
                precondition(ZSTD_isError(left) == 0)
                // End the frame (after ZSTD_e_continue it has not begun to end), one frame only.
                var ended = mode == ZSTD_e_end && left == 0
                while !ended {
                    left = ZSTD_compressStream2(context, &output, &input, ZSTD_e_end)
                    precondition(ZSTD_isError(left) == 0)
                    ended = left == 0
                }
            }
        }
        return Array(out.prefix(output.pos))
    }

    /// A skippable frame of `count` bytes of user data.
    static func skippableFrame(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x5A, 0x2A, 0x4D, 0x18]
        withUnsafeBytes(of: UInt32(count).littleEndian) { bytes += $0 }
        return bytes + [UInt8](repeating: 0xAB, count: count)
    }

    /// Text-like bytes with long-range repeats, so matches reach back across whole windows.
    static func sampleText(_ count: Int, seed: UInt64) -> [UInt8] {
        var rng = seed
        let words = ["the", "quick", "ring", "buffer", "zstd", "window", "décodé", "東京", "\n", "{\"text\": "]
        var out: [UInt8] = []
        out.reserveCapacity(count + 64)
        while out.count < count {
            rng = StableHash.splitMix(rng)
            if rng % 7 == 0 && out.count > 4096 {
                // Repeat an earlier stretch, from anywhere before.
                let start = Int((rng >> 8) % UInt64(out.count - 2048))
                out += out[start..<(start + 300 + Int(rng >> 40) % 1500)]
            } else {
                out += Array(words[Int((rng >> 16) % UInt64(words.count))].utf8) + [0x20]
                if rng % 3 == 0 { out += Array(String(rng % 100_000).utf8) }
            }
        }
        return Array(out.prefix(count))
    }

    /// Everything the ring decoder gives for `file`, read through `PrefetchingByteSource` with
    /// small chunks (so the producer often waits for the reader), and its error if any.
    static func ringDecode(_ path: String, chunkSize: Int, depth: Int) -> (bytes: [UInt8], error: InputError?) {
        var out: [UInt8] = []
        do {
            let source = PrefetchingByteSource(producer: ZstdRingDecoder(file: try FileByteSource(path: path)),
                                               chunkSize: chunkSize, depth: depth)
            while let chunk = try source.nextChunk() { out += chunk }
            return (out, nil)
        } catch let error as InputError {
            return (out, error)
        } catch {
            Issue.record("unexpected error \(error)")
            return (out, nil)
        }
    }

    /// libzstd's streaming decoder on the same bytes (windows up to 2 GiB, as the reader accepts):
    /// its output before any error, and the error's kind (`corrupt-zstd`, or `truncated-zstd` when
    /// the input ends inside a frame). The input goes in a byte at a time, so each call completes
    /// at most one block and flushes it before the next block is decoded: the output is every
    /// block before a failing one (a call that fails reports none of its own output).
    static func streamingDecode(_ bytes: [UInt8]) -> (bytes: [UInt8], error: DropReason?) {
        let stream = ZSTD_createDStream()!
        defer { ZSTD_freeDStream(stream) }
        _ = ZSTD_DCtx_setParameter(stream, ZSTD_d_windowLogMax, 31)
        var out: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 1 << 18)
        var remaining = 0
        var consumed = 0
        var failed = false
        buffer.withUnsafeMutableBytes { dst in
            bytes.withUnsafeBytes { src in
                /// One call: whether it made progress (consumed input or produced output), or
                /// nil on an error.
                func call(_ count: Int) -> Bool? {
                    var input = ZSTD_inBuffer(src: src.baseAddress.map { $0 + consumed }, size: count, pos: 0)
                    var output = ZSTD_outBuffer(dst: dst.baseAddress, size: dst.count, pos: 0)
                    let result = ZSTD_decompressStream(stream, &output, &input)
                    guard ZSTD_isError(result) == 0 else { return nil }
                    consumed += input.pos
                    out += dst.prefix(output.pos)
                    // A call that moves nothing reports the next frame's header size: only
                    // calls that make progress say what the stream still needs.
                    guard output.pos > 0 || input.pos > 0 else { return false }
                    remaining = result
                    return true
                }
                while consumed < bytes.count {
                    guard call(1) != nil else { failed = true; return }
                }
                while true {
                    guard let progressed = call(0) else { failed = true; return }
                    if !progressed { break }
                }
            }
        }
        if failed { return (out, .corruptZstd) }
        return (out, remaining == 0 ? nil : .truncatedZstd)
    }

    /// Frames of several window sizes (the ring grows between them), with and without content
    /// sizes and checksums, an empty frame and skippable frames between them: the bytes are the
    /// input's, read with reader chunks from 1 KiB (the producer waits for the reader all the
    /// time) to 1 MiB.
    @Test func decodesFramesOfEveryWindowThroughTheRing() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var file: [UInt8] = []
        var expected: [UInt8] = []
        let parts: [(count: Int, windowLog: Int32, contentSize: Bool, checksum: Bool)] = [
            (300_000, 10, true, true), (0, 0, true, true), (2_000_000, 12, false, true), (50_000, 0, true, false),
            (3_000_000, 17, false, false), (1_500_000, 20, true, true), (700_000, 11, true, true),
        ]
        for (k, part) in parts.enumerated() {
            let text = Self.sampleText(part.count, seed: UInt64(k + 1))
            if k % 2 == 1 { file += Self.skippableFrame(k * 1000) }
            file += Self.frame(text, windowLog: part.windowLog, checksum: part.checksum, contentSize: part.contentSize)
            expected += text
        }
        file += Self.skippableFrame(10)
        let path = dir.appendingPathComponent("frames.jsonl.zst").path
        try Data(file).write(to: URL(fileURLWithPath: path))
        let reference = Self.streamingDecode(file)
        #expect(reference.error == nil && reference.bytes == expected, "the streaming decoder disagrees with the input")
        for (chunkSize, depth) in [(1 << 10, 1), (1 << 14, 2), (1 << 20, 4)] {
            let (bytes, error) = Self.ringDecode(path, chunkSize: chunkSize, depth: depth)
            let same = bytes == expected
            #expect(error == nil, "chunk \(chunkSize): \(String(describing: error))")
            #expect(same, "chunk \(chunkSize): \(bytes.count) of \(expected.count) bytes")
        }
        // And through openShard, as the readers use it.
        var whole: [UInt8] = []
        let source = try openShard(path) as! PrefetchingByteSource
        while let chunk = try source.nextChunk() { whole += chunk }
        let same = whole == expected
        #expect(same, "openShard: \(whole.count) of \(expected.count) bytes")
    }

    /// Broken files — bytes flipped, cut short, a header declaring a window over 2 GiB, garbage
    /// after the last frame, an empty file — give exactly the streaming decoder's bytes before
    /// the error and the same kind of error, never a crash.
    @Test func brokenFilesFailAsTheStreamingDecoderDoes() throws {
        let dir = try TestEnvironment.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let text = Self.sampleText(600_000, seed: 9)
        let good = Self.frame(Array(text.prefix(200_000)), windowLog: 11) + Self.frame(Array(text.dropFirst(200_000)), windowLog: 14, contentSize: false)
        var cases: [(String, [UInt8])] = [
            ("empty", []),
            ("garbage after", good + [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08]),
            ("partial magic after", good + [0x28, 0xB5]),
            // Magic, a descriptor with no content size, a window descriptor of exponent 22
            // (windowLog 32), then a raw last block.
            ("window over 2 GiB", [0x28, 0xB5, 0x2F, 0xFD, 0x00, 22 << 3, 0x09, 0x00, 0x00, 0x41]),
        ]
        var seed: UInt64 = 5
        for round in 0..<80 {
            var corrupt = good
            seed = StableHash.splitMix(seed)
            if round % 4 == 0 {
                corrupt.removeLast(1 + Int(seed % UInt64(corrupt.count - 1)))
            } else {
                for _ in 0..<(1 + round % 3) {
                    seed = StableHash.splitMix(seed)
                    corrupt[Int(seed % UInt64(corrupt.count))] ^= UInt8(truncatingIfNeeded: seed >> 32) | 1
                }
            }
            cases.append(("round \(round)", corrupt))
        }
        var failures: [DropReason: Int] = [:]
        for (name, bytes) in cases {
            let path = dir.appendingPathComponent("case.jsonl.zst").path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let reference = Self.streamingDecode(bytes)
            let (decoded, error) = Self.ringDecode(path, chunkSize: 1 << 12, depth: 2)
            #expect(error?.reason == reference.error, "\(name): \(String(describing: error)) vs \(String(describing: reference.error))")
            let same = decoded == reference.bytes
            #expect(same, "\(name): \(decoded.count) bytes vs \(reference.bytes.count)")
            if let error {
                #expect(error.location?.file == path && error.message.hasPrefix(error.reason == .truncatedZstd ? "the zstd stream ends" : "zstd: "))
                failures[error.reason, default: 0] += 1
            }
        }
        #expect(failures[.corruptZstd, default: 0] >= 30 && failures[.truncatedZstd, default: 0] >= 10, "\(failures)")
    }
}
