import Foundation
import LongMixCore
import Mixing
import Packing
import ShardIO
import Tokenization

/// What a build directory builds: the mixture (re-loaded, and checked unchanged, by every stage)
/// and the options that change its output.
public struct BuildRecipe: Sendable, Codable, Equatable {
    public var mixture: String
    public var dataRoot: String?
    public var tokenizer: String?
    public var mixtureSHA256: String
    public var exact: Bool

    public init(mixture: String, dataRoot: String?, tokenizer: String?, mixtureSHA256: String, exact: Bool) {
        self.mixture = mixture
        self.dataRoot = dataRoot
        self.tokenizer = tokenizer
        self.mixtureSHA256 = mixtureSHA256
        self.exact = exact
    }

    public static func load(_ directory: BuildDirectory) throws -> BuildRecipe {
        guard let data = FileManager.default.contents(atPath: directory.specFile) else {
            throw InputError.file(directory.specFile, reason: .notABuildDirectory, "no build.json: run `longmix count MIXTURE --build-dir \(directory.path)` first")
        }
        return try JSONDecoder().decode(BuildRecipe.self, from: data)
    }

    public func loadSpec() throws -> MixtureSpec {
        let spec = try MixtureSpec.load(path: mixture, dataRoot: dataRoot, tokenizer: tokenizer)
        guard spec.sha256 == mixtureSHA256 else {
            throw ConfigurationError(file: mixture, "the mixture file changed since the build directory was started (sha256 \(spec.sha256), was \(mixtureSHA256)); use a new build directory")
        }
        return spec
    }
}

/// The mixture build, in stages that each leave a file the next one reads (see `BuildDirectory`):
///
/// 1. count (`CountStage`, per task): read only; documents, bytes, a tokenized bottom-k sample,
///    dirty groups, few-shot headers;
/// 2. plan (`SamplingPlan`): counts summed; estimated supplies with error bounds, targets, and
///    per-source key thresholds with a safety margin (`--exact`: every key);
/// 3. tokenize (`TokenizeStage`, per task): scan, tokenize and filter only documents under the
///    threshold;
/// 4. select (`MergeStage`, `Selection`): global key order; a source whose tokenized documents
///    fall short gets its threshold raised and only the documents between old and new are
///    tokenized;
/// 5. assemble (`Packing.PackAssembler`): sequences, loss masks, blending;
/// 6. manifest (`BuildManifest`).
///
/// Contract: the pack's data files (tokens, loss mask, segments, documents) are byte-identical
/// for the same inputs, mixture and seed whatever the mode (`exact` or sample-first), the
/// number of threads and the number of tasks: selection hashes (seed, source, document id) and
/// reading order is the global shard order, never timing. The manifest's counts add up in every
/// mode; sample-first builds count the documents they never tokenized as such.
public final class MixtureBuild {
    public struct Options: Sendable {
        public var threads: Int
        /// Where the pack goes; nil for a plan only.
        public var output: String?
        /// Also export each source's filtered documents as a Megatron indexed dataset here (needs `exact`).
        public var megatronDirectory: String?
        /// Keep going past bad records (counted by reason) instead of stopping.
        public var skipBadRecords: Bool
        /// Counts the bytes of every shard read, one stage (count, tokenize) at a time; nil for
        /// no progress. The caller finishes it.
        public var progress: ProgressMeter?
        /// Tokenize every document (the full pass) instead of sampling first.
        public var exact: Bool
        /// Keep the stages' parts here (a distributed build's directory); nil: a temporary one.
        public var buildDirectory: String?
        public var tuning: SamplingPlan.Tuning
        /// Documents per source (per task) the counting pass tokenizes to estimate.
        public var sampleSize: Int
        /// Text bytes of candidate documents a count task keeps per source on top of 16 per target token.
        public var candidateFloor: Int
        /// Whether the mixture's test sets may be imported into its index first (a build in one
        /// process), or must be there already (`.never`: the tasks of a distributed build).
        public var testSets: TestSetImport = .ifMissing

        public init(threads: Int = 1, output: String? = nil, megatronDirectory: String? = nil, skipBadRecords: Bool = false,
                    progress: ProgressMeter? = nil, exact: Bool = false, buildDirectory: String? = nil,
                    tuning: SamplingPlan.Tuning = .init(), sampleSize: Int = 256, candidateFloor: Int = 4 << 20) {
            self.candidateFloor = candidateFloor
            self.threads = threads
            self.output = output
            self.megatronDirectory = megatronDirectory
            self.skipBadRecords = skipBadRecords
            self.progress = progress
            self.exact = exact
            self.buildDirectory = buildDirectory
            self.tuning = tuning
            self.sampleSize = sampleSize
        }
    }

