import Foundation
import Testing
import TestSupport

/// Generated bad mixtures: every key of the fixture mixtures set to wrong types, negative, zero,
/// huge and non-finite values (and the numeric keys they may lack added with them), each run
/// through `longmix plan` and, when the plan succeeds, `longmix build`, in a subprocess: the
/// process must always exit (never a signal, never a hang), with status 0 or a one-line
/// `Error: ...` message.
@Suite(.serialized) struct MixtureMutationTests {
    static let values = ["-1", "0", "1e308", ".inf", ".nan", "9223372036854775807", "-9223372036854775808",
                         "4294967296", "abc", "[]", "{}", "../x"]

    /// Keys whose values are numbers the build computes with.
    static let numericKeys = ["seed", "seq_len", "min_doc_tokens", "budget", "weight", "special_tokens", "decontamination.n",
                              "max_epochs", "sources[0].min_doc_tokens"]

    /// A small data root with the fixture mixtures' layout and fields, so a successful run is quick.
    static func makeData(_ root: URL) throws {
        var state: UInt64 = 7
        func word() -> String {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return "w\((state >> 33) % 60)"
        }
        func text(_ n: Int) -> String { (0..<n).map { _ in word() }.joined(separator: " ") }
        func quoted(_ s: String) -> String { "\"\(s)\"" }
        let layout: [(String, (Int) -> String)] = [
            ("redpajama/book", { _ in "{\"text\": \(quoted(text(2300)))}" }),
            ("redpajama/other", { _ in "{\"text\": \(quoted(text(2300)))}" }),
            ("oig", { _ in "{\"text\": \(quoted(text(2300)))}" }),
            ("pile", { _ in "{\"text\": \(quoted(text(2300)))}" }),
            ("redpajama/arxiv", { _ in "{\"text\": \(quoted(text(2300))), \"meta\": {\"abstract\": \(quoted(text(40)))}}" }),
            ("natural_instructions", { i in "{\"definition\": \(quoted(text(20))), \"inputs\": \(quoted(text(60))), \"targets\": \(quoted(text(5))), \"meta\": {\"task_name\": \"task\(i % 2)\"}}" }),
            ("p3", { i in "{\"inputs\": \(quoted(text(60))), \"targets\": \(quoted(text(5))), \"meta\": {\"template\": \"t\(i % 2)\"}}" }),
        ]
        for (dir, record) in layout {
            let url = root.appendingPathComponent(dir)
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
            try ((0..<4).map(record).joined(separator: "\n") + "\n").write(to: url.appendingPathComponent("a.jsonl"), atomically: true, encoding: .utf8)
        }
    }

