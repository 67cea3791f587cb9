import ArgumentParser
import Foundation
import Testing
import TestSupport
@testable import LongMixCLI

/// One vocabulary of flags: every command that reads input takes the shared option groups under
/// the same names, with the same meaning, and the old per-command spellings are gone.
@Suite struct FlagVocabularyTests {
    /// Each command that reads input, as the words before its shared options.
    static let readers: [(name: String, words: [String])] = [
        ("stats", ["stats", "in.jsonl"]),
        ("cat", ["cat", "in.jsonl"]),
        ("tokenize", ["tokenize", "--tokenizer", "t.model", "in.jsonl"]),
        ("detokenize", ["detokenize", "--tokenizer", "t.model", "ids.jsonl"]),
        ("decontam index", ["decontam", "index", "--index", "i.sqlite", "helm.jsonl"]),
        ("decontam scan", ["decontam", "scan", "--index", "i.sqlite", "--report", "r.jsonl", "in.jsonl"]),
        ("score", ["score", "predictions.jsonl"]),
        ("build", ["build", "m.yaml", "-o", "pack"]),
        ("plan", ["plan", "m.yaml"]),
        ("tasks mqa", ["tasks", "mqa", "-k", "20", "in.jsonl", "-o", "out.jsonl"]),
        ("tasks booksum", ["tasks", "booksum", "in.jsonl", "-o", "out.jsonl"]),
        ("eval ppl", ["eval", "ppl", "--checkpoint", "run/step-1", "--contexts", "128", "--tokenizer", "t.model", "docs.jsonl"]),
        ("eval tasks", ["eval", "tasks", "--checkpoint", "run/step-1", "--tokenizer", "t.model", "--tasks", "mqa.jsonl"]),
    ]
    /// Commands that read a pack (not shard records), with threads and output.
    static let packReaders: [(name: String, words: [String])] = [
        ("train", ["train", "--pack", "p", "--model", "m.json", "--steps", "1", "-o", "run"]),
        ("loss", ["loss", "--checkpoint", "c", "--pack", "p"]),
    ]
    /// Commands that turn shard records into documents (text, template, id fields).
    static let documentReaders = ["stats", "cat", "tokenize", "decontam scan", "eval ppl"]
    /// Commands with worker threads.
    static let threaded = ["tokenize", "build", "plan", "train", "loss", "eval ppl"]
    /// Long commands with progress reporting.
    static let long = ["tokenize", "decontam index", "decontam scan", "build", "plan", "train", "eval ppl", "eval tasks"]
    /// Commands that write a file named by -o/--output.
    static let writers = ["tokenize", "detokenize", "decontam scan", "score", "build", "tasks mqa", "tasks booksum", "train"]

    static func words(_ name: String) -> [String] { (readers + packReaders).first { $0.name == name }!.words }

    static func parses(_ words: [String]) -> String? {
        do { _ = try LongMix.parseAsRoot(words); return nil } catch { return LongMix.message(for: error) }
    }

    @Test func everyReaderTakesKeepGoing() {
        for (name, words) in Self.readers {
            #expect(Self.parses(words) == nil, "\(name) base line: \(Self.parses(words) ?? "")")
            #expect(Self.parses(words + ["--keep-going"]) == nil, "\(name) --keep-going: \(Self.parses(words + ["--keep-going"]) ?? "")")
        }
    }

    @Test func documentReadersShareTextOptions() throws {
        for name in Self.documentReaders {
            let line = Self.words(name) + ["--field", "meta.body", "--id-field", "meta.id", "--group-field", "meta.task",
                                           "--max-line-mb", "8", "--keep-going"]
            #expect(Self.parses(line) == nil, "\(name): \(Self.parses(line) ?? "")")
            let templated = Self.words(name) + ["--template", #"{a}\n\t{b}\\n"#]
            let parsed = try LongMix.parseAsRoot(templated)
            let reading: ReadingOptions? = switch parsed {
            case let c as StatsCommand: c.shards.reading
            case let c as CatCommand: c.shards.reading
            case let c as TokenizeCommand: c.reading
            case let c as DecontamScanCommand: c.reading
            case let c as EvalPerplexityCommand: c.reading
            default: nil
            }
            #expect(reading?.text.template.map(TextOptions.unescape) == "{a}\n\t{b}\\n", "\(name): template escapes differ")
        }
    }

    @Test func evalPerplexityReadsShardsOrAPackNotBoth() {
        let base = ["eval", "ppl", "--checkpoint", "run/step-1", "--contexts", "128", "--tokenizer", "t.model"]
        #expect(Self.parses(base + ["--pack", "pack-dir"]) == nil)
        #expect(Self.parses(base + ["docs.jsonl"]) == nil)
        #expect(Self.parses(base + ["docs.jsonl", "--pack", "pack-dir"])?.contains("one of them") == true)
        #expect(Self.parses(base)?.contains("one of them") == true)
    }

    @Test func threadsHaveOneDefaultAndOneValidation() throws {
        let cap = ThreadOptions.maximumPerCore * ThreadOptions.cores
        for name in Self.threaded {
            let words = Self.words(name)
            let threads: Int? = switch try LongMix.parseAsRoot(words) {
            case let c as TokenizeCommand: c.threads
            case let c as BuildCommand: c.mixture.threads.threads
            case let c as PlanCommand: c.mixture.threads.threads
            case let c as TrainCommand: c.threadOptions.threads
            case let c as LossCommand: c.threadOptions.threads
            case let c as EvalPerplexityCommand: c.threadOptions.threads
            default: nil
            }
            #expect(threads == ProcessInfo.processInfo.activeProcessorCount, "\(name): default --threads")
            #expect(Self.parses(words + ["--threads", "1"]) == nil)
            #expect(Self.parses(words + ["--threads", "\(cap)"]) == nil)
            #expect(Self.parses(words + ["--threads", "0"])?.contains("at least 1") == true, "\(name): --threads 0")
            #expect(Self.parses(words + ["--threads", "\(cap + 1)"])?.contains("use at most \(cap)") == true,
                    "\(name): --threads above the cap")
        }
    }

