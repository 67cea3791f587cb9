import Foundation
import Testing
import TestSupport
@testable import Evaluation

@Suite struct PorterStemmerTests {
    /// Examples from Porter's paper and NLTK's documented deviations, checked by hand.
    @Test func knownStems() {
        let stemmer = PorterStemmer()
        let cases: [(String, String)] = [
            ("caresses", "caress"), ("ponies", "poni"), ("ties", "tie"), ("cats", "cat"), ("feed", "feed"),
            ("agreed", "agre"), ("plastered", "plaster"), ("motoring", "motor"), ("sing", "sing"),
            ("conflated", "conflat"), ("hopping", "hop"), ("falling", "fall"), ("filing", "file"),
            ("happy", "happi"), ("sky", "sky"), ("skies", "sky"), ("dying", "die"), ("enjoy", "enjoy"),
            ("relational", "relat"), ("generously", "gener"), ("controlling", "control"), ("is", "is"),
        ]
        for (word, stem) in cases { #expect(stemmer.stem(word) == stem, "stem(\(word))") }
    }

    /// Every generated suffix variant and (when installed) every GCIDE headword, against NLTK.
    @Test(.needsPython) func matchesNLTKOnEnglishVocabulary() throws {
        if TextGenerator.dictionaryWords == nil {
            print("NOTE \(#function): /usr/share/dictd/gcide.index absent (apt install dict-gcide); "
                + "checking the \(TextGenerator.suffixVariants.count) generated suffix variants only")
        }
        let words = Array(Set(TextGenerator.vocabulary.map { $0.lowercased() })).sorted()
        let output = try Oracle.run("eval_porter.py", input: Data((words.joined(separator: "\n") + "\n").utf8))
        let expected = String(decoding: output, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(expected.count == words.count + 1)
        let stemmer = PorterStemmer()
        var mismatches: [String] = []
        for (word, want) in zip(words, expected) where stemmer.stem(word) != want {
            mismatches.append("\(word): nltk \(want), ours \(stemmer.stem(word))")
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) of \(words.count) differ: \(mismatches.prefix(20))")
        print("PorterStemmer: \(words.count) words compared with NLTK, \(mismatches.count) differ")
    }
}
