import ArgumentParser
import Foundation
import Testing
import TestSupport
@testable import LongMixCLI

/// Every `longmix ...` line in README.md's code blocks must parse with the real command tree, so
/// the README and the CLI cannot disagree.
@Suite struct ReadmeCommandTests {
    /// The `longmix` command lines of the README's code blocks (indented or fenced), with their
    /// README line numbers; a line ending in `\\` continues on the next, as in a shell. Optional
    /// parts written `[--flag value]` are kept (brackets removed).
    static func readmeCommandLines() throws -> [(line: Int, words: [String])] {
        let text = try String(contentsOf: TestEnvironment.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        var result: [(Int, [String])] = []
        var fenced = false
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var number = 0
        while number < lines.count {
            let first = number
            var line = lines[number]
            number += 1
            if line.hasPrefix("```") { fenced.toggle(); continue }
            guard fenced || line.hasPrefix("    ") else { continue }
            while line.hasSuffix("\\"), number < lines.count {
                line = String(line.dropLast()) + " " + lines[number].trimmingCharacters(in: .whitespaces)
                number += 1
            }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("longmix ") else { continue }
            let words = try ShellWords.split(trimmed.replacingOccurrences(of: "[", with: "").replacingOccurrences(of: "]", with: ""))
            result.append((first + 1, Array(words.dropFirst())))
        }
        return result
    }

    @Test func everyReadmeCommandLineParses() throws {
        let lines = try Self.readmeCommandLines()
        #expect(lines.count >= 15, "expected the README's command sections, found \(lines.count) longmix lines")
        for (line, words) in lines {
            do {
                _ = try LongMix.parseAsRoot(words)
            } catch {
                let message = LongMix.message(for: error)
                Issue.record("README.md:\(line): `longmix \(words.joined(separator: " "))` does not parse: \(message)")
            }
        }
    }

    /// Every leaf command appears in at least one README line, so no command goes undocumented.
    @Test func everyCommandIsInTheReadme() throws {
        let documented = Set(try Self.readmeCommandLines().map { words in
            words.words.prefix { !$0.hasPrefix("-") }.prefix(2).joined(separator: " ")
        })
        func leaves(_ command: ParsableCommand.Type, path: [String]) -> [String] {
            let subcommands = command.configuration.subcommands
            if subcommands.isEmpty { return [path.joined(separator: " ")] }
            return subcommands.flatMap { leaves($0, path: path + [$0._commandName]) }
        }
        for leaf in leaves(LongMix.self, path: []) {
            #expect(documented.contains { $0 == leaf || $0.hasPrefix(leaf + " ") },
                    "`longmix \(leaf)` has no example line in README.md")
        }
    }

    @Test func shellWordsSplitLikeAShell() throws {
        #expect(try ShellWords.split(#"cat a.jsonl --template '{a}\n\n{b}' -o "x y"  # note"#)
                == ["cat", "a.jsonl", "--template", #"{a}\n\n{b}"#, "-o", "x y"])
        #expect(throws: ShellWords.Unterminated.self) { try ShellWords.split("cat 'a") }
    }

    /// README says its numpy pack loader is the exact code the test suite runs: the Python block
    /// after "Loading it with numpy" equals the marked region of `Tests/Oracles/pack_numpy_loader.py`
    /// (less the README's one-line import and the oracle's `pack = sys.argv[1]`).
    @Test func readmeNumpyLoaderIsTheOraclesCode() throws {
        let root = TestEnvironment.repoRoot
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let oracle = try String(contentsOf: root.appendingPathComponent("Tests/Oracles/pack_numpy_loader.py"), encoding: .utf8)
        let afterHeading = try #require(readme.range(of: "Loading it with numpy")).upperBound
        let open = try #require(readme.range(of: "```python\n", range: afterHeading..<readme.endIndex)).upperBound
        let close = try #require(readme.range(of: "```", range: open..<readme.endIndex)).lowerBound
        let readmeLines = readme[open..<close].split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(readmeLines.first == "import json, numpy as np")
        let begin = try #require(oracle.range(of: "# --- the README's loader ")).upperBound
        let body = oracle[begin...].drop { $0 != "\n" }.dropFirst()
        let end = try #require(body.range(of: "\n# ----")).lowerBound
        let oracleLines = body[..<end].split(separator: "\n", omittingEmptySubsequences: false).filter { $0 != "pack = sys.argv[1]" }
        #expect(Array(readmeLines.dropFirst()) == oracleLines, "README.md's numpy loader differs from Tests/Oracles/pack_numpy_loader.py")
    }
}
