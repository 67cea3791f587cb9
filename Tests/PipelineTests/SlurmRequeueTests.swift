import Foundation
import Testing
import TestSupport
@testable import Pipeline

/// Requeue before a time limit, locally: the scripts `longmix slurm` writes, run by bash with the
/// environment Slurm gives an array element, the real `longmix`, and a stand-in `scontrol` that
/// records what it is asked. (The Slurm tier, scripts/test-slurm.sh, does the same on a real
/// cluster.)
@Suite(.serialized) struct SlurmRequeueTests {
    /// A batch shell: bash running `script` with `environment`, standard error into `log`.
    /// Spawned with no signal blocked and USR1 at its default action, as slurmstepd starts a batch
    /// script: a child of a test thread would otherwise inherit that thread's blocked signals
    /// (libdispatch's workers block them), and bash cannot trap a signal it cannot receive.
    struct Shell {
        let pid: pid_t

        init(_ script: String, _ environment: [String: String], log: URL) throws {
            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            var none = sigset_t(), usr1 = sigset_t()
            sigemptyset(&none)
            sigemptyset(&usr1)
            sigaddset(&usr1, SIGUSR1)
            posix_spawnattr_setsigmask(&attributes, &none)
            posix_spawnattr_setsigdefault(&attributes, &usr1)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 2, log.path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
            let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/bash"), strdup(script), nil]
            let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { (argv + envp).forEach { free($0) } }
            var pid: pid_t = 0
            let status = posix_spawn(&pid, "/bin/bash", &actions, &attributes, argv, envp)
            guard status == 0 else { throw POSIXError(POSIXErrorCode(rawValue: status) ?? .EINVAL) }
            self.pid = pid
        }

        /// Waits for the shell to exit; its exit status (128 + n when killed by signal n).
        func wait() -> Int32 {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        }
    }

    /// Temporaries and locks anywhere below `root`.
    static func leftovers(_ root: String) -> [String] {
        let names = FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? []
        return names.filter { $0.contains(".tmp-") || $0.hasSuffix(".lock") || $0.contains(".partial-") || $0.contains(".old-") }
    }

    @Test(.needsBinary) func aTaskToldToStopRemovesItsTemporariesAndRequeuesItself() throws {
        let binary = try #require(CommandRunner.binary)
        let scratch = try TestEnvironment.temporaryDirectory("slurm-requeue")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let mixture = try ConcurrencyTests.mixture(scratch, index: scratch.appendingPathComponent("index.sqlite").path)
        let bin = scratch.appendingPathComponent("bin")
        try FileManager.default.createDirectory(at: bin, withIntermediateDirectories: true)
        let calls = scratch.appendingPathComponent("scontrol.calls")
        try "#!/bin/bash\necho \"$*\" >> \(calls.path)\n".write(to: bin.appendingPathComponent("scontrol"), atomically: true, encoding: .utf8)
        chmod(bin.appendingPathComponent("scontrol").path, 0o755)
        let build = scratch.appendingPathComponent("build").path
        let scripts = try SlurmJobScripts(.init(executable: binary.path, mixture: mixture, buildDirectory: build,
                                                output: build + "/pack", tasks: 1, importsTestSets: true))
        try scripts.write()
        var environment = ProcessInfo.processInfo.environment
        environment["PATH"] = bin.path + ":/usr/bin:/bin"
        func recorded() -> String { (try? String(contentsOf: calls, encoding: .utf8)) ?? "" }

        // The index job imports the test sets (the tasks only read the index).
        environment["SLURM_JOB_ID"] = "20"
        let index = try Shell(scripts.scriptPath(.index), environment, log: scratch.appendingPathComponent("index.log"))
        #expect(index.wait() == 0, "\((try? String(contentsOf: scratch.appendingPathComponent("index.log"), encoding: .utf8)) ?? "")")

        // Count task 0 of 1 is array job 21's element 0 (whose own job id is the array's: requeueing
        // "21" would requeue the whole array). USR1 reaches its batch shell while the task holds its lock.
        environment["SLURM_JOB_ID"] = "21"
        environment["SLURM_ARRAY_JOB_ID"] = "21"
        environment["SLURM_ARRAY_TASK_ID"] = "0"
        let slot = BuildDirectory(path: build).countSlot(.single)
        let firstLog = scratch.appendingPathComponent("count-1.log")
        let first = try Shell(scripts.scriptPath(.count), environment, log: firstLog)
        let deadline = Date().addingTimeInterval(120)
        while !FileManager.default.fileExists(atPath: slot.lock) && !slot.isComplete && Date() < deadline { usleep(1_000) }
        #expect(FileManager.default.fileExists(atPath: slot.lock), "the task never took its lock")
        kill(first.pid, SIGUSR1)
        let firstStatus = first.wait()
        let firstText = (try? String(contentsOf: firstLog, encoding: .utf8)) ?? ""
        #expect(firstStatus == 0, "\(firstText)")
        #expect(firstText.contains("interrupted (signal 10); temporaries removed"), "longmix was not stopped mid-run: \(firstText)")
        #expect(recorded() == "requeue 21_0\n")
        #expect(!slot.isComplete)
        #expect(Self.leftovers(build).isEmpty, "left: \(Self.leftovers(build))")

        // The requeued run (same job id) completes the part and does not requeue again.
        environment["SLURM_RESTART_COUNT"] = "1"
        let second = try Shell(scripts.scriptPath(.count), environment, log: scratch.appendingPathComponent("count-2.log"))
        #expect(second.wait() == 0)
        #expect(slot.isComplete)
        #expect(recorded() == "requeue 21_0\n")
        #expect(Self.leftovers(build).isEmpty, "left: \(Self.leftovers(build))")

        // Its part is the one an uninterrupted task writes.
        let reference = scratch.appendingPathComponent("reference").path
        let clean = try CommandRunner.run(["count", mixture, "--build-dir", reference, "--task-index", "0", "--task-count", "1"])
        #expect(clean.status == 0, "\(clean.stderr)")
        let part = slot.part, referencePart = BuildDirectory(path: reference).countSlot(.single).part
        let files = try FileManager.default.contentsOfDirectory(atPath: part).sorted()
        #expect(files == (try FileManager.default.contentsOfDirectory(atPath: referencePart).sorted()) && files.contains("count.json"))
        for file in files {
            #expect(FileManager.default.contents(atPath: part + "/" + file) == FileManager.default.contents(atPath: referencePart + "/" + file), "\(file)")
        }
    }

