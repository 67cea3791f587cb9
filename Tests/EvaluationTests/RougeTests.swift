import Foundation
import Testing
import TestSupport
@testable import Evaluation

@Suite struct RougeTests {
    @Test func tokenizerFollowsRougeScore() {
        let plain = RougeTokenizer(useStemmer: false)
        #expect(plain.tokenize("The quick-brown FOX, 42 times!").map { String(decoding: $0, as: UTF8.self) }
            == ["the", "quick", "brown", "fox", "42", "times"])
        // Python lowercases U+0130 to "i" + U+0307 and the Kelvin sign to "k"; other letters vanish.
        #expect(plain.tokenize("İstanbul \u{212A}elvin café").map { String(decoding: $0, as: UTF8.self) }
            == ["i", "stanbul", "kelvin", "caf"])
        let stemming = RougeTokenizer(useStemmer: true)
        #expect(stemming.tokenize("running cats ran").map { String(decoding: $0, as: UTF8.self) }
            == ["run", "cat", "ran"])
    }

    /// rouge-score's docstring example, worked by hand: 9 target and 8 prediction tokens.
    @Test func handWorkedExample() {
        let scorer = RougeScorer(types: [.ngram(1), .ngram(2), .longestCommonSubsequence])
        let s = scorer.score(target: "The quick brown fox jumps over the lazy dog",
                             prediction: "The quick brown dog jumps on the log.")
        // Unigrams shared: the x2, quick, brown, dog, jumps = 6.
        #expect(s[.ngram(1)] == RougeScore(precision: 6.0 / 8, recall: 6.0 / 9))
        // Bigrams shared: "the quick", "quick brown" = 2 of 7 and 8.
        #expect(s[.ngram(2)] == RougeScore(precision: 2.0 / 7, recall: 2.0 / 8))
        // LCS: the quick brown jumps the = 5.
        #expect(s[.longestCommonSubsequence] == RougeScore(precision: 5.0 / 8, recall: 5.0 / 9))
        #expect(scorer.score(target: "", prediction: "x")[.longestCommonSubsequence] == .zero)
    }

    @Test func multipleTargetsKeepBestFMeasurePerType() {
        let scorer = RougeScorer(types: [.ngram(1), .ngram(2)])
        let best = scorer.score(targets: ["a b c d", "a c b e"], prediction: "a b c e")
        #expect(best[.ngram(1)]?.fmeasure == scorer.score(target: "a c b e", prediction: "a b c e")[.ngram(1)]?.fmeasure)
        #expect(best[.ngram(2)]?.fmeasure == scorer.score(target: "a b c d", prediction: "a b c e")[.ngram(2)]?.fmeasure)
    }

    @Test(.needsPython, arguments: [false, true])
    func matchesRougeScoreOnGeneratedPairs(useStemmer: Bool) throws {
        var generator = TextGenerator(seed: useStemmer ? 11 : 7)
        var pairs: [(String, String)] = []
        for i in 0..<3000 {
            let target = generator.sentence(maxWords: i % 10 == 0 ? 200 : 30)
            let prediction = generator.below(4) == 0 ? generator.sentence(maxWords: 30) : generator.perturbed(target)
            pairs.append((target, prediction))
        }
        var input = Data()
        for (target, prediction) in pairs {
            input += try JSONSerialization.data(withJSONObject: ["target": target, "prediction": prediction])
            input += Data("\n".utf8)
        }
        let output = try Oracle.run("eval_rouge.py", arguments: [useStemmer ? "stem" : "nostem"], input: input)
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == pairs.count)
        let scorer = RougeScorer(types: [.ngram(1), .ngram(2), .longestCommonSubsequence], useStemmer: useStemmer)
        var worst = 0.0, failures = 0, nonTrivial = 0
        for (line, (target, prediction)) in zip(lines, pairs) {
            let expected = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: [Double]]
            let ours = scorer.score(target: target, prediction: prediction)
            for type in scorer.types {
                let want = expected[type.description]!, got = ours[type]!
                let error = max(abs(want[0] - got.precision), abs(want[1] - got.recall), abs(want[2] - got.fmeasure))
                worst = max(worst, error)
                if error > 1e-9 {
                    failures += 1
                    if failures <= 5 { Issue.record("\(type) differs for target \(target.debugDescription) prediction \(prediction.debugDescription): want \(want), got \(got)") }
                }
                if want[2] > 0 && want[2] < 1 { nonTrivial += 1 }
            }
        }
        #expect(failures == 0)
        #expect(nonTrivial > pairs.count)  // the pairs exercise partial overlaps, not only 0 and 1
        print("ROUGE stem=\(useStemmer): \(pairs.count) pairs x 3 types vs rouge-score, max |diff| \(worst)")
    }
}