    @Test func longCommandsTakeProgressAndQuiet() {
        for name in Self.long {
            let words = Self.words(name)
            #expect(Self.parses(words + ["--progress"]) == nil, "\(name) --progress")
            #expect(Self.parses(words + ["--quiet"]) == nil, "\(name) --quiet")
            #expect(Self.parses(words + ["--progress", "--quiet"]) != nil, "\(name): --progress with --quiet must be refused")
        }
    }

    @Test func writersTakeShortAndLongOutput() {
        for name in Self.writers {
            var words = Self.words(name)
            if let o = words.firstIndex(of: "-o") { words.removeSubrange(o...(o + 1)) }
            #expect(Self.parses(words + ["-o", "x"]) == nil, "\(name) -o")
            #expect(Self.parses(words + ["--output", "x"]) == nil, "\(name) --output")
        }
    }

    @Test func decontamCommandsNameTheIndexAlike() {
        #expect(Self.parses(["decontam", "report", "--index", "i.sqlite", "r.jsonl"]) == nil)
        for words in [Self.words("decontam index"), Self.words("decontam scan"), ["decontam", "report", "--index", "i.sqlite", "r.jsonl"]] {
            let withDB = words.map { $0 == "--index" ? "--db" : $0 }
            #expect(Self.parses(withDB) != nil, "`--db` must not be a second name for --index: \(withDB)")
        }
    }

    @Test func oldSpellingsAreGone() {
        #expect(Self.parses(Self.words("decontam scan") + ["--skip-bad-records"]) != nil)
        #expect(Self.parses(Self.words("decontam scan") + ["--text-field", "body"]) != nil)
    }

    @Test func templateEscapes() {
        #expect(TextOptions.unescape(#"a\nb\tc\\d\qe\"#) == "a\nb\tc\\d\\qe\\")
    }
}

/// Foundation file errors reach the user as a path and a plain problem, never NSCocoaErrorDomain.
@Suite struct FileErrorMessageTests {
    @Test func missingFileNamesThePath() throws {
        let missing = "/nonexistent-longmix-\(UUID().uuidString)/manifest.json"
        do {
            _ = try Data(contentsOf: URL(fileURLWithPath: missing))
            Issue.record("reading a missing file succeeded")
        } catch {
            let text = "\(FileErrorMessage.restating(error))"
            #expect(text == "\(missing): no such file or directory")
            #expect(!text.contains("NSCocoaErrorDomain"))
        }
    }

    @Test func commandsReportMissingFilesCleanly() throws {
        let missing = "/nonexistent-longmix-\(UUID().uuidString)"
        var command = try LongMix.parseAsRoot(["inspect", missing])
        do {
            try command.run()
            Issue.record("inspecting a missing pack succeeded")
        } catch {
            let text = LongMix.message(for: FileErrorMessage.restating(error))
            #expect(text.contains(missing), "\(text)")
            #expect(!text.contains("NSCocoaErrorDomain") && !text.contains("Code="), "\(text)")
        }
    }

    /// A corrupt manifest is reported with its path and the JSON parser's detail, not a
    /// DecodingError dump with an NSCocoaErrorDomain underlying error.
    @Test func corruptManifestIsReadable() throws {
        let scratch = try TestEnvironment.temporaryDirectory("corrupt-manifest")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let manifest = scratch.appendingPathComponent("manifest.json")
        try Data("{\"version\": ".utf8).write(to: manifest)
        var command = try LongMix.parseAsRoot(["inspect", scratch.path])
        do {
            try command.run()
            Issue.record("inspecting a corrupt pack succeeded")
        } catch {
            let text = LongMix.message(for: FileErrorMessage.restating(error))
            #expect(text.contains(manifest.path) && text.contains("not valid JSON"), "\(text)")
            #expect(!text.contains("NSCocoaErrorDomain") && !text.contains("Code=") && !text.contains("DecodingError"), "\(text)")
        }
    }
}
