import Foundation
import LongMixCore
import Mixing
import Packing
import ShardIO
import Testing
import TestSupport
import Tokenization
@testable import Pipeline

/// What a trainer relies on in a pack: decontaminated few-shot headers, few-shot sources sampled
/// by group with padding at its bound, `few_shot_fill`, attention spans that keep a header with
/// its examples, loss accounting per source, provenance.
@Suite(.serialized) struct TrustedPackTests {
    static let fixtureNI = TestEnvironment.fixtures.appendingPathComponent("natural_instructions/ni-000.jsonl.zst").path

    /// The fixture NI records as JSON objects.
    static func niRecords() throws -> [[String: Any]] {
        let reader = try LineReader(path: fixtureNI)
        var records: [[String: Any]] = []
        while let line = try reader.next() {
            records.append(try JSONSerialization.jsonObject(with: Data(buffer: line)) as! [String: Any])
        }
        return records
    }

    static func write(_ records: [[String: Any]], to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        let lines = try records.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    }

    /// A mixture of the fixture NI source alone (few-shot, Together decontamination against the
    /// fixture HELM exports) over `data`.
    static func niMixture(data: URL, budget: String = "smallest-source", fill: Bool = false) throws -> MixtureSpec {
        let root = TestEnvironment.repoRoot.path
        let yaml = """
        name: ni-only
        seed: 20230728
        seq_len: 32768
        min_doc_tokens: 0
        tokenizer: \(root)/Fixtures/tokenizer/fixture-bpe.model
        data_root: \(data.path)
        budget: \(budget)
        loss: completion-only
        decontamination:
          index: \(data.path)/helm.sqlite
          test_sets: [\(root)/Fixtures/helm]
          protocol: together
        sources:
          - name: natural_instructions
            paths: [natural_instructions]
            packing: few-shot
            few_shot_fill: \(fill)
            group_field: meta.task_name
            header: "{definition}\\n\\n"
            template: "Input: {inputs}\\nOutput:"
            completion: " {targets}\\n\\n"
            id_field: meta.id
        """
        let path = data.appendingPathComponent("ni.yaml")
        try yaml.write(to: path, atomically: true, encoding: .utf8)
        return try MixtureSpec.load(path: path.path)
    }

    /// The fixture instruction mix with its HELM index in a directory of its own (suites run in
    /// parallel, and SQLite refuses a second writer importing into the shared fixture index).
    static func fixtureInstructMix() throws -> MixtureSpec {
        var spec = try MixtureSpec.load(path: FixturePacks.shared.mixture("instruct-32k"))
        spec.decontamination?.index = try TestEnvironment.temporaryDirectory("instruct-index").appendingPathComponent("helm.sqlite").path
        return spec
    }

    static func build(_ spec: MixtureSpec, _ name: String, exact: Bool = false) throws -> (dir: String, manifest: PackManifest) {
        let (dir, result) = try buildResult(spec, name, exact: exact)
        return (dir, result.manifest)
    }

    static func buildResult(_ spec: MixtureSpec, _ name: String, exact: Bool = false) throws -> (dir: String, result: MixtureBuild.Result) {
        let dir = try TestEnvironment.temporaryDirectory(name).appendingPathComponent("pack").path
        return (dir, try MixtureBuild(spec: spec, options: .init(threads: 2, output: dir, exact: exact)).run())
    }

    /// Twelve words of a HELM test instance (boolq, split test): a 10-gram of the index.
    static func helmWords() throws -> String {
        let text = try String(contentsOfFile: TestEnvironment.fixtures.appendingPathComponent("helm/boolq.jsonl").path, encoding: .utf8)
        for line in text.split(separator: "\n") {
            let block = try JSONValue.parse(String(line))
            guard block["scenario_key"]?["split"]?.stringValue == "test",
                  let input = block["instances"]?.arrayValue?.first?["input"]?.stringValue else { continue }
            return input.split(separator: " ").prefix(12).joined(separator: " ")
        }
        throw PackError("no test instance in the boolq fixture")
    }