    /// A task lock left by a run of this very Slurm job (requeued, so the earlier run is over,
    /// wherever it ran) is stale; one of another job on another host is trusted to be running.
    @Test func aRequeuedJobTakesOverItsOwnEarlierLock() {
        let here = TaskLock.hostName()
        #expect(!TaskLock.isAlive("other-node 4242 job 21", environment: ["SLURM_JOB_ID": "21"]))
        #expect(TaskLock.isAlive("other-node 4242 job 21", environment: ["SLURM_JOB_ID": "22"]))
        #expect(TaskLock.isAlive("other-node 4242 job 21", environment: [:]))
        #expect(TaskLock.isAlive("other-node 4242", environment: ["SLURM_JOB_ID": "21"]))
        #expect(TaskLock.isAlive("\(here) \(getpid()) job 21", environment: ["SLURM_JOB_ID": "22"]))
        #expect(TaskLock.isAlive(TaskLock.me(environment: ["SLURM_JOB_ID": "21"]), environment: ["SLURM_JOB_ID": "21"]))
        #expect(!TaskLock.isAlive("garbage", environment: [:]))
    }

    /// A part is published whole or not at all: a write that fails leaves neither a part, a
    /// marker, a temporary nor the lock; a complete one is not rewritten.
    @Test func aSlotIsCompleteOnlyOnceItsPartIsWhole() throws {
        let scratch = try TestEnvironment.temporaryDirectory("slot")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let slot = BuildDirectory(path: scratch.path).tokenizeSlot(try BuildTask(index: 1, count: 3), range: 2)
        struct Failure: Error {}
        #expect(throws: Failure.self) {
            try BuildDirectory.publish(slot) { temporary in
                try Data("half".utf8).write(to: URL(fileURLWithPath: temporary + "/counts.json"))
                #expect(FileManager.default.fileExists(atPath: slot.lock))
                throw Failure()
            }
        }
        #expect(!slot.isComplete && !FileManager.default.fileExists(atPath: slot.part))
        #expect(Self.leftovers(scratch.path).isEmpty, "left: \(Self.leftovers(scratch.path))")
        #expect(try BuildDirectory.publish(slot) { try Data("whole".utf8).write(to: URL(fileURLWithPath: $0 + "/counts.json")) })
        #expect(slot.isComplete && FileManager.default.contents(atPath: slot.part + "/counts.json") == Data("whole".utf8))
        #expect(try !BuildDirectory.publish(slot) { _ in Issue.record("a complete part was rewritten") })
        #expect(Self.leftovers(scratch.path).isEmpty)
    }
}
