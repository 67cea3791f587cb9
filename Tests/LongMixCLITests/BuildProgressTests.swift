import Foundation
import Testing
import TestSupport

/// `build --progress` with standard error not a terminal prints plain lines for every stage,
/// packing included; `--quiet` prints none; `train` and `eval ppl` on the pack count tokens the
/// same way. Runs the `longmix` binary (stderr is a file here).
@Suite struct BuildProgressTests {
    static let mixture = TestEnvironment.repoRoot.appendingPathComponent("Mixtures/fixtures/pretrain-32k.yaml").path

    @Test(.needsBinary)
    func progressLinesCoverEveryStageIncludingPacking() throws {
        let scratch = try TestEnvironment.temporaryDirectory("build-progress")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let run = try CommandRunner.run(["build", Self.mixture, "--threads", "1", "--progress",
                                         "-o", scratch.appendingPathComponent("pack").path], timeout: 600)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stderr.split(separator: "\n").map(String.init)
        #expect(!run.stderr.contains("\r"), "plain lines, no bar redraws, when stderr is not a terminal")
        for stage in ["count ", "tokenize ", "pack"] {
            let stageLines = lines.filter { $0.hasPrefix(stage) && $0.contains("% of ") && $0.contains("MB/s") && $0.contains("ETA") }
            #expect(!stageLines.isEmpty, "no progress line for stage '\(stage)' in:\n\(run.stderr)")
        }
        let pack = try #require(lines.last { $0.hasPrefix("pack: ") })
        #expect(pack.hasPrefix("pack: 100.0% of "), "the packing stage ends complete: \(pack)")

        let quiet = try CommandRunner.run(["build", Self.mixture, "--threads", "1", "--quiet",
                                           "-o", scratch.appendingPathComponent("pack-quiet").path], timeout: 600)
        #expect(quiet.status == 0, "\(quiet.stderr)")
        #expect(!quiet.stderr.contains("% of "), "--quiet prints no progress: \(quiet.stderr)")

        // The model half's long commands report through the same meter, counting tokens.
        let packDir = scratch.appendingPathComponent("pack").path, run2 = scratch.appendingPathComponent("run").path
        let train = try CommandRunner.run(["train", "--pack", packDir, "--model", root("Models/tiny-fixture.json"), "--steps", "2",
                                           "--context", "64", "--batch", "1", "--threads", "1", "--progress", "-o", run2], timeout: 600)
        #expect(train.status == 0, "\(train.stderr)")
        let trained = try #require(train.stderr.split(separator: "\n").last { $0.hasPrefix("train: ") }, "\(train.stderr)")
        #expect(trained.hasPrefix("train: 100.0% of 128 tokens, ") && trained.contains("tokens/s") && trained.contains("step 2/2  loss "),
                "\(trained)")
        let checkpoint = train.stdout.split(separator: " ").last.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) } ?? ""
        let eval = try CommandRunner.run(["eval", "ppl", "--checkpoint", checkpoint, "--contexts", "64",
                                          "--tokenizer", root("Fixtures/tokenizer/fixture-bpe.model"), root("Fixtures/redpajama"),
                                          "--max-documents", "2", "--min-tokens", "64", "--threads", "1", "--progress"], timeout: 600)
        #expect(eval.status == 0, "\(eval.stderr)")
        #expect(eval.stderr.split(separator: "\n").contains { $0.contains(" at 64: 100.0% of 126 tokens, ") }, "\(eval.stderr)")
        let evalQuiet = try CommandRunner.run(["eval", "ppl", "--checkpoint", checkpoint, "--contexts", "64",
                                               "--tokenizer", root("Fixtures/tokenizer/fixture-bpe.model"), root("Fixtures/redpajama"),
                                               "--max-documents", "2", "--min-tokens", "64", "--threads", "1", "--quiet"], timeout: 600)
        #expect(evalQuiet.status == 0 && evalQuiet.stderr.isEmpty, "--quiet prints nothing: \(evalQuiet.stderr)")
    }

    func root(_ path: String) -> String { TestEnvironment.repoRoot.appendingPathComponent(path).path }
}
