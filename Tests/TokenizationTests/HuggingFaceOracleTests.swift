import Foundation
import Testing
import TestSupport
@testable import Tokenization

/// Bit-exactness against Hugging Face `tokenizers` with LLaMA-2 tokenizer.json files (legacy
/// normalizer form and Metaspace form) built by the oracle from the .model files.
@Suite struct HuggingFaceOracleTests {
    private func compare(model: URL, form: String, count: Int, seed: Int, real: Int, decodeCases: Int) throws {
        let scratch = try TestEnvironment.temporaryDirectory("tokenizer-json-oracle")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let jsonPath = scratch.appendingPathComponent("tokenizer.json").path
        let output = try Oracle.run("tokenizer_hf.py", arguments: [
            "--model", model.path, "--form", form, "--write-json", jsonPath, "--count", String(count),
            "--seed", String(seed), "--real", String(real), "--decode-cases", String(decodeCases),
        ])
        var frames = OracleFrames(output)
        let encodeCases = frames.encodeCases()
        let decodeCasesRead = frames.decodeCases()
        #expect(encodeCases.count > count / 2)

        let tokenizer = try Tokenizer.load(path: jsonPath)
        #expect(tokenizer.format == .huggingFaceJSON)
        let encoder = tokenizer.makeEncoder()
        var encodeMismatches = 0, decodeMismatches = 0
        for item in encodeCases {
            let ids = encoder.encode(item.text)
            if ids != item.ids {
                encodeMismatches += 1
                if encodeMismatches <= 5 {
                    Issue.record("[\(form)] encode \(describe(item.text)): got \(ids.prefix(40)), tokenizers \(item.ids.prefix(40))")
                }
            }
        }
        for item in encodeCases.map({ DecodeCase(ids: $0.ids, decoded: $0.decoded) }) + decodeCasesRead {
            let decoded = try tokenizer.decode(item.ids)
            if decoded != item.decoded {
                decodeMismatches += 1
                if decodeMismatches <= 5 {
                    Issue.record("[\(form)] decode \(item.ids.prefix(40)): got \(describe(decoded)), tokenizers \(describe(item.decoded))")
                }
            }
        }
        print("[tokenizer.json \(form)] \(encodeCases.count) strings, \(decodeCasesRead.count) id sequences: "
            + "\(encodeMismatches) encode and \(decodeMismatches) decode mismatches")
        #expect(encodeMismatches == 0)
        #expect(decodeMismatches == 0)
    }

    @Test(.needsPython, .needsLlama2, arguments: ["legacy", "metaspace"])
    func llama2TokenizerJSONMatchesTokenizers(form: String) throws {
        try compare(model: TestEnvironment.llama2Model!, form: form, count: 100_000, seed: 11, real: 3000, decodeCases: 10_000)
    }

    @Test(.needsPython, arguments: ["legacy", "metaspace"])
    func fixtureTokenizerJSONMatchesTokenizers(form: String) throws {
        let model = TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model")
        try compare(model: model, form: form, count: 10_000, seed: 12, real: 1000, decodeCases: 2000)
    }
}
