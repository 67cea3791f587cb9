import Foundation
import Testing
import LongMixCore
import ShardIO
import TestSupport
@testable import Decontamination

/// The `longmix decontam scan` pipeline end to end on the fixtures: counts add up, cleaned shards
/// hold exactly the kept documents and pieces, the report and summary agree with the scanner.
@Suite struct ScanJobTests {
    func run(_ proto: DecontaminationProtocol, files: [String], groupField: String? = nil)
        throws -> (ScanOutcome, URL) {
        let parameters = proto.parameters
        let scratch = try TestEnvironment.temporaryDirectory("decontam-job")
        let index = try DecontamFixtures.buildIndex(in: scratch, n: parameters.n, normalization: parameters.normalization)
        let job = ScanJob(inputs: files.map { DecontamFixtures.path("train/" + $0) }, source: "fixture",
                          readerOptions: ReaderOptions(idField: FieldPath("id"), groupField: groupField.map(FieldPath.init)),
                          parameters: parameters, outputDirectory: scratch.appendingPathComponent("clean").path,
                          reportPath: scratch.appendingPathComponent("report.jsonl").path,
                          summaryPath: scratch.appendingPathComponent("summary.jsonl").path)
        return (try job.run(index: index), scratch)
    }

    func lines(_ url: URL) throws -> [[String: Any]] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
    }

    @Test func gpt3ScanWritesPiecesAndBalancedCounts() throws {
        let (outcome, scratch) = try run(.gpt3, files: ["planted-a.jsonl", "planted-b.jsonl", "boilerplate.jsonl"])
        defer { try? FileManager.default.removeItem(at: scratch) }
        #expect(outcome.counts.isBalanced)
        #expect(outcome.counts.documentsRead == 82 + 82 + 12)
        #expect(outcome.frequentNGrams > 0)
        let written = try ["planted-a.jsonl", "planted-b.jsonl", "boilerplate.jsonl"].flatMap {
            try lines(scratch.appendingPathComponent("clean/" + $0))
        }
        // Every kept document and every piece is written once; the bytes written are the bytes kept.
        #expect(outcome.documentsCut > 0)
        #expect(written.count == outcome.counts.documentsKept - outcome.documentsCut + outcome.piecesWritten)
        let textBytes = written.reduce(0) { $0 + ($1["text"] as! String).utf8.count }
        #expect(textBytes == outcome.counts.unitsKept)
        #expect(written.contains { ($0["id"] as! String).hasSuffix("#0") && $0["piece"] as? Int == 0 })
        // The boilerplate documents are kept whole (their licence n-grams are too frequent).
        #expect(written.filter { ($0["id"] as! String).hasPrefix("boiler-") }.count == 12)
        let report = try lines(scratch.appendingPathComponent("report.jsonl"))
        #expect(report.count == outcome.reportRows && !report.isEmpty)
        #expect(Set(report.map { $0["action"] as! String }).isSubset(of:
            ["cut", "dropped:contaminated-no-clean-piece", "dropped:contaminated-too-many-pieces"]))
        let summary = try lines(scratch.appendingPathComponent("summary.jsonl"))
        #expect(summary.count == 33)
        #expect(summary.allSatisfy { $0["n"] as? Int == 13 && $0["num_instances"] != nil })
    }

    @Test func togetherScanDropsTheDirtyTaskWhole() throws {
        let (outcome, scratch) = try run(.together, files: ["grouped.jsonl"], groupField: "task")
        defer { try? FileManager.default.removeItem(at: scratch) }
        #expect(outcome.counts.isBalanced)
        #expect(outcome.dirtyGroups == [GroupKey(source: "fixture", group: "task_dirty")])
        #expect(outcome.counts.documentsDropped == ["contaminated": 1, "contaminated-group": 4])
        let written = try lines(scratch.appendingPathComponent("clean/grouped.jsonl"))
        #expect(written.map { $0["id"] as! String } == (0..<5).map { "task_clean-\($0)" })
        #expect(written.allSatisfy { $0["group"] as? String == "task_clean" })
    }

    @Test func helmScanKeepsEverythingAndReportsOverlaps() throws {
        let (outcome, scratch) = try run(.helm, files: ["planted-a.jsonl", "planted-b.jsonl"])
        defer { try? FileManager.default.removeItem(at: scratch) }
        #expect(outcome.counts.documentsKept == 164 && outcome.counts.totalDocumentsDropped == 0)
        // exact, case_punct, line_breaks and long_document plants of 16 scenarios.
        #expect(outcome.documentsWithHits == 64)
        var summary = OverlapSummary()
        try summary.add(reportAt: scratch.appendingPathComponent("report.jsonl").path)
        let index = try DecontaminationIndex.open(path: scratch.appendingPathComponent("index-13-helm.sqlite").path)
        #expect(summary.entries(scenarios: try index.scenarios(), n: 13) == outcome.summary)
    }
}
