import ArgumentParser
import Foundation
import Model
import ShardIO

struct LossCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loss",
        abstract: "Mean masked next-token loss of a checkpoint on pack sequences, as JSON.",
        discussion: """
        Each sequence is cut into windows of --context tokens (windows without any target are left out) (default: the pack's seq_len, at most the \
        model's max_position_embeddings); within a window, row t predicts token t + 1 and counts where \
        that token's loss mask is 1 — the labels a Hugging Face model gets with -100 on masked tokens, \
        so the figure compares directly with another implementation's.
        """)

    @Option(help: "Checkpoint directory (model.safetensors + config.json; F32, F16 or BF16).")
    var checkpoint: String

    @Option(help: "The pack directory.")
    var pack: String

    @Option(help: "Sequences A:B (A inclusive, B exclusive; default all).")
    var sequences: String?

    @Option(help: "Tokens per window.")
    var context: Int?

    @Option(help: "sequence: causal over the window; document: within each document (a few-shot header with its examples is one), positions restarting.")
    var attention: AttentionMode = .sequence

    @Option(help: "Windows evaluated together.")
    var batch = 1

    @OptionGroup var threadOptions: ThreadOptions

    @Option(help: "Also write the gradient of the mean loss for every parameter (HF names) to this new safetensors file.")
    var gradients: String?

    @Option(help: "Also write the logits [context, vocab] of the first window to this new safetensors file.")
    var logits: String?

    @OptionGroup var force: ForceOption

    func run() throws {
        try loadOpenBLAS(threads: threadOptions.threads)  // once per process, before any model runs
        var range: Range<Int>?
        if let sequences {
            let parts = sequences.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let a = Int(parts[0]), let b = Int(parts[1]), a < b else {
                throw ValidationError("--sequences '\(sequences)': expected A:B with A < B")
            }
            range = a..<b
        }
        // The files are written after the model ran: refuse their paths now.
        InputFiles.register([checkpoint, pack])
        for path in [gradients, logits].compactMap({ $0 }) { try OutputTarget.checkFile(path, existing: force.existing) }
        let config = try Checkpoint.loadConfig(checkpoint)
        let seqLen = try packSeqLen(pack)
        let length = context ?? min(seqLen, config.maxPositionEmbeddings)
        let data = try PackBatches(directory: pack, context: length, sequences: range, seed: 0)
        guard data.vocabularySize <= config.vocabSize else {
            throw ValidationError("\(pack): the pack's tokenizer has \(data.vocabularySize) ids, the model only \(config.vocabSize)")
        }
        let model = LlamaModel(config: config, batch: batch, length: length, attention: attention, threads: threadOptions.threads)
        try Checkpoint.loadWeights(checkpoint, into: model)
        let result: (loss: Double, targets: Int, windows: Int)
        if let gradients {
            let g = lossGradients(model: model, data: data, mode: attention)
            result = (g.loss, g.targets, data.sampleCount)
            try SafeTensors.write(path: gradients, existing: force.existing, tensors: model.layout.tensors.map {
                ($0.name, $0.shape, UnsafePointer(model.gradients + $0.offset))
            })
        } else {
            result = evaluateLoss(model: model, data: data, mode: attention)
        }
        if let logits {
            data.fill(model.inputs, row: 0, sample: 0, mode: attention)
            _ = model.forward(gradients: false)
            let values = UnsafeMutablePointer<Float>.allocate(capacity: length * config.vocabSize)
            defer { values.deallocate() }
            model.logits(rows: 0, length, into: values)
            try SafeTensors.write(path: logits, existing: force.existing, tensors: [("logits", [length, config.vocabSize], UnsafePointer(values))])
        }
        let object: [String: Any] = [
            "checkpoint": checkpoint, "pack": pack, "sequences": [data.sequences.lowerBound, data.sequences.upperBound],
            "context": length, "attention": attention.rawValue, "windows": result.windows,
            "windows_without_targets": data.windowsWithoutTargets, "targets": result.targets,
            "loss": result.loss, "perplexity": exp(result.loss),
        ]
        let json = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        print(String(decoding: json, as: UTF8.self))
    }
}