    /// What a build (or plan) found and did.
    public struct Result: Sendable {
        public var manifest: PackManifest
        public var targets: [SourceTarget]
        public var plan: SamplingPlan
        /// Threshold raises per source.
        public var raises: [Int]
        /// Fraction of each source's key space tokenized in the end (1: the whole source).
        public var coveredFractions: [Double]
        public var seconds: Double
        public var textBytes: Int
    }

    public let spec: MixtureSpec
    public let options: Options
    public let tokenizer: Tokenizer
    private let decontamination: DecontaminationContext?
    private let layout: ShardLayout
    private let processors: [DocumentProcessor]
    /// The build directory the stages use (a temporary one during a local `run()`).
    private var workingDirectory: String?
    /// The outputs of a local `run()`, checked and staged before any work (`merge` makes them
    /// when called alone).
    private var packTarget: OutputTarget?
    private var megatronTarget: OutputTarget?
    /// The registration of a plan's temporary directory (removed on SIGINT/SIGTERM).
    private var scratchToken: Int?

    public init(spec: MixtureSpec, options: Options) throws {
        self.spec = spec
        self.options = options
        tokenizer = try Tokenizer.load(path: spec.tokenizer)
        _ = try spec.resolvedPadID(vocabularySize: tokenizer.vocabularySize, eosID: tokenizer.eosID)
        decontamination = try DecontaminationContext.open(spec, testSets: options.testSets)
        layout = try ShardLayout(spec: spec)
        workingDirectory = options.buildDirectory
        let tokenizer = tokenizer, decontamination = decontamination
        processors = (0..<max(1, options.threads)).map { _ in
            DocumentProcessor(encoder: tokenizer.makeEncoder(), scanner: decontamination?.scanner, addBOS: spec.addBOS, addEOS: spec.addEOS)
        }
    }

    /// Opens the build of a build directory, from its `build.json`.
    public convenience init(directory: String, options: Options) throws {
        let recipe = try BuildRecipe.load(BuildDirectory(path: directory))
        var options = options
        options.buildDirectory = directory
        options.exact = recipe.exact
        try self.init(spec: try recipe.loadSpec(), options: options)
    }

    private func countStage(taskCount: Int) -> CountStage {
        CountStage(spec: spec, layout: layout, decontamination: decontamination, processors: processors,
                   sampleSize: options.sampleSize, candidateBudgets: candidateBudgets(taskCount: taskCount),
                   skipBadRecords: options.skipBadRecords, progress: options.progress)
    }

    /// Text bytes of candidate documents a count task keeps per source, so the tokenize stage can
    /// skip reading the shards again: 16 bytes per target token (text is about 3-4 bytes a token;
    /// the rest is margin for the length filter), shared among tasks, plus `candidateFloor`. Only when the
    /// targets are known before counting (a token budget) and a threshold will be used.
    private func candidateBudgets(taskCount: Int) -> [Int] {
        guard !options.exact, !(decontamination?.cutsDocuments ?? false), case .tokens = spec.budget else {
            return Array(repeating: 0, count: spec.sources.count)
        }
        let supplies = spec.sources.map { SourceSupply(name: $0.name, weight: $0.weight, tokens: 1 << 50, packing: $0.packing) }
        guard let targets = try? MixturePlanner.plan(supplies, budget: spec.budget, seqLen: spec.seqLen) else {
            return Array(repeating: 0, count: spec.sources.count)
        }
        return targets.map { 16 * $0.tokens / taskCount + options.candidateFloor }
    }

    /// The candidate files of count task `task` (nil per source when the count ran with another
    /// task count, so another partition, or kept none).
    func candidateFiles(for task: BuildTask) throws -> [CandidateFile?] {
        let none = [CandidateFile?](repeating: nil, count: spec.sources.count)
        let directory = try directory
        guard BuildDirectory.taskCounts(in: directory.countDirectory()) == [task.count] else { return none }
        let slot = directory.countSlot(task)
        guard slot.isComplete else { return none }
        let part = try JSONDecoder().decode(CountPart.self, from: try Data(contentsOf: URL(fileURLWithPath: slot.part + "/count.json")))
        return part.sources.indices.map { s in
            part.sources[s].hasCandidates ? CandidateFile(path: slot.part + "/s\(s).candidates", limit: part.sources[s].candidateLimit) : nil
        }
    }

