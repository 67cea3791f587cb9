import Foundation
import LongMixCore
import TestSupport

/// A deterministic multi-source, multi-shard corpus with its mixture file, for sample-first and
/// distributed-build tests: a large concat source sampled at a few percent (shards in two
/// directories), a best-fit source, a tiny source that must be up-sampled, and a few-shot task
/// source, and a grouped concat source decontaminated with the Together protocol against a test
/// set copied from one member of one thread (so that thread must be dropped whole, though the
/// sampler never tokenizes that member).
struct GeneratedCorpus {
    let root: URL
    var mixture: String { root.appendingPathComponent("mixture.yaml").path }
    /// The thread planted in the test set, and the id of its member the test set copies.
    let dirtyGroup = "thread-07"
    private(set) var dirtyMember = ""
    /// Ids of the threads source -> thread.
    private(set) var threadOf: [String: String] = [:]
    static let seed: UInt64 = 77

    /// Pseudo-words made of syllables (the fixture tokenizer was trained on such text).
    static func words(_ n: Int, salt: String) -> String {
        let consonants = Array("bdfgklmnprstvz"), vowels = Array("aeiou")
        var out: [String] = []
        out.reserveCapacity(n)
        for i in 0..<n {
            var h = StableHash.hash(keys: [salt, String(i)], seed: 5)
            var w = ""
            for _ in 0..<(2 + Int(h % 2)) {
                h /= 3
                w.append(consonants[Int(h % UInt64(consonants.count))]); h /= 16
                w.append(vowels[Int(h % 5)]); h /= 8
            }
            out.append(w)
        }
        return out.joined(separator: " ")
    }

    static func length(_ salt: String, _ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(StableHash.hash(keys: [salt], seed: 9) % UInt64(range.count))
    }

    init(name: String) throws {
        root = try TestEnvironment.temporaryDirectory(name)
        let fm = FileManager.default
        func write(_ relative: String, _ lines: [String]) throws {
            let url = root.appendingPathComponent(relative)
            try fm.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        }
        func json(_ object: [String: Any]) -> String {
            String(decoding: try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
        }
        // web: 8 shards over two directories, 60 documents each.
        for shard in 0..<8 {
            let dir = shard < 5 ? "web/2023" : "web/2024"
            try write("\(dir)/part-\(shard).jsonl", (0..<60).map { d in
                let salt = "web\(shard).\(d)"
                return json(["text": Self.words(Self.length(salt, 40...260), salt: salt)])
            })
        }
        // books: 4 shards of 60 long documents.
        for shard in 0..<4 {
            try write("books/b\(shard).jsonl", (0..<60).map { d in
                let salt = "book\(shard).\(d)"
                return json(["text": Self.words(Self.length(salt, 150...500), salt: salt)])
            })
        }
        // tiny: 5 documents, up-sampled.
        try write("tiny/t.jsonl", (0..<5).map { d in json(["text": Self.words(Self.length("tiny\(d)", 80...120), salt: "tiny\(d)")]) })
        // tasks: 30 groups of 12 examples over 4 shards, ids from an id field.
        var lines = [[String]](repeating: [], count: 4)
        for g in 0..<30 {
            let group = String(format: "task-%02d", g)
            for e in 0..<12 {
                let id = "\(group)-\(e)"
                lines[(g * 12 + e) % 4].append(json(["id": id, "input": Self.words(Self.length(id, 14...18), salt: id + "in"),
                                                     "target": Self.words(4, salt: id + "out"), "meta": ["task": group],
                                                     "definition": "Definition of \(group): " + Self.words(8, salt: group)]))
            }
        }
        for (k, l) in lines.enumerated() { try write("tasks/tasks-\(k).jsonl", l) }
        // threads: 60 threads of 5 posts over 6 shards (default ids).
        var posts = [[String]](repeating: [], count: 6)
        var dirtyText = ""
        var best: UInt64 = 0
        for t in 0..<60 {
            let thread = String(format: "thread-%02d", t)
            for p in 0..<5 {
                let shard = (t * 5 + p) % 6
                let id = "threads/th\(shard).jsonl:\(posts[shard].count + 1)"
                let text = Self.words(Self.length(id, 60...200), salt: id)
                threadOf[id] = thread
                if thread == dirtyGroup {
                    // The member with the largest key: the last the sampler would reach.
                    let key = StableHash.hash(keys: ["threads", id], seed: Self.seed)
                    if key >= best { best = key; dirtyMember = id; dirtyText = text.split(separator: " ").prefix(30).joined(separator: " ") }
                }
                posts[shard].append(json(["text": text, "meta": ["thread": thread]]))
            }
        }
        for (k, l) in posts.enumerated() { try write("threads/th\(k).jsonl", l) }
        try write("testsets/planted.jsonl", [json(["scenario": "planted", "split": "test", "id": "p1", "text": dirtyText])])
        let tokenizer = TestEnvironment.fixtures.appendingPathComponent("tokenizer/fixture-bpe.model").path
        let yaml = """
            name: generated
            seed: \(Self.seed)
            seq_len: 1024
            min_doc_tokens: 60
            tokenizer: \(tokenizer)
            budget: 24576
            packing: concat
            loss: completion-only
            decontamination:
              index: index.sqlite
              test_sets: [testsets/planted.jsonl]
              protocol: together
            sources:
              - name: web
                paths: [web]
                weight: 35
              - name: books
                paths: [books]
                packing: best-fit
                min_doc_tokens: 500
                weight: 25
              - name: tiny
                paths: [tiny]
                min_doc_tokens: 10
                weight: 10
              - name: tasks
                paths: [tasks]
                id_field: id
                group_field: meta.task
                packing: few-shot
                header: "{definition}\\n\\n"
                template: "Input: {input}\\nOutput:"
                completion: " {target}\\n"
                min_doc_tokens: 30
                weight: 15
              - name: threads
                paths: [threads]
                group_field: meta.thread
                weight: 15

            """
        try yaml.write(to: root.appendingPathComponent("mixture.yaml"), atomically: true, encoding: .utf8)
    }
}

/// The pack's files, by name, with their bytes' SHA-256.
func packDigests(_ directory: String, includingManifest: Bool = true) throws -> [String: String] {
    var out: [String: String] = [:]
    for name in try FileManager.default.contentsOfDirectory(atPath: directory).sorted() {
        if !includingManifest && name == "manifest.json" { continue }
        out[name] = SHA256.hexDigest(SHA256.hash([UInt8](try Data(contentsOf: URL(fileURLWithPath: directory + "/" + name)))))
    }
    return out
}
