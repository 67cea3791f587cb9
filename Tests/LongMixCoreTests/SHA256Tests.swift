import Foundation
import Testing
import TestSupport
@testable import LongMixCore

@Suite struct SHA256Tests {
    /// Known answer from FIPS 180-2, checked without Python.
    @Test func knownAnswer() {
        #expect(SHA256.hexDigest(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hexDigest([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    /// Lengths around the 64-byte block and 56-byte padding boundaries, and a multi-megabyte input,
    /// against Python's hashlib; also incremental updates in odd-sized pieces.
    @Test(.needsPython) func matchesHashlib() throws {
        var inputs: [[UInt8]] = []
        var state: UInt64 = 12345
        func nextByte() -> UInt8 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return UInt8(truncatingIfNeeded: state >> 33)
        }
        for length in [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 4096, 3_000_001] {
            inputs.append((0..<length).map { _ in nextByte() })
        }
        var framed = Data()
        for input in inputs {
            var n = UInt32(input.count).littleEndian
            framed.append(Data(bytes: &n, count: 4))
            framed.append(contentsOf: input)
        }
        let digests = String(decoding: try Oracle.run("tokenizer_sha256.py", input: framed), as: UTF8.self)
            .split(separator: "\n").map(String.init)
        #expect(digests.count == inputs.count)
        for (input, expected) in zip(inputs, digests) {
            #expect(SHA256.hexDigest(input) == expected, "length \(input.count)")
            var hasher = SHA256()
            var offset = 0, step = 1
            while offset < input.count {
                let end = min(input.count, offset + step)
                hasher.update(Array(input[offset..<end]))
                offset = end
                step = step * 3 + 1
            }
            let hex = hasher.finalize().map { String(format: "%02x", $0) }.joined()
            #expect(hex == expected, "incremental, length \(input.count)")
        }
    }
}
