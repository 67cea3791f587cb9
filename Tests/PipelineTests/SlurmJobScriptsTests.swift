import Foundation
import LongMixCore
import Testing
import TestSupport
@testable import Pipeline

@Suite struct SlurmJobScriptsTests {
    func configuration(tasks: Int = 4, maxArraySize: Int = 1001, build: String = "/scratch/b") -> SlurmJobScripts.Configuration {
        .init(executable: "/opt/longmix/bin/longmix", mixture: "/m/pretrain 32k.yaml", buildDirectory: build,
              output: build + "/pack", tasks: tasks, maxArraySize: maxArraySize, partition: "cpu", time: "4:00:00",
              cpusPerTask: 8, memory: "16G", stageArguments: ["--data-root", "/data/it's here"])
    }

    @Test func countScriptRunsTaskIOfNWithTheAbsoluteBinary() throws {
        let scripts = try SlurmJobScripts(configuration())
        let count = try #require(scripts.scripts[.count])
        let lines = count.split(separator: "\n").map(String.init)
        #expect(lines[0] == "#!/bin/bash")
        #expect(lines[1] == SlurmJobScripts.marker)
        #expect(lines.contains("#SBATCH --output=/scratch/b/logs/count-%A_%a.out"))
        #expect(lines.contains("#SBATCH --partition=cpu"))
        #expect(lines.contains("#SBATCH --time=4:00:00"))
        #expect(lines.contains("#SBATCH --cpus-per-task=8"))
        #expect(lines.contains("#SBATCH --mem=16G"))
        // Requeue before the time limit: USR1 to the batch shell, which runs the task in the background.
        for line in ["#SBATCH --signal=B:USR1@300", "#SBATCH --requeue", "#SBATCH --open-mode=append", "trap requeue USR1", "child=$!"] {
            #expect(lines.contains(line), "\(line)")
        }
        #expect(lines.contains("/opt/longmix/bin/longmix count '/m/pretrain 32k.yaml' --build-dir /scratch/b --task-index \"$task\" --task-count 4 --threads 8 --data-root '/data/it'\\''s here' &"))
        #expect(lines.last == "wait \"$child\"")
        let build = try #require(scripts.scripts[.build])
        #expect(build.contains("\n/opt/longmix/bin/longmix build '/m/pretrain 32k.yaml' --build-dir /scratch/b --task-index"))
        let merge = try #require(scripts.scripts[.merge])
        #expect(merge.contains("\n/opt/longmix/bin/longmix merge /scratch/b -o /scratch/b/pack --threads 8 &\n"))
        #expect(merge.contains("#SBATCH --output=/scratch/b/logs/merge-%j.out"))
        #expect(!merge.contains("--task-index"))
        #expect(scripts.scripts[.index] == nil && scripts.stages == [.count, .build, .merge])

        // Without requeueing: the task replaces the shell, nothing is trapped.
        var plain = configuration()
        plain.requeueBefore = nil
        let count0 = try #require(try SlurmJobScripts(plain).scripts[.count])
        #expect(!count0.contains("--signal") && !count0.contains("--requeue") && !count0.contains("trap"))
        #expect(count0.hasSuffix("exec /opt/longmix/bin/longmix count '/m/pretrain 32k.yaml' --build-dir /scratch/b --task-index \"$task\" --task-count 4 --threads 8 --data-root '/data/it'\\''s here'\n"))
    }

    /// A mixture with test sets: an index job first (the one writer of the index), count after it.
    @Test func testSetsAreImportedByOneJobBeforeTheTasks() throws {
        var c = configuration()
        c.importsTestSets = true
        let scripts = try SlurmJobScripts(c)
        #expect(scripts.stages == [.index, .count, .build, .merge])
        let index = try #require(scripts.scripts[.index])
        #expect(index.contains("\n/opt/longmix/bin/longmix decontam index --mixture '/m/pretrain 32k.yaml' &\n"))
        #expect(index.contains("#SBATCH --output=/scratch/b/logs/index-%j.out"))
        #expect(scripts.submissions.map(\.variable) == ["index", "count_0", "build_0", "merge"])
        #expect(scripts.dependencies(of: scripts.submissions[1]) == [scripts.submissions[0]])
        #expect(scripts.submissionLines[0] == "index=$(sbatch --parsable /scratch/b/slurm/index.sbatch)")
        #expect(scripts.submissionLines[1].contains("--dependency=afterok:${index%%;*} /scratch/b/slurm/count.sbatch"))
    }