    /// The fixture mixture with its paths made absolute (tokenizer, tiny data root, HELM test sets, index).
    static func base(_ name: String, data: URL, index: String) throws -> [String] {
        let fixtures = TestEnvironment.fixtures.path
        let text = try String(contentsOf: TestEnvironment.repoRoot.appendingPathComponent("Mixtures/fixtures/\(name).yaml"), encoding: .utf8)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).compactMap { line in
            if line.hasPrefix("#") { return nil }
            if line.hasPrefix("tokenizer:") { return "tokenizer: \(fixtures)/tokenizer/fixture-bpe.model" }
            if line.hasPrefix("data_root:") { return "data_root: \(data.path)" }
            if line.hasPrefix("  index:") { return "  index: \(index)" }
            if line.hasPrefix("  test_sets:") { return "  test_sets: [\(fixtures)/helm]" }
            return line
        }
    }

    /// Every mutation of `lines`: each `key: value` line with each value, and the optional
    /// numeric keys added with each value.
    static func mutations(_ lines: [String]) -> [(key: String, lines: [String])] {
        var out: [(String, [String])] = []
        let keyLine = try! NSRegularExpression(pattern: #"^(\s*(?:- )?)([a-z_]+): (.+)$"#)
        for (i, line) in lines.enumerated() {
            guard let m = keyLine.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) else { continue }
            let prefix = String(line[Range(m.range(at: 1), in: line)!]), key = String(line[Range(m.range(at: 2), in: line)!])
            for v in values {
                var mutated = lines
                mutated[i] = "\(prefix)\(key): \(v)"
                out.append(("\(key) (line \(i + 1)) = \(v)", mutated))
            }
        }
        for v in values {
            func inserted(after marker: String, _ new: String) -> [String] {
                var l = lines
                if let i = l.firstIndex(where: { $0.hasPrefix(marker) }) { l.insert(new, at: i + 1) }
                return l
            }
            out.append(("max_epochs = \(v)", inserted(after: "seed:", "max_epochs: \(v)")))
            out.append(("special_tokens.pad = \(v)", lines.map { $0.hasPrefix("special_tokens:") ? "special_tokens: {bos: true, eos: true, pad: \(v)}" : $0 }))
            out.append(("decontamination.n = \(v)", inserted(after: "  protocol:", "  n: \(v)")))
            out.append(("sources[0].min_doc_tokens = \(v)", inserted(after: "    weight:", "    min_doc_tokens: \(v)")))
        }
        return out
    }

    /// A process end the contract allows: an exit (no signal, no hang) with status 0, or non-zero
    /// with an `Error:` line on standard error and no crash report.
    static func problem(_ o: CommandRunner.Outcome) -> String? {
        if o.timedOut { return "did not finish in time" }
        if o.signaled { return "ended by signal \(o.status): \(o.stderr.suffix(300))" }
        if o.status == 0 { return nil }
        if !o.stderr.contains("Error:") || o.stderr.contains("Fatal error") || o.stderr.contains("Stack dump") {
            return "exit \(o.status) without a clear error: \(o.stderr.suffix(300))"
        }
        return nil
    }

    @Test(.needsBinary, arguments: ["pretrain-32k", "instruct-32k"])
    func mutatedMixturesNeverEndInASignal(_ name: String) throws {
        let scratch = try TestEnvironment.temporaryDirectory("mutations")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let data = scratch.appendingPathComponent("data")
        try Self.makeData(data)
        let lines = try Self.base(name, data: data, index: scratch.appendingPathComponent("helm.sqlite").path)
        let cases = Self.mutations(lines)
        #expect(cases.count > 200)
        // The unmutated mixture must build, or the mutations would prove nothing past loading.
        let basePath = scratch.appendingPathComponent("base.yaml")
        try lines.joined(separator: "\n").write(to: basePath, atomically: true, encoding: .utf8)
        let baseline = try CommandRunner.run(["build", basePath.path, "--threads", "1", "-o", scratch.appendingPathComponent("base-pack").path])
        #expect(baseline.status == 0, "the base mixture does not build: \(baseline.stderr)")

        // Two lanes: each case is an independent process.
        let tally = Tally()
        DispatchQueue.concurrentPerform(iterations: 2) { lane in
            for k in stride(from: lane, to: cases.count, by: 2) {
                let c = cases[k]
                var found: [String] = []
                var planned = false, built = false
                do {
                    let path = scratch.appendingPathComponent("m\(k).yaml")
                    try c.lines.joined(separator: "\n").write(to: path, atomically: true, encoding: .utf8)
                    let plan = try CommandRunner.run(["plan", path.path, "--threads", "1"], timeout: 60)
                    if let p = Self.problem(plan) { found.append("plan, \(c.key): \(p)") }
                    planned = plan.status == 0 && !plan.signaled
                    // Packing arithmetic depends on the numbers: build what plans with a mutated number.
                    if planned && Self.numericKeys.contains(where: { c.key.hasPrefix($0) }) {
                        let out = scratch.appendingPathComponent("pack\(k)").path
                        let build = try CommandRunner.run(["build", path.path, "--threads", "1", "-o", out], timeout: 60)
                        if let p = Self.problem(build) { found.append("build, \(c.key): \(p)") }
                        built = build.status == 0
                        try? FileManager.default.removeItem(atPath: out)
                    }
                } catch {
                    found.append("\(c.key): \(error)")
                }
                tally.add(found, planned: planned, built: built)
            }
        }
        let (failures, plans, builds, refused) = (tally.failures, tally.plans, tally.builds, tally.refused)
        print("\(name): \(cases.count) mutated mixtures, \(refused) refused by plan, \(plans) planned, \(builds) built")
        #expect(failures.isEmpty, "\(failures.count) bad endings:\n\(failures.prefix(20).joined(separator: "\n"))")
        #expect(refused > 0 && plans > 0)
    }
}

/// Results gathered from the test's lanes.
private final class Tally: @unchecked Sendable {
    private let lock = NSLock()
    var failures: [String] = []
    var plans = 0, builds = 0, refused = 0

    func add(_ found: [String], planned: Bool, built: Bool) {
        lock.lock()
        defer { lock.unlock() }
        failures += found
        if planned { plans += 1 } else { refused += 1 }
        if built { builds += 1 }
    }
}
