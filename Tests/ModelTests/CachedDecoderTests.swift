import Foundation
import Testing
import TestSupport
@testable import Model

/// Generation's key/value cache against recomputing the whole prefix with the training forward.
@Suite struct CachedDecoderTests {
    static func config(ropeFactor: Double, kvHeads: Int) -> ModelConfig {
        ModelConfig(vocabSize: 97, hiddenSize: 32, intermediateSize: 56, numLayers: 2, numHeads: 4, numKVHeads: kvHeads,
                    rmsNormEps: 1e-5, ropeTheta: 10000, ropeFactor: ropeFactor, maxPositionEmbeddings: 256)
    }

    @Test(arguments: [(1.0, 4), (4.0, 2), (1.0, 1)])
    func cachedLogitsEqualRecomputingThePrefix(ropeFactor: Double, kvHeads: Int) throws {
        let config = Self.config(ropeFactor: ropeFactor, kvHeads: kvHeads)
        let length = 45
        let full = LlamaModel(config: config, batch: 1, length: length)
        full.initializeParameters(seed: 11)
        // Larger weights than the default init so that positions and attention matter.
        for i in 0..<full.layout.count { full.parameters[i] *= 6 }
        let ids = (0..<length).map { Int32(($0 * 29 + 3) % 97) }
        for i in 0..<length { full.inputs.tokens[i] = ids[i]; full.inputs.targets[i] = -1 }
        _ = full.forward(gradients: false)
        let expected = UnsafeMutablePointer<Float>.allocate(capacity: length * 97)
        defer { expected.deallocate() }
        full.logits(rows: 0, length, into: expected)

        // Prefill of 17 tokens in chunks of 8, then one token at a time.
        let decoder = CachedDecoder(config: config, capacity: 64, chunk: 8)
        decoder.parameters.update(from: full.parameters, count: full.layout.count)
        var worst: Float = 0
        func check(_ logits: UnsafeBufferPointer<Float>, position p: Int) {
            var diff: Float = 0, norm: Float = 0
            for j in 0..<97 {
                diff = max(diff, abs(logits[j] - expected[p * 97 + j]))
                norm = max(norm, abs(expected[p * 97 + j]))
            }
            worst = max(worst, diff / norm)
        }
        check(try decoder.append(Array(ids[0..<17])), position: 16)
        for p in 17..<length { check(try decoder.append([ids[p]]), position: p) }
        #expect(worst < 1e-4, "worst logit difference relative to the largest logit \(worst)")
        #expect(decoder.count == length)
        // The cache refuses to overflow and out-of-vocabulary ids.
        #expect(throws: (any Error).self) { try decoder.append(Array(repeating: 1, count: 20)) }
        decoder.reset()
        #expect(throws: (any Error).self) { try decoder.append([97]) }
    }
}
