import Foundation
import LongMixCore
import ShardIO

/// Everything that fixes a training run's arithmetic; stored in each checkpoint so a resumed run
/// continues the same schedule.
public struct TrainingOptions: Codable, Sendable, Equatable {
    public var steps: Int
    public var batchSize: Int
    public var accumulation: Int
    public var context: Int
    public var learningRate: Double
    public var minLearningRateRatio: Double
    public var warmupSteps: Int
    public var weightDecay: Double
    public var beta1: Double
    public var beta2: Double
    public var epsilon: Double
    public var gradientClip: Double
    public var seed: UInt64
    public var attention: AttentionMode
    public var recompute: Bool

    public init(steps: Int, batchSize: Int = 1, accumulation: Int = 1, context: Int, learningRate: Double = 1e-3,
                minLearningRateRatio: Double = 0.1, warmupSteps: Int = 0, weightDecay: Double = 0.1, beta1: Double = 0.9,
                beta2: Double = 0.95, epsilon: Double = 1e-8, gradientClip: Double = 1.0, seed: UInt64 = 1234,
                attention: AttentionMode = .sequence, recompute: Bool = false) {
        self.steps = steps
        self.batchSize = batchSize
        self.accumulation = accumulation
        self.context = context
        self.learningRate = learningRate
        self.minLearningRateRatio = minLearningRateRatio
        self.warmupSteps = warmupSteps
        self.weightDecay = weightDecay
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.gradientClip = gradientClip
        self.seed = seed
        self.attention = attention
        self.recompute = recompute
    }

    public var schedule: LearningRateSchedule {
        LearningRateSchedule(peak: learningRate, minRatio: minLearningRateRatio, warmup: warmupSteps, total: steps)
    }

    public func validate() throws {
        for (key, value) in [("steps", steps), ("batch", batchSize), ("accumulation", accumulation), ("context", context)] where value < 1 {
            throw ConfigurationError(key: key, "must be at least 1, got \(value)")
        }
        guard learningRate > 0 else { throw ConfigurationError(key: "lr", "must be positive, got \(learningRate)") }
        guard warmupSteps >= 0 else { throw ConfigurationError(key: "warmup", "must not be negative") }
    }
}

/// What one optimizer step did.
public struct StepReport: Sendable {
    public var step: Int          // 1-based, after the update
    public var loss: Double       // mean next-token loss over the step's target rows
    public var targets: Int
    public var tokens: Int
    public var learningRate: Double
    public var gradientNorm: Double
    public var seconds: Double
}

/// The training loop: micro-batches from a pack, gradient accumulation, clipping, AdamW with
/// warmup and cosine decay, checkpoints that resume to the same losses (for a thread count).
public final class Trainer {
    public let model: LlamaModel
    public let data: PackBatches
    public let options: TrainingOptions
    public let optimizer: AdamW
    public private(set) var step = 0
    private var stepSamples: [Int]

    public init(model: LlamaModel, data: PackBatches, options: TrainingOptions) throws {
        try options.validate()
        guard model.batch == options.batchSize, model.length == options.context, data.context == options.context else {
            throw ConfigurationError(key: "batch", "model buffers (\(model.batch) x \(model.length)) do not match the options")
        }
        guard data.vocabularySize <= model.config.vocabSize else {
            throw ConfigurationError(file: data.directory, key: "vocab_size",
                                     "the pack's tokenizer has \(data.vocabularySize) ids, the model only \(model.config.vocabSize)")
        }
        self.model = model
        self.data = data
        self.options = options
        optimizer = AdamW(layout: model.layout, beta1: Float(options.beta1), beta2: Float(options.beta2),
                          epsilon: Float(options.epsilon), weightDecay: Float(options.weightDecay))
        stepSamples = Array(repeating: 0, count: options.batchSize * options.accumulation)
    }

    /// Tokens (rows) per optimizer step.
    public var tokensPerStep: Int { options.batchSize * options.accumulation * options.context }

    /// One optimizer step over `batch * accumulation` windows.
    public func trainStep() -> StepReport {
        let start = DispatchTime.now().uptimeNanoseconds
        for i in stepSamples.indices { stepSamples[i] = data.next() }
        var targets = 0
        for s in stepSamples { targets += data.targetCount(s) }
        let scale: Float = targets > 0 ? 1 / Float(targets) : 0
        model.zeroGradients()
        var lossSum = 0.0
        for micro in 0..<options.accumulation {
            for b in 0..<options.batchSize {
                data.fill(model.inputs, row: b, sample: stepSamples[micro * options.batchSize + b], mode: options.attention)
            }
            lossSum += model.forward(gradients: true, lossScale: scale)
            model.backward()
        }
        let norm = clipGradients(model.gradients, count: model.layout.count, maxNorm: options.gradientClip)
        let lr = options.schedule.rate(at: step)
        step += 1
        optimizer.update(parameters: model.parameters, gradients: model.gradients, learningRate: Float(lr), step: step)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return StepReport(step: step, loss: targets > 0 ? lossSum / Double(targets) : 0, targets: targets,
                          tokens: tokensPerStep, learningRate: lr, gradientNorm: norm, seconds: seconds)
    }

    /// Writes a checkpoint directory (which must not exist): `model.safetensors` + `config.json`
    /// (Hugging Face LlamaForCausalLM), `optimizer.safetensors` (AdamW moments) and
    /// `trainer_state.json` (step, data position, options).
    public func saveCheckpoint(to directory: String) throws {
        try Checkpoint.save(model: model, to: directory) { staging in
            let layout = model.layout
            try SafeTensors.write(path: staging + "/" + Checkpoint.optimizerFile, tensors:
                layout.tensors.map { ("exp_avg." + $0.name, $0.shape, UnsafePointer(optimizer.m + $0.offset)) }
                + layout.tensors.map { ("exp_avg_sq." + $0.name, $0.shape, UnsafePointer(optimizer.v + $0.offset)) })
            let state = TrainerState(step: step, epoch: data.epoch, cursor: data.cursor, pack: data.directory, options: options)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let file = try AtomicFileWriter(path: staging + "/" + Checkpoint.stateFile)
            try file.write([UInt8](try encoder.encode(state)))
            try file.commit()
        }
    }

