import Testing
@testable import Tokenization
import LongMixCore

/// `CharacterPairTable.Cutter`, a batch at a time and branch-free for ASCII, cuts exactly where
/// the rule says: between two characters whose classes no piece joins, with a space in the `▁`
/// class for unnormalized SentencePiece input and each invalid byte a character of its own.
@Suite struct CharacterPairTableTests {
    /// Pieces joining letters, digits with letters, `▁` before letters, and a few punctuation
    /// pairs; nothing joins a newline, and nothing puts `▁` after a letter.
    static let table = CharacterPairTable(pieces: ["▁the", "▁a", "ab", "ba", "a1", "é", "▁é", "éa", "a.", "..", "  "]
        .map { Array($0.utf8) })

    /// The characters the random texts are made of: ASCII, a space, `▁`, two- to four-byte
    /// characters, and bytes that start no well-formed sequence (a lone trail byte, a truncated
    /// lead, an overlong form, a surrogate).
    static let alphabet: [[UInt8]] = ["a", "b", "1", ".", " ", "\n", "▁", "é", "中", "𝄞"].map { Array($0.utf8) }
        + [[0x80], [0xE2, 0x96], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2]]

    /// The segment ends the rule gives, one character at a time.
    static func referenceEnds(_ text: [UInt8], unnormalized: Bool, spaceIsSymbol: Bool) -> [Int] {
        text.withUnsafeBufferPointer { buffer -> [Int] in
            guard let base = buffer.baseAddress, buffer.count > 0 else { return [] }
            var ends: [Int] = []
            var previous = -1, i = 0
            while i < buffer.count {
                var (characterClass, length) = CharacterPairTable.classify(base, i, buffer.count)
                if base[i] == 0x20 && unnormalized && spaceIsSymbol { characterClass = CharacterPairTable.spaceSymbolClass }
                if unnormalized && characterClass == CharacterPairTable.otherClass {
                    length = max(UTF8Scanning.validSequenceLength(base, i, buffer.count), 1)
                }
                if previous >= 0 && !table.canJoin(previous, characterClass) { ends.append(i) }
                previous = characterClass
                i += length
            }
            return ends + [buffer.count]
        }
    }

    static func cutterEnds(_ text: [UInt8], capacity: Int, unnormalized: Bool, spaceIsSymbol: Bool) -> [Int] {
        text.withUnsafeBufferPointer { buffer -> [Int] in
            guard let base = buffer.baseAddress else { return [] }
            var cutter = CharacterPairTable.Cutter(table, base, buffer.count, unnormalized: unnormalized,
                                                   spaceIsSymbol: spaceIsSymbol)
            let scratch = UnsafeMutablePointer<Int>.allocate(capacity: capacity)
            defer { scratch.deallocate() }
            var ends: [Int] = []
            while case let n = cutter.next(into: scratch, capacity: capacity), n > 0 {
                ends += UnsafeBufferPointer(start: scratch, count: n)
            }
            return ends
        }
    }

    @Test func knownCuts() {
        // "▁the" joins; a space before "a" is `▁` only when spaceIsSymbol; "\n" joins nothing.
        let text = Array(" the a1\n..中".utf8)
        #expect(Self.cutterEnds(text, capacity: 64, unnormalized: true, spaceIsSymbol: true) == [4, 7, 8, 10, 13])
        #expect(Self.cutterEnds(text, capacity: 64, unnormalized: false, spaceIsSymbol: false) == [1, 4, 5, 7, 8, 10, 13])
        #expect(Self.cutterEnds([], capacity: 64, unnormalized: true, spaceIsSymbol: true).isEmpty)
    }

    @Test(arguments: [1, 2, 3, 7, 64])
    func matchesTheRuleForEveryBatchSize(capacity: Int) {
        var generator = SplitMix64(seed: 0x5EED + UInt64(capacity))
        var mismatches = 0
        for trial in 0..<2000 {
            let length = generator.below(40)
            let text = (0..<length).flatMap { _ in Self.alphabet[generator.below(Self.alphabet.count)] }
            for (unnormalized, spaceIsSymbol) in [(true, true), (true, false), (false, false)] {
                let expected = Self.referenceEnds(text, unnormalized: unnormalized, spaceIsSymbol: spaceIsSymbol)
                let got = Self.cutterEnds(text, capacity: capacity, unnormalized: unnormalized, spaceIsSymbol: spaceIsSymbol)
                if got != expected {
                    mismatches += 1
                    if mismatches == 1 { Issue.record("trial \(trial): \(text) cut at \(got), expected \(expected)") }
                }
            }
        }
        #expect(mismatches == 0)
    }
}
