import Foundation
import LongMixCore
import Testing
import TestSupport
@testable import Evaluation

@Suite struct PredictionScoringTests {
    static func write(_ lines: [String], _ name: String, in dir: URL) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func inlineReferencesMeansAndPerExampleScores() throws {
        let dir = try TestEnvironment.temporaryDirectory("score")
        defer { try? FileManager.default.removeItem(at: dir) }
        let predictions = try Self.write([
            #"{"model_answer": "Paris, France\nLyon", "answers": ["Paris"]}"#,
            #"{"model_answer": "I think Lyon", "answers": ["Paris", "Marseille"]}"#,
            "",
            #"{"model_answer": "the Marseille", "answers": "Marseille"}"#,
        ], "p.jsonl", in: dir)
        var options = ScoringOptions(predictions: predictions)
        options.predictionField = "model_answer"
        options.metrics = [.bestSubspanEM, .exactMatch, .f1, .rouge1]
        let output = dir.appendingPathComponent("scores.jsonl").path
        let summary = try PredictionScoring.run(options, perExampleOutput: output)
        #expect(summary.examples == 3)
        #expect(summary.means[0] == 2.0 / 3)  // first and third contain their gold
        #expect(summary.means[1] == 1.0 / 3)  // only "the Marseille" normalizes to the gold
        // F1: "paris france lyon" vs "paris" = 2*(1/3)*1/(4/3) = 0.5; 0; 1.
        #expect(abs(summary.means[2] - 1.5 / 3) < 1e-15)
        let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 3)
        #expect(lines[0] == #"{"line":1,"best_subspan_em":1.0,"em":0.0,"f1":0.5,"rouge1":0.5}"#)
        #expect(lines[2].hasPrefix(#"{"line":4,"#))
    }

    @Test func referencesFilePairedByOrderOrByID() throws {
        let dir = try TestEnvironment.temporaryDirectory("score")
        defer { try? FileManager.default.removeItem(at: dir) }
        let predictions = try Self.write([#"{"id": 2, "prediction": "b"}"#, #"{"id": 1, "prediction": "a"}"#], "p.jsonl", in: dir)
        let references = try Self.write([#"{"id": 1, "answers": ["a"]}"#, #"{"id": 2, "answers": ["b"]}"#], "r.jsonl", in: dir)
        var options = ScoringOptions(predictions: predictions, references: references)
        options.metrics = [.exactMatch]
        #expect(try PredictionScoring.run(options).means == [0])  // by order: b vs a, a vs b
        options.idField = "id"
        #expect(try PredictionScoring.run(options).means == [1])
    }

    @Test func mismatchedOrBadInputsGetClearErrors() throws {
        let dir = try TestEnvironment.temporaryDirectory("score")
        defer { try? FileManager.default.removeItem(at: dir) }
        let predictions = try Self.write([#"{"id": "x", "prediction": "a"}"#, #"{"id": "y", "prediction": "b"}"#], "p.jsonl", in: dir)
        func failure(_ options: ScoringOptions) -> InputError? {
            do { _ = try PredictionScoring.run(options); return nil } catch { return error as? InputError }
        }
        // Fewer references than predictions.
        var options = ScoringOptions(predictions: predictions, references: try Self.write([#"{"answers": ["a"]}"#], "r1.jsonl", in: dir))
        var error = failure(options)
        #expect(error?.reason.rawValue == "count-mismatch" && error?.location?.line == 2)
        // More references than predictions.
        options.references = try Self.write([#"{"answers": ["a"]}"#, #"{"answers": ["b"]}"#, #"{"answers": ["c"]}"#], "r3.jsonl", in: dir)
        error = failure(options)
        #expect(error?.reason.rawValue == "count-mismatch" && error?.location?.line == 3)
        // Empty and missing answers.
        options.references = try Self.write([#"{"answers": []}"#, #"{"answers": ["b"]}"#], "r-empty.jsonl", in: dir)
        error = failure(options)
        #expect(error?.reason.rawValue == "missing-answers" && error?.field == "answers" && error?.location?.line == 1)
        options.references = try Self.write([#"{"answers": ["a"]}"#, #"{"gold": ["b"]}"#], "r-missing.jsonl", in: dir)
        error = failure(options)
        #expect(error?.reason.rawValue == "missing-answers" && error?.location?.line == 2)
        // Unknown and unpredicted ids.
        options.idField = "id"
        options.references = try Self.write([#"{"id": "x", "answers": ["a"]}"#, #"{"id": "z", "answers": ["b"]}"#], "r-ids.jsonl", in: dir)
        error = failure(options)
        #expect(error?.reason.rawValue == "unknown-id" && error?.location == RecordLocation(file: predictions, line: 2))
        // A prediction without its field.
        let noPrediction = try Self.write([#"{"answer": "a", "answers": ["a"]}"#], "p-bad.jsonl", in: dir)
        error = failure(ScoringOptions(predictions: noPrediction))
        #expect(error?.field == "prediction" && error?.reason.rawValue == "missing-field")
    }
}