    @Test func optionalResourcesAreLeftToTheCluster() throws {
        let scripts = try SlurmJobScripts(.init(executable: "/l", mixture: "/m.yaml", buildDirectory: "/b", output: "/p", tasks: 2,
                                                importsTestSets: true))
        for stage in scripts.stages {
            let text = try #require(scripts.scripts[stage])
            #expect(!text.contains("--partition") && !text.contains("--time") && !text.contains("--mem")
                    && !text.contains("--cpus-per-task") && !text.contains("--threads"))
        }
    }

    /// The generated script, run by bash with Slurm's environment, gives the command line the
    /// longmix task receives: task index = chunk offset + array index, and the quoted words intact.
    @Test func scriptsExpandToTheTaskCommandUnderBash() throws {
        let dir = try TestEnvironment.temporaryDirectory("slurm-bash")
        let echo = dir.appendingPathComponent("echo-args").path
        try "#!/bin/bash\nprintf '%s\\n' \"$@\"\n".write(toFile: echo, atomically: true, encoding: .utf8)
        chmod(echo, 0o755)
        var c = configuration(tasks: 2500, maxArraySize: 1000, build: dir.path)
        c.executable = echo
        let scripts = try SlurmJobScripts(c)
        try scripts.write()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [scripts.scriptPath(.build)]
        process.environment = ["PATH": "/usr/bin:/bin", "SLURM_ARRAY_TASK_ID": "7", "LONGMIX_TASK_OFFSET": "2000"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let out = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(out.split(separator: "\n").map(String.init) == [
            "build", "/m/pretrain 32k.yaml", "--build-dir", dir.path, "--task-index", "2007", "--task-count", "2500",
            "--threads", "8", "--data-root", "/data/it's here",
        ])
    }

    @Test func submissionsChainCountBuildMerge() throws {
        let scripts = try SlurmJobScripts(configuration())
        #expect(scripts.submissions.map(\.variable) == ["count_0", "build_0", "merge"])
        let count = scripts.submissions[0], build = scripts.submissions[1], merge = scripts.submissions[2]
        #expect(count.arguments(dependingOn: []) == [
            "--parsable", "--array=0-3", "--export=ALL,LONGMIX_TASK_OFFSET=0", "/scratch/b/slurm/count.sbatch"])
        #expect(scripts.dependencies(of: build) == [count])
        #expect(build.arguments(dependingOn: ["41"]) == [
            "--parsable", "--array=0-3", "--export=ALL,LONGMIX_TASK_OFFSET=0", "--dependency=afterok:41",
            "/scratch/b/slurm/build.sbatch"])
        #expect(merge.arguments(dependingOn: ["42"]) == ["--parsable", "--dependency=afterok:42", "/scratch/b/slurm/merge.sbatch"])
        #expect(scripts.submissionLines == [
            "count_0=$(sbatch --parsable --array=0-3 --export=ALL,LONGMIX_TASK_OFFSET=0 /scratch/b/slurm/count.sbatch)",
            "build_0=$(sbatch --parsable --array=0-3 --export=ALL,LONGMIX_TASK_OFFSET=0 --dependency=afterok:${count_0%%;*} /scratch/b/slurm/build.sbatch)",
            "merge=$(sbatch --parsable --dependency=afterok:${build_0%%;*} /scratch/b/slurm/merge.sbatch)",
        ])
    }

    /// More tasks than MaxArraySize: chunks of at most MaxArraySize covering 0..<N exactly once, each
    /// stage waiting for every chunk of the stage before.
    @Test func largeArraysAreChunkedWithOffsets() throws {
        for (tasks, max) in [(1001, 1001), (1002, 1001), (2500, 1000), (7, 2), (5, 1)] {
            let scripts = try SlurmJobScripts(configuration(tasks: tasks, maxArraySize: max))
            for stage in [SlurmJobScripts.Stage.count, .build] {
                let chunks = scripts.submissions.filter { $0.stage == stage }.compactMap(\.chunk)
                #expect(chunks.allSatisfy { $0.size >= 1 && $0.size <= max })
                #expect(chunks.flatMap { Array($0.offset..<($0.offset + $0.size)) } == Array(0..<tasks))
                #expect(chunks.count == (tasks + max - 1) / max)
            }
            let builds = scripts.submissions.filter { $0.stage == .build }
            let merge = try #require(scripts.submissions.last)
            #expect(scripts.dependencies(of: merge) == builds)
            for build in builds { #expect(scripts.dependencies(of: build).count == (tasks + max - 1) / max) }
        }
        let three = try SlurmJobScripts(configuration(tasks: 2500, maxArraySize: 1000))
        #expect(three.submissionLines.last == "merge=$(sbatch --parsable --dependency=afterok:${build_0%%;*}:${build_1%%;*}:${build_2%%;*} /scratch/b/slurm/merge.sbatch)")
        #expect(three.submissions[2].arguments(dependingOn: []).contains("--array=0-499"))
        #expect(three.submissions[2].arguments(dependingOn: []).contains("--export=ALL,LONGMIX_TASK_OFFSET=2000"))
    }

    @Test func badOptionsAreRefusedNamingTheOption() {
        func refusal(_ change: (inout SlurmJobScripts.Configuration) -> Void) -> String? {
            var c = configuration()
            change(&c)
            do { _ = try SlurmJobScripts(c); return nil } catch { return "\(error)" }
        }
        #expect(refusal { $0.tasks = 0 }?.contains("--tasks") == true)
        #expect(refusal { $0.cpusPerTask = 0 }?.contains("--cpus-per-task") == true)
        #expect(refusal { $0.partition = "a b" }?.contains("--partition") == true)
        #expect(refusal { $0.memory = "" }?.contains("--mem") == true)
        #expect(refusal { $0.buildDirectory = "relative/b" }?.contains("--build-dir") == true)
        #expect(refusal { $0.maxArraySize = 0 }?.contains("MaxArraySize") == true)
        #expect(refusal { $0.requeueBefore = 0 }?.contains("--requeue-before") == true)
        #expect(refusal { _ in } == nil)
    }

    @Test func writeCreatesScriptsAndLogsAndNeverReplacesForeignFiles() throws {
        let dir = try TestEnvironment.temporaryDirectory("slurm-write")
        let scripts = try SlurmJobScripts(configuration(build: dir.path))
        try scripts.write()
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: scripts.logDirectory, isDirectory: &isDirectory) && isDirectory.boolValue)
        for stage in scripts.stages {
            #expect(try String(contentsOfFile: scripts.scriptPath(stage), encoding: .utf8) == scripts.scripts[stage])
        }
        #expect(!FileManager.default.fileExists(atPath: scripts.scriptPath(.index)))
        #expect(try String(contentsOfFile: scripts.submitScriptPath, encoding: .utf8) == scripts.submitScript)
        try scripts.write()  // its own files: rewritten
        try "#!/bin/bash\necho mine\n".write(toFile: scripts.scriptPath(.merge), atomically: true, encoding: .utf8)
        #expect(throws: InputError.self) { try scripts.write() }
        #expect(try String(contentsOfFile: scripts.scriptPath(.merge), encoding: .utf8) == "#!/bin/bash\necho mine\n")
    }

    @Test func parsesSlurmOutput() {
        #expect(SlurmJobScripts.jobID(fromParsable: "1234\n") == "1234")
        #expect(SlurmJobScripts.jobID(fromParsable: "1234;cluster\n") == "1234")
        #expect(SlurmJobScripts.jobID(fromParsable: "sbatch: error: Batch job submission failed") == nil)
        #expect(SlurmJobScripts.jobID(fromParsable: "") == nil)
        let config = "Configuration data as of 2026-12-01T21:48:46\nMaxArraySize            = 4001\nMaxJobCount             = 10000\n"
        #expect(SlurmJobScripts.maxArraySize(fromShowConfig: config) == 4001)
        #expect(SlurmJobScripts.maxArraySize(fromShowConfig: "MaxJobCount = 1") == nil)
        #expect(SlurmJobScripts.quoted("/plain/path-1.yaml") == "/plain/path-1.yaml")
        #expect(SlurmJobScripts.quoted("a b") == "'a b'")
        #expect(SlurmJobScripts.quoted("") == "''")
        #expect(SlurmJobScripts.quoted("$HOME") == "'$HOME'")
    }
}
