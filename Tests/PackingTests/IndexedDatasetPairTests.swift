import Foundation
import ShardIO
import Tokenization
import Testing
import TestSupport
@testable import Packing

/// A Megatron `.bin`/`.idx` pair is one output: written as a pair, refused as a pair, and read
/// only as a matching pair. Cases generated over the states a kill or a user can leave behind.
@Suite struct IndexedDatasetPairTests {
    /// Writes `documents` as the pair at `prefix`.
    func write(_ documents: [[TokenID]], prefix: String, existing: ExistingFile = .refuse) throws {
        let writer = try IndexedDatasetWriter(prefix: prefix, vocabularySize: 2000, existing: existing)
        for d in documents { try writer.append(d) }
        try writer.finish()
    }

    func read(_ prefix: String) throws -> [[TokenID]] {
        let reader = try IndexedDatasetReader(prefix: prefix)
        return (0..<reader.count).map { reader.document($0) }
    }

    @Test func aPairIsRefusedAndReplacedWhole() throws {
        let scratch = try TestEnvironment.temporaryDirectory("megatron-pair")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let old: [[TokenID]] = [[1, 2, 3], [4]], new: [[TokenID]] = [[7, 8], [9, 10, 11], [12]]
        // Every subset of the pair already there (a user's files, or a kill's leftovers).
        for (hasBin, hasIdx) in [(false, false), (true, false), (false, true), (true, true)] {
            for existing in [ExistingFile.refuse, .replace] {
                let prefix = scratch.appendingPathComponent("d-\(hasBin)-\(hasIdx)-\(existing)").path
                if hasBin { try Data("user bin".utf8).write(to: URL(fileURLWithPath: prefix + ".bin")) }
                if hasIdx { try Data("user idx".utf8).write(to: URL(fileURLWithPath: prefix + ".idx")) }
                let before = [prefix + ".bin", prefix + ".idx"].map { FileManager.default.contents(atPath: $0) }
                var accepted = true
                do { try write(new, prefix: prefix, existing: existing) } catch let error as OutputError {
                    accepted = false
                    #expect(error.message.contains("--force"), "\(error)")
                }
                let expected = (!hasBin && !hasIdx) || existing == .replace
                #expect(accepted == expected, "bin \(hasBin) idx \(hasIdx) \(existing)")
                if accepted {
                    #expect(try read(prefix) == new)
                } else {
                    #expect([prefix + ".bin", prefix + ".idx"].map { FileManager.default.contents(atPath: $0) } == before)
                }
            }
        }
        // An old pair replaced with --force reads as the new one.
        let prefix = scratch.appendingPathComponent("replaced").path
        try write(old, prefix: prefix)
        try write(new, prefix: prefix, existing: .replace)
        #expect(try read(prefix) == new)
        let left = try FileManager.default.contentsOfDirectory(atPath: scratch.path).filter { $0.contains(".tmp-") }
        #expect(left.isEmpty, "temporaries left: \(left)")
    }

    /// What a kill between the two renames could leave if the order were wrong, or a user's
    /// copying mistake: a `.bin` alone, or a `.bin` beside another pair's `.idx`. Both are refused
    /// on reading, naming the file.
    @Test func halfOrMismatchedPairsAreRefused() throws {
        let scratch = try TestEnvironment.temporaryDirectory("megatron-half")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let a = scratch.appendingPathComponent("a").path, b = scratch.appendingPathComponent("b").path
        try write([[1, 2, 3], [4, 5]], prefix: a)
        try write([[1, 2, 3], [4, 5], [6]], prefix: b)
        #expect(try read(a) == [[1, 2, 3], [4, 5]])
        // b's .bin beside a's .idx: every document lies inside the .bin, but the sizes differ.
        try FileManager.default.removeItem(atPath: a + ".bin")
        try FileManager.default.copyItem(atPath: b + ".bin", toPath: a + ".bin")
        #expect { try read(a) } throws: { "\($0)".contains("a.bin") && "\($0)".contains("not this .idx's pair") }
        try FileManager.default.removeItem(atPath: a + ".idx")
        #expect { try read(a) } throws: { "\($0)".contains("half a pair") }
    }
}
