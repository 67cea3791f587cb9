import Foundation
import ShardIO
import Testing
import TestSupport
@testable import Model

/// `longmix train -o OUT` goes through the output rules (`OutputTarget.openInPlace`, kind
/// `training-run`), on generated cases: for every kind of directory a user may already have at
/// OUT and every way of starting, the run is accepted only where OUT is absent, empty, or (for a
/// resume) the run directory holding the checkpoint; every pre-existing file outside an accepted
/// run's new files stays byte for byte as it was.
@Suite(.serialized) struct TrainingRunDirectoryTests {
    enum Existing: String, CaseIterable {
        case absent, emptyDirectory, regularFile, userDirectory, otherKind, unmarkedCheckpointParent
        case theResumedRun, theResumedRunWithoutMarker, anotherRun, insideThePack
    }
    enum Start: String, CaseIterable { case fresh, initialize, resume }


    func options(steps: Int) -> TrainingOptions {
        TrainingOptions(steps: steps, batchSize: 1, accumulation: 1, context: 32, learningRate: 3e-3, warmupSteps: 1, seed: 3)
    }

    /// Runs `steps` steps into `out` from `start`; returns the run's last checkpoint.
    @discardableResult
    func train(_ start: TrainingRun.Start, steps: Int, out: String, pack: String) throws -> String {
        let run = try TrainingRun(pack: pack, start: start, options: options(steps: steps), output: out, saveEvery: 0, threads: 1)
        return try run.run { _ in }
    }

    @Test func runDirectoriesFollowTheOutputRules() throws {
        let pack = try ModelFixturePacks.shared.pack("pretrain-32k")
        var cases = 0
        for start in Start.allCases {
            for existing in Existing.allCases {
                let scratch = try TestEnvironment.temporaryDirectory("train-out")
                defer { try? FileManager.default.removeItem(at: scratch) }
                // A finished run to resume (or init) from, made before the case's files.
                let first = scratch.appendingPathComponent("first").path
                let checkpoint = try train(.fresh(config: try TrainingTests.tinyConfig), steps: 1, out: first, pack: pack)
                var out = scratch.appendingPathComponent("out")
                switch existing {
                case .absent: break
                case .emptyDirectory: try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                case .regularFile: try Data("a file".utf8).write(to: out)
                case .userDirectory:
                    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                    try Data("mine".utf8).write(to: out.appendingPathComponent("notes.txt"))
                case .otherKind:
                    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                    try Data(OutputTarget.marker(.pack).utf8).write(to: out.appendingPathComponent(OutputTarget.markerFile))
                case .unmarkedCheckpointParent:
                    // A user's directory that happens to hold a copy of a checkpoint: not a run.
                    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                    try FileManager.default.copyItem(atPath: checkpoint, toPath: out.appendingPathComponent("step-000001").path)
                    try Data("mine".utf8).write(to: out.appendingPathComponent("notes.txt"))
                case .theResumedRun: out = URL(fileURLWithPath: first)
                case .theResumedRunWithoutMarker:
                    // A run written before runs carried a marker: recognised by its content on resume.
                    out = URL(fileURLWithPath: first)
                    try FileManager.default.removeItem(atPath: first + "/" + OutputTarget.markerFile)
                case .anotherRun: try train(.fresh(config: try TrainingTests.tinyConfig), steps: 1, out: out.path, pack: pack)
                case .insideThePack: out = URL(fileURLWithPath: pack).appendingPathComponent("run")
                }
                let watched = existing == .insideThePack ? URL(fileURLWithPath: pack) : scratch
                let before = TestEnvironment.snapshot(watched)
                let how: TrainingRun.Start = switch start {
                case .fresh: .fresh(config: try TrainingTests.tinyConfig)
                case .initialize: .initialize(checkpoint: checkpoint, ropeFactor: nil)
                case .resume: .resume(checkpoint: checkpoint)
                }
                var accepted = true
                do {
                    try train(how, steps: 2, out: out.path, pack: pack)
                } catch {
                    accepted = false
                    #expect("\(error)".contains(out.path), "\(start) into \(existing): \(error)")
                }
                let expected = [.absent, .emptyDirectory].contains(existing)
                    || (start == .resume && [.theResumedRun, .theResumedRunWithoutMarker].contains(existing))
                #expect(accepted == expected, "\(start) into \(existing): accepted \(accepted)")
                let after = TestEnvironment.snapshot(watched)
                for (path, bytes) in before {
                    // A resumed run appends to its own log; nothing else may change.
                    if accepted && path == out.path + "/train.jsonl" {
                        #expect(after[path]?.starts(with: bytes) == true, "\(start) into \(existing): the log lost lines")
                    } else {
                        #expect(after[path] == bytes, "\(start) into \(existing): \(path) changed or vanished")
                    }
                }
                if accepted {
                    #expect(after[out.path + "/step-000002/model.safetensors"] != nil, "\(start) into \(existing): no checkpoint")
                    #expect(after[out.path + "/" + OutputTarget.markerFile] == Data(OutputTarget.marker(.trainingRun).utf8))
                }
                cases += 1
            }
        }
        #expect(cases == Start.allCases.count * Existing.allCases.count)
    }
}
