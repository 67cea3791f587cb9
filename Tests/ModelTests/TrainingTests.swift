import Foundation
import Mixing
import Packing
import Pipeline
import ShardIO
import Testing
import TestSupport
@testable import Model

/// The fixture mixtures built once per test process, as demo.sh builds them.
final class ModelFixturePacks: @unchecked Sendable {
    static let shared = ModelFixturePacks()
    private let root = try! TestEnvironment.temporaryDirectory("model-packs")
    private var built: [String: String] = [:]
    private let lock = NSLock()

    func pack(_ name: String) throws -> String {
        try build(name, spec: TestEnvironment.repoRoot.appendingPathComponent("Mixtures/fixtures/\(name).yaml").path)
    }

    /// A mixture given as YAML text (absolute paths inside), built once under `name`.
    func pack(yaml: String, name: String) throws -> String {
        let path = root.appendingPathComponent("\(name).yaml")
        try Data(yaml.utf8).write(to: path)
        return try build(name, spec: path.path)
    }

    private func build(_ name: String, spec path: String) throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let dir = built[name] { return dir }
        let spec = try MixtureSpec.load(path: path)
        let dir = root.appendingPathComponent(name).path
        _ = try MixtureBuild(spec: spec, options: .init(threads: 2, output: dir)).run()
        built[name] = dir
        return dir
    }
}

@Suite(.serialized) struct TrainingTests {
    static var tinyConfig: ModelConfig {
        get throws { try ModelConfig.load(path: TestEnvironment.repoRoot.appendingPathComponent("Models/tiny-fixture.json").path) }
    }

    @Test func shippedModelConfigsHaveTheAdvertisedSizes() throws {
        let expected = ["tiny-fixture": (2000, 1_000_000), "small-fixture": (2000, 15_000_000),
                        "tiny-llama2": (32000, 1_000_000), "small-llama2": (32000, 15_000_000)]
        for (name, (vocab, size)) in expected {
            let config = try ModelConfig.load(path: TestEnvironment.repoRoot.appendingPathComponent("Models/\(name).json").path)
            let count = ParameterLayout(config).count
            #expect(config.vocabSize == vocab)
            #expect(abs(Double(count) / Double(size) - 1) < 0.15, "\(name): \(count) parameters")
        }
    }