    @Test func aHELMNGramPlantedInATaskDefinitionDropsThatTask() throws {
        var records = try Self.niRecords()
        let task = "task075_book_by"
        let words = try Self.helmWords()
        var members = 0
        for i in records.indices {
            let meta = records[i]["meta"] as! [String: Any]
            guard meta["task_name"] as? String == task else { continue }
            records[i]["definition"] = (records[i]["definition"] as! String) + " " + words + "."
            members += 1
        }
        #expect(members == 49)
        let clean = try TestEnvironment.temporaryDirectory("header-clean")
        try Self.write(try Self.niRecords(), to: clean.appendingPathComponent("natural_instructions/ni.jsonl"))
        let planted = try TestEnvironment.temporaryDirectory("header-planted")
        try Self.write(records, to: planted.appendingPathComponent("natural_instructions/ni.jsonl"))

        let before = try Self.build(try Self.niMixture(data: clean), "header-clean-pack").manifest
        let (dir, after) = try Self.build(try Self.niMixture(data: planted), "header-planted-pack")
        // Without the plant the task is kept; with it, every member goes, counted and reported.
        #expect(before.sources[0].documentsDropped["contaminated-header"] == nil)
        #expect(after.sources[0].documentsDropped["contaminated-header"] == members)
        #expect(after.decontamination?.groupsDroppedForHeader == ["natural_instructions": 1])
        #expect(before.sources[0].documentsAvailable - after.sources[0].documentsAvailable == members)
        #expect(after.sources[0].documentsRead == after.sources[0].documentsAvailable
            + after.sources[0].documentsDropped.values.reduce(0, +) + (after.sources[0].documentsNotTokenized ?? 0))
        let reader = try PackReader(directory: dir)
        #expect(try reader.verify().isEmpty)
        #expect(try !reader.documents().contains { $0.id.hasPrefix(task + "-") })
        let report = try String(contentsOfFile: dir + "/decontamination-report.jsonl", encoding: .utf8)
        let headerRows = report.split(separator: "\n").filter { $0.contains("\"document_id\":\"header:\(task)\"") }
        #expect(!headerRows.isEmpty)
        #expect(headerRows.allSatisfy { $0.contains("\"action\":\"dropped:contaminated-header\"") && $0.contains("\"scenario\":") })
        // The dirty definition is nowhere in the pack.
        let tokenizer = try Tokenizer.load(path: try Self.niMixture(data: planted).tokenizer)
        for i in 0..<reader.count {
            for s in reader.segments(of: i) where s.kind == .header {
                let text = try tokenizer.decode(Array(reader.tokens(of: i)[Int(s.start) + 1..<Int(s.start + s.length)]))
                #expect(!String(decoding: text, as: UTF8.self).contains(words))
            }
        }
    }

    /// The per-group padding bound recomputed from the pack's segments: a group with header h
    /// and T example tokens needs ceil(T / (L - h)) sequences.
    static func separateGroupBound(_ reader: PackReader, source: Int) -> (padding: Int, bound: Int, groups: [Int32: Int]) {
        let l = reader.manifest.seqLen
        var tokens: [Int32: Int] = [:], header: [Int32: Int] = [:], examples: [Int32: Int] = [:]
        var padding = 0
        for i in 0..<reader.count {
            let segments = reader.segments(of: i)
            guard Int(segments[0].source) == source else { continue }
            for s in segments {
                switch s.kind {
                case .header: header[s.group] = Int(s.length)
                case .document: tokens[s.group, default: 0] += Int(s.length); examples[s.group, default: 0] += 1
                case .padding: padding += Int(s.length)
                }
            }
        }
        let bound = tokens.reduce(0) { sum, g in
            let capacity = l - header[g.key, default: 0]
            return sum + (g.value + capacity - 1) / capacity * capacity - g.value
        }
        return (padding, bound, examples)
    }

    /// At sampling rate ~0.5 the NI source is taken by whole tasks (at most one in part), and its
    /// padding equals the bound sum_g (ceil(T_g / (L - h_g)) * (L - h_g) - T_g).
    @Test func aDownSampledFewShotSourceIsAtItsPaddingLowerBound() throws {
        let data = try TestEnvironment.temporaryDirectory("ni-half")
        try Self.write(try Self.niRecords(), to: data.appendingPathComponent("natural_instructions/ni.jsonl"))
        let (wholeDir, wholeResult) = try Self.buildResult(try Self.niMixture(data: data), "ni-whole", exact: true)
        let whole = wholeResult.manifest
        let half = whole.sources[0].tokensAvailable * 53 / 100
        let spec = try Self.niMixture(data: data, budget: "\(half)")
        let (dir, halfResult) = try Self.buildResult(spec, "ni-half-pack")
        let manifest = halfResult.manifest
        let source = manifest.sources[0]
        #expect(source.samplingRate > 0.5 && source.samplingRate < 0.56)
        #expect(source.packing_.paddingTokens == source.packing_.paddingLowerBound)
        let reader = try PackReader(directory: dir)
        let (padding, bound, examples) = Self.separateGroupBound(reader, source: 0)
        #expect(padding == source.packing_.paddingTokens && bound == source.packing_.paddingLowerBound)
        // Whole groups: every task in the pack has all its fixture examples but at most one.
        let records = try Self.niRecords()
        var perTask: [String: Int] = [:]
        for r in records { perTask[(r["meta"] as! [String: Any])["task_name"] as! String, default: 0] += 1 }
        let table = try reader.documents()
        var packedPerTask: [String: Int] = [:]
        for d in table { packedPerTask[String(d.id.split(separator: "-").first!), default: 0] += 1 }
        #expect(packedPerTask.filter { perTask[$0.key] != $0.value }.count <= 1)
        #expect(examples.count == packedPerTask.count)
        // The selection rule, recomputed here from its definition: every available example
        // (those of the whole build) with its stream length; groups in order of
        // hash(seed, source, "group", g), examples by hash(seed, source, id); whole examples until
        // the first that would overshoot the target.
        let tokenizer = try Tokenizer.load(path: spec.tokenizer)
        let available = Set(try PackReader(directory: wholeDir).documents().map(\.id))
        let reader0 = DocumentReader(paths: try ShardPaths.expand(spec.sources[0].paths), source: "natural_instructions",
                                     options: spec.sources[0].reader)
        var candidates: [(group: UInt64, own: UInt64, id: String, length: Int)] = []
        while let d = try reader0.next() {
            guard available.contains(d.id) else { continue }
            candidates.append((StableHash.hash(keys: ["natural_instructions", "group", d.group!], seed: spec.seed),
                             StableHash.hash(keys: ["natural_instructions", d.id], seed: spec.seed), d.id,
                             tokenizer.encode(d.text, addBOS: false, addEOS: true).count))
        }
        #expect(candidates.count == available.count)
        candidates.sort { ($0.group, $0.own) < ($1.group, $1.own) }
        var expected = Set<String>(), total = 0
        for e in candidates {
            if total + e.length > halfResult.targets[0].tokens { break }
            expected.insert(e.id)
            total += e.length
        }
        #expect(Set(table.map(\.id)) == expected)
        // Sample-first and exact agree.
        let exact = try Self.build(spec, "ni-half-exact", exact: true).dir
        #expect(try packDigests(dir, includingManifest: false) == packDigests(exact, includingManifest: false))
        // With few_shot_fill the same examples share sequences: the fewest their headers allow.
        let filled = try Self.build(try Self.niMixture(data: data, budget: "\(half)", fill: true), "ni-half-fill").manifest.sources[0]
        #expect(filled.documentsTaken == source.documentsTaken && filled.packing_.documentTokens == source.packing_.documentTokens)
        #expect(filled.packing_.paddingTokens == filled.packing_.paddingLowerBound)
        #expect(filled.packing_.sequences == (filled.packing_.documentTokens + filled.packing_.headerTokens + spec.seqLen - 1) / spec.seqLen)
        #expect(filled.packing_.sequences < source.packing_.sequences)
        print("ni at rate \(source.samplingRate): \(source.packing_.sequences) sequences, padding \(source.packing_.paddingTokens) = bound \(source.packing_.paddingLowerBound), \(packedPerTask.count) of \(perTask.count) tasks; with fill \(filled.packing_.sequences) sequences, padding \(filled.packing_.paddingTokens) = bound \(filled.packing_.paddingLowerBound)")
    }

    /// The fixture instruction mix with `few_shot_fill` on both few-shot sources: padding under 5%
    /// (at 2K tokens per sequence; see below), less than without fill at every length, every
    /// example inside a span that opens with its own group's header, and the numpy oracle agrees
    /// on spans and loss shares.
    @Test(.needsPython, arguments: [32768, 4096, 2048])
    func fewShotFillKeepsPaddingLowAndEveryExampleUnderItsHeader(_ seqLen: Int) throws {
        var spec = try Self.fixtureInstructMix()
        spec.seqLen = seqLen
        let plain = try Self.build(spec, "instruct-plain-\(seqLen)").manifest
        for s in spec.sources.indices where spec.sources[s].packing == .fewShot { spec.sources[s].fewShotFill = true }
        let (dir, manifest) = try Self.build(spec, "instruct-fill-\(seqLen)")
        print("instruct mix at \(seqLen): \(manifest.sequences) sequences, padding \(plain.paddingRate) without fill, \(manifest.paddingRate) with fill; per few-shot source: "
              + manifest.sources.filter { $0.packing == "few-shot" }.map { "\($0.name) \($0.packing_.paddingTokens) (bound \($0.packing_.paddingLowerBound))" }.joined(separator: ", "))
        // The fixture offers ~41K tokens per source: at 32K and 4K every source's last sequence is
        // mostly padding whatever the packer does (concat included), so the 5% holds from 2K on;
        // there fill uses the fewest sequences its headers allow at 32K and 4K.
        if seqLen <= 2048 { #expect(manifest.paddingRate < 0.05) }
        #expect(manifest.paddingRate < plain.paddingRate)
        for source in manifest.sources {
            #expect(source.packing_.paddingTokens >= source.packing_.paddingLowerBound, "\(source.name)")
            if seqLen >= 4096 { #expect(source.packing_.paddingTokens == source.packing_.paddingLowerBound, "\(source.name)") }
        }
        let reader = try PackReader(directory: dir)
        #expect(try reader.verify().isEmpty)
        var examples = 0, sharedSequences = 0
        for i in 0..<reader.count {
            let segments = reader.segments(of: i)
            guard spec.sources[Int(segments[0].source)].packing == .fewShot else { continue }
            var header: Segment?
            for s in segments {
                switch s.kind {
                case .header: header = s
                case .document:
                    examples += 1
                    #expect(header?.group == s.group, "sequence \(i): example of group \(s.group) after header \(String(describing: header?.group))")
                case .padding: header = nil
                }
            }
            if Set(segments.filter { $0.kind == .header }.map(\.group)).count > 1 { sharedSequences += 1 }
        }
        #expect(examples > 0 && sharedSequences > 0)
        try Self.checkWithNumpy(dir, manifest: manifest, examples: examples)
    }

    /// The numpy recipe (README) on a few-shot pack: spans start at the header and hold its
    /// examples; loss tokens per source counted from `loss_mask.bin` equal the manifest's.
    static func checkWithNumpy(_ dir: String, manifest: PackManifest, examples: Int) throws {
        let out = try JSONValue.parse([UInt8](try Oracle.run("pack_numpy_loader.py", arguments: [dir])))
        let fewShot = try #require(out["few_shot"])
        #expect(fewShot["examples"]?.intValue == examples)
        #expect(fewShot["examples_under_own_header"]?.intValue == examples)
        #expect((fewShot["spans"]?.intValue ?? 0) > 0 && fewShot["spans"] == fewShot["spans_starting_at_header"])
        for (s, source) in manifest.sources.enumerated() {
            #expect(out["loss_tokens"]?["\(s)"]?.intValue == source.lossTokens, "\(source.name)")
            var share = -1.0
            if case .number(let text)? = out["loss_share"]?["\(s)"] { share = Double(text) ?? -1 }
            #expect(abs(share - source.lossShare) < 1e-12, "\(source.name): numpy \(share), manifest \(source.lossShare)")
        }
        #expect(out["pad_tokens_equal_pad_id"]?.intValue == manifest.totals.paddingTokens)
    }

    @Test(.needsPython) func numpySpansOfTheInstructPackStartAtTheHeaderAndLossSharesMatch() throws {
        let (dir, _, result) = try FixturePacks.shared.pack("instruct-32k")
        let reader = try PackReader(directory: dir)
        var examples = 0
        for i in 0..<reader.count {
            let segments = reader.segments(of: i)
            if segments.contains(where: { $0.kind == .header }) { examples += segments.filter { $0.kind == .document }.count }
        }
        try Self.checkWithNumpy(dir, manifest: result.manifest, examples: examples)
        // Under completion-only the loss share differs from the token share: NI's prompts and headers carry no loss.
        let ni = try #require(result.manifest.sources.first { $0.name == "natural_instructions" })
        #expect(ni.lossTokens > 0 && ni.lossShare < ni.achievedShare)
        print("natural_instructions: token share \(ni.achievedShare), loss share \(ni.lossShare)")
    }

    @Test func theManifestRecordsProvenanceAndDocumentsTheirLengths() throws {
        let (dir, spec, result) = try FixturePacks.shared.pack("instruct-32k")
        let m = result.manifest
        #expect(m.longmixVersion == LongMixVersion.current && m.version == 2 && m.segmentRecordBytes == 24)
        let resolved = try #require(m.mixture.resolved)
        #expect(resolved.dataRoot.hasPrefix("/") && resolved.tokenizer.hasPrefix("/") && !resolved.dataRoot.contains(".."))
        #expect(resolved.sources.allSatisfy { $0.paths.allSatisfy { $0.hasPrefix("/") } })
        #expect(resolved.sources.map(\.minDocTokens) == spec.sources.map(\.minDocumentTokens))
        #expect(resolved.specialTokens.pad == m.specialTokens.pad)
        #expect(m.mixture.resolvedSha256 == SHA256.hexDigest(SHA256.hash(resolved.canonicalJSON)))
        // Inputs: every shard with its size on disk.
        #expect(!m.inputs.isEmpty)
        for shard in m.inputs {
            let size = try #require(FileManager.default.contents(atPath: shard.path)).count
            #expect(shard.bytes == size && shard.path.hasPrefix("/"))
        }
        let d = try #require(m.decontamination)
        #expect(d.n == 10 && d.normalization == "helm" && d.testSets.count == 16)
        for set in d.testSets {
            let bytes = try #require(FileManager.default.contents(atPath: set.path))
            #expect(set.sha256 == SHA256.hexDigest(SHA256.hash([UInt8](bytes))))
        }
        // documents.jsonl: tokens and cut per document, agreeing with the segments.
        let text = try String(contentsOfFile: dir + "/documents.jsonl", encoding: .utf8)
        let rows = try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
        let reader = try PackReader(directory: dir)
        var written = [Int](repeating: 0, count: rows.count)
        for i in 0..<reader.count { for s in reader.segments(of: i) where s.kind == .document { written[Int(s.document)] += Int(s.length) } }
        var cut = 0
        for (k, row) in rows.enumerated() {
            let tokens = try #require(row["tokens"]?.intValue)
            #expect(row["written"]?.intValue == written[k])
            #expect(row["cut"] == .bool(written[k] < tokens), "document \(k)")
            if row["cut"] == .bool(true) { cut += 1 }
            if row["source"]?.stringValue == "natural_instructions" { #expect(row["group"]?.stringValue != nil) }
        }
        #expect(cut == m.totals.documentsTruncated)
    }

    @Test func aPadIDDistinctFromEOSIsWrittenAndAnIDOutsideTheVocabularyIsRefused() throws {
        var spec = try Self.fixtureInstructMix()
        let tokenizer = try Tokenizer.load(path: spec.tokenizer)
        spec.padID = 0
        #expect(tokenizer.eosID != 0)
        let (dir, manifest) = try Self.build(spec, "pad-unk")
        #expect(manifest.specialTokens.pad == 0 && manifest.mixture.resolved?.specialTokens.pad == 0)
        let reader = try PackReader(directory: dir)
        var padding = 0
        for i in 0..<reader.count {
            let ids = reader.tokens(of: i)
            for s in reader.segments(of: i) where s.kind == .padding {
                #expect(ids[Int(s.start)..<Int(s.start + s.length)].allSatisfy { $0 == 0 })
                padding += Int(s.length)
            }
        }
        #expect(padding == manifest.totals.paddingTokens && padding > 0)
        spec.padID = UInt32(tokenizer.vocabularySize)
        do {
            _ = try MixtureBuild(spec: spec, options: .init(threads: 1))
            Issue.record("a pad id outside the vocabulary was accepted")
        } catch let error as ConfigurationError {
            #expect(error.key == "special_tokens.pad" && error.message.contains("outside the tokenizer's vocabulary"))
        }
    }
}
