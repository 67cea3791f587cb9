import Foundation
import LongMixCore

/// The sbatch scripts and submission lines that run a staged build on a Slurm cluster: the counting
/// stage as a job array of N tasks, the tokenizing stage as a job array depending (`afterok`) on every
/// counting job, and one merge job depending on every tokenizing job. Slurm is the scheduler; the
/// scripts only call the same `longmix` binary, by absolute path, with `--task-index I --task-count N`.
///
/// Rendering is pure: the same configuration always gives the same text. Writing (``write()``) puts
/// the scripts under `<build dir>/slurm/`, creates `<build dir>/logs/` (Slurm does not create the
/// directory of `--output`; a job whose log directory is missing fails without a trace) and never
/// replaces a file it did not write.
///
/// Arrays larger than the cluster's `MaxArraySize` (Slurm's default is 1001, the largest index being
/// MaxArraySize - 1) are split into chunks of at most that many tasks, as datatrove's
/// SlurmPipelineExecutor does: each chunk is the array `0-(size-1)` submitted with
/// `LONGMIX_TASK_OFFSET` set to its first task, and the task index is the offset plus
/// `SLURM_ARRAY_TASK_ID`. The chunks of a stage run side by side; the next stage waits for all of them.
/// The task count is always passed explicitly, because `SLURM_ARRAY_TASK_COUNT` is a chunk's size.
///
/// When the mixture names `test_sets`, an `index` job comes first (`longmix decontam index
/// --mixture`): the one writer of the decontamination index; every task after it only reads it.
///
/// Requeue before the time limit: every script asks Slurm for `--signal=B:USR1@<requeueBefore>`,
/// `--requeue` and `--open-mode=append`. Slurm sends USR1 to the batch shell that long before the
/// time limit; the script's trap forwards it to `longmix`, which stops cleanly (its temporaries and
/// task lock removed, no part marked complete: see `TemporaryFiles`, `BuildDirectory.publish`),
/// then requeues its own job (`scontrol requeue ARRAYID_INDEX`: this array element only). The requeued
/// element keeps its job id, skips the parts already complete and redoes only its own; stages
/// waiting on it (`afterok`) keep waiting. A task that finished before the signal reached it
/// exits 0 and is not requeued.
public struct SlurmJobScripts: Sendable, Equatable {
    /// A build stage run on the cluster.
    public enum Stage: String, Sendable, CaseIterable {
        case index, count, build, merge
    }

    /// What the scripts run and the resources they ask for.
    public struct Configuration: Sendable, Equatable {
        /// Absolute path of the `longmix` executable the tasks run.
        public var executable: String
        /// Absolute path of the mixture file.
        public var mixture: String
        /// Absolute path of the build directory (parts, markers, scripts, logs).
        public var buildDirectory: String
        /// Absolute path of the pack directory the merge job writes.
        public var output: String
        /// Number of tasks (N) of the counting and tokenizing stages.
        public var tasks: Int
        /// The cluster's MaxArraySize: at most this many tasks per array job.
        public var maxArraySize: Int
        public var partition: String?
        public var time: String?
        public var cpusPerTask: Int?
        public var memory: String?
        /// Further arguments for the count and build commands (for example `--data-root DIR`).
        public var stageArguments: [String]
        /// Whether the mixture names test sets: then an `index` job imports them first.
        public var importsTestSets: Bool
        /// Seconds before the time limit at which Slurm sends USR1 and the task requeues itself;
        /// nil: no requeue.
        public var requeueBefore: Int?

        public init(executable: String, mixture: String, buildDirectory: String, output: String, tasks: Int,
                    maxArraySize: Int = SlurmJobScripts.defaultMaxArraySize, partition: String? = nil,
                    time: String? = nil, cpusPerTask: Int? = nil, memory: String? = nil,
                    stageArguments: [String] = [], importsTestSets: Bool = false,
                    requeueBefore: Int? = SlurmJobScripts.defaultRequeueBefore) {
            self.importsTestSets = importsTestSets
            self.requeueBefore = requeueBefore
            self.executable = executable
            self.mixture = mixture
            self.buildDirectory = buildDirectory
            self.output = output
            self.tasks = tasks
            self.maxArraySize = maxArraySize
            self.partition = partition
            self.time = time
            self.cpusPerTask = cpusPerTask
            self.memory = memory
            self.stageArguments = stageArguments
        }
    }

