import Foundation
import LongMixCore
import Mixing
import Testing
import TestSupport
@testable import Pipeline

/// The decontamination index of a mixture: the tasks of a distributed build only read it and
/// refuse when the mixture's test sets are not in it; one import step writes, and only what is
/// missing.
@Suite struct MixtureIndexTests {
    /// The database's bytes and whether its write-ahead log holds any frame (a reader in WAL mode
    /// may create an empty `-wal` file; a write would put frames in it).
    static func snapshot(_ index: String) -> (database: Data?, logged: Bool) {
        (FileManager.default.contents(atPath: index), !(FileManager.default.contents(atPath: index + "-wal") ?? Data()).isEmpty)
    }

    @Test func tasksOnlyReadTheIndexAndOneStepImportsWhatIsMissing() throws {
        let scratch = try TestEnvironment.temporaryDirectory("mixture-index")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let index = scratch.appendingPathComponent("index.sqlite").path
        let spec = try MixtureSpec.load(path: try ConcurrencyTests.mixture(scratch, index: index))
        var task = MixtureBuild.Options()
        task.buildDirectory = scratch.appendingPathComponent("build").path
        task.testSets = .never

        // A task before the import: refused, naming the index, a test set and the import command; nothing created.
        do {
            _ = try MixtureBuild(spec: spec, options: task)
            Issue.record("a task opened an index without the mixture's test sets")
        } catch {
            let message = "\(error)"
            #expect(message.contains(index) && message.contains("/Fixtures/helm/") && message.contains("longmix decontam index --mixture \(spec.path)"), "\(message)")
        }
        #expect(!FileManager.default.fileExists(atPath: index))

        // The import step imports every file once; run again it finds them all and writes nothing.
        let files = try FileManager.default.contentsOfDirectory(atPath: TestEnvironment.fixtures.appendingPathComponent("helm").path)
            .filter { $0.hasSuffix(".jsonl") }
        let first = try #require(try MixtureIndex.prepare(spec))
        #expect(first.imported.count == files.count && first.present.isEmpty && first.counts.ngramsAdded > 0)
        let before = Self.snapshot(index)
        #expect(before.database != nil && !before.logged)
        let second = try #require(try MixtureIndex.prepare(spec))
        #expect(second.imported.isEmpty && second.present.count == files.count)

        // Now a task opens it (read-only) and leaves it as it was.
        _ = try MixtureBuild(spec: spec, options: task)
        let after = Self.snapshot(index)
        #expect(after.database == before.database && !after.logged)
    }
}
