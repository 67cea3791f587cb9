import Foundation
import LongMixCore
import ShardIO
import Testing
import TestSupport
@testable import Decontamination

/// `decontam index --keep-going`: bad test-set lines and unreadable files are skipped and counted
/// by reason; the good lines of the same file are still read.
@Suite struct TestSetKeepGoingTests {
    @Test func badLinesAreCountedAndTheRestIsRead() throws {
        let path = DecontamFixtures.path("bad_export.jsonl")
        var ledger = RecordLedger(skipBadRecords: true)
        let instances = try TestSetReader.read(path: path, ledger: &ledger)
        let missing = "/nonexistent-\(UUID().uuidString).jsonl"
        #expect(try TestSetReader.read(path: missing, ledger: &ledger).isEmpty)
        #expect(instances.map(\.id) == ["ok1"])
        #expect(ledger.counts.records == 2 && ledger.counts.documents == 1 && ledger.counts.isBalanced)
        #expect(ledger.counts.skipped == ["missing-field": 1])
        #expect(ledger.counts.failedFiles == ["unreadable-file": 1] && ledger.counts.files == 2)
        #expect(ledger.firstErrors.first?.location == RecordLocation(file: path, line: 3))
        var strict = RecordLedger(skipBadRecords: false)
        #expect(throws: InputError.self) { try TestSetReader.read(path: path, ledger: &strict) }
    }
}
