import Foundation
import LongMixCore
import Testing
import TestSupport
@testable import ShardIO

/// Output safety, on generated cases: every kind of destination a user may already have there,
/// for every output kind. Only an absent path, an empty directory or an output of the same kind
/// may be replaced; every other pre-existing file must stay byte for byte as it was, and no
/// temporary may be left behind.
@Suite(.serialized) struct OutputTargetTests {
    enum Existing: String, CaseIterable {
        case absent, emptyDirectory, regularFile, userDirectory, sameKind, otherKind, brokenMarker
        case symlinkToUserDirectory, containsAnInput, isAnInput, insideAnInputDirectory
    }


    static func temporaries(_ root: URL) -> [String] {
        let e = FileManager.default.enumerator(atPath: root.path)!
        return e.compactMap { $0 as? String }.filter { $0.contains(".partial-") || $0.contains(".old-") || $0.contains(".tmp-") }
    }

    @Test func directoryOutputsReplaceOnlyTheirOwnKind() throws {
        var cases = 0
        for kind in OutputKind.allCases {
            for existing in Existing.allCases {
                let scratch = try TestEnvironment.temporaryDirectory("output-target")
                defer { try? FileManager.default.removeItem(at: scratch) }
                let inputs = scratch.appendingPathComponent("inputs")
                try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
                try Data("{\"text\": \"a user's shard\"}\n".utf8).write(to: inputs.appendingPathComponent("shard.jsonl"))
                let user = scratch.appendingPathComponent("user-data")
                try FileManager.default.createDirectory(at: user, withIntermediateDirectories: true)
                try Data("precious".utf8).write(to: user.appendingPathComponent("thesis.tex"))
                var out = scratch.appendingPathComponent("out")
                let other = OutputKind.allCases.first { $0 != kind }!
                switch existing {
                case .absent: break
                case .emptyDirectory: try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                case .regularFile: try Data("a file".utf8).write(to: out)
                case .userDirectory:
                    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                    try Data("mine".utf8).write(to: out.appendingPathComponent("notes.txt"))
                case .sameKind, .otherKind, .brokenMarker:
                    try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                    let marker = existing == .brokenMarker ? "garbage" : "{\"kind\": \"\((existing == .sameKind ? kind : other).rawValue)\", \"format\": 1}\n"
                    try Data(marker.utf8).write(to: out.appendingPathComponent(OutputTarget.markerFile))
                    try Data("old output".utf8).write(to: out.appendingPathComponent("old.bin"))
                case .symlinkToUserDirectory: try FileManager.default.createSymbolicLink(at: out, withDestinationURL: user)
                case .containsAnInput: out = scratch
                case .isAnInput: out = inputs.appendingPathComponent("shard.jsonl")
                case .insideAnInputDirectory: out = inputs.appendingPathComponent("clean")
                }
                _ = try ShardPaths.expand([inputs.path])
                let before = TestEnvironment.snapshot(scratch)
                var accepted = true
                do {
                    let target = try OutputTarget(directory: out.path, kind: kind)
                    try Data("new output".utf8).write(to: URL(fileURLWithPath: target.staging + "/new.bin"))
                    try target.publish()
                } catch let error as OutputError {
                    accepted = false
                    #expect(error.description.contains(out.path), "\(kind) \(existing): \(error)")
                }
                let expected = [.absent, .emptyDirectory, .sameKind].contains(existing)
                #expect(accepted == expected, "\(kind) over \(existing): accepted \(accepted)")
                let after = TestEnvironment.snapshot(scratch)
                for (path, bytes) in before {
                    let replaced = accepted && path.hasPrefix(out.path + "/")
                    if !replaced { #expect(after[path] == bytes, "\(kind) over \(existing): \(path) changed or vanished") }
                }
                if accepted {
                    #expect(after[out.path + "/new.bin"] == Data("new output".utf8))
                    #expect(after[out.path + "/" + OutputTarget.markerFile] != nil)
                    #expect(after[out.path + "/old.bin"] == nil)
                }
                #expect(Self.temporaries(scratch).isEmpty, "\(kind) over \(existing): left \(Self.temporaries(scratch))")
                cases += 1
            }
        }
        #expect(cases == OutputKind.allCases.count * Existing.allCases.count)
    }

    /// Every kind of destination × both policies × every way of writing a file (one file, JSON
    /// Lines, a pair published together): accepted only where the path is absent, or a regular
    /// file with `.replace` (`--force`); every other pre-existing file stays as it was.
    @Test func fileOutputsReplaceAFileOnlyWhenForced() throws {
        enum Destination: CaseIterable { case absent, userFile, directory, linkToFile, linkToDirectory, input, insideInput, inputViaDotDot }
        enum Writer: CaseIterable { case atomic, jsonl, pair }
        var cases = 0
        for destination in Destination.allCases {
            for existing in [ExistingFile.refuse, .replace] {
                for writer in Writer.allCases {
                    let scratch = try TestEnvironment.temporaryDirectory("output-file")
                    defer { try? FileManager.default.removeItem(at: scratch) }
                    // Inputs are never forgotten: each case's lie in its own scratch directory.
                    let inputs = scratch.appendingPathComponent("inputs")
                    try FileManager.default.createDirectory(at: inputs, withIntermediateDirectories: true)
                    let shard = inputs.appendingPathComponent("shard.jsonl")
                    try Data("{\"text\": \"x\"}\n".utf8).write(to: shard)
                    _ = try ShardPaths.expand([inputs.path])
                    var out = scratch.appendingPathComponent("out.jsonl")
                    switch destination {
                    case .absent: break
                    case .userFile: try Data("the user's file\n".utf8).write(to: out)
                    case .directory: try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
                    case .linkToFile: try FileManager.default.createSymbolicLink(at: out, withDestinationURL: shard)
                    case .linkToDirectory: try FileManager.default.createSymbolicLink(at: out, withDestinationURL: inputs)
                    case .input: out = shard
                    case .insideInput: out = inputs.appendingPathComponent("sub/out.jsonl")
                    case .inputViaDotDot: out = scratch.appendingPathComponent("inputs/../inputs/shard.jsonl")
                    }
                    // The pair's first file is `out`; its record (second) gets the same state.
                    let record = URL(fileURLWithPath: out.path + ".idx")
                    if writer == .pair, destination == .userFile { try Data("the user's index\n".utf8).write(to: record) }
                    let before = TestEnvironment.snapshot(scratch)
                    var accepted = true
                    do {
                        switch writer {
                        case .atomic:
                            let file = try AtomicFileWriter(path: out.path, existing: existing)
                            try file.write(Array("{}\n".utf8))
                            try file.commit()
                        case .jsonl:
                            let file = try JSONLWriter(path: out.path, existing: existing)
                            try file.write(line: Array("{}".utf8))
                            try file.finish()
                        case .pair:
                            let first = try AtomicFileWriter(path: out.path, existing: existing)
                            let second = try AtomicFileWriter(path: record.path, existing: existing)
                            try first.write(Array("{}\n".utf8))
                            try second.write(Array("index\n".utf8))
                            try AtomicFileWriter.commit([first, second])
                        }
                    } catch let error as OutputError {
                        accepted = false
                        #expect(error.description.contains(out.path) || error.description.contains(record.path), "\(error)")
                        if destination == .userFile { #expect(error.message.contains("--force"), "\(error)") }
                    }
                    let expected = destination == .absent || (destination == .userFile && existing == .replace)
                    #expect(accepted == expected, "\(writer) over \(destination), \(existing): accepted \(accepted)")
                    let after = TestEnvironment.snapshot(scratch)
                    for (path, bytes) in before where !(accepted && [out.path, record.path].contains(path)) {
                        #expect(after[path] == bytes, "\(writer) over \(destination), \(existing): \(path) changed or vanished")
                    }
                    if accepted {
                        #expect(after[out.path] == Data("{}\n".utf8))
                        if writer == .pair { #expect(after[record.path] == Data("index\n".utf8)) }
                    }
                    #expect(Self.temporaries(scratch).isEmpty, "left \(Self.temporaries(scratch))")
                    cases += 1
                }
            }
        }
        #expect(cases == Destination.allCases.count * 2 * Writer.allCases.count)
    }

    /// The refusal holds until the file is in place: a file that appears at the path while the
    /// writer runs (another program, another run) is not replaced without `--force`; with it, it is.
    @Test func aFileAppearingDuringTheRunIsNotReplaced() throws {
        let scratch = try TestEnvironment.temporaryDirectory("output-race")
        defer { try? FileManager.default.removeItem(at: scratch) }
        for existing in [ExistingFile.refuse, .replace] {
            for pair in [false, true] {
                let out = scratch.appendingPathComponent("out-\(existing)-\(pair).bin").path
                let record = out + ".idx"
                let first = try AtomicFileWriter(path: out, existing: existing)
                let second = pair ? try AtomicFileWriter(path: record, existing: existing) : nil
                try first.write(Array("new".utf8))
                let appeared = pair ? record : out
                try Data("appeared meanwhile".utf8).write(to: URL(fileURLWithPath: appeared))
                var accepted = true
                do {
                    try AtomicFileWriter.commit([first] + (second.map { [$0] } ?? []))
                } catch is OutputError { accepted = false }
                #expect(accepted == (existing == .replace), "\(existing), pair \(pair)")
                if !accepted {
                    #expect(FileManager.default.contents(atPath: appeared) == Data("appeared meanwhile".utf8))
                    // Neither file of a refused pair is left in place.
                    if pair { #expect(!FileManager.default.fileExists(atPath: out)) }
                }
            }
        }
        #expect(Self.temporaries(scratch).isEmpty, "left \(Self.temporaries(scratch))")
    }

    @Test func staleTemporariesOfDeadProcessesOnlyAreRemoved() throws {
        let scratch = try TestEnvironment.temporaryDirectory("stale")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = finished.processIdentifier, live = getppid()
        let host = TemporaryFiles.host
        let names = [".out.partial-\(host)-\(dead)", ".out.old-\(host)-\(dead)", "out.tmp-\(host)-\(dead)",  // removed
                     ".out.partial-\(host)-\(live)", ".out.partial-otherhost-\(dead)", ".outer.partial-\(host)-\(dead)",
                     ".out.partial-\(host)-x", "out.keep-\(host)-\(dead)"]  // kept
        for name in names { try FileManager.default.createDirectory(at: scratch.appendingPathComponent(name), withIntermediateDirectories: true) }
        let target = try OutputTarget(directory: scratch.appendingPathComponent("out").path, kind: .pack)
        try target.publish()
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: scratch.path))
        #expect(left == Set(names.dropFirst(3)).union(["out"]))
    }

    /// After the signal cleanup removed a staging directory, a writer still running fails with
    /// ENOENT instead of recreating it: temporaries are made without intermediate directories.
    @Test func aRemovedTemporaryIsNeverRecreated() throws {
        let scratch = try TestEnvironment.temporaryDirectory("recreate")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let staging = scratch.appendingPathComponent(".out" + TemporaryFiles.suffix("partial")).path
        let token = try TemporaryFiles.createDirectory(staging)
        defer { TemporaryFiles.unregister(token) }
        try TemporaryFiles.makeSubdirectories("work/count", under: staging)
        try TemporaryFiles.makeSubdirectories("work/count", under: staging)  // existing: fine
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: staging + "/work/count", isDirectory: &isDirectory) && isDirectory.boolValue)
        try FileManager.default.removeItem(atPath: staging)  // what the signal cleanup does
        #expect(throws: InputError.self) { try TemporaryFiles.makeSubdirectories("work/count", under: staging) }
        #expect(throws: InputError.self) { try TemporaryFiles.makeSubdirectory(staging + "/work") }
        #expect(throws: InputError.self) { try AtomicFileWriter(path: staging + "/work/part.json") }
        #expect(throws: InputError.self) { _ = try TemporaryFiles.createDirectory(scratch.appendingPathComponent("gone/dir").path) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty, "something was recreated")
    }
}
