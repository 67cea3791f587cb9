import Foundation
import LongMixCore
import Model

/// A checkpoint of the reference model as a `NextTokenScorer` over windows of up to `context`
/// tokens (causal attention over the window, positions 0 ..< window length).
///
/// Contract: the checkpoint's weights are used as stored (F32, F16 or BF16); `ropeFactor`, when
/// given, replaces the checkpoint's linear Position Interpolation factor (the "base model with
/// rope factor F and no training" of the PI demo). Memory is linear in `context`: the model is
/// forward-only (one layer's activations, two residual-stream buffers, no gradient buffers) and
/// attention is tiled.
public final class CheckpointScorer: NextTokenScorer {
    public let checkpoint: String
    public let context: Int
    /// The RoPE factor the model is evaluated with, and the one it was trained with.
    public let ropeFactor: Double
    public let trainedRopeFactor: Double
    /// Tokens per window the checkpoint was trained on (its trainer_state.json), else the config's
    /// max_position_embeddings (a checkpoint made elsewhere).
    public let trainedContext: Int
    private let model: LlamaModel

    public init(checkpoint: String, context: Int, ropeFactor: Double? = nil, threads: Int) throws {
        var config = try Checkpoint.loadConfig(checkpoint)
        trainedRopeFactor = config.ropeFactor
        if let ropeFactor {
            guard ropeFactor.isFinite, ropeFactor >= 1 else {
                throw EvaluationError("\(checkpoint): rope factor \(ropeFactor) must be a finite number >= 1")
            }
            config.ropeFactor = ropeFactor
        }
        self.checkpoint = checkpoint
        self.context = context
        self.ropeFactor = config.ropeFactor
        trainedContext = (try? Checkpoint.loadState(checkpoint).options.context) ?? config.maxPositionEmbeddings
        model = LlamaModel(config: config, batch: 1, length: context, attention: .sequence, forwardOnly: true, threads: threads)
        try Checkpoint.loadWeights(checkpoint, into: model)
    }

    public var vocabularySize: Int { model.config.vocabSize }

    /// Whether windows of `context` tokens reach rotary angles the model never trained on: RoPE
    /// sees position / factor, and training reached trainedContext / trainedRopeFactor.
    public var extrapolates: Bool {
        Double(context) / ropeFactor > Double(trainedContext) / trainedRopeFactor + 1e-9
    }

    public func negativeLogLikelihood(of stream: UnsafeBufferPointer<UInt32>, window: PerplexityWindows.Window) throws -> Double {
        guard window.inputs.count <= context else {
            throw EvaluationError("window of \(window.inputs.count) tokens for a \(context)-token model")
        }
        let inputs = model.inputs
        let start = window.inputs.lowerBound
        for i in 0..<context {
            inputs.positions[i] = Int32(i)
            inputs.documentStart[i] = 0
            guard i < window.inputs.count else {
                inputs.tokens[i] = 0
                inputs.targets[i] = -1
                continue
            }
            let id = stream[start + i]
            guard Int(id) < model.config.vocabSize else {
                throw EvaluationError("token id \(id) is outside the model's vocabulary of \(model.config.vocabSize) (\(checkpoint))")
            }
            inputs.tokens[i] = Int32(id)
            let next = start + i + 1
            inputs.targets[i] = window.scored.contains(next) ? Int32(stream[next]) : -1
        }
        return model.forward(gradients: false)
    }
}
