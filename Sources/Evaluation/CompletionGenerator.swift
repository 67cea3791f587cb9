import LongMixCore
import Foundation
import Model
import Tokenization

/// How a completion is drawn and when it stops.
public struct SamplingOptions: Sendable {
    /// 0 draws greedily (argmax); otherwise logits are divided by it before the softmax.
    public var temperature: Double = 0
    /// Nucleus sampling: draw from the smallest set of ids whose probability reaches this.
    public var topP: Double = 1
    public var seed: UInt64 = 0
    public var maxTokens: Int = 64
    /// Stop before the first newline of the decoded completion (the answer's first line).
    public var stopAtNewline = true

    public init() {}

    public func validate() throws {
        guard temperature.isFinite, temperature >= 0 else { throw EvaluationError("temperature \(temperature) must be >= 0") }
        guard topP.isFinite, topP > 0, topP <= 1 else { throw EvaluationError("top-p \(topP) must be in (0, 1]") }
        guard maxTokens >= 1 else { throw EvaluationError("max tokens \(maxTokens) must be at least 1") }
    }
}

/// A generated completion and why it ended.
public struct Completion: Sendable, Equatable {
    public enum Stop: String, Sendable { case eos, newline, maxTokens = "max-tokens" }
    public var ids: [UInt32]
    /// The decoded completion, cut before the newline when it stopped there.
    public var text: String
    public var stop: Stop
    /// Prompt tokens left out at the front so that prompt and completion fit the context.
    public var promptTokensCut: Int
}

/// Generates completions with the reference model's key/value cache.
///
/// Contract: the prompt is fed once (chunked prefill), then one token per step; greedy decoding
/// takes the lowest id among equal maxima; sampling is deterministic for a seed. A prompt longer
/// than `context - maxTokens` keeps its last tokens (the cut is reported in `promptTokensCut`).
public final class CompletionGenerator {
    public let decoder: CachedDecoder
    public let tokenizer: Tokenizer
    private var probabilities: [Double]
    private var order: [Int]

    public init(checkpoint: String, tokenizer: Tokenizer, context: Int, ropeFactor: Double? = nil) throws {
        var config = try Checkpoint.loadConfig(checkpoint)
        if let ropeFactor { config.ropeFactor = ropeFactor }
        guard tokenizer.vocabularySize <= config.vocabSize else {
            throw EvaluationError("\(tokenizer.path) has \(tokenizer.vocabularySize) ids, the model \(checkpoint) only \(config.vocabSize)")
        }
        decoder = CachedDecoder(config: config, capacity: context)
        try decoder.loadWeights(checkpoint)
        self.tokenizer = tokenizer
        probabilities = Array(repeating: 0, count: config.vocabSize)
        order = Array(0..<config.vocabSize)
    }

    public func generate(prompt: [UInt32], options: SamplingOptions) throws -> Completion {
        try options.validate()
        guard options.maxTokens < decoder.capacity else {
            throw EvaluationError("max tokens \(options.maxTokens) leave no room for a prompt in a \(decoder.capacity)-token context")
        }
        let room = decoder.capacity - options.maxTokens
        let cut = max(0, prompt.count - room)
        guard prompt.count > cut else { throw EvaluationError("empty prompt") }
        decoder.reset()
        var rng = SplitMix64(seed: options.seed)
        var logits = try decoder.append(prompt[cut...].map { Int32($0) })
        var ids: [UInt32] = []
        while true {
            let next = draw(logits, options: options, rng: &rng)
            if next == tokenizer.eosID { return try finish(ids, stop: .eos, cut: cut) }
            ids.append(next)
            if options.stopAtNewline {
                let text = try tokenizer.decode(ids)
                if text.contains(0x0A) { return try finish(ids, stop: .newline, cut: cut) }
            }
            if ids.count == options.maxTokens { return try finish(ids, stop: .maxTokens, cut: cut) }
            logits = try decoder.append([Int32(next)])
        }
    }

    private func finish(_ ids: [UInt32], stop: Completion.Stop, cut: Int) throws -> Completion {
        var bytes = try tokenizer.decode(ids)
        if stop == .newline, let newline = bytes.firstIndex(of: 0x0A) { bytes.removeSubrange(newline...) }
        return Completion(ids: ids, text: String(decoding: bytes, as: UTF8.self), stop: stop, promptTokensCut: cut)
    }

    /// Greedy argmax, or a draw from the temperature-scaled softmax restricted to the top-p nucleus.
    private func draw(_ logits: UnsafeBufferPointer<Float>, options: SamplingOptions, rng: inout SplitMix64) -> UInt32 {
        let v = tokenizer.vocabularySize // ids past the tokenizer's vocabulary are never drawn
        if options.temperature == 0 {
            var best = 0
            for i in 1..<v where logits[i] > logits[best] { best = i }
            return UInt32(best)
        }
        var maximum = -Double.infinity
        for i in 0..<v { maximum = max(maximum, Double(logits[i])) }
        var sum = 0.0
        for i in 0..<v {
            probabilities[i] = exp((Double(logits[i]) - maximum) / options.temperature)
            sum += probabilities[i]
        }
        for i in 0..<v { order[i] = i }
        order[0..<v].sort { (probabilities[$0], $1) > (probabilities[$1], $0) }
        var kept = 0, mass = 0.0
        while kept < v {
            mass += probabilities[order[kept]] / sum
            kept += 1
            if mass >= options.topP { break }
        }
        var u = rng.uniform() * mass, chosen = order[kept - 1]
        for k in 0..<kept {
            u -= probabilities[order[k]] / sum
            if u < 0 { chosen = order[k]; break }
        }
        return UInt32(chosen)
    }
}
