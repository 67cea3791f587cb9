import Foundation
import LongMixCore
import Testing
import TestSupport
@testable import Evaluation

/// `eval tasks`: a bad task record stops the run naming its line and field, or with
/// `--keep-going` is counted under its reason while the good ones are still generated and scored.
@Suite struct TaskEvaluationKeepGoingTests {
    /// Good records at lines 1 and 7 (num_documents 3 and 5), five bad ones between them, a blank line.
    static let lines = [
        #"{"id":"q0","prompt":"Question 0?\nAnswer:","answers":[""],"num_documents":3}"#,
        #"{"id":"q1","answers":["Rome"],"num_documents":3}"#,                      // missing prompt
        #"{"id":"q2","prompt":"Question 2?","answers":["Oslo"],"num_documents":3"#,  // malformed JSON
        #"{"id":"q3","prompt":"Question 3?","answers":[4],"num_documents":3}"#,     // answers[0] not a string
        #"{"id":"q4","prompt":"Question 4?","answers":["x"],"num_documents":"3"}"#, // num_documents a string
        #"{"id":"q5","prompt":"Question 5?","answers":[],"num_documents":3}"#,      // empty reference list
        #"{"id":"q6","prompt":"Question 6?\nAnswer:","answers":["Paris"],"num_documents":5}"#,
        "   ",
    ]

    static func setUp() throws -> (tasks: String, generator: CompletionGenerator) {
        let file = try TestEnvironment.temporaryDirectory("tasks-keep-going").appendingPathComponent("mqa.jsonl")
        try (lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        // The constant model answers "" (it stops at once at a newline).
        let tokenizer = CompletionGeneratorTests.tokenizer
        let newline = tokenizer.encode(Array("\n".utf8)).last!
        let generator = try CompletionGenerator(checkpoint: try CompletionGeneratorTests.constantPredictor(Int(newline)),
                                                tokenizer: tokenizer, context: 64)
        return (file.path, generator)
    }

    @Test func withoutKeepGoingTheFirstBadRecordStopsTheRunWithItsLineAndField() throws {
        let (tasks, generator) = try Self.setUp()
        var options = TaskEvaluation.Options(tasks: tasks, referenceField: "answers", metrics: [.exactMatch])
        options.sampling.maxTokens = 4
        var generated = 0
        let error = #expect(throws: InputError.self) {
            try TaskEvaluation.run(options, generator: generator) { _ in generated += 1 }
        }
        #expect(error?.location?.line == 2 && error?.field == "prompt" && error?.reason == .missingField)
        #expect(error.map { "\($0)" }?.contains("mqa.jsonl") == true)
        #expect(generated == 1)
    }

    @Test func keepGoingCountsEachBadRecordByReasonAndTheCountsAddUp() throws {
        let (tasks, generator) = try Self.setUp()
        var options = TaskEvaluation.Options(tasks: tasks, referenceField: "answers", metrics: [.exactMatch])
        options.sampling.maxTokens = 4
        options.skipBadRecords = true
        var lines: [Int] = []
        let summary = try TaskEvaluation.run(options, generator: generator) { lines.append($0.line) }
        #expect(lines == [1, 7] && summary.examples == 2)
        #expect(summary.groups.map(\.documents) == [3, 5] && summary.groups.map(\.examples) == [1, 1])
        #expect(summary.groups.map { $0.means[0] } == [1, 0])  // "" matches "" and not "Paris"
        #expect(summary.reading.records == 7 && summary.reading.documents == 2 && summary.reading.isBalanced)
        #expect(summary.reading.skipped == ["missing-field": 1, "malformed-json": 1, "wrong-type": 2, "missing-answers": 1])
        #expect(summary.firstErrors.map { $0.location?.line } == [2, 3, 4, 5, 6])
        #expect(summary.firstErrors[2].field == "answers[0]" && summary.firstErrors[3].field == "num_documents")
    }

    @Test func maxExamplesCountsScoredExamplesNotSkippedOnes() throws {
        let (tasks, generator) = try Self.setUp()
        var options = TaskEvaluation.Options(tasks: tasks, referenceField: "answers", metrics: [.exactMatch])
        options.sampling.maxTokens = 4
        options.skipBadRecords = true
        options.maxExamples = 2
        let summary = try TaskEvaluation.run(options, generator: generator)
        #expect(summary.examples == 2 && summary.reading.records == 7 && summary.reading.isBalanced)
    }
}