    private var tokenizeStage: TokenizeStage {
        TokenizeStage(spec: spec, layout: layout, decontamination: decontamination, processors: processors,
                      vocabularySize: tokenizer.vocabularySize, skipBadRecords: options.skipBadRecords, progress: options.progress)
    }

    // MARK: Local build

    /// Runs every stage in this process (task 0 of 1): the pack when `output` is set, else the
    /// exact plan (`exact`) or the estimate.
    public func run() throws -> Result {
        let start = Date()
        if options.megatronDirectory != nil && !options.exact {
            throw ConfigurationError(key: "megatron", "a Megatron export holds every kept document: build with --exact")
        }
        // Outputs are checked (and staged) before any work, against every input: a refusal costs nothing.
        for source in spec.sources { _ = try ShardPaths.expand(source.paths) }
        packTarget = try options.output.map { try OutputTarget(directory: $0, kind: .pack) }
        megatronTarget = try options.megatronDirectory.map { try OutputTarget(directory: $0, kind: .megatron) }
        defer { packTarget = nil; megatronTarget = nil }
        let work: String
        var temporary = false
        if let dir = options.buildDirectory {
            work = dir
        } else {
            // Everything a build writes lives under its staging directory (a plan: a temporary one).
            temporary = true
            if let packTarget {
                work = packTarget.staging + "/.work"
                try TemporaryFiles.makeSubdirectory(work)
            } else {
                let base = NSTemporaryDirectory() + "/longmix-plan"
                TemporaryFiles.removeStale(beside: base)
                work = URL(fileURLWithPath: base).deletingLastPathComponent().path + "/.longmix-plan" + TemporaryFiles.suffix("partial")
                scratchToken = try TemporaryFiles.createDirectory(work)
            }
        }
        defer { if let scratchToken { TemporaryFiles.unregister(scratchToken) }; scratchToken = nil }
        defer { if temporary { try? FileManager.default.removeItem(atPath: work) } }
        let directory = BuildDirectory(path: work)
        workingDirectory = work
        try startDirectory(directory)
        try count(task: .single)
        try tokenize(task: .single)
        var result = try merge(output: options.output)
        result.seconds = Date().timeIntervalSince(start)
        return result
    }

    /// The counting pass and the plan only (`longmix plan` without `--exact`).
    public func estimate() throws -> SamplingPlan {
        let part = try countStage(taskCount: 1).run(task: .single)
        return SamplingPlan.make(spec: spec, counts: part.sources, exact: options.exact,
                                 cutsDocuments: decontamination?.cutsDocuments ?? false, tuning: options.tuning)
    }

    // MARK: Stages over a build directory

    private var directory: BuildDirectory {
        get throws {
            guard let dir = workingDirectory else { throw ConfigurationError(key: "build-dir", "this stage needs a build directory") }
            return BuildDirectory(path: dir)
        }
    }

    /// Records what the directory builds, or checks that it builds this mixture in this mode.
    /// A user's build directory (`options.buildDirectory`) is created with its parents; a local
    /// build's temporary one exists already and is never recreated (see `TemporaryFiles`).
    public func startDirectory(_ directory: BuildDirectory) throws {
        if directory.path == options.buildDirectory {
            try FileManager.default.createDirectory(atPath: directory.path, withIntermediateDirectories: true)
        } else {
            try TemporaryFiles.makeSubdirectory(directory.path)
        }
        let recipe = BuildRecipe(mixture: spec.path, dataRoot: spec.dataRoot, tokenizer: spec.tokenizer, mixtureSHA256: spec.sha256,
                                 exact: options.exact)
        if FileManager.default.fileExists(atPath: directory.specFile) {
            let old = try BuildRecipe.load(directory)
            guard old.mixtureSHA256 == recipe.mixtureSHA256, old.exact == recipe.exact else {
                throw ConfigurationError(file: directory.specFile, "this build directory was started for another mixture or mode (exact: \(old.exact)); use a new one")
            }
            return
        }
        try PartJSON.write(recipe, pretty: true, to: directory.specFile)
    }

    /// The count stage of `task`; false when its part was already complete.
    @discardableResult
    public func count(task: BuildTask) throws -> Bool {
        let directory = try directory
        try startDirectory(directory)
        return try BuildDirectory.publish(directory.countSlot(task)) { temporary in
            let part = try countStage(taskCount: task.count).run(task: task, candidatePrefix: temporary + "/")
            try PartJSON.encode(part).write(to: URL(fileURLWithPath: temporary + "/count.json"))
        }
    }

