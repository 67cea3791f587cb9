import Foundation
import Testing
import LongMixCore
import TestSupport
@testable import Decontamination

@Suite struct IndexTests {
    @Test func importsHELMExportsWithScenarioNamesSplitsAndParts() throws {
        let scratch = try TestEnvironment.temporaryDirectory("decontam-index")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let mmlu = DecontamFixtures.helmExports.first { $0.hasSuffix("/mmlu.jsonl") }!
        let instances = try TestSetReader.read(path: mmlu)
        #expect(instances.count == 6)
        #expect(instances[0].scenario == "MMLUScenario(subject=anatomy)")
        #expect(instances.map(\.split) == ["train", "train", "valid", "valid", "test", "test"])
        #expect(instances[0].references.count == 3)
        let boolq = try TestSetReader.read(path: DecontamFixtures.helmExports.first { $0.hasSuffix("/boolq.jsonl") }!)
        #expect(boolq[0].scenario == "BoolQScenario(only_contrast=false)")

        let index = try DecontaminationIndex.openOrCreate(path: scratch.appendingPathComponent("i.sqlite").path,
                                                          n: 13, normalization: .helm)
        let counts = try index.add(instances, splits: ["valid", "test"])
        #expect(counts.instancesRead == 6 && counts.instancesSkippedSplit == 2 && counts.instancesAdded == 4)
        #expect(counts.partsTooShort == 8, "the two short choices of each instance have fewer than 13 words")
        let scenarios = try index.scenarios()
        #expect(scenarios.map(\.split) == ["test", "valid"])
        #expect(scenarios.allSatisfy { $0.instanceCount == 2 && $0.spec?.contains("MMLUScenario") == true })

        // Inputs and references are indexed separately: a reference n-gram points at part "reference".
        let reference = Array(instances[2].references[0].utf8)
        let hash = NGramHasher(n: 13, normalization: .helm).ngrams(of: reference)[0].hash
        #expect(try index.provenance(of: [hash])[hash] == [Provenance(scenario: "MMLUScenario(subject=anatomy)",
            split: "valid", instanceID: instances[2].id, part: .reference)])
    }

    @Test func reimportingAddsNothingAndSplitsAreConfigurable() throws {
        let scratch = try TestEnvironment.temporaryDirectory("decontam-index")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let path = scratch.appendingPathComponent("i.sqlite").path
        let index = try DecontaminationIndex.openOrCreate(path: path, n: 10, normalization: .helm)
        let instances = try DecontamFixtures.helmExports.flatMap { try TestSetReader.read(path: $0) }
        let first = try index.add(instances, splits: ["valid", "test"])
        #expect(first.instancesAdded == 64)
        let rows = try index.ngramCounts().rows
        #expect(rows == first.ngramsAdded && rows > 0)
        let again = try DecontaminationIndex.openOrCreate(path: path, n: 10, normalization: .helm)
        let second = try again.add(instances, splits: ["valid", "test"])
        #expect(second.instancesAdded == 0 && second.ngramsAdded == 0)
        #expect(try again.ngramCounts().rows == rows)
        let withTrain = try again.add(instances, splits: nil)
        #expect(withTrain.instancesAdded == 32 && withTrain.ngramsAdded > 0)
    }

    @Test func malformedExportLineNamesFileLineAndField() throws {
        let path = DecontamFixtures.path("bad_export.jsonl")
        do {
            _ = try TestSetReader.read(path: path)
            Issue.record("a malformed export was accepted")
        } catch let error as InputError {
            #expect(error.location == RecordLocation(file: path, line: 3))
            #expect(error.field == "instances[1].input")
            #expect(error.description.contains("bad_export.jsonl:3"))
        }
        let scratch = try TestEnvironment.temporaryDirectory("decontam-bad")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let broken = scratch.appendingPathComponent("broken.jsonl").path
        try "{\"scenario\": \"S\", \"split\": \"test\", \"id\": \"1\", \"text\": \"ok\"}\n{\"scenario_key\": oops}\n"
            .write(toFile: broken, atomically: true, encoding: .utf8)
        #expect { _ = try TestSetReader.read(path: broken) } throws: { error in
            guard let error = error as? InputError else { return false }
            return error.location?.line == 2 && error.reason.rawValue == "malformed-json"
        }
    }

    /// A new index appears whole: a reader that opens it the moment its file exists finds its
    /// parameters (the race of two builds starting on one new index), and two creators at once
    /// both succeed on one index; no temporaries are left beside it.
    @Test func aNewIndexIsNeverSeenWithoutItsParameters() throws {
        let scratch = try TestEnvironment.temporaryDirectory("decontam-create")
        defer { try? FileManager.default.removeItem(at: scratch) }
        final class Failures: @unchecked Sendable {
            let lock = NSLock()
            var messages: [String] = []
            func add(_ s: String) { lock.lock(); messages.append(s); lock.unlock() }
        }
        let failures = Failures()
        for round in 0..<200 {
            let path = scratch.appendingPathComponent("helm-\(round).sqlite").path
            DispatchQueue.concurrentPerform(iterations: 3) { worker in
                do {
                    if worker < 2 {
                        _ = try DecontaminationIndex.openOrCreate(path: path, n: 13, normalization: .helm)
                    } else {
                        let deadline = Date().addingTimeInterval(10)
                        while !FileManager.default.fileExists(atPath: path) && Date() < deadline {}
                        let index = try DecontaminationIndex.open(path: path, requireNGrams: false)
                        if index.n != 13 { failures.add("round \(round): n \(index.n)") }
                    }
                } catch {
                    failures.add("round \(round), worker \(worker): \(error)")
                }
            }
        }
        #expect(failures.messages.isEmpty, "\(failures.messages.prefix(3))")
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.hasPrefix(".") }
        #expect(left.isEmpty, "temporaries left: \(left)")
    }

    @Test func anIndexRefusesOtherProtocolParameters() throws {
        let scratch = try TestEnvironment.temporaryDirectory("decontam-index")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let path = scratch.appendingPathComponent("i.sqlite").path
        _ = try DecontaminationIndex.openOrCreate(path: path, n: 13, normalization: .helm)
        #expect(throws: ConfigurationError.self) {
            _ = try DecontaminationIndex.openOrCreate(path: path, n: 10, normalization: .helm)
        }
        #expect(throws: ConfigurationError.self) {
            _ = try DecontaminationIndex.openOrCreate(path: path, n: 13, normalization: .gpt3)
        }
        // Empty: refused for scanning, naming the file.
        #expect { _ = try DecontaminationIndex.open(path: path) } throws: { error in
            "\(error)".contains(path) && "\(error)".contains("holds no n-grams")
        }
        let testSet = scratch.appendingPathComponent("t.jsonl").path
        try "{\"scenario\": \"S\", \"split\": \"test\", \"id\": \"1\", \"text\": \"one two three four five six seven eight nine ten eleven twelve thirteen fourteen\"}\n"
            .write(toFile: testSet, atomically: true, encoding: .utf8)
        try DecontaminationIndex.openOrCreate(path: path, n: 13, normalization: .helm).importFiles([testSet], splits: nil)
        let index = try DecontaminationIndex.open(path: path)
        #expect(index.n == 13 && index.normalization == .helm)
        #expect(throws: ConfigurationError.self) {
            try index.require(n: DecontaminationProtocol.together.parameters.n,
                              normalization: DecontaminationProtocol.together.parameters.normalization)
        }
        try index.require(n: 13, normalization: .helm)
    }

    @Test func summaryCountsInstancesWithOverlappingInputsAndReferences() throws {
        let scratch = try TestEnvironment.temporaryDirectory("decontam-summary")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let parameters = DecontaminationProtocol.helm.parameters
        let index = try DecontamFixtures.buildIndex(in: scratch, n: parameters.n, normalization: parameters.normalization)
        let scanner = try ContaminationScanner(ngrams: try index.loadNGramSet(), parameters: parameters)
        var summary = OverlapSummary()
        for record in try DecontamFixtures.records("planted-a.jsonl") + DecontamFixtures.records("planted-b.jsonl") {
            let result = scanner.scan(record.document)
            let rows = ContaminationReport.rows(document: record.document, hits: result.hits, verdict: result.verdict,
                                                n: parameters.n, normalization: parameters.normalization,
                                                provenance: try index.provenance(of: result.hits.map(\.hash)))
            for row in rows {
                summary.add(row)
                #expect(row.action == "kept")
                #expect(row.ngram.split(separator: " ").count == 13)
            }
        }
        let entries = summary.entries(scenarios: try index.scenarios(), n: 13)
        #expect(entries.count == 16 * 2 + 1)
        let mmluValid = entries.first { $0.scenario == "MMLUScenario(subject=anatomy)" && $0.split == "valid" }!
        // valid id10: exact plant in the input; id11: long_document plant in a reference
        // (its curly plant is invisible to the HELM normalization).
        #expect(mmluValid.numInstances == 2)
        #expect(mmluValid.instanceIDsWithOverlappingInput == ["id10"])
        #expect(mmluValid.instanceIDsWithOverlappingReference == ["id11"])
        let mmluTest = entries.first { $0.scenario == "MMLUScenario(subject=anatomy)" && $0.split == "test" }!
        #expect(mmluTest.instanceIDsWithOverlappingInput == ["id21"])
        #expect(mmluTest.instanceIDsWithOverlappingReference == ["id20"])
    }

    /// Readers check that their test sets are in without writing: each file imported whole is
    /// recorded by the sha256 of its bytes with its splits, in the import's transaction.
    @Test func importedTestSetFilesAreRecordedBySHA256AndSplits() throws {
        let scratch = try TestEnvironment.temporaryDirectory("decontam-index")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let path = scratch.appendingPathComponent("i.sqlite").path
        let exports = DecontamFixtures.helmExports.sorted()
        let (a, b) = (exports[0], exports[1])
        let writer = try DecontaminationIndex.openOrCreate(path: path, n: 10, normalization: .helm)
        try writer.importFiles([a], splits: ["valid", "test"])
        let reader = try DecontaminationIndex.open(path: path)
        #expect(try reader.missingTestSets([a, b], splits: ["valid", "test"]) == [b])
        #expect(try reader.missingTestSets([a], splits: ["test"]) == [], "a subset of the imported splits is in")
        #expect(try reader.missingTestSets([a], splits: ["valid", "test", "train"]) == [a])
        #expect(try reader.missingTestSets([a], splits: nil) == [a], "all splits were not imported")

        // Same bytes under another name: in; one byte changed: missing.
        let copy = scratch.appendingPathComponent("copy.jsonl").path, edited = scratch.appendingPathComponent("edited.jsonl").path
        try FileManager.default.copyItem(atPath: a, toPath: copy)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: a))
        bytes.append(contentsOf: Array("\n".utf8))
        try bytes.write(to: URL(fileURLWithPath: edited))
        #expect(try reader.missingTestSets([copy, edited], splits: ["valid", "test"]) == [edited])

        try writer.importFiles([b], splits: nil)
        #expect(try reader.missingTestSets([a, b], splits: ["valid", "test"]) == [])
        #expect(try reader.missingTestSets([b], splits: nil) == [])

        // A failed import (one unreadable file) records nothing, like it adds nothing.
        let bad = scratch.appendingPathComponent("bad.jsonl").path
        try "{not json\n".write(toFile: bad, atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { try writer.importFiles([edited, bad], splits: ["valid", "test"]) }
        #expect(try reader.missingTestSets([edited], splits: ["valid", "test"]) == [edited])
    }
}
