import Foundation
import LongMixCore
import Testing
@testable import Pipeline

@Suite struct CandidateSetTests {
    /// Whatever the arrival order, the set is exactly the documents with key below its limit,
    /// within its byte budget, and survives a round trip through its file in reading order.
    @Test func holdsExactlyTheDocumentsBelowItsLimit() throws {
        var set = CandidateSet(budget: 5_000)
        var all: [(key: UInt64, document: Document)] = []
        for i in 0..<400 {
            let key = StableHash.hash(keys: ["k", String(i)], seed: 1)
            let text = [UInt8](repeating: 0x61, count: 20 + Int(key % 80))
            let d = Document(id: "id\(i)", source: "s", text: text, group: i % 3 == 0 ? "g\(i % 7)" : nil,
                             location: RecordLocation(file: "f\(i / 100)", line: i % 100 + 1),
                             completionStart: i % 5 == 0 ? 3 : nil, header: i % 2 == 0 ? [0x68] : nil)
            set.offer(d, key: key, shard: i / 100)
            all.append((key, d))
        }
        let limit = try #require(set.limit)
        let expected = all.filter { $0.key < limit }.map(\.document.id).sorted()
        #expect(set.items.map(\.document.id).sorted() == expected)
        #expect(set.bytes <= 5_000 && set.bytes == set.items.reduce(0) { $0 + $1.document.text.count })
        #expect(expected.count > 20 && expected.count < 300)
        let path = NSTemporaryDirectory() + "/candidates-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: path) }
        try set.write(to: path)
        let back = try CandidateSet.read(path, source: "s")
        #expect(back.map { "\($0.shard):\($0.document.location.line)" }
            == set.items.sorted { ($0.shard, $0.document.location.line) < ($1.shard, $1.document.location.line) }
                .map { "\($0.shard):\($0.document.location.line)" })
        for c in back {
            let original = try #require(all.first { $0.document.id == c.document.id })
            #expect(c.key == original.key && c.document.text == original.document.text && c.document.group == original.document.group)
            #expect(c.document.completionStart == original.document.completionStart && c.document.header == original.document.header)
            #expect(c.document.location == original.document.location)
        }
    }

    /// Split among sets in any way and merged in any order, or fed to parts that start from a
    /// limit other parts reached, the documents end as the one set fed them all: the same
    /// documents, the same limit.
    @Test func mergedPartsEqualOneSet() throws {
        var documents: [(key: UInt64, shard: Int, document: Document)] = []
        for i in 0..<600 {
            let key = StableHash.hash(keys: ["m", String(i)], seed: 3)
            let d = Document(id: "id\(i)", source: "s", text: [UInt8](repeating: 0x62, count: 10 + Int(key % 90)), group: nil,
                             location: RecordLocation(file: "f\(i / 100)", line: i % 100 + 1))
            documents.append((key, i / 100, d))
        }
        var whole = CandidateSet(budget: 6_000)
        for d in documents { whole.offer(d.document, key: d.key, shard: d.shard) }
        let limit = try #require(whole.limit)
        for order in [Array(0..<6), [5, 3, 1, 0, 2, 4]] {
            for seeded in [false, true] {
                var merged = CandidateSet(budget: 6_000)
                for shard in order {
                    var part = CandidateSet(budget: 6_000, limit: seeded ? merged.limit : nil)
                    for d in documents where d.shard == shard { part.offer(d.document, key: d.key, shard: d.shard) }
                    merged.merge(part)
                }
                #expect(merged.limit == limit)
                #expect(merged.items.map(\.document.id).sorted() == whole.items.map(\.document.id).sorted())
                #expect(merged.bytes == whole.bytes)
            }
        }
    }
}
