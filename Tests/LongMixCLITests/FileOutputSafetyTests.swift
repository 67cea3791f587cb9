import Foundation
import Testing
import TestSupport
import ShardIO
@testable import LongMixCLI

/// Every command's file outputs, run for real over generated pre-existing states: a path is
/// written only when absent, or when it holds a regular file and `--force` is given; a directory,
/// a symbolic link or an input of the run is refused either way. Every pre-existing file other
/// than the one replaced stays byte for byte as it was, and no temporary is left.
@Suite struct FileOutputSafetyTests {
    static let model = TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model").path

    enum Destination: String, CaseIterable { case absent, userFile, directory, linkToUserFile, input }

    /// A command writing one file (and, for a Megatron pair, its companion `.idx`).
    struct Writer {
        var name: String
        /// The output's file name; `input` is the file of the same extension the command reads.
        var output: String
        var input: String?
        var companion: String?
        var words: (_ output: String) -> [String]
    }

    /// The inputs every writer reads, made in `scratch`, and the writers.
    static func writers(in scratch: URL) throws -> [Writer] {
        func path(_ name: String) -> String { scratch.appendingPathComponent(name).path }
        try Data(#"{"text": "The quick brown fox."}"#.utf8 + [10] + #"{"text": "Jumps over the lazy dog."}"#.utf8 + [10])
            .write(to: URL(fileURLWithPath: path("in.jsonl")))
        try Data("{\"ids\": [5, 6, 7]}\n{\"ids\": [8]}\n".utf8).write(to: URL(fileURLWithPath: path("ids.jsonl")))
        try Data(#"{"prediction": "Paris", "answers": ["Paris"]}"#.utf8 + [10]).write(to: URL(fileURLWithPath: path("predictions.jsonl")))
        try FileManager.default.copyItem(atPath: TestEnvironment.fixtures.appendingPathComponent("tasks/booksum/chapters.jsonl").path,
                                         toPath: path("chapters.jsonl"))
        let tokenize = ["tokenize", "--tokenizer", model, path("in.jsonl"), "--threads", "1", "--quiet"]
        return [
            Writer(name: "tokenize .jsonl", output: "in.jsonl", input: "in.jsonl") { tokenize + ["-o", $0] },
            Writer(name: "tokenize .npy", output: "ids.npy") { tokenize + ["-o", $0] },
            Writer(name: "tokenize .bin", output: "ids.bin", companion: "ids.idx") { tokenize + ["-o", $0] },
            Writer(name: "detokenize", output: "ids.jsonl", input: "ids.jsonl") {
                ["detokenize", "--tokenizer", model, path("ids.jsonl"), "-o", $0]
            },
            Writer(name: "score", output: "predictions.jsonl", input: "predictions.jsonl") {
                ["score", path("predictions.jsonl"), "--metrics", "em", "-o", $0]
            },
            Writer(name: "tasks booksum", output: "chapters.jsonl", input: "chapters.jsonl") {
                ["tasks", "booksum", path("chapters.jsonl"), "-o", $0]
            },
        ]
    }


    @Test func fileOutputsNeedForceToReplaceAndNeverTouchAnythingElse() throws {
        var cases = 0
        let probe = try TestEnvironment.temporaryDirectory("writers-probe")
        let count = try Self.writers(in: probe).count
        try FileManager.default.removeItem(at: probe)
        for index in 0..<count {
            for destination in Destination.allCases {
                for force in [false, true] {
                    let scratch = try TestEnvironment.temporaryDirectory("file-output")
                    defer { try? FileManager.default.removeItem(at: scratch) }
                    let writer = try Self.writers(in: scratch)[index]
                    let user = scratch.appendingPathComponent("thesis.tex")
                    try Data("precious".utf8).write(to: user)
                    var out = scratch.appendingPathComponent("out-" + writer.output)
                    let companion = writer.companion.map { scratch.appendingPathComponent("out-" + $0) }
                    switch destination {
                    case .absent: break
                    case .userFile:
                        try Data("the user's file".utf8).write(to: out)
                        if let companion { try Data("the user's index".utf8).write(to: companion) }
                    case .directory: try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                    case .linkToUserFile: try FileManager.default.createSymbolicLink(at: out, withDestinationURL: user)
                    case .input:
                        guard let input = writer.input else { continue }
                        out = scratch.appendingPathComponent(input)
                    }
                    let before = TestEnvironment.snapshot(scratch)
                    var accepted = true
                    do {
                        var command = try LongMix.parseAsRoot(writer.words(out.path) + (force ? ["--force"] : []))
                        try command.run()
                    } catch {
                        accepted = false
                        let message = LongMix.message(for: error)
                        #expect(message.contains(out.path), "\(writer.name) over \(destination): \(message)")
                        if destination == .userFile && !force { #expect(message.contains("--force"), "\(message)") }
                    }
                    let expected = destination == .absent || (destination == .userFile && force)
                    #expect(accepted == expected, "\(writer.name) over \(destination), force \(force): accepted \(accepted)")
                    let after = TestEnvironment.snapshot(scratch)
                    let written = accepted ? [out.path] + (companion.map { [$0.path] } ?? []) : []
                    for (path, bytes) in before where !written.contains(path) {
                        #expect(after[path] == bytes, "\(writer.name) over \(destination), force \(force): \(path) changed or vanished")
                    }
                    for path in written { #expect(after[path] != nil && after[path] != before[path], "\(writer.name): \(path) not written") }
                    let left = after.keys.filter { $0.contains(".tmp-") || $0.contains(".partial-") }
                    #expect(left.isEmpty, "\(writer.name): temporaries left \(left)")
                    cases += 1
                }
            }
        }
        #expect(cases >= 50, "\(cases) cases")
    }

    /// `--force` belongs to every command with file outputs (and to no directory output: packs,
    /// cleaned shards and training runs follow their markers).
    @Test func forceIsSharedByEveryFileWriter() {
        func parses(_ words: [String]) -> String? {
            do { _ = try LongMix.parseAsRoot(words); return nil } catch { return LongMix.message(for: error) }
        }
        let fileWriters: [[String]] = [
            ["tokenize", "--tokenizer", "t.model", "in.jsonl", "-o", "ids.npy"],
            ["detokenize", "--tokenizer", "t.model", "ids.jsonl", "-o", "text.jsonl"],
            ["score", "predictions.jsonl", "-o", "scores.jsonl"],
            ["tasks", "mqa", "-k", "20", "in.jsonl", "-o", "out.jsonl"],
            ["tasks", "booksum", "in.jsonl", "-o", "out.jsonl"],
            ["eval", "tasks", "--checkpoint", "c", "--tokenizer", "t.model", "--tasks", "mqa.jsonl", "-o", "p.jsonl"],
            ["eval", "ppl", "--checkpoint", "c", "--contexts", "128", "--tokenizer", "t.model", "docs.jsonl", "--json", "t.json"],
            ["decontam", "scan", "--index", "i.sqlite", "--report", "r.jsonl", "in.jsonl"],
            ["decontam", "report", "--index", "i.sqlite", "r.jsonl", "--summary", "s.jsonl"],
            ["loss", "--checkpoint", "c", "--pack", "p", "--gradients", "g.safetensors"],
        ]
        for words in fileWriters { #expect(parses(words + ["--force"]) == nil, "\(words.prefix(2)): \(parses(words + ["--force"]) ?? "")") }
        let directoryWriters: [[String]] = [
            ["train", "--pack", "p", "--model", "m.json", "--steps", "1", "-o", "run"],
            ["build", "m.yaml", "-o", "pack"],
        ]
        for words in directoryWriters { #expect(parses(words + ["--force"]) != nil, "\(words.prefix(1)) must not take --force") }
    }
}
