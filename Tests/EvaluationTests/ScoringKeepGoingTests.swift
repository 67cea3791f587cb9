import Foundation
import LongMixCore
import Testing
import TestSupport
@testable import Evaluation

/// `score --keep-going`: a bad prediction record is skipped and counted, and pairing by order
/// stays aligned (the skipped record's reference is consumed with it).
@Suite struct ScoringKeepGoingTests {
    @Test func badPredictionsAreSkippedWithoutShiftingThePairs() throws {
        let dir = try TestEnvironment.temporaryDirectory("score-keep-going")
        defer { try? FileManager.default.removeItem(at: dir) }
        let predictions = try PredictionScoringTests.write([
            #"{"prediction": "a"}"#, #"{"guess": "b"}"#, #"{"prediction": "c""#, #"{"prediction": "d"}"#,
        ], "p.jsonl", in: dir)
        let references = try PredictionScoringTests.write([
            #"{"answers": ["a"]}"#, #"{"answers": ["b"]}"#, #"{"answers": ["c"]}"#, #"{"answers": ["d"]}"#,
        ], "r.jsonl", in: dir)
        var options = ScoringOptions(predictions: predictions, references: references)
        options.metrics = [.exactMatch]
        #expect(throws: InputError.self) { try PredictionScoring.run(options) }
        options.skipBadRecords = true
        let summary = try PredictionScoring.run(options)
        #expect(summary.examples == 2 && summary.means == [1])  // a with a, d with d
        #expect(summary.reading.records == 4 && summary.reading.documents == 2 && summary.reading.isBalanced)
        #expect(summary.reading.skipped.values.reduce(0, +) == 2 && summary.reading.skipped["missing-field"] == 1)
        #expect(summary.unpairedReferences == 0)
    }
}
