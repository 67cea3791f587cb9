import Foundation
import LongMixCore
import ShardIO

/// A `longmix train` run: sets the model up (fresh from a config, `--init` from a checkpoint with
/// an optional new Position Interpolation factor, or `--resume` of a checkpoint with its optimizer
/// and data position), then trains, appending one JSON line per step to `OUT/train.jsonl` and
/// writing checkpoints to `OUT/step-NNNNNN` (never over an existing one).
///
/// `OUT` is a LongMix training-run directory (`OutputTarget.openInPlace`, kind `training-run`):
/// it must be absent or empty, or, for `.resume`, the run directory holding the checkpoint
/// resumed; any other existing directory (without the marker, another kind's, another run's) is
/// refused before anything is written, and so is an `OUT` overlapping the pack or the `--init`
/// checkpoint. A run directory written before runs carried the marker is recognised by its
/// content when it is resumed (`markLegacyRun`).
public final class TrainingRun {
    public enum Start {
        case fresh(config: ModelConfig)
        /// Weights from a checkpoint, fresh optimizer and schedule; `ropeFactor` replaces the
        /// checkpoint's (the Position Interpolation step from context L to factor * L).
        case initialize(checkpoint: String, ropeFactor: Double?)
        case resume(checkpoint: String)
    }

    public let trainer: Trainer
    public let output: String
    public let saveEvery: Int
    public let startStep: Int
    private let log: FileHandle

    public init(pack: String, start: Start, options requested: TrainingOptions, output: String, saveEvery: Int, threads: Int) throws {
        var options = requested
        let config: ModelConfig
        var resumeFrom: String?
        switch start {
        case .fresh(let c):
            config = c
        case .initialize(let checkpoint, let factor):
            var c = try Checkpoint.loadConfig(checkpoint)
            if let factor {
                c.maxPositionEmbeddings = Int((Double(c.maxPositionEmbeddings) * factor / c.ropeFactor).rounded())
                c.ropeFactor = factor
            }
            try c.validate(file: "--rope-factor")
            config = c
        case .resume(let checkpoint):
            config = try Checkpoint.loadConfig(checkpoint)
            options = try Checkpoint.loadState(checkpoint).options
            if requested.steps != options.steps {
                options.steps = requested.steps   // running further: the schedule's length is the one thing a resume may change
            }
            resumeFrom = checkpoint
        }
        let fm = FileManager.default
        // The resumed checkpoint may lie inside OUT (continuing one's own run), so it is
        // registered as an input only after OUT is opened.
        var inputs = [pack]
        if case .initialize(let checkpoint, _) = start { inputs.append(checkpoint) }
        InputFiles.register(inputs)
        if let resumeFrom { try Self.markLegacyRun(output, holding: resumeFrom) }
        let reopened = try OutputTarget.openInPlace(directory: output, kind: .trainingRun, reopening: resumeFrom != nil)
        if let resumeFrom {
            InputFiles.register([resumeFrom])
            let holder = InputFiles.canonical(URL(fileURLWithPath: resumeFrom).deletingLastPathComponent().path)
            guard !reopened || holder == InputFiles.canonical(output) else {
                throw ConfigurationError(file: output, "holds another training run; --resume \(resumeFrom) continues in a new directory or in the one holding it")
            }
        }
        let data = try PackBatches(directory: pack, context: options.context, seed: options.seed)
        let model = LlamaModel(config: config, batch: options.batchSize, length: options.context, attention: options.attention,
                               recompute: options.recompute, threads: threads)
        let trainer = try Trainer(model: model, data: data, options: options)
        switch start {
        case .fresh: model.initializeParameters(seed: options.seed)
        case .initialize(let checkpoint, _): try Checkpoint.loadWeights(checkpoint, into: model)
        case .resume(let checkpoint):
            try Checkpoint.loadWeights(checkpoint, into: model)
            var stored = try Checkpoint.loadState(checkpoint)
            stored.options.steps = options.steps
            try trainer.restore(from: checkpoint, options: stored.options)
        }
        self.trainer = trainer
        self.output = output
        self.saveEvery = saveEvery
        startStep = trainer.step
        let logPath = output + "/train.jsonl"
        if !fm.fileExists(atPath: logPath) { _ = fm.createFile(atPath: logPath, contents: nil) }
        guard let log = FileHandle(forWritingAtPath: logPath) else { throw ConfigurationError(file: logPath, "cannot open for writing") }
        log.seekToEndOfFile()
        self.log = log
    }

    /// Gives the training-run marker to `directory` when it is an unmarked run directory LongMix
    /// wrote before runs carried one: it holds the checkpoint being resumed, and nothing but
    /// `train.jsonl` and `step-NNNNNN` checkpoints (each with the checkpoint marker). Anything
    /// else is left as it is, for `OutputTarget.openInPlace` to judge; a directory overlapping an
    /// input is refused first.
    static func markLegacyRun(_ directory: String, holding checkpoint: String) throws {
        try InputFiles.refuseOverlap(directory)
        let marker = directory + "/" + OutputTarget.markerFile
        let holder = URL(fileURLWithPath: checkpoint).deletingLastPathComponent().path
        guard !FileManager.default.fileExists(atPath: marker), InputFiles.canonical(holder) == InputFiles.canonical(directory),
              let entries = try? FileManager.default.contentsOfDirectory(atPath: directory), entries.contains("train.jsonl") else { return }
        let checkpointMarker = OutputTarget.marker(.checkpoint)
        let onlyRunFiles = entries.allSatisfy { entry in
            entry == "train.jsonl" || (entry.hasPrefix("step-") && entry.dropFirst(5).allSatisfy(\.isNumber)
                && (try? String(contentsOfFile: directory + "/" + entry + "/" + OutputTarget.markerFile, encoding: .utf8)) == checkpointMarker)
        }
        guard onlyRunFiles else { return }
        try? OutputTarget.marker(.trainingRun).write(toFile: marker, atomically: true, encoding: .utf8)
    }

    /// Checkpoint directory for a step.
    public func checkpointPath(step: Int) -> String { output + "/" + String(format: "step-%06d", step) }

    /// Trains to `options.steps`, calling `progress` after each step; returns the last checkpoint.
    public func run(progress: (StepReport) -> Void) throws -> String {
        let flopsPerToken = trainer.model.trainingFLOPsPerToken
        var last = checkpointPath(step: trainer.step)
        while trainer.step < trainer.options.steps {
            let r = trainer.trainStep()
            let line = String(format: "{\"step\":%d,\"loss\":%.6f,\"lr\":%.6g,\"grad_norm\":%.6g,\"targets\":%d,\"tokens\":%d,\"seconds\":%.4f,\"tokens_per_second\":%.1f,\"gflops\":%.2f}\n",
                              r.step, r.loss, r.learningRate, r.gradientNorm, r.targets, r.tokens, r.seconds,
                              Double(r.tokens) / r.seconds, flopsPerToken * Double(r.tokens) / r.seconds / 1e9)
            log.write(Data(line.utf8))
            progress(r)
            if r.step == trainer.options.steps || (saveEvery > 0 && r.step % saveEvery == 0) {
                last = checkpointPath(step: r.step)
                try trainer.saveCheckpoint(to: last)
            }
        }
        return last
    }
}
