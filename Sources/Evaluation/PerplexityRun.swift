import Foundation
import LongMixCore

/// One model row of a perplexity evaluation: a checkpoint and the RoPE factor to run it with.
public struct PerplexityModel: Sendable {
    public var name: String
    public var checkpoint: String
    /// Replaces the checkpoint's linear Position Interpolation factor when set.
    public var ropeFactor: Double?

    /// Parses `DIR` or `DIR@FACTOR` (the rope factor to evaluate with), named after the directory.
    public init(argument: String) throws {
        if let at = argument.lastIndex(of: "@") {
            let factor = String(argument[argument.index(after: at)...])
            guard let value = Double(factor), value.isFinite, value >= 1 else {
                throw EvaluationError("checkpoint '\(argument)': the rope factor after @ must be a number >= 1")
            }
            checkpoint = String(argument[..<at])
            ropeFactor = value
        } else {
            checkpoint = argument
        }
        let base = URL(fileURLWithPath: checkpoint).standardizedFileURL
        // A trainer's step directory is named after its run: runs/base/step-000400 -> base/step-000400.
        let last = base.lastPathComponent
        name = (last.hasPrefix("step-") ? base.deletingLastPathComponent().lastPathComponent + "/" + last : last)
            + (ropeFactor.map { "@" + String(format: "%g", $0) } ?? "")
    }
}

/// Runs every model at every context over one corpus and tabulates perplexity per byte.
///
/// `progress` counts each cell's scored tokens as a stage of its own (`model at context`, out of
/// the corpus's tokens after each stream's first); `cellScored` then receives the cell's line:
/// its perplexity, scored tokens and the seconds spent scoring them (model allocation and weight
/// loading excluded).
public enum PerplexityRun {
    public static func evaluate(corpus: PerplexityCorpus, models: [PerplexityModel], contexts: [Int], stride: Int?,
                                threads: Int, progress: ProgressMeter? = nil,
                                cellScored: ((String) -> Void)? = nil) throws -> PerplexityTable {
        guard !contexts.isEmpty, !models.isEmpty else { throw EvaluationError("need at least one checkpoint and one context") }
        guard corpus.documents > 0 else { throw EvaluationError("no document to score (\(corpus.documentsRead) read, \(corpus.documentsTooShort) too short)") }
        var table = PerplexityTable(contexts: contexts, stride: stride, documents: corpus.documents)
        for model in models {
            var cells: [PerplexityTable.Cell] = []
            var trainedContext: Int?
            var factor = 1.0
            for context in contexts {
                var scorer = try CheckpointScorer(checkpoint: model.checkpoint, context: context, ropeFactor: model.ropeFactor, threads: threads)
                let started = Date()  // scoring only: the model's allocation and weight loading are not timed
                trainedContext = scorer.trainedContext
                factor = scorer.ropeFactor
                var result = PerplexityPerByte()
                progress?.stage("\(model.name) at \(context)", total: corpus.tokens - corpus.documents)
                for (stream, bytes) in zip(corpus.streams, corpus.bytes) {
                    let before = result.tokens
                    try PerplexityEvaluation.score(stream: stream, textBytes: bytes, context: context, stride: stride,
                                                   scorer: &scorer, into: &result)
                    progress?.add(result.tokens - before)
                }
                progress?.finish()
                cells.append(.init(context: context, result: result, extrapolated: scorer.extrapolates))
                let seconds = Date().timeIntervalSince(started)
                cellScored?(String(format: "%@ at %d: perplexity per byte %.4f (%d tokens, %.1f s, %.0f tokens/s)", model.name, context,
                                 result.perplexityPerByte, result.tokens, seconds, Double(result.tokens) / max(seconds, 1e-9)))
            }
            table.rows.append(.init(name: model.name, checkpoint: model.checkpoint, trainedContext: trainedContext,
                                    ropeFactor: factor, cells: cells))
        }
        return table
    }
}
