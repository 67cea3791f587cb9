import ArgumentParser
import Foundation
import Model

extension AttentionMode: ExpressibleByArgument {}

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train the reference LLaMA model on a pack directory (float32, OpenBLAS).",
        discussion: """
        Start from a model config (--model Models/tiny-fixture.json), from a checkpoint's weights \
        (--init CKPT, optionally with --rope-factor F: Position Interpolation to F times the context), \
        or continue a run exactly (--resume OUT/step-NNNNNN). OUT is -o/--output: a new or empty directory, or \
        the run directory holding the --resume checkpoint (any other existing directory is refused). Each pack sequence is cut into windows of \
        --context tokens; the loss counts next-token predictions whose target has loss mask 1. \
        Writes OUT/train.jsonl (one line per step) and checkpoints OUT/step-NNNNNN (safetensors + \
        Hugging Face config.json, optimizer state, data position). Losses are bit-for-bit reproducible \
        for a seed and a --threads count (a different thread count sums in another order). On a \
        terminal a progress bar shows the share of the run's tokens done, tokens/s and ETA with the step, loss, \
        learning rate and achieved GFLOPS; --progress prints it as plain lines every 10 s when standard error \
        is not a terminal, --quiet not at all. Every step is also a line of OUT/train.jsonl.
        """)

    @Option(help: "The pack directory to train on.")
    var pack: String

    @Option(help: "A model config (Hugging Face config.json format), for a fresh model.")
    var model: String?

    @Option(name: .customLong("init"), help: "Start from this checkpoint's weights (fresh optimizer and schedule).")
    var initCheckpoint: String?

    @Option(help: "With --init: the new linear RoPE scaling (Position Interpolation) factor.")
    var ropeFactor: Double?

    @Option(help: "Continue this checkpoint's run: weights, optimizer, data position and options.")
    var resume: String?

    @Option(help: "Total optimizer steps.")
    var steps: Int

    /// -o/--output: the run directory (new, or the one holding the --resume checkpoint).
    @OptionGroup var output: RequiredOutputDirectoryOption
    var out: String { output.output }

    @Option(help: "Windows per micro-batch.")
    var batch = 1

    @Option(help: "Micro-batches per optimizer step (gradient accumulation).")
    var accumulation = 1

    @Option(help: "Tokens per window (default: the model's max_position_embeddings, at most the pack's seq_len).")
    var context: Int?

    @Option(help: "Peak learning rate.")
    var lr = 1e-3

    @Option(help: "Linear warmup steps.")
    var warmup = 0

    @Option(help: "Final learning rate as a fraction of the peak (cosine decay).")
    var minLrRatio = 0.1

    @Option(help: "AdamW weight decay (matrices only).")
    var weightDecay = 0.1

    @Option(help: "Clip the global gradient norm to this (0: no clipping).")
    var clip = 1.0

    @Option(help: "Seed for initialization and data order.")
    var seed: UInt64 = 1234

    @Option(help: "sequence: causal over the whole window; document: within each document (a few-shot header with its examples is one), positions restarting.")
    var attention: AttentionMode = .sequence

    @Flag(help: "Recompute each layer's activations in the backward pass (less memory, ~1/3 more compute).")
    var recompute = false

    @Option(help: "Write a checkpoint every N steps (0: only at the end).")
    var saveEvery = 0

    @OptionGroup var threadOptions: ThreadOptions

    @OptionGroup var progressOptions: ProgressOptions

    @Flag(help: "Time cblas_sgemm (1024^3, the same threads) first and after every step (outside the step's time), to compare with the run's GFLOPS.")
    var measureSgemm = false

    func validate() throws {
        let starts = [model, initCheckpoint, resume].compactMap { $0 }.count
        guard starts == 1 else { throw ValidationError("give exactly one of --model, --init and --resume") }
        if ropeFactor != nil && initCheckpoint == nil { throw ValidationError("--rope-factor goes with --init") }
    }

    func run() throws {
        try loadOpenBLAS(threads: threadOptions.threads)  // once per process, before any model runs
        let threads = threadOptions.threads
        let start: TrainingRun.Start
        var maxPositions: Int
        if let model {
            let config = try ModelConfig.load(path: model)
            start = .fresh(config: config)
            maxPositions = config.maxPositionEmbeddings
        } else if let initCheckpoint {
            let config = try Checkpoint.loadConfig(initCheckpoint)
            start = .initialize(checkpoint: initCheckpoint, ropeFactor: ropeFactor)
            maxPositions = Int(Double(config.maxPositionEmbeddings) * (ropeFactor ?? config.ropeFactor) / config.ropeFactor)
        } else {
            start = .resume(checkpoint: resume!)
            maxPositions = 0
        }
        let seqLen = try packSeqLen(pack)
        let options = TrainingOptions(steps: steps, batchSize: batch, accumulation: accumulation,
                                      context: context ?? min(seqLen, maxPositions), learningRate: lr,
                                      minLearningRateRatio: minLrRatio, warmupSteps: warmup, weightDecay: weightDecay,
                                      gradientClip: clip, seed: seed, attention: attention, recompute: recompute)
        let run = try TrainingRun(pack: pack, start: start, options: options, output: out, saveEvery: saveEvery, threads: threads)
        let t = run.trainer
        let flopsPerToken = t.model.trainingFLOPsPerToken
        printError("train: \(t.model.layout.count) parameters, \(t.options.batchSize)x\(t.options.accumulation) windows of \(t.options.context) tokens per step, attention \(t.options.attention.rawValue), \(threads) threads, steps \(t.step + 1)...\(t.options.steps)")
        if measureSgemm {
            printError(String(format: "sgemm peak: %.1f GFLOPS (1024^3, %d threads)", measureSGEMMPeak(), threads))
        }
        let tokensPerStep = t.options.batchSize * t.options.accumulation * t.options.context
        let meter = progressOptions.meter("train", total: (t.options.steps - run.startStep) * tokensPerStep, unit: .items("tokens"))
        var elapsed = 0.0
        var first: Double?, lastLoss = 0.0
        let final = try run.run { r in
            elapsed += r.seconds
            if first == nil { first = r.loss }
            lastLoss = r.loss
            meter?.add(r.tokens, note: String(format: "step %d/%d  loss %.4f  lr %.2e  %.1f GFLOPS", r.step, t.options.steps,
                                              r.loss, r.learningRate, flopsPerToken * Double(r.tokens) / r.seconds / 1e9))
            if measureSgemm {
                printError(String(format: "sgemm peak after step %d: %.1f GFLOPS", r.step, measureSGEMMPeak(repeats: 3)))
            }
        }
        meter?.finish()
        var usage = rusage()
        #if os(Linux)
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peakMB = Double(usage.ru_maxrss) / 1024   // kilobytes on Linux
        #else
        getrusage(RUSAGE_SELF, &usage)
        let peakMB = Double(usage.ru_maxrss) / 1_048_576   // bytes on macOS
        #endif
        print(String(format: "trained steps %d..%d: loss %.4f -> %.4f in %.1f s; peak RSS %.0f MB; checkpoint %@",
                     run.startStep + 1, t.options.steps, first ?? 0, lastLoss, elapsed, peakMB, final))
    }
}

/// A pack's seq_len from its manifest (for the default context).
func packSeqLen(_ pack: String) throws -> Int {
    let url = URL(fileURLWithPath: pack).appendingPathComponent("manifest.json")
    guard let data = try? Data(contentsOf: url), let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let seqLen = object["seqLen"] as? Int else {
        throw ValidationError("\(url.path): missing or without seqLen; not a pack directory")
    }
    return seqLen
}

func printError(_ message: String) {
    FileHandleOutput.write(message + "\n", fd: 2)
}
