import ArgumentParser
import Foundation
import LongMixCore
import Mixing
import Pipeline
import ShardIO

struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Write (and with --submit, submit) the Slurm jobs of a staged build: index, count, build and merge.",
        discussion: """
            Writes BUILD_DIR/slurm/{index,count,build,merge}.sbatch and submit.sh, and prints the sbatch lines: index \
            (only when the mixture names test_sets: imports them, the one writer of the decontamination index), count \
            as a job array of N tasks depending (afterok) on it, build as an array depending on count, merge depending \
            on build. Task logs go to BUILD_DIR/logs. Arrays larger than the cluster's MaxArraySize are split into \
            chunks. Every job asks for USR1 --requeue-before seconds before its time limit: the task stops cleanly and \
            requeues itself, and resumes from its complete parts. Submitting again resumes too: completed tasks are \
            skipped (a submission whose earlier jobs are still queued is refused).
            """)

    @Argument(help: "The mixture file (YAML).")
    var mixture: String

    @Option(name: .customLong("build-dir"), help: "The build directory: parts, markers, scripts and logs.")
    var buildDir: String

    @Option(help: "Tasks per stage (default: one per shard file of the mixture).")
    var tasks: Int?

    @Option(name: .shortAndLong, help: "The pack directory the merge job writes (default: BUILD_DIR/pack).")
    var output: String?

    @Option(help: "Slurm partition (default: the cluster's default partition).")
    var partition: String?

    @Option(help: "Time limit per task, in Slurm's format (e.g. 4:00:00).")
    var time: String?

    @Option(name: .customLong("cpus-per-task"), help: "CPUs per task; also the tasks' (and the merge's) --threads.")
    var cpusPerTask: Int?

    @Option(help: "Memory per task, in Slurm's format (e.g. 8G).")
    var mem: String?

    @Option(name: .customLong("max-array-size"), help: "Largest array per sbatch call (default: the cluster's MaxArraySize from scontrol, else 1001).")
    var maxArraySize: Int?

    @Option(name: .customLong("data-root"), help: "Directory the mixture's shard paths are relative to (passed to every task).")
    var dataRoot: String?

    @Option(help: "Tokenizer file to use instead of the mixture's (passed to every task).")
    var tokenizer: String?

    @Option(name: .customLong("requeue-before"), help: "Seconds before the time limit at which a task stops cleanly and requeues itself (Slurm's --signal=B:USR1@S); 0: never requeue.")
    var requeueBefore = SlurmJobScripts.defaultRequeueBefore

    @OptionGroup var keepGoing: KeepGoingOption

    @Flag(help: "Submit the jobs with sbatch, chaining their ids.")
    var submit = false

    func run() throws {
        let spec = try MixtureSpec.load(path: mixture, dataRoot: dataRoot, tokenizer: tokenizer)
        let shardCount = try spec.sources.reduce(0) { $0 + (try ShardPaths.expand($1.paths)).count }
        var stageArguments: [String] = []
        if let dataRoot { stageArguments += ["--data-root", absolute(dataRoot)] }
        if let tokenizer { stageArguments += ["--tokenizer", absolute(tokenizer)] }
        if keepGoing.keepGoing { stageArguments.append("--keep-going") }
        let build = absolute(buildDir)
        let scripts = try SlurmJobScripts(.init(
            executable: try executablePath(), mixture: absolute(mixture), buildDirectory: build,
            output: absolute(output ?? build + "/pack"), tasks: tasks ?? max(shardCount, 1),
            maxArraySize: maxArraySize ?? clusterMaxArraySize() ?? SlurmJobScripts.defaultMaxArraySize,
            partition: partition, time: time, cpusPerTask: cpusPerTask, memory: mem, stageArguments: stageArguments,
            importsTestSets: !(spec.decontamination?.testSets.isEmpty ?? true), requeueBefore: requeueBefore == 0 ? nil : requeueBefore))
        if submit { try refuseWhileQueued(scripts) }
        try scripts.write()
        let n = scripts.configuration.tasks
        print("\(n) task\(n == 1 ? "" : "s") per stage over \(shardCount) shard files; scripts in \(scripts.slurmDirectory), logs in \(scripts.logDirectory)")
        if n > shardCount {
            print("note: tasks split shard files, so \(n - shardCount) of the \(n) tasks will have nothing to read")
        }
        for line in scripts.submissionLines { print(line) }
        guard submit else {
            print("(not submitted: run `bash \(scripts.submitScriptPath)` or add --submit)")
            return
        }
        var ids: [String: String] = [:], submitted: [String] = []
        for submission in scripts.submissions {
            let waits = scripts.dependencies(of: submission).map { ids[$0.variable]! }
            let result = try runTool("sbatch", submission.arguments(dependingOn: waits))
            guard result.status == 0, let id = SlurmJobScripts.jobID(fromParsable: result.output) else {
                throw ConfigurationError(key: "--submit", "sbatch \(submission.arguments(dependingOn: waits).joined(separator: " ")) failed (exit \(result.status)): \(result.output)")
            }
            ids[submission.variable] = id
            submitted.append(id)
            try (submitted.joined(separator: "\n") + "\n").write(toFile: scripts.jobsFile, atomically: true, encoding: .utf8)
            print("submitted \(submission.variable): job \(id)")
        }
    }

    /// Refuses to submit while a chain of this build directory is still in the queue: it would
    /// race the new one for the same tasks.
    private func refuseWhileQueued(_ scripts: SlurmJobScripts) throws {
        if let previous = try? String(contentsOfFile: scripts.jobsFile, encoding: .utf8) {
            let ids = previous.split(whereSeparator: \.isWhitespace).joined(separator: ",")
            if !ids.isEmpty, let queue = try? runTool("squeue", ["-h", "-j", ids, "-o", "%i %T %r"]), queue.status == 0,
               !queue.output.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw ConfigurationError(key: "--submit", "jobs of an earlier submission for \(scripts.configuration.buildDirectory) are still queued or running:\n\(queue.output)"
                                         + "wait for them, or `scancel \(ids.replacingOccurrences(of: ",", with: " "))`, then submit again")
            }
        }
    }

    private func absolute(_ path: String) -> String {
        URL(fileURLWithPath: path).standardizedFileURL.path
    }

    /// This process's own executable, which the tasks run too.
    private func executablePath() throws -> String {
        let link = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return absolute(link)
    }

    private func clusterMaxArraySize() -> Int? {
        guard let result = try? runTool("scontrol", ["show", "config"]), result.status == 0 else { return nil }
        return SlurmJobScripts.maxArraySize(fromShowConfig: result.output)
    }

    /// Runs a Slurm tool found on PATH; its exit status and standard output plus error.
    private func runTool(_ name: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [name] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