    /// One `sbatch` call: a stage's script, as an array chunk or (merge) a single job.
    public struct Submission: Sendable, Equatable {
        public var stage: Stage
        /// The shell variable the printed lines keep this job's id in (`count_0`, `build_1`, `merge`).
        public var variable: String
        public var script: String
        /// The chunk's first task and its number of tasks; `nil` for the merge job.
        public var chunk: (offset: Int, size: Int)?

        /// sbatch's arguments, given the job ids this submission waits for.
        public func arguments(dependingOn jobIDs: [String]) -> [String] {
            var arguments = ["--parsable"]
            if let chunk {
                arguments += ["--array=0-\(chunk.size - 1)", "--export=ALL,LONGMIX_TASK_OFFSET=\(chunk.offset)"]
            }
            if !jobIDs.isEmpty { arguments.append("--dependency=afterok:" + jobIDs.joined(separator: ":")) }
            arguments.append(script)
            return arguments
        }

        public static func == (a: Submission, b: Submission) -> Bool {
            a.stage == b.stage && a.variable == b.variable && a.script == b.script
                && a.chunk?.offset == b.chunk?.offset && a.chunk?.size == b.chunk?.size
        }
    }

    /// Slurm's default MaxArraySize.
    public static let defaultMaxArraySize = 1001
    /// Seconds before the time limit that a task is told to stop and requeue (Slurm may signal up
    /// to 60 s earlier than asked).
    public static let defaultRequeueBefore = 300
    /// The first line after the shebang of every script written here; a file without it is not replaced.
    public static let marker = "# Written by `longmix slurm`; safe to edit, rewritten by the next `longmix slurm`."

    public let configuration: Configuration
    /// Script path -> text, one per stage.
    public let scripts: [Stage: String]
    /// The sbatch calls, in submission order: count chunks, build chunks, merge.
    public let submissions: [Submission]

    public var slurmDirectory: String { configuration.buildDirectory + "/slurm" }
    public var logDirectory: String { configuration.buildDirectory + "/logs" }
    public func scriptPath(_ stage: Stage) -> String { slurmDirectory + "/\(stage.rawValue).sbatch" }
    /// The stages this build runs, in order (`index` only when the mixture names test sets).
    public var stages: [Stage] { Stage.allCases.filter { $0 != .index || configuration.importsTestSets } }
    /// The shell file holding ``submissionLines`` (what `--submit` does, for running by hand).
    public var submitScriptPath: String { slurmDirectory + "/submit.sh" }
    /// The job ids of the last `--submit`, one per line in submission order.
    public var jobsFile: String { slurmDirectory + "/jobs" }

    /// Checks the configuration (a clear error naming the option) and renders everything.
    public init(_ configuration: Configuration) throws {
        let c = configuration
        guard c.tasks >= 1 else { throw ConfigurationError(key: "--tasks", "must be at least 1 (got \(c.tasks))") }
        guard c.maxArraySize >= 1 else {
            throw ConfigurationError(key: "MaxArraySize", "must be at least 1 (got \(c.maxArraySize))")
        }
        if let cpus = c.cpusPerTask, cpus < 1 {
            throw ConfigurationError(key: "--cpus-per-task", "must be at least 1 (got \(cpus))")
        }
        if let seconds = c.requeueBefore, !(1...65535).contains(seconds) {
            throw ConfigurationError(key: "--requeue-before", "must be 1 to 65535 seconds (got \(seconds)); 0 turns requeueing off")
        }
        for (key, value) in [("--partition", c.partition), ("--time", c.time), ("--mem", c.memory)] {
            if let value, value.isEmpty || value.contains(where: { $0.isWhitespace || $0 == "'" || $0 == "\"" }) {
                throw ConfigurationError(key: key, "'\(value)' is not a single word")
            }
        }
        for (key, path) in [("longmix", c.executable), ("MIXTURE", c.mixture), ("--build-dir", c.buildDirectory),
                            ("--output", c.output)] where !path.hasPrefix("/") {
            throw ConfigurationError(key: key, "'\(path)' must be an absolute path (tasks run in another directory)")
        }
        self.configuration = c

        var scripts: [Stage: String] = [:]
        for stage in Stage.allCases where stage != .index || c.importsTestSets {
            scripts[stage] = Self.render(stage, c, logDirectory: c.buildDirectory + "/logs")
        }
        self.scripts = scripts

        let chunkSize = min(c.tasks, c.maxArraySize)
        let chunks = stride(from: 0, to: c.tasks, by: chunkSize).map { (offset: $0, size: min(chunkSize, c.tasks - $0)) }
        var submissions: [Submission] = []
        if c.importsTestSets {
            submissions.append(Submission(stage: .index, variable: "index", script: c.buildDirectory + "/slurm/index.sbatch", chunk: nil))
        }
        for stage in [Stage.count, .build] {
            for (i, chunk) in chunks.enumerated() {
                submissions.append(Submission(stage: stage, variable: "\(stage.rawValue)_\(i)",
                                              script: c.buildDirectory + "/slurm/\(stage.rawValue).sbatch", chunk: chunk))
            }
        }
        submissions.append(Submission(stage: .merge, variable: "merge", script: c.buildDirectory + "/slurm/merge.sbatch",
                                      chunk: nil))
        self.submissions = submissions
    }