    /// Restores optimizer moments, step and data position from a checkpoint written by
    /// `saveCheckpoint` (the model's weights are loaded separately, `Checkpoint.loadWeights`).
    public func restore(from directory: String, options expected: TrainingOptions? = nil) throws {
        let state = try Checkpoint.loadState(directory)
        guard (expected ?? state.options) == options else {
            throw ConfigurationError(file: directory + "/" + Checkpoint.stateFile, key: "options",
                                     "the checkpoint's training options differ from this run's")
        }
        let file = try SafeTensors.File(path: directory + "/" + Checkpoint.optimizerFile)
        for t in model.layout.tensors {
            try file.read("exp_avg." + t.name, shape: t.shape, into: optimizer.m + t.offset)
            try file.read("exp_avg_sq." + t.name, shape: t.shape, into: optimizer.v + t.offset)
        }
        step = state.step
        data.seek(epoch: state.epoch, cursor: state.cursor)
    }
}

/// `trainer_state.json` of a checkpoint.
public struct TrainerState: Codable, Sendable {
    public var step: Int
    public var epoch: Int
    public var cursor: Int
    public var pack: String
    public var options: TrainingOptions
}

/// Reading and writing checkpoint directories.
public enum Checkpoint {
    public static let weightsFile = "model.safetensors"
    public static let configFile = "config.json"
    public static let optimizerFile = "optimizer.safetensors"
    public static let stateFile = "trainer_state.json"

    /// Writes weights and config into a staging directory, lets `extra` add files, then renames
    /// it to `directory` (which must not exist), through an `OutputTarget` (staged beside it,
    /// removed on SIGINT/SIGTERM, published in one rename).
    public static func save(model: LlamaModel, to directory: String, extra: (String) throws -> Void = { _ in }) throws {
        guard !FileManager.default.fileExists(atPath: directory) else {
            throw ConfigurationError(file: directory, "already exists; not overwriting a checkpoint")
        }
        let target = try OutputTarget(directory: directory, kind: .checkpoint)
        let staging = target.staging
        try SafeTensors.write(path: staging + "/" + weightsFile,
                              tensors: model.layout.tensors.map { ($0.name, $0.shape, UnsafePointer(model.parameters + $0.offset)) })
        let config = try AtomicFileWriter(path: staging + "/" + configFile)
        try config.write([UInt8](model.config.jsonData()))
        try config.commit()
        try extra(staging)
        try target.publish()
    }

    public static func loadConfig(_ directory: String) throws -> ModelConfig {
        try ModelConfig.load(path: directory + "/" + configFile)
    }

    /// Loads `model.safetensors` (F32, F16 or BF16, HF names) into the model's parameters.
    public static func loadWeights(_ directory: String, into model: LlamaModel) throws {
        let file = try SafeTensors.File(path: directory + "/" + weightsFile)
        for t in model.layout.tensors { try file.read(t.name, shape: t.shape, into: model.parameters + t.offset) }
    }

    public static func loadState(_ directory: String) throws -> TrainerState {
        let path = directory + "/" + stateFile
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, "missing: not a resumable checkpoint (weights-only checkpoints go to --init)")
        }
        do { return try JSONDecoder().decode(TrainerState.self, from: data) } catch {
            throw ConfigurationError(file: path, "unreadable trainer state: \(ReadableError.describe(error))")
        }
    }
}

/// Mean masked next-token loss of pack windows, in order (no shuffling, no gradients).
public func evaluateLoss(model: LlamaModel, data: PackBatches, mode: AttentionMode) -> (loss: Double, targets: Int, windows: Int) {
    var sum = 0.0, targets = 0
    let total = data.sampleCount
    var sample = 0
    while sample < total {
        let rows = min(model.batch, total - sample)
        for b in 0..<model.batch {
            if b < rows {
                data.fill(model.inputs, row: b, sample: data.sample(sample + b), mode: mode)
                targets += data.targetCount(data.sample(sample + b))
            } else {
                for t in 0..<model.length { model.inputs.targets[b * model.length + t] = -1 }
            }
        }
        sum += model.forward(gradients: false)
        sample += rows
    }
    return (targets > 0 ? sum / Double(targets) : 0, targets, total)
}

/// Gradients of the mean masked loss over all of `data`'s windows (in order), accumulated into
/// `model.gradients`; returns that mean loss. For comparing gradients with another implementation.
public func lossGradients(model: LlamaModel, data: PackBatches, mode: AttentionMode) -> (loss: Double, targets: Int) {
    var targets = 0
    for k in 0..<data.sampleCount { targets += data.targetCount(data.sample(k)) }
    let scale: Float = targets > 0 ? 1 / Float(targets) : 0
    model.zeroGradients()
    var sum = 0.0, sample = 0
    while sample < data.sampleCount {
        for b in 0..<model.batch {
            if sample + b < data.sampleCount {
                data.fill(model.inputs, row: b, sample: data.sample(sample + b), mode: mode)
            } else {
                for t in 0..<model.length { model.inputs.targets[b * model.length + t] = -1 }
            }
        }
        sum += model.forward(gradients: true, lossScale: scale)
        model.backward()
        sample += model.batch
    }
    return (targets > 0 ? sum / Double(targets) : 0, targets)
}
