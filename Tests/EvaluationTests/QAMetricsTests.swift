import Foundation
import Testing
import TestSupport
@testable import Evaluation

@Suite struct QAMetricsTests {
    @Test func normalizationByHand() {
        #expect(AnswerNormalization.normalize("The  Quick, brown-fox!") == "quick brownfox")
        #expect(AnswerNormalization.normalize("An apple a day; THE end.") == "apple day end")
        #expect(AnswerNormalization.normalize("theatre anthem") == "theatre anthem")
        #expect(AnswerNormalization.normalize("the—end") == "—end")  // em dash is not ASCII punctuation
        #expect(AnswerNormalization.normalize("ΣΑΣ") == "σας")
        #expect(AnswerNormalization.normalize("  \u{00A0}a\u{2003}b\u{1C}c ") == "b c")
    }

    @Test func metricsByHand() {
        #expect(QAMetrics.exactMatch(prediction: "The Eiffel Tower.", answers: ["eiffel tower"]) == 1)
        #expect(QAMetrics.exactMatch(prediction: "Eiffel", answers: ["eiffel tower"]) == 0)
        // 1 shared token of 2 predicted and 3 gold: P 1/2, R 1/3, F1 0.4.
        #expect(abs(QAMetrics.f1(prediction: "Paris France", answers: ["Paris, capital city", "Lyon"]) - 0.4) < 1e-15)
        #expect(QAMetrics.bestSubspanEM(prediction: "It is Paris, France.", answers: ["paris"]) == 1)
        // Only the first line counts.
        #expect(QAMetrics.bestSubspanEM(prediction: "I don't know\nParis", answers: ["Paris"]) == 0)
        #expect(QAMetrics.bestSubspanEM(prediction: "Lyon", answers: ["Paris", "Lyon"]) == 1)
        #expect(QAMetrics.bestSubspanEM(prediction: "anything", answers: []) == 0)
    }

    @Test(.needsPython) func matchesIndependentPythonImplementation() throws {
        var generator = TextGenerator(seed: 3)
        var cases: [(String, [String])] = []
        for _ in 0..<3000 {
            let answers = (0..<(1 + generator.below(3))).map { _ in generator.sentence(maxWords: 4) }
            let prediction: String
            switch generator.below(4) {
            case 0: prediction = generator.sentence(maxWords: 12)
            case 1: prediction = generator.pick(["The ", "", "It was ", "a "]) + generator.pick(answers) + generator.pick(["", ".", "!", "\nmore text"])
            case 2: prediction = generator.sentence(maxWords: 5) + " " + generator.pick(answers) + " " + generator.sentence(maxWords: 5)
            default: prediction = generator.perturbed(generator.pick(answers))
            }
            cases.append((prediction, answers))
        }
        var input = Data()
        for (prediction, answers) in cases {
            input += try JSONSerialization.data(withJSONObject: ["prediction": prediction, "answers": answers] as [String: Any])
            input += Data("\n".utf8)
        }
        let output = try Oracle.run("eval_qa_metrics.py", input: input)
        let lines = String(decoding: output, as: UTF8.self).split(separator: "\n")
        #expect(lines.count == cases.count)
        var failures = 0
        var hits = [0, 0, 0]
        for (line, (prediction, answers)) in zip(lines, cases) {
            let want = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let got: [String: Double] = [
                "em": QAMetrics.exactMatch(prediction: prediction, answers: answers),
                "f1": QAMetrics.f1(prediction: prediction, answers: answers),
                "best_subspan_em": QAMetrics.bestSubspanEM(prediction: prediction, answers: answers),
            ]
            var ok = AnswerNormalization.normalize(prediction) == want["normalized_prediction"] as! String
            for (key, value) in got { ok = ok && abs(value - (want[key] as! Double)) <= 1e-12 }
            if !ok {
                failures += 1
                if failures <= 5 { Issue.record("differs for \(prediction.debugDescription) vs \(answers): want \(want), got \(got) normalized \(AnswerNormalization.normalize(prediction).debugDescription)") }
            }
            if got["em"] == 1 { hits[0] += 1 }
            if let f = got["f1"], f > 0 && f < 1 { hits[1] += 1 }
            if got["best_subspan_em"] == 1 { hits[2] += 1 }
        }
        #expect(failures == 0)
        // The generated cases exercise every outcome, not only zeros.
        #expect(hits.allSatisfy { $0 > 100 }, "em=1: \(hits[0]), 0<f1<1: \(hits[1]), subspan=1: \(hits[2])")
        print("QA metrics: \(cases.count) cases vs the Python oracle; em=1 \(hits[0]), partial f1 \(hits[1]), subspan=1 \(hits[2])")
    }
}

@Suite struct NormalizationFuzzTests {
    /// Random strings over code points of many Unicode categories (letters of several scripts,
    /// combining marks, digits and other numerals, punctuation inside and outside ASCII, every
    /// kind of space, case-special letters), mixed with the articles, against Python's own
    /// lower / string.punctuation / re `\b` / split.
    @Test(.needsPython) func normalizationMatchesPythonOnMixedUnicode() throws {
        let ranges: [ClosedRange<UInt32>] = [
            0x20...0x7E, 0xA0...0x17F, 0x300...0x36F, 0x370...0x3FF, 0x400...0x45F, 0x5D0...0x5EA, 0x660...0x669,
            0x900...0x97F, 0x1C...0x1F, 0x9...0xD, 0x2000...0x206F, 0x2150...0x218B, 0x2460...0x24FF, 0x3000...0x3003,
            0x3040...0x309F, 0x4E00...0x4E2F, 0xFF01...0xFF5E, 0x1E00...0x1EFF, 0x212A...0x212B, 0x130...0x131,
        ]
        let pieces = ["a", "an", "the", "The", "AN", " ", "  ", "\n", ".", "'", "-", "_"]
        var generator = TextGenerator(seed: 21)
        var cases: [String] = []
        for _ in 0..<3000 {
            var s = String.UnicodeScalarView()
            for _ in 0..<generator.below(24) {
                if generator.below(3) == 0 {
                    s.append(contentsOf: generator.pick(pieces).unicodeScalars)
                } else {
                    let r = generator.pick(ranges)
                    if let scalar = Unicode.Scalar(r.lowerBound + UInt32(generator.below(Int(r.upperBound - r.lowerBound) + 1))),
                       scalar.properties.generalCategory != .unassigned {
                        s.append(scalar)
                    }
                }
            }
            cases.append(String(s))
        }
        var input = Data()
        for c in cases {
            input += try JSONSerialization.data(withJSONObject: ["prediction": c, "answers": ["x"]] as [String: Any])
            input += Data("\n".utf8)
        }
        let lines = String(decoding: try Oracle.run("eval_qa_metrics.py", input: input), as: UTF8.self).split(separator: "\n")
        #expect(lines.count == cases.count)
        var failures = 0
        for (line, c) in zip(lines, cases) {
            let want = (try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any])["normalized_prediction"] as! String
            let got = AnswerNormalization.normalize(c)
            if Array(got.unicodeScalars) != Array(want.unicodeScalars) {
                failures += 1
                if failures <= 5 {
                    Issue.record("normalize(\(c.unicodeScalars.map { String($0.value, radix: 16) })) = \(got.unicodeScalars.map { String($0.value, radix: 16) }), Python \(want.unicodeScalars.map { String($0.value, radix: 16) })")
                }
            }
        }
        #expect(failures == 0, "\(failures) of \(cases.count) differ")
    }
}
