import Foundation
import Model
import Testing
import TestSupport
import Tokenization
@testable import Evaluation

/// Generation with the key/value cache, against the training forward recomputed over the prefix.
@Suite struct CompletionGeneratorTests {
    static let tokenizer = try! Tokenizer.load(path: TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model").path)

    /// A tiny fixture-vocabulary model saved as a checkpoint; `edit` may change its parameters.
    static func checkpoint(_ edit: (LlamaModel) -> Void = { _ in }) throws -> String {
        let config = try ModelConfig.load(path: TestEnvironment.repoRoot.appendingPathComponent("Models/tiny-fixture.json").path)
        let model = LlamaModel(config: config, batch: 1, length: 4)
        model.initializeParameters(seed: 5)
        for i in 0..<model.layout.count { model.parameters[i] *= 5 }
        edit(model)
        let directory = try TestEnvironment.temporaryDirectory("gen").appendingPathComponent("model").path
        try Checkpoint.save(model: model, to: directory)
        return directory
    }

    @Test func greedyIdsAreTheArgmaxOfTheRecomputedPrefix() throws {
        let path = try Self.checkpoint()
        let generator = try CompletionGenerator(checkpoint: path, tokenizer: Self.tokenizer, context: 128, threads: 1)
        var options = SamplingOptions()
        options.maxTokens = 12
        options.stopAtNewline = false
        let prompt = Self.tokenizer.encode(Array("The river runs".utf8), addBOS: true)
        let completion = try generator.generate(prompt: prompt, options: options)
        #expect(completion.ids.count == 12 && completion.stop == .maxTokens)

        let config = try Checkpoint.loadConfig(path)
        var prefix = prompt
        for expected in completion.ids {
            let model = LlamaModel(config: config, batch: 1, length: prefix.count)
            try Checkpoint.loadWeights(path, into: model)
            for (i, id) in prefix.enumerated() { model.inputs.tokens[i] = Int32(id); model.inputs.targets[i] = -1 }
            _ = model.forward(gradients: false)
            let logits = UnsafeMutablePointer<Float>.allocate(capacity: config.vocabSize)
            defer { logits.deallocate() }
            model.logits(rows: prefix.count - 1, prefix.count, into: logits)
            var best = 0
            for j in 1..<Self.tokenizer.vocabularySize where logits[j] > logits[best] { best = j }
            #expect(UInt32(best) == expected)
            prefix.append(expected)
        }
    }

    @Test func samplingIsDeterministicForASeedAndTinyTopPIsGreedy() throws {
        let generator = try CompletionGenerator(checkpoint: try Self.checkpoint(), tokenizer: Self.tokenizer, context: 64, threads: 1)
        let prompt = Self.tokenizer.encode(Array("A".utf8), addBOS: true)
        var options = SamplingOptions()
        options.maxTokens = 10
        options.stopAtNewline = false
        let greedy = try generator.generate(prompt: prompt, options: options)
        options.temperature = 1
        options.seed = 42
        let first = try generator.generate(prompt: prompt, options: options)
        #expect(try generator.generate(prompt: prompt, options: options) == first)
        let draws = try (0..<8).map { seed -> [UInt32] in
            options.seed = UInt64(seed)
            return try generator.generate(prompt: prompt, options: options).ids
        }
        #expect(Set(draws).count > 1, "temperature 1 should not always draw the same completion")
        options.topP = 1e-9
        #expect(try generator.generate(prompt: prompt, options: options).ids == greedy.ids)
    }

    /// A model that always predicts one id: every token embeds to the same vector, the layers add
    /// nothing, and only that id's LM-head row is non-zero.
    static func constantPredictor(_ id: Int) throws -> String {
        try checkpoint { model in
            let c = model.config.hiddenSize
            for t in model.layout.tensors {
                let p = model.parameters + t.offset
                switch t.name {
                case "model.embed_tokens.weight": for i in 0..<t.count { p[i] = Float(i % c) / Float(c) + 0.5 }
                case "lm_head.weight":
                    p.update(repeating: 0, count: t.count)
                    for j in 0..<c { p[id * c + j] = Float(j) / Float(c) + 0.5 }
                default: if t.isMatrix { p.update(repeating: 0, count: t.count) } else { p.update(repeating: 1, count: t.count) }
                }
            }
        }
    }

    @Test func stopsAtNewlineAndAtEOS() throws {
        let newline = Self.tokenizer.encode(Array("\n".utf8)).last!
        let prompt = Self.tokenizer.encode(Array("Q: where? A:".utf8), addBOS: true)
        var options = SamplingOptions()
        options.maxTokens = 5
        let atNewline = try CompletionGenerator(checkpoint: try Self.constantPredictor(Int(newline)), tokenizer: Self.tokenizer,
                                                context: 64, threads: 1).generate(prompt: prompt, options: options)
        #expect(atNewline.stop == .newline && atNewline.text == "")
        let eos = Int(Self.tokenizer.eosID!)
        let atEOS = try CompletionGenerator(checkpoint: try Self.constantPredictor(eos), tokenizer: Self.tokenizer,
                                            context: 64, threads: 1).generate(prompt: prompt, options: options)
        #expect(atEOS.stop == .eos && atEOS.ids.isEmpty)
    }

    @Test func longPromptsKeepTheirLastTokensAndSaySo() throws {
        let generator = try CompletionGenerator(checkpoint: try Self.checkpoint(), tokenizer: Self.tokenizer, context: 32, threads: 1)
        var options = SamplingOptions()
        options.maxTokens = 4
        options.stopAtNewline = false
        let prompt = (0..<50).map { UInt32(100 + $0) }
        let completion = try generator.generate(prompt: prompt, options: options)
        #expect(completion.promptTokensCut == 50 - 28 && completion.ids.count == 4)
    }

    @Test func taskEvaluationGroupsByDocumentsAndCountsEveryExample() throws {
        // Task records as `longmix tasks mqa` writes them; the constant model answers "" (newline).
        let file = try TestEnvironment.temporaryDirectory("tasks").appendingPathComponent("mqa.jsonl")
        let lines = [(3, "Paris"), (3, "Rome"), (5, "Oslo"), (3, ""), (5, "x")].enumerated().map { i, r in
            #"{"id":"q\#(i)","prompt":"Question \#(i)?\nAnswer:","completion":" \#(r.1)","answers":["\#(r.1)"],"num_documents":\#(r.0)}"#
        }
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        let newline = Self.tokenizer.encode(Array("\n".utf8)).last!
        let generator = try CompletionGenerator(checkpoint: try Self.constantPredictor(Int(newline)), tokenizer: Self.tokenizer,
                                                context: 64, threads: 1)
        var predictions: [TaskEvaluation.Prediction] = []
        var options = TaskEvaluation.Options(tasks: file.path, referenceField: "answers", metrics: [.exactMatch])
        options.sampling.maxTokens = 8
        let summary = try TaskEvaluation.run(options, generator: generator) { predictions.append($0) }
        #expect(summary.examples == 5 && predictions.count == 5)
        #expect(summary.groups.map(\.documents) == [3, 5] && summary.groups.map(\.examples) == [3, 2])
        // The empty answer matches only the empty reference: one of the three 3-document examples.
        #expect(abs(summary.groups[0].means[0] - 1.0 / 3) < 1e-12 && summary.groups[1].means[0] == 0)
    }
}
