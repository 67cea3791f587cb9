import Foundation
import Testing
import TestSupport
import Tokenization
@testable import Tasks

@Suite struct TokenCountTests {
    /// token_count of every written example equals sentencepiece's count of its text, with the
    /// fixture tokenizer and (when ../shared is present) the real LLaMA-2 tokenizer.
    @Test(.needsPython) func tokenCountsMatchSentencePiece() throws {
        var models = [TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model").path]
        if let llama = TestEnvironment.llama2Model { models.append(llama.path) } else { print("NOTE \(#function): LLaMA-2 model absent; fixture tokenizer only") }
        let out = try TestEnvironment.temporaryDirectory("tasks-tokens")
        defer { try? FileManager.default.removeItem(at: out) }
        for (m, model) in models.enumerated() {
            let builder = TaskFileBuilder(tokenizer: try Tokenizer.load(path: model))
            let mqa = try MultiDocumentQABuilder(documentCount: 20, placement: .random(seed: 5), completionStyle: .longDataCollections)
            let mqaOut = out.appendingPathComponent("mqa-\(m).jsonl").path
            let mqaSummary = try builder.build(inputs: [TestEnvironment.fixtures.appendingPathComponent("tasks/mqa/nq-synthetic.jsonl").path],
                                               output: mqaOut) { json, location in
                try mqa.examples(for: LostInTheMiddleRecord(json: json, location: location)).map(\.taskExample)
            }
            let bookOut = out.appendingPathComponent("booksum-\(m).jsonl").path
            let bookSummary = try builder.build(inputs: [TestEnvironment.fixtures.appendingPathComponent("tasks/booksum/chapters.jsonl").path],
                                                output: bookOut) { json, location in
                [try BookSumRecord(json: json, location: location).taskExample]
            }
            for (path, summary) in [(mqaOut, mqaSummary), (bookOut, bookSummary)] {
                let ours = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map {
                    (try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any])["token_count"] as! Int
                }
                let theirs = String(decoding: try Oracle.run("tasks_token_counts.py", arguments: [model, path]), as: UTF8.self)
                    .split(separator: "\n").map { Int($0)! }
                #expect(ours == theirs && !ours.isEmpty, "\(model) \(path)")
                #expect(summary.tokens == theirs.reduce(0, +))
            }
        }
    }
}
