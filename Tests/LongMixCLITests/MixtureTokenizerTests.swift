import Foundation
import LongMixCore
import Mixing
import Testing
import TestSupport
@testable import LongMixCLI

/// The shipped mixtures name `../../shared/tokenizers/llama2.model`; on a machine without it,
/// `build` and `plan` stop with the key, its line and how to pass `--tokenizer`.
@Suite struct MixtureTokenizerTests {
    @Test(arguments: ["pretrain-32k.yaml", "instruct-32k.yaml"])
    func absentTokenizerNamesKeyLineAndOverride(mixture: String) throws {
        // A copy two directories deep in a fresh scratch directory: ../../shared does not exist there.
        let scratch = try TestEnvironment.temporaryDirectory("mixture")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let deep = scratch.appendingPathComponent("a/b")
        try FileManager.default.createDirectory(at: deep, withIntermediateDirectories: true)
        let original = TestEnvironment.repoRoot.appendingPathComponent("Mixtures/\(mixture)")
        let copy = deep.appendingPathComponent(mixture)
        try FileManager.default.copyItem(at: original, to: copy)
        let text = try String(contentsOf: original, encoding: .utf8)
        let line = try #require(text.split(separator: "\n", omittingEmptySubsequences: false)
            .firstIndex { $0.hasPrefix("tokenizer:") }) + 1

        for command in ["plan", "build"] {
            let words = [command, copy.path] + (command == "build" ? ["-o", scratch.appendingPathComponent("pack").path] : [])
            var parsed = try LongMix.parseAsRoot(words)
            #expect(throws: ConfigurationError.self) { try parsed.run() }
            do { try parsed.run() } catch let error as ConfigurationError {
                #expect(error.key == "tokenizer" && error.line == line)
                #expect(error.description.contains("\(copy.path):\(line)"))
                #expect(error.description.contains("--tokenizer"))
            }
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("pack").path))
        let fixture = TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model").path
        let overridden = try LongMix.parseAsRoot(["plan", copy.path, "--tokenizer", fixture]) as! PlanCommand
        #expect(try overridden.mixture.load().tokenizer == fixture)
    }
}