    @Test func configErrorsNameTheKey() throws {
        #expect(throws: Error.self) { try ModelConfig(json: ["vocab_size": 10], file: "x.json") }
        do {
            _ = try ModelConfig(json: ["vocab_size": 10, "hidden_size": 12, "intermediate_size": 8, "num_hidden_layers": 1,
                                       "num_attention_heads": 5], file: "x.json")
            Issue.record("a head count that does not divide hidden_size was accepted")
        } catch {
            #expect("\(error)".contains("x.json") && "\(error)".contains("num_attention_heads"))
        }
        let scaled = try ModelConfig(json: ["vocab_size": 10, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1,
                                            "num_attention_heads": 2, "rope_scaling": ["type": "linear", "factor": 4.0]])
        #expect(scaled.ropeFactor == 4)
        #expect(throws: Error.self) {
            try ModelConfig(json: ["vocab_size": 10, "hidden_size": 8, "intermediate_size": 8, "num_hidden_layers": 1,
                                   "num_attention_heads": 2, "rope_scaling": ["type": "dynamic", "factor": 4.0]])
        }
    }

    /// Windows read from the pack agree with PackReader's arrays: tokens, targets where the next
    /// token's loss mask is 1, and in document mode positions restarting at each document (a
    /// few-shot group's header and examples are one; see `documentModeFollowsFewShotGroups`).
    @Test func packWindowsFollowTheLossMaskAndSegments() throws {
        let dir = try ModelFixturePacks.shared.pack("instruct-32k")
        let reader = try PackReader(directory: dir)
        let context = 4096
        let data = try PackBatches(directory: dir, context: context, seed: 3)
        let windows = reader.count * (reader.manifest.seqLen / context)
        #expect(data.windowsWithoutTargets > 0)  // the instruction pack pads; padding-only windows are left out
        #expect(data.sampleCount + data.windowsWithoutTargets == windows)
        #expect((0..<data.sampleCount).allSatisfy { data.targetCount(data.sample($0)) > 0 })
        let model = LlamaModel(config: try Self.tinyConfig, batch: 1, length: context)
        var sawMasked = false, sawRestart = false
        for sample in [0, 1, 9, windows - 1] {
            data.fill(model.inputs, row: 0, sample: sample, mode: .document)
            let s = sample / data.windowsPerSequence, offset = (sample % data.windowsPerSequence) * context
            let tokens = reader.tokens(of: s), mask = reader.lossMask(of: s)
            let starts = Self.expectedDocumentStarts(reader, sequence: s)
            var targets = 0, wrong = 0
            for t in 0..<context {
                #expect(model.inputs.tokens[t] == Int32(tokens[offset + t]))
                let want: Int32 = t + 1 < context && mask[offset + t + 1] == 1 ? Int32(tokens[offset + t + 1]) : -1
                #expect(model.inputs.targets[t] == want)
                if want >= 0 { targets += 1 } else if t + 1 < context { sawMasked = true }
                let start = max(starts[offset + t], offset) - offset
                if model.inputs.positions[t] != Int32(t - start) || model.inputs.documentStart[t] != Int32(start) { wrong += 1 }
                if t > 0 && start == t { sawRestart = true }
            }
            #expect(wrong == 0, "sample \(sample): \(wrong) rows with another document start")
            #expect(data.targetCount(sample) == targets)
        }
        #expect(sawMasked && sawRestart)
        // Sequence mode: positions run 0 ..< context across documents.
        data.fill(model.inputs, row: 0, sample: 0, mode: .sequence)
        #expect((0..<context).allSatisfy { model.inputs.positions[$0] == Int32($0) })
    }

    /// Where each token's document starts (in sequence coordinates), from PackReader's segments,
    /// stated header-first: in a few-shot source, a header and every example after it up to the
    /// next header or padding are one document (the example's group must be the header's);
    /// elsewhere each segment is its own.
    static func expectedDocumentStarts(_ reader: PackReader, sequence s: Int) -> [Int] {
        var starts = [Int](repeating: -1, count: reader.manifest.seqLen)
        var header: Segment?
        for segment in reader.segments(of: s) {
            let fewShot = reader.manifest.sources[Int(segment.source)].packing == "few-shot"
            var start = Int(segment.start)
            switch segment.kind {
            case .header: header = segment
            case .padding: header = nil
            case .document:
                if fewShot, let h = header {
                    #expect(h.group == segment.group, "sequence \(s): example of group \(segment.group) under header \(h.group)")
                    start = Int(h.start)
                }
            }
            for t in Int(segment.start)..<Int(segment.start + segment.length) { starts[t] = start }
        }
        return starts
    }

    /// The natural-instructions fixture packed twice: few-shot, and best-fit with the same
    /// `group_field` (segments that carry a group but are one document each).
    static func fewShotGroupsPack() throws -> String {
        let root = TestEnvironment.repoRoot.path
        let yaml = """
            name: few-shot-groups
            seed: 7
            seq_len: 4096
            min_doc_tokens: 0
            tokenizer: \(root)/Fixtures/tokenizer/fixture-bpe.model
            data_root: \(root)/Fixtures
            budget: smallest-source
            special_tokens: {bos: true, eos: true}
            loss: completion-only
            sources:
              - name: ni_few_shot
                paths: [natural_instructions]
                packing: few-shot
                group_field: meta.task_name
                header: "{definition}\\n\\n"
                template: "Input: {inputs}\\nOutput:"
                completion: " {targets}\\n\\n"
              - name: ni_best_fit
                paths: [natural_instructions]
                packing: best-fit
                group_field: meta.task_name
                template: "Input: {inputs}\\nOutput:"
                completion: " {targets}\\n\\n"
            """
        return try ModelFixturePacks.shared.pack(yaml: yaml, name: "few-shot-groups")
    }

    /// README's numpy `few_shot_spans` (run by the oracle) gives the trainer's documents: on every
    /// sequence of the few-shot-groups pack, each row's document start in document mode is the
    /// start of the numpy span holding it — also on best-fit sequences whose adjacent segments
    /// share a group, which stay one span each.
    @Test(.needsPython) func numpyFewShotSpansAreTheTrainersDocuments() throws {
        let dir = try Self.fewShotGroupsPack()
        let reader = try PackReader(directory: dir)
        let out = try JSONValue.parse([UInt8](try Oracle.run("pack_numpy_loader.py", arguments: [dir])))
        guard case .array(let spans)? = out["few_shot_spans"] else { Issue.record("the oracle printed no few_shot_spans"); return }
        #expect(spans.count == reader.count)
        let context = reader.manifest.seqLen
        let data = try PackBatches(directory: dir, context: context, seed: 1)
        let model = LlamaModel(config: try Self.tinyConfig, batch: 1, length: context)
        var wrong = 0, joined = 0, sameGroupNeighbours = 0
        for (s, span) in spans.enumerated() {
            guard case .array(let bounds) = span else { Issue.record("sequence \(s): not a list"); continue }
            let cu = bounds.compactMap { $0.intValue }
            #expect(cu.count == bounds.count && cu.first == 0 && cu.last == context, "sequence \(s)")
            data.fill(model.inputs, row: 0, sample: s, mode: .document)
            for (a, b) in zip(cu, cu.dropFirst()) {
                for t in a..<b where model.inputs.documentStart[t] != Int32(a) { wrong += 1 }
            }
            let segments = reader.segments(of: s)
            joined += segments.count + 1 - cu.count
            if reader.manifest.sources[Int(segments[0].source)].packing != "few-shot" {
                sameGroupNeighbours += zip(segments, segments.dropFirst()).filter { $0.group >= 0 && $0.group == $1.group }.count
            }
        }
        #expect(wrong == 0, "\(wrong) rows whose trainer document start is not their numpy span's")
        #expect(joined > 100, "few-shot examples joined to their header's span: \(joined)")
        #expect(sameGroupNeighbours > 10, "best-fit neighbours of one group (kept apart): \(sameGroupNeighbours)")
    }

    /// Document mode on a few-shot pack: a group's header and the examples it heads are one
    /// document (positions run on from the header across the examples; a window starting inside
    /// the group starts its document at the window), while the same examples packed best-fit,
    /// whose segments also carry a group (group_field), are one document each — also where two
    /// of the same group are adjacent.
    @Test func documentModeFollowsFewShotGroups() throws {
        let dir = try Self.fewShotGroupsPack()
        let reader = try PackReader(directory: dir)
        let context = 1024
        let data = try PackBatches(directory: dir, context: context, seed: 1)
        let model = LlamaModel(config: try Self.tinyConfig, batch: 1, length: context)
        var wrong = 0, joinedRows = 0, windowOpenedGroups = 0, adjacentSameGroup = 0, adjacentSameGroupRestarts = 0
        for s in 0..<reader.count {
            let segments = reader.segments(of: s), starts = Self.expectedDocumentStarts(reader, sequence: s)
            let fewShot = reader.manifest.sources[Int(segments[0].source)].packing == "few-shot"
            var segmentOf = [Segment](repeating: segments[0], count: reader.manifest.seqLen)
            for segment in segments { for t in Int(segment.start)..<Int(segment.start + segment.length) { segmentOf[t] = segment } }
            for w in 0..<data.windowsPerSequence {
                data.fill(model.inputs, row: 0, sample: s * data.windowsPerSequence + w, mode: .document)
                let offset = w * context
                for t in 0..<context {
                    let start = max(starts[offset + t], offset) - offset
                    if model.inputs.documentStart[t] != Int32(start) || model.inputs.positions[t] != Int32(t - start) { wrong += 1 }
                    let segment = segmentOf[offset + t]
                    if fewShot && segment.kind == .document && start < max(Int(segment.start), offset) - offset { joinedRows += 1 }
                }
                // A group that began before the window: its next example inside the window continues
                // the document opened at the window's first row.
                if fewShot && w > 0 && starts[offset] < offset,
                   let next = segments.first(where: { Int($0.start) > offset && Int($0.start) < offset + context }),
                   next.kind == .document, starts[Int(next.start)] == starts[offset] {
                    windowOpenedGroups += 1
                    if model.inputs.documentStart[Int(next.start) - offset] != 0 { wrong += 1 }
                }
            }
            if !fewShot {
                for (a, b) in zip(segments, segments.dropFirst())
                where b.kind == .document && a.group >= 0 && a.group == b.group && Int(b.start) % context != 0 {
                    let t = Int(b.start)
                    data.fill(model.inputs, row: 0, sample: s * data.windowsPerSequence + t / context, mode: .document)
                    adjacentSameGroup += 1
                    if model.inputs.positions[t % context] == 0 && model.inputs.positions[t % context - 1] > 0 { adjacentSameGroupRestarts += 1 }
                }
            }
        }
        #expect(wrong == 0, "\(wrong) rows with another document start")
        #expect(joinedRows > 10_000, "few-shot example rows whose document opens at their header: \(joinedRows)")
        #expect(windowOpenedGroups > 0, "no window starts inside a few-shot group")
        #expect(adjacentSameGroup > 10 && adjacentSameGroupRestarts == adjacentSameGroup,
                "best-fit documents after one of their group: \(adjacentSameGroup), restarting: \(adjacentSameGroupRestarts)")
    }

    func options(steps: Int, attention: AttentionMode = .sequence) -> TrainingOptions {
        TrainingOptions(steps: steps, batchSize: 2, accumulation: 2, context: 64, learningRate: 3e-3, warmupSteps: 2,
                        seed: 7, attention: attention)
    }

    func trainer(_ options: TrainingOptions, pack: String) throws -> Trainer {
        let data = try PackBatches(directory: pack, context: options.context, seed: options.seed)
        let model = LlamaModel(config: try Self.tinyConfig, batch: options.batchSize, length: options.context,
                               attention: options.attention, threads: 2)
        model.initializeParameters(seed: options.seed)
        return try Trainer(model: model, data: data, options: options)
    }

    @Test func lossFallsOnTheFixturePack() throws {
        let pack = try ModelFixturePacks.shared.pack("pretrain-32k")
        let t = try trainer(options(steps: 30), pack: pack)
        let losses = (0..<30).map { _ in t.trainStep().loss }
        let first = losses[0], last = losses.suffix(5).reduce(0, +) / 5
        #expect(abs(first - log(2000)) < 0.3, "initial loss \(first) should be near ln(vocab)")
        #expect(last < first - 1.0, "loss \(first) -> \(last)")
    }

    /// A run stopped at a checkpoint and resumed gives bit-identical losses and weights.
    @Test(arguments: [AttentionMode.sequence, .document])
    func resumeGivesBitIdenticalLosses(attention: AttentionMode) throws {
        let pack = try ModelFixturePacks.shared.pack("instruct-32k")
        let dir = try TestEnvironment.temporaryDirectory("resume")
        defer { try? FileManager.default.removeItem(at: dir) }
        let checkpoint = dir.appendingPathComponent("step-2").path
        let whole = try trainer(options(steps: 5, attention: attention), pack: pack)
        var expected: [Double] = []
        for step in 1...5 {
            expected.append(whole.trainStep().loss)
            if step == 2 { try whole.saveCheckpoint(to: checkpoint) }
        }
        #expect(throws: Error.self) { try whole.saveCheckpoint(to: checkpoint) }  // never overwrites

        let resumed = try trainer(options(steps: 5, attention: attention), pack: pack)
        try Checkpoint.loadWeights(checkpoint, into: resumed.model)
        try resumed.restore(from: checkpoint)
        #expect(resumed.step == 2)
        let rest = (3...5).map { _ in resumed.trainStep().loss }
        #expect(rest == Array(expected[2...]))
        #expect(memcmp(resumed.model.parameters, whole.model.parameters, whole.model.layout.count * 4) == 0)
        #expect(try Checkpoint.loadConfig(checkpoint) == whole.model.config)
    }

    @Test func safetensorsReadsFloat16AndBFloat16() throws {
        let dir = try TestEnvironment.temporaryDirectory("safetensors")
        defer { try? FileManager.default.removeItem(at: dir) }
        let values: [Float] = [1, -2.5, 0.099975586, 65504, 0, -0.0001]
        // Encode by hand: F16 via Float16 when available, BF16 by truncating float32 (exact for these).
        func half(_ x: Float) -> UInt16 {
            if x == 0 { return 0 }
            let bits = x.bitPattern, sign = UInt16(bits >> 16) & 0x8000
            let exponent = Int((bits >> 23) & 0xFF) - 127 + 15, mantissa = bits & 0x7F_FFFF
            if exponent <= 0 {  // subnormal half
                let m = (mantissa | 0x80_0000) >> UInt32(14 - exponent)
                return sign | UInt16((m + 0x1000) >> 13 & 0x3FF)   // round to nearest
            }
            return sign | UInt16(exponent << 10) | UInt16((mantissa + 0x1000) >> 13)
        }
        var body = Data()
        for v in values { withUnsafeBytes(of: half(v).littleEndian) { body.append(contentsOf: $0) } }
        for v in values { withUnsafeBytes(of: UInt16(v.bitPattern >> 16).littleEndian) { body.append(contentsOf: $0) } }
        let header = #"{"a":{"dtype":"F16","shape":[2,3],"data_offsets":[0,12]},"b":{"dtype":"BF16","shape":[6],"data_offsets":[12,24]}}"#
        var file = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(Data(header.utf8))
        file.append(body)
        let path = dir.appendingPathComponent("w.safetensors").path
        try file.write(to: URL(fileURLWithPath: path))
        let st = try SafeTensors.File(path: path)
        var a = [Float](repeating: 0, count: 6), b = [Float](repeating: 0, count: 6)
        try st.read("a", shape: [2, 3], into: &a)
        try st.read("b", shape: [6], into: &b)
        for (got, want) in zip(a, values) { #expect(abs(got - want) <= abs(want) * 1e-3 + 1e-7, "F16 \(got) vs \(want)") }
        for (got, want) in zip(b, values) { #expect(abs(got - want) <= abs(want) * 1e-2, "BF16 \(got) vs \(want)") }
        do {
            try st.read("a", shape: [3, 2], into: &a)
            Issue.record("a shape mismatch was accepted")
        } catch { #expect("\(error)".contains("w.safetensors") && "\(error)".contains("'a'")) }
        try file.prefix(30).write(to: URL(fileURLWithPath: path + "2"))
        #expect(throws: Error.self) { try SafeTensors.File(path: path + "2") }
    }
}
