import Foundation
import Testing
import TestSupport

/// OpenBLAS is opened only by commands that run a model: a data command (`stats`, `build`) never
/// loads the library, so never starts its spinning thread pool; `train` does. The dynamic loader
/// reports every library it opens with LD_DEBUG=libs (glibc).
@Suite struct OpenBLASLoadingTests {
    static func loadsOpenBLAS(_ outcome: CommandRunner.Outcome) -> Bool {
        outcome.stderr.split(separator: "\n").contains { $0.contains("calling init:") && $0.contains("libopenblas") }
    }

    func root(_ path: String) -> String { TestEnvironment.repoRoot.appendingPathComponent(path).path }

    @Test(.needsBinary)
    func onlyModelCommandsOpenOpenBLAS() throws {
        let scratch = try TestEnvironment.temporaryDirectory("openblas-loading")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let trace = ["LD_DEBUG": "libs"]
        let stats = try CommandRunner.run(["stats", root("Fixtures/redpajama")], environment: trace)
        #expect(stats.status == 0, "\(stats.stderr.suffix(2000))")
        #expect(stats.stderr.contains("calling init:"), "LD_DEBUG=libs traced nothing: \(stats.stderr.prefix(500))")
        #expect(!Self.loadsOpenBLAS(stats), "stats opened OpenBLAS")

        let pack = scratch.appendingPathComponent("pack").path
        let build = try CommandRunner.run(["build", root("Mixtures/fixtures/pretrain-32k.yaml"), "--threads", "1", "--quiet", "-o", pack],
                                          environment: trace, timeout: 600)
        #expect(build.status == 0, "\(build.stderr.suffix(2000))")
        #expect(!Self.loadsOpenBLAS(build), "build opened OpenBLAS")

        let train = try CommandRunner.run(["train", "--pack", pack, "--model", root("Models/tiny-fixture.json"), "--steps", "1",
                                           "--context", "64", "--batch", "1", "--threads", "1", "--quiet",
                                           "-o", scratch.appendingPathComponent("run").path], environment: trace, timeout: 600)
        #expect(train.status == 0, "\(train.stderr.suffix(2000))")
        #expect(Self.loadsOpenBLAS(train), "train ran a model without opening OpenBLAS through the loader")
    }
}
