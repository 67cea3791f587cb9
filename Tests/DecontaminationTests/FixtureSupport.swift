import Foundation
import LongMixCore
import TestSupport
@testable import Decontamination

/// Loading the decontamination fixtures (Fixtures/helm, Fixtures/decontam).
enum DecontamFixtures {
    static var helmExports: [String] {
        let dir = TestEnvironment.fixtures.appendingPathComponent("helm")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".jsonl") }.sorted().map { dir.appendingPathComponent($0).path }
    }

    static func path(_ relative: String) -> String {
        TestEnvironment.fixtures.appendingPathComponent("decontam/" + relative).path
    }

    /// A training record with its planted expectation.
    struct Record {
        var document: Document
        var plant: String
        var match: Provenance?
        var expect: [String: Bool]
    }

    static func records(_ file: String) throws -> [Record] {
        let path = path("train/" + file)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        return try lines.enumerated().map { k, line in
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            let meta = object["meta"] as? [String: Any] ?? [:]
            var match: Provenance?
            if let m = meta["match"] as? [String: String] {
                match = Provenance(scenario: m["scenario"]!, split: m["split"]!, instanceID: m["instance"]!,
                                   part: InstancePart(name: m["part"]!)!)
            }
            let document = Document(id: object["id"] as! String, source: "fixture",
                                    text: Array((object["text"] as! String).utf8), group: object["task"] as? String,
                                    location: RecordLocation(file: path, line: k + 1))
            return Record(document: document, plant: meta["plant"] as? String ?? "none", match: match,
                          expect: meta["expect"] as? [String: Bool] ?? [:])
        }
    }

    /// A fresh index in `directory` with every HELM export and the plain test set imported.
    static func buildIndex(in directory: URL, n: Int, normalization: Normalization,
                           splits: Set<String>? = ["valid", "test"]) throws -> DecontaminationIndex {
        let index = try DecontaminationIndex.openOrCreate(
            path: directory.appendingPathComponent("index-\(n)-\(normalization).sqlite").path,
            n: n, normalization: normalization)
        for file in helmExports + [path("plain_testset.jsonl")] {
            try index.add(try TestSetReader.read(path: file), splits: splits)
        }
        return index
    }
}