    /// The submissions a stage waits for: every chunk of the stage before it.
    public func dependencies(of submission: Submission) -> [Submission] {
        guard let i = stages.firstIndex(of: submission.stage), i > 0 else { return [] }
        return submissions.filter { $0.stage == stages[i - 1] }
    }

    /// The shell lines that submit the chain by hand, one per sbatch call, each keeping its job id in
    /// a variable the later lines depend on (`--parsable` prints `id` or `id;cluster`).
    public var submissionLines: [String] {
        submissions.map { submission in
            let waits = dependencies(of: submission).map { "${\($0.variable)%%;*}" }
            let line = (["sbatch"] + submission.arguments(dependingOn: waits).dropLast() + [Self.quoted(submission.script)])
                .joined(separator: " ")
            return "\(submission.variable)=$(\(line))"
        }
    }

    /// Writes the stages' scripts and submit.sh under `<build dir>/slurm/` (creating it and `logs/`).
    /// Refuses to replace a file that does not carry ``marker``: it belongs to someone else.
    public func write() throws {
        let fm = FileManager.default
        for directory in [slurmDirectory, logDirectory] {
            do { try fm.createDirectory(atPath: directory, withIntermediateDirectories: true) } catch {
                throw InputError.file(directory, reason: .unwritableDirectory, "cannot create directory: \(ReadableError.describe(error))")
            }
        }
        var files = stages.map { (scriptPath($0), scripts[$0]!) }
        files.append((submitScriptPath, submitScript))
        for (path, _) in files where fm.fileExists(atPath: path) {
            let existing = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
            guard existing.split(separator: "\n", maxSplits: 2).dropFirst().first.map(String.init) == Self.marker else {
                throw InputError.file(path, reason: .wouldOverwrite,
                                      "exists and was not written by `longmix slurm`; move it away or choose another --build-dir")
            }
        }
        for (path, text) in files {
            let temporary = path + ".tmp-\(getpid())"
            guard fm.createFile(atPath: temporary, contents: Data(text.utf8), attributes: [.posixPermissions: 0o755]) else {
                throw InputError.file(path, reason: .unwritableFile, "cannot write \(temporary)")
            }
            guard rename(temporary, path) == 0 else {
                unlink(temporary)
                throw InputError.file(path, reason: .unwritableFile, "cannot rename \(temporary) into place")
            }
        }
    }

    /// submit.sh: the submission lines, then the job ids.
    public var submitScript: String {
        let ids = stages.map { stage in
            "\(stage.rawValue): " + submissions.filter { $0.stage == stage }.map { "${\($0.variable)%%;*}" }.joined(separator: " ")
        }
        return (["#!/bin/bash", Self.marker, "# Submits \(stages.map(\.rawValue).joined(separator: " -> ")); prints the job ids.", "set -euo pipefail"]
            + submissionLines + ["echo \"" + ids.joined(separator: " ") + "\""]).joined(separator: "\n") + "\n"
    }

