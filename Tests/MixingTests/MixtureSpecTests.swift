import Foundation
import LongMixCore
import Testing
import TestSupport
@testable import Mixing

@Suite struct MixtureSpecTests {
    func load(_ yaml: String) throws -> MixtureSpec {
        let dir = try TestEnvironment.temporaryDirectory()
        let path = dir.appendingPathComponent("mix.yaml").path
        try yaml.write(toFile: path, atomically: true, encoding: .utf8)
        return try MixtureSpec.load(path: path)
    }

    @Test func theShippedMixturesLoad() throws {
        for name in ["pretrain-32k", "instruct-32k", "fixtures/pretrain-32k", "fixtures/instruct-32k"] {
            let spec = try MixtureSpec.load(path: TestEnvironment.repoRoot.appendingPathComponent("Mixtures/\(name).yaml").path)
            #expect(spec.seqLen == 32768)
            #expect(abs(spec.sources.reduce(0) { $0 + $1.weight } - 1) < 1e-12)
        }
        let pretrain = try MixtureSpec.load(path: TestEnvironment.repoRoot.appendingPathComponent("Mixtures/pretrain-32k.yaml").path)
        #expect(pretrain.sources.map(\.name) == ["rp_book", "rp_arxiv", "rp_other", "ul2_oscar"])
        #expect(pretrain.sources.allSatisfy { $0.weight == 0.25 } && pretrain.minDocumentTokens == 2048)
        let instruct = try MixtureSpec.load(path: TestEnvironment.repoRoot.appendingPathComponent("Mixtures/instruct-32k.yaml").path)
        #expect(instruct.sources.map(\.weight) == [0.2, 0.2, 0.2, 0.2, 0.2])
        #expect(instruct.sources[0].packing == PackingStrategy.fewShot)
        #expect(instruct.decontamination?.protocolName == "together")
    }

    @Test func errorsNameTheKeyAndLine() throws {
        let base = "name: m\ntokenizer: t.model\nsources:\n  - name: a\n    paths: [x]\n"
        func error(_ yaml: String) -> ConfigurationError? {
            do { _ = try load(yaml); return nil } catch let e as ConfigurationError { return e } catch { return nil }
        }
        let typo = error(base + "    wieght: 3\n")
        #expect(typo?.key == "sources[0].wieght" && typo?.line == 6)
        let weight = error(base + "    weight: lots\n")
        #expect(weight?.key == "sources[0].weight" && weight?.line == 6)
        #expect(error("tokenizer: t\nsources: []\n")?.key == "name")
        #expect(error(base + "    packing: few-shot\n")?.key == "sources[0].group_field")
        #expect(error(base + "packing: zigzag\n")?.description.contains("concat, best-fit, few-shot") == true)
        #expect(error(base + "    template: \"no fields\"\n")?.key == "sources[0].template")
        let fill = error(base + "    few_shot_fill: true\n")
        #expect(fill?.key == "sources[0].few_shot_fill" && fill?.line == 6 && fill?.message.contains("few-shot") == true)
        let pad = error(base + "special_tokens: {pad: -1}\n")
        #expect(pad?.key == "special_tokens.pad" && pad?.line == 6)
    }

    @Test func fewShotFillAndThePadIDResolve() throws {
        let yaml = "name: m\ntokenizer: t.model\nfew_shot_fill: true\nspecial_tokens: {pad: 0}\nsources:\n"
            + "  - name: a\n    paths: [x]\n    packing: few-shot\n    group_field: g\n"
            + "  - name: b\n    paths: [y]\n    packing: few-shot\n    group_field: g\n    few_shot_fill: false\n"
            + "  - name: c\n    paths: [z]\n"
        let spec = try load(yaml)
        #expect(spec.sources.map(\.fewShotFill) == [true, false, false])
        #expect(try spec.resolvedPadID(vocabularySize: 32000, eosID: 2) == 0)
        do {
            _ = try spec.resolvedPadID(vocabularySize: 0, eosID: 2)
            Issue.record("a pad id outside the vocabulary resolved")
        } catch let e as ConfigurationError {
            #expect(e.key == "special_tokens.pad" && e.line == 4)
        }
        let defaulted = try load("name: m\ntokenizer: t.model\nsources:\n  - name: a\n    paths: [x]\n")
        #expect(try defaulted.resolvedPadID(vocabularySize: 32000, eosID: 2) == 2)
    }
}

@Suite struct MixturePlannerTests {
    @Test func smallestSourceTakesAllOfTheScarcestAndApportionsSequences() throws {
        let supplies = [SourceSupply(name: "a", weight: 0.25, tokens: 1_000_000, packing: .concat),
                        SourceSupply(name: "b", weight: 0.25, tokens: 300_000, packing: .concat),
                        SourceSupply(name: "c", weight: 0.5, tokens: 5_000_000, packing: .concat)]
        let targets = try MixturePlanner.plan(supplies, budget: .smallestSource, seqLen: 1000)
        // b limits the total to 1.2M tokens: 1200 sequences, 300/300/600.
        #expect(targets.map(\.sequences) == [300, 300, 600])
        #expect(targets[1].rate == 1 && targets[0].rate == 0.3)
    }

    @Test func fixedBudgetsUpSampleWithEpochs() throws {
        let targets = try MixturePlanner.plan([SourceSupply(name: "a", weight: 0.5, tokens: 100, packing: .bestFit),
                                               SourceSupply(name: "b", weight: 0.5, tokens: 1000, packing: .bestFit)],
                                              budget: .tokens(500), seqLen: 64)
        #expect(targets[0].tokens == 250 && targets[0].rate == 2.5 && targets[0].epochs == 3)
        #expect(targets[1].rate == 0.25 && targets[1].epochs == 1)
        #expect(throws: PlanError.self) {
            try MixturePlanner.plan([SourceSupply(name: "x", weight: 1, tokens: 0, packing: .concat)], budget: .smallestSource, seqLen: 8)
        }
    }

    @Test func apportionmentStaysWithinHalfAPointWhenItCan() throws {
        let supplies = (0..<4).map { SourceSupply(name: "\($0)", weight: 0.25, tokens: 19_000, packing: .concat) }
        let targets = try MixturePlanner.plan(supplies, budget: .smallestSource, seqLen: 1000)
        #expect(targets.map(\.sequences) == [19, 19, 19, 19])
        let uneven = try MixturePlanner.plan(supplies, budget: .tokens(18_500), seqLen: 1000)
        #expect(uneven.map(\.sequences) == [4, 4, 4, 4])  // 18 would give 5/5/4/4
    }
}
