import Foundation
import Testing
import LongMixCore
import TestSupport
@testable import Decontamination

@Suite struct NormalizationTests {
    @Test func fixedExamplesFollowEachDefinition() {
        func words(_ normalization: Normalization, _ text: String) -> [String] {
            normalization.words(of: Array(text.utf8)).map { String(decoding: $0.word, as: UTF8.self) }
        }
        #expect(words(.helm, "Don't STOP—believing, e.g. café") == ["don", "t", "stop—believing", "e", "g", "café"])
        #expect(words(.gpt3, "Don't STOP—believing, e.g. café") == ["dont", "stopbelieving", "eg", "café"])
        #expect(words(.unicode, "Don’t STOP—believing, café 1984 ﬁne") == ["don", "t", "stop", "believing", "cafe", "0000", "fine"])
        #expect(words(.helm, "a\u{1C}b\u{A0}c\u{3000}d") == ["a", "b", "c", "d"])
        // Lowercasing is per character: İ becomes i + combining dot (as in Python), and a final
        // capital sigma becomes σ (Python's str.lower() would give ς there).
        #expect(words(.helm, "İSTANBUL ΟΔΟΣ") == ["i\u{307}stanbul", "οδοσ"])
        #expect(words(.unicode, "İSTANBUL ΟΔΟΣ") == ["istanbul", "οδοσ"])
    }

    @Test func wordRangesPointAtTheOriginalCharacters() {
        let text = Array("  «Héllo»,  wörld!".utf8)
        let words = Normalization.gpt3.words(of: text)
        #expect(words.count == 2)
        #expect(String(decoding: text[words[0].range], as: UTF8.self) == "Héllo")
        #expect(String(decoding: text[words[1].range], as: UTF8.self) == "wörld")
    }

    @Test(.needsPython, arguments: Normalization.allCases)
    func matchesThePythonOracleOnGeneratedText(_ normalization: Normalization) throws {
        var generator = TestText(seed: 0xDEC0 &+ UInt64(normalization.rawValue.count))
        var cases: [String] = []
        for k in 0..<400 { cases.append(generator.string(words: 1 + k % 40)) }
        var input = Data()
        for text in cases {
            input += try JSONSerialization.data(withJSONObject: ["normalization": normalization.rawValue, "text": text])
            input.append(0x0A)
        }
        let output = try Oracle.run("decontam_normalize.py", input: input)
        let lines = output.split(separator: 0x0A)
        #expect(lines.count == cases.count)
        var mismatches = 0
        for (text, line) in zip(cases, lines) {
            let expected = (try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any])["words"] as! [String]
            let actual = normalization.words(of: Array(text.utf8)).map { String(decoding: $0.word, as: UTF8.self) }
            if actual != expected {
                mismatches += 1
                if mismatches <= 3 {
                    Issue.record("\(normalization) on \(text.debugDescription): LongMix \(actual), Python \(expected)")
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test(arguments: Normalization.allCases)
    func rollingHashEqualsTheHashOfTheNormalizedWords(_ normalization: Normalization) {
        var generator = TestText(seed: 99)
        for n in [1, 3, 10, 13] {
            let hasher = NGramHasher(n: n, normalization: normalization)
            for _ in 0..<30 {
                let text = Array(generator.string(words: 40).utf8)
                let words = normalization.words(of: text)
                let ngrams = hasher.ngrams(of: text)
                #expect(ngrams.count == max(0, words.count - n + 1))
                for (k, ngram) in ngrams.enumerated() {
                    #expect(ngram.firstWord == k)
                    #expect(ngram.hash == NGramHasher.directHash(ofNormalizedWords: words[k..<k + n].map(\.word)))
                    #expect(ngram.range == words[k].range.lowerBound..<words[k + n - 1].range.upperBound)
                }
            }
        }
    }

    @Test func sameWordsGiveTheSameHashWhateverTheSpelling() {
        let hasher = NGramHasher(n: 3, normalization: .helm)
        let a = hasher.ngrams(of: Array("The quick, brown fox".utf8)).map(\.hash)
        let b = hasher.ngrams(of: Array("THE\n\nquick ... Brown (fox)".utf8)).map(\.hash)
        let c = hasher.ngrams(of: Array("the quick brown box".utf8)).map(\.hash)
        #expect(a == b)
        #expect(a[0] == c[0] && a[1] != c[1])
    }

    @Test func invalidUTF8IsTakenByteForByteWithoutCrashing() {
        let text: [UInt8] = [0x61, 0x20, 0xFF, 0xC3, 0x20, 0xE2, 0x82, 0x20, 0x62]
        let words = Normalization.helm.words(of: text)
        #expect(words.map(\.word) == [[0x61], [0xFF, 0xC3], [0xE2, 0x82], [0x62]])
    }
}
