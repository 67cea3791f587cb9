import Foundation
import Model
import ShardIO
import Testing
import TestSupport
import Tokenization
@testable import Evaluation

/// The perplexity evaluation on a real (randomly initialised) checkpoint of the reference model.
/// Agreement with transformers is checked by scripts/parity/ppl_parity.py (torch stays out of CI).
@Suite struct CheckpointScorerTests {
    static func checkpoint(ropeFactor: Double = 1) throws -> String {
        var config = try ModelConfig.load(path: TestEnvironment.repoRoot.appendingPathComponent("Models/tiny-fixture.json").path)
        config.ropeFactor = ropeFactor
        let model = LlamaModel(config: config, batch: 1, length: 8)
        model.initializeParameters(seed: 7)
        let directory = try TestEnvironment.temporaryDirectory("ckpt").appendingPathComponent("model").path
        try Checkpoint.save(model: model, to: directory)
        return directory
    }

    /// One window covering the whole stream equals the model's own loss over it with every target.
    @Test func aWholeStreamWindowIsTheModelsSummedLoss() throws {
        let path = try Self.checkpoint()
        let stream: [UInt32] = (0..<50).map { UInt32(($0 * 37 + 1) % 2000) }
        let scorer = try CheckpointScorer(checkpoint: path, context: 64, threads: 1)
        let nll = try stream.withUnsafeBufferPointer {
            try scorer.negativeLogLikelihood(of: $0, window: .init(inputs: 0..<50, scored: 1..<50))
        }
        let model = LlamaModel(config: try Checkpoint.loadConfig(path), batch: 1, length: 50)
        try Checkpoint.loadWeights(path, into: model)
        for i in 0..<50 {
            model.inputs.tokens[i] = Int32(stream[i])
            model.inputs.targets[i] = i + 1 < 50 ? Int32(stream[i + 1]) : -1
        }
        let direct = model.forward(gradients: false)
        #expect(abs(nll - direct) <= 1e-5 * abs(direct), "window \(nll) vs direct \(direct)")
    }

    /// The forward-only model the scorer runs (two residual buffers in turn, nothing for the
    /// backward pass) gives exactly the training model's loss, for even and odd layer counts, in
    /// under two thirds of the memory of a recomputing training model even at 2-3 layers (the
    /// saving grows with depth; the 32K figure of the 8-layer small model is bench_eval.py's).
    @Test(arguments: [2, 3]) func forwardOnlyModelsLossEqualsTheFullModels(layers: Int) throws {
        var config = try ModelConfig.load(path: TestEnvironment.repoRoot.appendingPathComponent("Models/tiny-fixture.json").path)
        config.numLayers = layers
        let length = 96
        let full = LlamaModel(config: config, batch: 1, length: length)
        full.initializeParameters(seed: 3)
        for i in 0..<full.layout.count { full.parameters[i] *= 4 }
        let lean = LlamaModel(config: config, batch: 1, length: length, forwardOnly: true)
        lean.parameters.update(from: full.parameters, count: full.layout.count)
        for model in [full, lean] {
            for i in 0..<length {
                model.inputs.tokens[i] = Int32((i * 53 + 11) % config.vocabSize)
                model.inputs.targets[i] = i + 1 < length ? Int32(((i + 1) * 53 + 11) % config.vocabSize) : -1
            }
        }
        let expected = full.forward(gradients: false), got = lean.forward(gradients: false)
        #expect(got == expected && expected > 0)
        // Memory at a length where the context-sized buffers dominate (the LM head's logit chunk is fixed).
        let long = 8192
        let leanLong = LlamaModel(config: config, batch: 1, length: long, forwardOnly: true).activationBytes
        let recomputeLong = LlamaModel(config: config, batch: 1, length: long, recompute: true).activationBytes
        #expect(leanLong * 3 < recomputeLong * 2, "\(leanLong) vs \(recomputeLong) bytes")
    }

    /// Scoring only a suffix sums exactly the suffix's share of the per-position losses.
    @Test func scoredPositionsAreTheOnlyOnesCounted() throws {
        let path = try Self.checkpoint()
        let stream: [UInt32] = (0..<40).map { UInt32(($0 * 91 + 5) % 2000) }
        let scorer = try CheckpointScorer(checkpoint: path, context: 40, threads: 1)
        let total = try stream.withUnsafeBufferPointer { try scorer.negativeLogLikelihood(of: $0, window: .init(inputs: 0..<40, scored: 1..<40)) }
        let head = try stream.withUnsafeBufferPointer { try scorer.negativeLogLikelihood(of: $0, window: .init(inputs: 0..<40, scored: 1..<25)) }
        let tail = try stream.withUnsafeBufferPointer { try scorer.negativeLogLikelihood(of: $0, window: .init(inputs: 0..<40, scored: 25..<40)) }
        #expect(abs(head + tail - total) <= 1e-5 * total && head > 0 && tail > 0)
    }

    @Test func extrapolationIsJudgedOnRotaryPositions() throws {
        // A fresh checkpoint has no trainer state: its trained context is max_position_embeddings (2048).
        let base = try Self.checkpoint()
        #expect(try !CheckpointScorer(checkpoint: base, context: 2048, threads: 1).extrapolates)
        #expect(try CheckpointScorer(checkpoint: base, context: 4096, threads: 1).extrapolates)
        // Interpolation: factor 4 keeps 8192 positions inside the trained rotary range.
        #expect(try !CheckpointScorer(checkpoint: base, context: 8192, ropeFactor: 4, threads: 1).extrapolates)
        #expect(throws: EvaluationError.self) { try CheckpointScorer(checkpoint: base, context: 64, ropeFactor: 0.5, threads: 1) }
    }

    @Test func theCorpusCountsAddUpAndCutDocumentsScoreTheirPrefixBytes() throws {
        let tokenizer = try Tokenizer.load(path: TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model").path)
        let reader = DocumentReader(paths: try ShardPaths.expand([TestEnvironment.fixtures.appendingPathComponent("redpajama").path]),
                                    source: "rp", options: ReaderOptions(text: .field("text")))
        let corpus = try PerplexityCorpus(reader: reader, tokenizer: tokenizer, minTokens: 300, maxTokens: 300)
        #expect(corpus.documents > 0 && corpus.documentsRead == corpus.documents + corpus.documentsTooShort)
        for (stream, bytes) in zip(corpus.streams, corpus.bytes) {
            #expect(stream.count == 300 && stream[0] == tokenizer.bosID)
            #expect(bytes == (try tokenizer.decode(Array(stream.dropFirst()))).count)
        }
    }

    @Test func checkpointArgumentsNameTheirRowAndFactor() throws {
        let plain = try PerplexityModel(argument: "runs/base/step-000400")
        #expect(plain.name == "base/step-000400" && plain.ropeFactor == nil)
        let scaled = try PerplexityModel(argument: "runs/base/step-000400@4")
        #expect(scaled.checkpoint == "runs/base/step-000400" && scaled.ropeFactor == 4 && scaled.name == "base/step-000400@4")
        #expect(throws: EvaluationError.self) { try PerplexityModel(argument: "runs/base@x") }
    }
}
