import Foundation
import Testing
import LongMixCore
import TestSupport
@testable import Decontamination

/// Every planted overlap is found under each check that should find it, with the right
/// provenance, and nothing else is flagged (near misses, reordered words, the train split).
@Suite struct PlantedOverlapTests {
    /// The checks named in the fixtures' `meta.expect`.
    static let checks: [(name: String, parameters: ScanParameters)] = [
        ("together", DecontaminationProtocol.together.parameters),
        ("gpt3", DecontaminationProtocol.gpt3.parameters),
        ("helm", DecontaminationProtocol.helm.parameters),
        ("unicode", {
            var p = DecontaminationProtocol.helm.parameters
            p.normalization = .unicode
            return p
        }()),
    ]

    @Test(arguments: checks.map(\.name))
    func plantedOverlapsAreFoundAndNearMissesAreNot(_ check: String) throws {
        let parameters = Self.checks.first { $0.name == check }!.parameters
        let scratch = try TestEnvironment.temporaryDirectory("decontam-plants")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let index = try DecontamFixtures.buildIndex(in: scratch, n: parameters.n, normalization: parameters.normalization)
        let ngrams = try index.loadNGramSet()
        let records = try ["planted-a.jsonl", "planted-b.jsonl", "boilerplate.jsonl", "grouped.jsonl"]
            .flatMap { try DecontamFixtures.records($0) }
        var frequent: NGramSet?
        if let limit = parameters.maximumDocumentFrequency {
            var counter = DocumentFrequencyCounter(ngrams: ngrams, parameters: parameters)
            for record in records { counter.add(record.document.text) }
            frequent = counter.frequentNGrams(maximumDocumentFrequency: limit)
            #expect(!frequent!.isEmpty, "the boilerplate licence occurs in 12 documents")
        }
        let scanner = try ContaminationScanner(ngrams: ngrams, parameters: parameters, frequentNGrams: frequent)
        var checkedKinds: [String: Int] = [:]
        for record in records where record.match != nil {
            guard let expected = record.expect[check] else { continue }
            let result = scanner.scan(record.document)
            let provenance = try index.provenance(of: result.hits.map(\.hash))
            let matched = Set(result.hits.flatMap { provenance[$0.hash] ?? [] })
            if expected {
                #expect(matched.contains(record.match!), "\(check): \(record.plant) \(record.document.id) not found")
                #expect(matched == [record.match!], "\(check): \(record.plant) matched more: \(matched)")
                switch parameters.action {
                case .dropDocument: #expect(result.verdict == .drop(reason: .contaminated))
                case .reportOnly: #expect(result.verdict == .keep)
                case .cutWindows:
                    if case .keep = result.verdict { Issue.record("gpt3 kept a contaminated document whole") }
                }
            } else {
                #expect(result.hits.isEmpty, "\(check): \(record.plant) \(record.document.id) flagged: \(matched)")
                #expect(result.verdict == .keep)
            }
            checkedKinds[record.plant, default: 0] += 1
        }
        // All kinds were checked, 16 of each planted kind (one per core scenario).
        for kind in ["exact", "case_punct", "line_breaks", "curly", "long_document", "near_miss_12",
                     "near_miss_9", "reordered", "train_split"] {
            #expect(checkedKinds[kind] == 16, "\(kind): \(checkedKinds[kind] ?? 0)")
        }
        #expect(checkedKinds["boilerplate"] == 12)
        let clean = records.filter { $0.document.id.hasPrefix("clean-") }
        #expect(clean.count == 20)
        for record in clean {
            #expect(scanner.hits(in: record.document.text).isEmpty, "\(check): \(record.document.id) flagged")
        }
    }

    @Test func togetherDropsEveryMemberOfAContaminatedGroup() throws {
        let parameters = DecontaminationProtocol.together.parameters
        let scratch = try TestEnvironment.temporaryDirectory("decontam-groups")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let index = try DecontamFixtures.buildIndex(in: scratch, n: parameters.n, normalization: parameters.normalization)
        let scanner = try ContaminationScanner(ngrams: try index.loadNGramSet(), parameters: parameters)
        let records = try DecontamFixtures.records("grouped.jsonl")
        var verdicts = GroupVerdicts()
        for record in records { verdicts.record(record.document, scanner.scan(record.document)) }
        #expect(verdicts.dirtyGroups == [GroupKey(source: "fixture", group: "task_dirty")])
        var reasons: [String: [String]] = [:]
        for record in records {
            let result = verdicts.apply(scanner.scan(record.document), to: record.document)
            reasons[record.document.group!, default: []].append(ContaminationReport.action(result.verdict))
        }
        #expect(reasons["task_dirty"] == ["dropped:contaminated-group", "dropped:contaminated-group",
                                          "dropped:contaminated", "dropped:contaminated-group",
                                          "dropped:contaminated-group"])
        #expect(reasons["task_clean"] == Array(repeating: "kept", count: 5))
    }

    @Test func documentFrequencyRuleIgnoresNGramsInMoreThanTheLimit() throws {
        let parameters = ScanParameters(n: 3, normalization: .gpt3, action: .dropDocument, maximumDocumentFrequency: 10)
        let hasher = NGramHasher(n: 3, normalization: .gpt3)
        let ngrams = NGramSet(hasher.ngrams(of: Array("alpha beta gamma delta".utf8)).map(\.hash))
        func documents(_ text: String, _ count: Int) -> [[UInt8]] { Array(repeating: Array(text.utf8), count: count) }
        var counter = DocumentFrequencyCounter(ngrams: ngrams, parameters: parameters)
        // "alpha beta gamma" in 11 documents (twice in one: still one document), "beta gamma delta" in 10.
        for text in documents("x alpha beta gamma y alpha beta gamma", 1) + documents("alpha beta gamma", 10)
            + documents("beta gamma delta", 10) { counter.add(text) }
        #expect(counter.documentCounts.values.sorted() == [10, 11])
        let frequent = counter.frequentNGrams(maximumDocumentFrequency: 10)
        #expect(frequent.count == 1)
        let scanner = try ContaminationScanner(ngrams: ngrams, parameters: parameters, frequentNGrams: frequent)
        #expect(scanner.hits(in: Array("alpha beta gamma".utf8)).isEmpty)
        #expect(scanner.hits(in: Array("beta gamma delta".utf8)).count == 1)
        // Counting split over two counters gives the same result.
        var first = DocumentFrequencyCounter(ngrams: ngrams, parameters: parameters)
        var second = first
        for (k, text) in (documents("alpha beta gamma", 11)).enumerated() {
            if k % 2 == 0 { first.add(text) } else { second.add(text) }
        }
        first.merge(second)
        #expect(first.documentCounts.values.sorted() == [11])
        #expect(throws: ConfigurationError.self) { try ContaminationScanner(ngrams: ngrams, parameters: parameters) }
    }
}
