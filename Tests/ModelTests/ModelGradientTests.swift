import LongMixCore
import Testing
@testable import Model

/// The whole decoder: loss against the float64 reference model, every parameter tensor's gradient
/// against central differences of that reference (sampled entries), in both attention modes and
/// with a Position Interpolation factor; activation recomputation changes nothing.
@Suite struct ModelGradientTests {
    static let config = ModelConfig(vocabSize: 13, hiddenSize: 8, intermediateSize: 12, numLayers: 2, numHeads: 2,
                                    numKVHeads: 1, rmsNormEps: 1e-5, ropeTheta: 10_000, ropeFactor: 1, maxPositionEmbeddings: 64)

    /// Fills a batch of 2 windows of 9 tokens with documents [0, 4) [4, 9) and [0, 2) [2, 9).
    static func fill(_ model: LlamaModel, rng: inout SplitMix64) -> (tokens: [Int32], targets: [Int32], positions: [Int], starts: [Int]) {
        let starts = [0, 0, 0, 0, 4, 4, 4, 4, 4, 0, 0, 2, 2, 2, 2, 2, 2, 2]
        var tokens: [Int32] = [], targets: [Int32] = [], positions: [Int] = []
        for _ in 0..<18 { tokens.append(Int32(rng.below(13))) }
        for i in 0..<18 {
            let last = i % 9 == 8
            targets.append(last || i == 3 ? -1 : tokens[i + 1])  // row 3's target masked out
            positions.append(model.attentionMode == .document ? i % 9 - starts[i] : i % 9)
        }
        for i in 0..<18 {
            model.inputs.tokens[i] = tokens[i]
            model.inputs.targets[i] = targets[i]
            model.inputs.positions[i] = Int32(positions[i])
            model.inputs.documentStart[i] = Int32(starts[i])
        }
        return (tokens, targets, positions, starts)
    }

    @Test(arguments: [(AttentionMode.sequence, 1.0), (.document, 1.0), (.sequence, 4.0)])
    func gradientsMatchFiniteDifferences(mode: AttentionMode, factor: Double) {
        var config = Self.config
        config.ropeFactor = factor
        let model = LlamaModel(config: config, batch: 2, length: 9, attention: mode, threads: 2, attentionTile: 4, logitRows: 5)
        model.initializeParameters(seed: 11)
        // Norm gains away from 1 and larger weights, so every path carries signal.
        var rng = SplitMix64(seed: 12)
        for t in model.layout.tensors {
            for i in 0..<t.count { model.parameters[t.offset + i] = Float(t.isMatrix ? 0.4 * rng.normal() : 1 + 0.3 * rng.normal()) }
        }
        let batch = Self.fill(model, rng: &rng)
        let count = model.targetCount
        #expect(count == 15)  // 18 rows, minus each window's last row and row 3
        model.zeroGradients()
        let loss = model.forward(gradients: true, lossScale: 1 / Float(count))
        model.backward()
        let p = (0..<model.layout.count).map { Double(model.parameters[$0]) }
        let f = { (p: [Double]) in
            Reference.modelLoss(config, p, tokens: batch.tokens, targets: batch.targets, positions: batch.positions,
                                documentStart: mode == .document ? batch.starts : nil, batch: 2, length: 9) / Double(count)
        }
        let refLoss = f(p)
        #expect(abs(loss / Double(count) - refLoss) < 1e-5 * refLoss)
        let analytic = (0..<model.layout.count).map { model.gradients[$0] }
        for t in model.layout.tensors {
            var pick = SplitMix64(seed: UInt64(t.offset))
            let indices = Set((0..<min(t.count, 10)).map { _ in t.offset + pick.below(t.count) })
            let numeric = Reference.numericGradient(p, indices: Array(indices), f)
            let error = Reference.relativeError(analytic, numeric)
            #expect(error < 1e-3, "\(t.name): relative error \(error)")
        }
        // The same batch through a recomputing model gives bit-identical loss and gradients.
        let recomputing = LlamaModel(config: config, batch: 2, length: 9, attention: mode, recompute: true, threads: 2,
                                     attentionTile: 4, logitRows: 5)
        recomputing.parameters.update(from: model.parameters, count: model.layout.count)
        recomputing.inputs.tokens.update(from: model.inputs.tokens, count: 18 * 4)  // tokens, targets, positions, starts
        recomputing.zeroGradients()
        #expect(recomputing.forward(gradients: true, lossScale: 1 / Float(count)) == loss)
        recomputing.backward()
        #expect((0..<model.layout.count).allSatisfy { recomputing.gradients[$0] == model.gradients[$0] })
    }
}
