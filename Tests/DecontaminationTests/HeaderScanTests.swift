import Foundation
import Testing
import LongMixCore
import TestSupport
@testable import Decontamination

/// Few-shot headers (a task's definition, written beside every example) are scanned like
/// examples, and a dirty header takes its whole group down.
@Suite struct HeaderScanTests {
    @Test func aDirtyHeaderDropsEveryMemberOfItsGroup() throws {
        let scratch = try TestEnvironment.temporaryDirectory("decontam-header")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let parameters = DecontaminationProtocol.together.parameters
        let index = try DecontaminationIndex.openOrCreate(path: scratch.appendingPathComponent("i.sqlite").path,
                                                          n: parameters.n, normalization: parameters.normalization)
        let planted = try DecontamFixtures.records("planted-a.jsonl").first { $0.match != nil && $0.expect["together"] == true }!
        for file in DecontamFixtures.helmExports { try index.add(try TestSetReader.read(path: file), splits: ["valid", "test"]) }
        let scanner = try ContaminationScanner(ngrams: try index.loadNGramSet(), parameters: parameters)

        // The planted text as a header: the same hits as in an example, and a group verdict.
        let asExample = scanner.scan(planted.document)
        let asHeader = scanner.scanHeader(planted.document.text)
        #expect(!asHeader.hits.isEmpty && asHeader.hits == asExample.hits)
        #expect(asHeader.verdict == .drop(reason: .contaminatedHeader))
        #expect(scanner.scanHeader(Array("In this task, you answer questions about books.".utf8)) == ScanResult(verdict: .keep, hits: []))

        var verdicts = GroupVerdicts()
        verdicts.recordHeader(source: "ni", group: "task1", asHeader)
        verdicts.recordHeader(source: "ni", group: "task2", scanner.scanHeader(Array("A clean definition.".utf8)))
        let member = Document(id: "task1-0", source: "ni", text: Array("a clean example".utf8), group: "task1",
                              location: RecordLocation(file: "f", line: 1))
        var other = member
        other.group = "task2"
        #expect(verdicts.apply(scanner.scan(member), to: member).verdict == .drop(reason: .contaminatedHeader))
        #expect(verdicts.apply(scanner.scan(other), to: other).verdict == .keep)
        #expect(verdicts.dropReason(source: "ni", group: "task1") == .contaminatedHeader)
        #expect(verdicts.dropReason(source: "ni", group: "task2") == DropReason?.none)

        // Under a report-only protocol a header is reported, never dropped.
        var helm = DecontaminationProtocol.helm.parameters
        helm.n = parameters.n
        helm.normalization = parameters.normalization
        let reporting = try ContaminationScanner(ngrams: try index.loadNGramSet(), parameters: helm)
        let reported = reporting.scanHeader(planted.document.text)
        #expect(reported.verdict == .keep && !reported.hits.isEmpty)
    }
}
