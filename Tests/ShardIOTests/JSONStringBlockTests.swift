import Testing
@testable import ShardIO
import LongMixCore

/// The block path (`measureStringBlock`, used when a string is only measured) against the
/// scalar path (used when it is decoded): on generated strings with escapes, non-ASCII bytes,
/// control bytes, surrogates and bad escapes at every offset of a block, both end at the same
/// byte with the same decoded length, or fail with the same error at the same offset.
@Suite struct JSONStringBlockTests {
    /// One piece of string content: mostly what real text holds, sometimes what must fail.
    static func piece(_ r: inout SplitMix64) -> [UInt8] {
        func hex(_ v: Int) -> [UInt8] {
            let digits = String(v, radix: 16)
            return Array(("\\u" + String(repeating: "0", count: 4 - digits.count) + digits).utf8)
        }
        switch r.below(20) {
        case 0...5: return (0..<r.below(40)).map { _ in UInt8(0x20 + r.below(95)) }.filter { $0 != 0x22 && $0 != 0x5C }
        case 6, 7: return Array("\\n".utf8)
        case 8: return [0x5C, Array("\"\\/bfnrt".utf8)[r.below(8)]]
        case 9: return hex(r.below(0x80))
        case 10: return hex(0x80 + r.below(0x780))
        case 11: return hex([0x800 + r.below(0xD000), 0xE000 + r.below(0x2000)][r.below(2)])
        case 12: return hex(0xD800 + r.below(0x400)) + hex(0xDC00 + r.below(0x400))  // a pair
        case 13: return [Array("é".utf8), Array("€".utf8), Array("😀".utf8)][r.below(3)]
        case 14: return Array(String(repeating: "\\\\", count: 1 + r.below(3)).utf8)
        case 15 where r.below(4) == 0:  // rare failures
            switch r.below(7) {
            case 0: return hex(0xD800 + r.below(0x800))  // lone surrogate
            case 1: return Array("\\u12G4".utf8)
            case 2: return Array("\\x".utf8)
            case 3: return [UInt8(r.below(0x20))]  // raw control byte
            case 4: return [0xC3]  // truncated UTF-8
            case 5: return [0xFF]
            default: return [0x5C]  // a lone backslash (escapes what follows)
            }
        default: return Array("abc def".utf8)
        }
    }

    /// Scans the string at offset `start` of `line` measuring only (nil) or decoding.
    static func scan(_ line: [UInt8], _ start: Int, decoding: Bool) -> String {
        line.withUnsafeBufferPointer { buffer -> String in
            var scanner = JSONScanner(buffer)
            scanner.pos = start
            let destination = UnsafeMutablePointer<UInt8>.allocate(capacity: line.count + 8)
            defer { destination.deallocate() }
            do throws(JSONSyntaxError) {
                let written = try scanner.scanString(writingTo: decoding ? destination : nil)
                return "ok end \(scanner.pos) written \(written)"
            } catch {
                return "error \(error.reason.rawValue) at \(error.offset): \(error.message)"
            }
        }
    }

    @Test func blockMeasuringAgreesWithScalarDecoding() {
        var r = SplitMix64(seed: 2026)
        var disagreements: [String] = []
        var blockSized = 0, failures = 0
        for _ in 0..<40_000 {
            let prefix = [UInt8](repeating: 0x20, count: r.below(9))  // every alignment
            var content: [UInt8] = []
            let target = [8, 70, 200, 600][r.below(4)]
            while content.count < target { content += Self.piece(&r) }
            var line = prefix + [0x22] + content
            if r.below(10) != 0 { line += [0x22] }  // sometimes unterminated
            line += Array(", \"k\": 1}".utf8.prefix(r.below(10)))
            let measured = Self.scan(line, prefix.count, decoding: false)
            let decoded = Self.scan(line, prefix.count, decoding: true)
            if content.count >= 64 { blockSized += 1 }
            if measured.hasPrefix("error") { failures += 1 }
            if measured != decoded && disagreements.count < 5 {
                disagreements.append("\(measured) vs \(decoded): \(String(decoding: line, as: UTF8.self).debugDescription)")
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements)")
        #expect(blockSized > 20_000 && failures > 1_000)  // both paths well exercised
    }

    /// `measureStringBlock` itself on hand-made blocks: what it consumes, decodes and stops at.
    @Test func blockStepsOnKnownBlocks() {
        func step(_ text: String) -> JSONScanner.StringBlockStep {
            let bytes = Array(text.utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 64)
            return bytes.withUnsafeBufferPointer { JSONScanner.measureStringBlock($0.baseAddress!) }
        }
        func described(_ s: JSONScanner.StringBlockStep) -> String { "\(s.consumed) \(s.decoded) \(s.ended)" }
        #expect(described(step("")) == "64 64 false")  // plain ASCII: the whole block
        #expect(described(step("ab\\ncd\"")) == "6 5 true")  // \n decodes to one byte; ends at the quote
        #expect(described(step("a\\\"b\"")) == "4 3 true")  // an escaped quote does not end it
        #expect(described(step("\\u00e9\\u20ac\\u0041\"")) == "18 6 true")  // 2 + 3 + 1 UTF-8 bytes
        #expect(described(step("ab\\\\\"")) == "4 3 true")  // an escaped backslash escapes nothing
        #expect(described(step("abc\u{e9}")) == "3 3 false")  // non-ASCII: the scalar path's
        #expect(described(step("ab\\ud83d\\ude00")) == "2 2 false")  // a surrogate pair: the scalar path's
        #expect(described(step("ab\\x")) == "2 2 false")  // an invalid escape: the scalar path's error
        #expect(described(step(String(repeating: "a", count: 61) + "\\u0041")) == "61 61 false")  // cut by the block end
    }

    /// An unterminated string is reported at its opening quote, whether measured or decoded.
    @Test func unterminatedStringPointsAtTheOpeningQuote() {
        let line = Array("   \"".utf8) + Array(String(repeating: "ab\\n\\u00e9", count: 30).utf8)
        #expect(Self.scan(line, 3, decoding: false).hasPrefix("error malformed-json at 3: unterminated string"))
        #expect(Self.scan(line, 3, decoding: true).hasPrefix("error malformed-json at 3: unterminated string"))
    }
}