    /// The plan: read from `plan.json`, or made from the complete set of count parts (and written).
    public func samplingPlan() throws -> SamplingPlan {
        let directory = try directory
        if let data = FileManager.default.contents(atPath: directory.planFile) {
            return try JSONDecoder().decode(SamplingPlan.self, from: data)
        }
        let folder = directory.countDirectory()
        let counts = BuildDirectory.taskCounts(in: folder)
        guard counts.count == 1, let n = counts.first else {
            throw InputError.file(folder, reason: .incompleteBuild, counts.isEmpty
                ? "no count parts: run `longmix count MIXTURE --build-dir \(directory.path)` for every task first"
                : "count parts for different task counts (\(counts.sorted())); remove the stale ones")
        }
        var summed: [SourceCount] = Array(repeating: SourceCount(), count: spec.sources.count)
        var missing: [Int] = []
        for i in 0..<n {
            let slot = directory.countSlot(try BuildTask(index: i, count: n))
            guard slot.isComplete else { missing.append(i); continue }
            let part = try JSONDecoder().decode(CountPart.self, from: try Data(contentsOf: URL(fileURLWithPath: slot.part + "/count.json")))
            for s in summed.indices { summed[s].add(part.sources[s], sampleSize: options.sampleSize) }
        }
        guard missing.isEmpty else {
            throw InputError.file(folder, reason: .incompleteBuild,
                                  "count tasks not complete: \(missing.map(String.init).joined(separator: ", ")) of \(n) (see `longmix status`)")
        }
        let plan = SamplingPlan.make(spec: spec, counts: summed, exact: options.exact,
                                     cutsDocuments: decontamination?.cutsDocuments ?? false, tuning: options.tuning)
        // Every task that gets here writes the same bytes; the rename makes the race harmless.
        try PartJSON.write(plan, pretty: true, to: directory.planFile)
        return plan
    }

    /// The tokenize stage of `task` under the plan's first thresholds; false when already complete.
    @discardableResult
    public func tokenize(task: BuildTask) throws -> Bool {
        let directory = try directory
        let plan = try samplingPlan()
        let dirty = plan.sources.map(\.count.groupDrops)
        let candidates = try candidateFiles(for: task)
        return try BuildDirectory.publish(directory.tokenizeSlot(task, range: 0)) { temporary in
            try tokenizeStage.run(task: task, ranges: MergeStage.firstRanges(plan), dirtyGroups: dirty, candidates: candidates, to: temporary)
        }
    }

    /// Selection (raising thresholds where needed), assembly and manifest from the parts; writes
    /// the pack when `output` is set.
    public func merge(output: String?) throws -> Result {
        let start = Date()
        let directory = try directory
        let plan = try samplingPlan()
        let merge = MergeStage(spec: spec, tokenizer: tokenizer, directory: directory, plan: plan, tokenize: tokenizeStage,
                               candidates: try candidateFiles(for: .single), tuning: options.tuning)
        try merge.load()
        let (targets, picks) = try merge.select()
        var manifest = try BuildManifest.make(spec: spec, tokenizer: tokenizer, plan: plan, stores: merge.stores, targets: targets,
                                              decontamination: decontamination, layout: layout)
        if let output {
            let target = try packTarget ?? OutputTarget(directory: output, kind: .pack)
            let megatron = try megatronTarget ?? options.megatronDirectory.map { try OutputTarget(directory: $0, kind: .megatron) }
            let (writer, extra) = try merge.pack(target: target, targets: targets, picks: picks, manifest: &manifest,
                                                 reportRows: decontamination != nil)
            if let megatron { try merge.exportMegatron(to: megatron) }
            // A local build's parts live in the staging directory: gone before it is published.
            if directory.path.hasPrefix(target.staging + "/") { try FileManager.default.removeItem(atPath: directory.path) }
            try writer.commit(manifest: &manifest, extraFiles: extra)
            try megatron?.publish()
        } else {
            BuildManifest.fillPacking(&manifest, plans: [], taken: [], seqLen: spec.seqLen)
        }
        return Result(manifest: manifest, targets: targets, plan: plan, raises: merge.raises,
                      coveredFractions: merge.stores.map(\.coveredFraction),
                      seconds: Date().timeIntervalSince(start), textBytes: plan.sources.reduce(0) { $0 + $1.count.textBytes })
    }
}
