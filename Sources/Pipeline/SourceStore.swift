import Foundation
import LongMixCore
import Packing
import ShardIO
import Tokenization

/// One source as the merge sees it: the kept documents of every tokenize part (all tasks, all
/// key ranges so far), their tokens on disk, and the source's counts.
///
/// Counts: `count` is the counting pass (every document read, once); `tokenized` sums the
/// tokenize parts, whose documents are those with keys in the covered ranges, each kept or
/// dropped by reason. The rest were never tokenized: `documentsNotTokenized`. So
/// `count.documents == kept + dropped + notTokenized` always.
final class SourceStore {
    let name: String
    let count: SourceCount
    /// Kept documents (and cut pieces), in no particular order until `sorted()`.
    private(set) var entries: [PartEntry] = []
    private var locations: [(part: Int, index: Int)] = []
    private var parts: [IndexedDatasetReader] = []
    private(set) var tokenized = StageCounts()
    private(set) var documentsTokenized = 0
    /// Keys `0 ..< coveredUpper` have been tokenized (nil: every key).
    private(set) var coveredUpper: UInt64? = 0
    private(set) var reportFiles: [String] = []

    init(name: String, count: SourceCount) {
        self.name = name
        self.count = count
    }

    var isWhole: Bool { coveredUpper == nil }
    var coveredFraction: Double { KeyRange.fraction(coveredUpper) }
    var documentsNotTokenized: Int { count.documents - tokenized.documentsRead }
    var keptTokens: Int { tokenized.unitsKept }

    /// Adds source `s` of a tokenize part for key range `range`.
    func add(part directory: String, source s: Int, counts: TokenizeCounts) throws {
        let prefix = "\(directory)/s\(s)"
        let data = try Data(contentsOf: URL(fileURLWithPath: prefix + ".entries.json"))
        let list = try JSONDecoder().decode([PartEntry].self, from: data)
        let reader = try IndexedDatasetReader(prefix: prefix)
        guard reader.count == list.count else { throw PackError("\(prefix): \(list.count) entries but \(reader.count) token streams") }
        let p = parts.count
        parts.append(reader)
        for (k, entry) in list.enumerated() {
            entries.append(entry)
            locations.append((p, k))
        }
        tokenized.add(counts.counts)
        documentsTokenized += counts.documentsTokenized
        if FileManager.default.fileExists(atPath: prefix + ".report.jsonl") { reportFiles.append(prefix + ".report.jsonl") }
    }

    /// Marks keys below `upper` (nil: all) as tokenized, once every part of the range is added.
    func cover(upTo upper: UInt64?) { coveredUpper = upper }

    /// Entry indices in selection order: key, then reading order (as one reader would meet them).
    func keyOrder() -> [Int] {
        entries.indices.sorted {
            let a = entries[$0], b = entries[$1]
            return (a.key, a.within, a.shard, a.line, a.piece) < (b.key, b.within, b.shard, b.line, b.piece)
        }
    }

    /// Entry indices in reading order.
    func readingOrder() -> [Int] {
        entries.indices.sorted {
            let a = entries[$0], b = entries[$1]
            return (a.shard, a.line, a.piece) < (b.shard, b.line, b.piece)
        }
    }

    func tokens(_ entry: Int) -> [TokenID] {
        let (p, k) = locations[entry]
        return parts[p].document(k)
    }

    /// Tokens `range` of entry `entry` only.
    func tokens(_ entry: Int, range: Range<Int>) -> [TokenID] {
        let (p, k) = locations[entry]
        return parts[p].document(k, range: range)
    }
}
