import Foundation
import Testing
import TestSupport

/// Processes sharing one decontamination index at once: two builds, two imports, a scan during an
/// import. Each must succeed or fail with a clear message naming the index; none may corrupt it.
@Suite(.serialized) struct ConcurrencyTests {
    /// Runs the commands at the same time, one process each.
    static func together(_ commands: [[String]]) -> [CommandRunner.Outcome?] {
        let results = Results(commands.count)
        DispatchQueue.concurrentPerform(iterations: commands.count) { i in
            results.set(i, try? CommandRunner.run(commands[i], timeout: 600))
        }
        return results.values
    }

    static func mixture(_ scratch: URL, index: String) throws -> String {
        let fixtures = TestEnvironment.fixtures.path
        let text = try String(contentsOf: TestEnvironment.repoRoot.appendingPathComponent("Mixtures/fixtures/pretrain-32k.yaml"), encoding: .utf8)
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            if line.hasPrefix("tokenizer:") { return "tokenizer: \(fixtures)/tokenizer/fixture-bpe.model" }
            if line.hasPrefix("data_root:") { return "data_root: \(fixtures)" }
            if line.hasPrefix("  index:") { return "  index: \(index)" }
            if line.hasPrefix("  test_sets:") { return "  test_sets: [\(fixtures)/helm]" }
            return String(line)
        }
        let path = scratch.appendingPathComponent("mix.yaml").path
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(.needsBinary) func twoBuildsShareOneIndex() throws {
        let scratch = try TestEnvironment.temporaryDirectory("concurrent-builds")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let index = scratch.appendingPathComponent("helm.sqlite").path
        let mix = try Self.mixture(scratch, index: index)
        for round in 0..<2 {
            let outs = (0..<2).map { scratch.appendingPathComponent("pack-\(round)-\($0)").path }
            let results = Self.together(outs.map { ["build", mix, "--threads", "1", "-o", $0] })
            for (r, out) in zip(results, outs) {
                #expect(r?.status == 0 && r?.signaled == false, "round \(round): \(r?.stderr ?? "did not run")")
                let verify = try CommandRunner.run(["inspect", out, "--verify"])
                #expect(verify.status == 0, "\(verify.stdout)")
            }
            let a = try Data(contentsOf: URL(fileURLWithPath: outs[0] + "/tokens.bin"))
            let b = try Data(contentsOf: URL(fileURLWithPath: outs[1] + "/tokens.bin"))
            #expect(a == b && !a.isEmpty)
        }
    }

    @Test(.needsBinary) func twoImportsIntoOneIndexSerialize() throws {
        let scratch = try TestEnvironment.temporaryDirectory("concurrent-imports")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let helm = TestEnvironment.fixtures.appendingPathComponent("helm").path
        let sequential = scratch.appendingPathComponent("sequential.sqlite").path
        let once = try CommandRunner.run(["decontam", "index", "--index", sequential, "--protocol", "helm", helm])
        #expect(once.status == 0, "\(once.stderr)")
        for round in 0..<3 {
            let shared = scratch.appendingPathComponent("shared-\(round).sqlite").path
            let results = Self.together([["decontam", "index", "--index", shared, "--protocol", "helm", helm],
                                         ["decontam", "index", "--index", shared, "--protocol", "helm", helm]])
            for r in results { #expect(r?.status == 0 && r?.signaled == false, "round \(round): \(r?.stderr ?? "did not run")") }
            // The same rows as one import: the second added nothing, nothing was lost or doubled.
            let again = try CommandRunner.run(["decontam", "index", "--index", shared, "--protocol", "helm", helm])
            #expect(Self.rows(once.stdout) != nil && Self.rows(once.stdout) == Self.rows(again.stdout), "\(again.stdout)")
        }
    }

    @Test(.needsBinary) func aScanDuringAnImportSucceedsOrSaysWhy() throws {
        let scratch = try TestEnvironment.temporaryDirectory("scan-during-import")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let helm = TestEnvironment.fixtures.appendingPathComponent("helm").path
        let shards = TestEnvironment.fixtures.appendingPathComponent("redpajama/book").path
        for round in 0..<3 {
            let index = scratch.appendingPathComponent("i-\(round).sqlite").path
            if round > 0 { _ = try CommandRunner.run(["decontam", "index", "--index", index, "--protocol", "helm", helm]) }
            let report = scratch.appendingPathComponent("r-\(round).jsonl").path
            let results = Self.together([["decontam", "index", "--index", index, "--protocol", "helm", helm],
                                         ["decontam", "scan", "--index", index, "--protocol", "helm", "--report", report, shards]])
            #expect(results[0]?.status == 0, "import: \(results[0]?.stderr ?? "did not run")")
            let scan = results[1]
            #expect(scan?.signaled == false)
            if scan?.status != 0 {
                // Only a clear refusal naming the index is acceptable (the index may still be empty).
                #expect(scan?.stderr.contains(index) == true, "scan: \(scan?.stderr ?? "did not run")")
            }
        }
    }

    /// "index now N n-gram rows" from `decontam index` output.
    static func rows(_ output: String) -> Int? {
        guard let r = output.range(of: "index now ") else { return nil }
        return Int(output[r.upperBound...].prefix { $0.isNumber })
    }
}

private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [CommandRunner.Outcome?]
    init(_ n: Int) { storage = Array(repeating: nil, count: n) }
    func set(_ i: Int, _ value: CommandRunner.Outcome?) { lock.lock(); storage[i] = value; lock.unlock() }
    var values: [CommandRunner.Outcome?] { lock.lock(); defer { lock.unlock() }; return storage }
}
