import Foundation
import Testing
import TestSupport
@testable import Tokenization

/// Bit-exactness against Google's sentencepiece (the oracle), on the real LLaMA-2 model and on the
/// repository's fixture model, with generated adversarial strings and fixture-shard text.
@Suite struct SentencePieceOracleTests {
    /// Runs the oracle, loads the model it used, and compares encodings, decodings and round trips.
    private func compare(model: URL, variant: String = "as-is", count: Int, seed: Int, real: Int,
                         decodeCases: Int, minimumRoundTrips: Int) throws {
        let scratch = try TestEnvironment.temporaryDirectory("tokenizer-oracle")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let variantPath = scratch.appendingPathComponent("\(variant).model").path
        let output = try Oracle.run("tokenizer_sentencepiece.py", arguments: [
            "--model", model.path, "--variant", variant, "--write-model", variantPath,
            "--count", String(count), "--seed", String(seed), "--real", String(real),
            "--decode-cases", String(decodeCases),
        ])
        var frames = OracleFrames(output)
        let encodeCases = frames.encodeCases()
        let decodeCasesRead = frames.decodeCases()
        #expect(encodeCases.count >= count)
        #expect(decodeCasesRead.count == decodeCases)

        let tokenizer = try Tokenizer.load(path: variantPath)
        let encoder = tokenizer.makeEncoder()
        var encodeMismatches = 0, decodeMismatches = 0, roundTrips = 0
        for item in encodeCases {
            let ids = encoder.encode(item.text)
            if ids != item.ids {
                encodeMismatches += 1
                if encodeMismatches <= 5 {
                    Issue.record("[\(variant)] encode \(describe(item.text)): got \(ids.prefix(40)), sentencepiece \(item.ids.prefix(40))")
                }
            }
            let decoded = try tokenizer.decode(item.ids)
            if decoded != item.decoded {
                decodeMismatches += 1
                if decodeMismatches <= 5 {
                    Issue.record("[\(variant)] decode \(item.ids.prefix(40)): got \(describe(decoded)), sentencepiece \(describe(item.decoded))")
                }
            }
            // Round trip wherever sentencepiece has it.
            if item.decoded == item.text {
                roundTrips += 1
                #expect(decoded == item.text)
            }
        }
        for item in decodeCasesRead {
            let decoded = try tokenizer.decode(item.ids)
            if decoded != item.decoded {
                decodeMismatches += 1
                if decodeMismatches <= 10 {
                    Issue.record("[\(variant)] decode \(item.ids): got \(describe(decoded)), sentencepiece \(describe(item.decoded))")
                }
            }
        }
        print("[\(variant)] \(encodeCases.count) strings, \(decodeCasesRead.count) id sequences: "
            + "\(encodeMismatches) encode and \(decodeMismatches) decode mismatches; \(roundTrips) round trips")
        #expect(encodeMismatches == 0)
        #expect(decodeMismatches == 0)
        // Guards against a vacuous round-trip check (adversarial strings with invalid UTF-8 or
        // collapsed whitespace do not round-trip in sentencepiece either).
        #expect(roundTrips >= minimumRoundTrips)
    }

    @Test(.needsPython, .needsLlama2) func llama2MatchesSentencepieceOnGeneratedAndRealText() throws {
        try compare(model: TestEnvironment.llama2Model!, count: 100_000, seed: 1, real: 3000, decodeCases: 20_000, minimumRoundTrips: 40_000)
    }

    @Test(.needsPython) func fixtureModelMatchesSentencepiece() throws {
        let model = TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model")
        try compare(model: model, count: 20_000, seed: 2, real: 3000, decodeCases: 5000, minimumRoundTrips: 10_000)
    }

    /// Normalizer and byte-fallback options LLaMA-2 does not use, on rewritten copies of the fixture.
    @Test(.needsPython, arguments: [("no-byte-fallback", 1000), ("remove-extra-whitespaces", 1500), ("no-dummy-prefix", 2500),
                      ("no-escape-whitespaces", 0)])
    func fixtureVariantsMatchSentencepiece(variant: String, minimumRoundTrips: Int) throws {
        let model = TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model")
        try compare(model: model, variant: variant, count: 5000, seed: 3, real: 500, decodeCases: 2000,
                    minimumRoundTrips: minimumRoundTrips)
    }
}
