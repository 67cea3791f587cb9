import Foundation
import Testing
import TestSupport

/// `build --progress` with standard error not a terminal prints plain lines for every stage,
/// packing included; `--quiet` prints none. Runs the `longmix` binary (stderr is a file here).
@Suite struct BuildProgressTests {
    static let mixture = TestEnvironment.repoRoot.appendingPathComponent("Mixtures/fixtures/pretrain-32k.yaml").path

    @Test(.enabled(if: CommandRunner.binary != nil, "needs the longmix binary (swift build)"))
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
    }
}