    /// The job id in `sbatch --parsable` output (`id` or `id;cluster`), or nil when there is none.
    public static func jobID(fromParsable output: String) -> String? {
        let id = output.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";").first.map(String.init) ?? ""
        return !id.isEmpty && id.allSatisfy(\.isNumber) ? id : nil
    }

    /// MaxArraySize from `scontrol show config` output (`MaxArraySize            = 1001`), if present.
    public static func maxArraySize(fromShowConfig output: String) -> Int? {
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces) == "MaxArraySize" {
                return Int(parts[1].trimmingCharacters(in: .whitespaces))
            }
        }
        return nil
    }

    /// A word quoted for the shell: single quotes, with embedded single quotes as `'\''`.
    public static func quoted(_ word: String) -> String {
        let plain = !word.isEmpty && word.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "/._-=+:,@%".contains($0)) }
        return plain ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }

    private static func render(_ stage: Stage, _ c: Configuration, logDirectory: String) -> String {
        let array = stage == .count || stage == .build
        var lines = ["#!/bin/bash", marker,
                     "#SBATCH --job-name=longmix-\(stage.rawValue)",
                     "#SBATCH --output=\(logDirectory)/\(stage.rawValue)-\(array ? "%A_%a" : "%j").out"]
        if let seconds = c.requeueBefore {
            lines += ["#SBATCH --signal=B:USR1@\(seconds)", "#SBATCH --requeue", "#SBATCH --open-mode=append"]
        }
        if let partition = c.partition { lines.append("#SBATCH --partition=\(partition)") }
        if let time = c.time { lines.append("#SBATCH --time=\(time)") }
        if let cpus = c.cpusPerTask { lines.append("#SBATCH --cpus-per-task=\(cpus)") }
        if let memory = c.memory { lines.append("#SBATCH --mem=\(memory)") }
        lines.append("set -euo pipefail")
        var command: [String]
        var what = "longmix \(stage.rawValue)"
        switch stage {
        case .index:
            command = [c.executable, "decontam", "index", "--mixture", c.mixture].map(quoted)
        case .count, .build:
            lines.append("# Task I of N: the array task's index plus its chunk's first task (set at submission).")
            lines.append("task=$(( ${LONGMIX_TASK_OFFSET:-0} + SLURM_ARRAY_TASK_ID ))")
            what += ": task $task of \(c.tasks)"
            command = [c.executable, stage.rawValue, c.mixture, "--build-dir", c.buildDirectory].map(quoted)
                + ["--task-index", "\"$task\"", "--task-count", String(c.tasks)]
            if let cpus = c.cpusPerTask { command += ["--threads", String(cpus)] }
            command += c.stageArguments.map(quoted)
        case .merge:
            command = [c.executable, "merge", c.buildDirectory, "-o", c.output].map(quoted)
            if let cpus = c.cpusPerTask { command += ["--threads", String(cpus)] }
        }
        guard let seconds = c.requeueBefore else {
            lines.append("echo \"\(what) on $(hostname -s), job ${SLURM_JOB_ID:-?}\" >&2")
            lines.append("exec " + command.joined(separator: " "))
            return lines.joined(separator: "\n") + "\n"
        }
        lines += [
            "# \(seconds) s before the time limit Slurm sends USR1 to this shell: longmix is told to stop (it removes",
            "# its temporaries and its task lock; a part counts only once its marker is written), then this job",
            "# (of an array: this element only) is requeued, to resume from the parts already complete.",
            "child=",
            "requeue() {",
            "  echo \"\(what): USR1, the time limit is near: stopping, then requeueing job ${SLURM_JOB_ID:-?}\" >&2",
            "  status=0",
            "  if [ -n \"$child\" ]; then kill -USR1 \"$child\" 2>/dev/null || true; wait \"$child\" || status=$?; fi",
            "  if [ -n \"$child\" ] && [ \"$status\" = 0 ]; then echo \"\(what): finished before it could stop\" >&2; exit 0; fi",
            "  # An array element by its array id and index: the first element's SLURM_JOB_ID is the array's own id,",
            "  # and requeueing that would requeue every element.",
            "  job=${SLURM_ARRAY_JOB_ID:+${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}}",
            "  scontrol requeue \"${job:-$SLURM_JOB_ID}\"",
            "  exit 0",
            "}",
            "trap requeue USR1",
            "echo \"\(what) on $(hostname -s), job ${SLURM_JOB_ID:-?}, restart ${SLURM_RESTART_COUNT:-0}\" >&2",
            command.joined(separator: " ") + " &",
            "child=$!",
            "wait \"$child\"",
        ]
        return lines.joined(separator: "\n") + "\n"
    }
}
