import Foundation
import LongMixCore
import ShardIO

/// The documents of smallest selection key that the counting pass keeps (text and all), so the
/// tokenize stage need not read the shards again when its range lies below `limit`.
///
/// Invariant: the set holds exactly the documents seen with key < `limit` (nil: every document
/// seen). Inserting past the byte budget evicts the largest keys and lowers `limit` to the
/// smallest key evicted, so the set stays complete below it and its size stays within the budget
/// (disk and memory follow the output's size, not the input's).
///
/// The outcome does not depend on how the documents are split among sets or in what order they
/// come: a key is only ever evicted when the documents up to it overflow the budget, so every
/// limit is at least L, the limit of the longest key prefix of all the documents that fits the
/// budget, and sets merged (`merge`) from parts of the input end at exactly L, as one set fed the
/// whole input does. A part may therefore start below the limit already reached by other parts.
struct CandidateSet {
    struct Candidate {
        var key: UInt64
        var shard: Int
        var document: Document
    }

    let budget: Int
    private(set) var items: [Candidate] = []
    private(set) var bytes = 0
    private(set) var limit: UInt64?

    /// An empty set taking only keys below `limit` (nil: any), for example the limit other
    /// parts of the input have already reached.
    init(budget: Int, limit: UInt64? = nil) {
        self.budget = budget
        self.limit = limit
    }

    /// Whether `offer` would take a document of this key (the count pass decodes only those).
    func accepts(_ key: UInt64) -> Bool { budget > 0 && (limit.map { key < $0 } ?? true) }

    mutating func offer(_ document: Document, key: UInt64, shard: Int) {
        guard accepts(key) else { return }
        var low = 0, high = items.count
        while low < high {
            let mid = (low + high) / 2
            if items[mid].key <= key { low = mid + 1 } else { high = mid }
        }
        items.insert(Candidate(key: key, shard: shard, document: document), at: low)
        bytes += document.text.count
        evictOverBudget()
    }

    /// Takes in a set of the same budget made from other documents (another part of the input):
    /// the union below the lower of the two limits, cut to the budget as `offer` cuts.
    mutating func merge(_ other: CandidateSet) {
        if let l = other.limit { limit = min(limit ?? l, l) }
        let bound = limit
        let below = { (c: Candidate) in bound.map { c.key < $0 } ?? true }
        items = (items.filter(below) + other.items.filter(below)).sorted { $0.key < $1.key }
        bytes = items.reduce(0) { $0 + $1.document.text.count }
        evictOverBudget()
    }

    /// Evicts the largest keys while the set is over its budget, lowering `limit`.
    private mutating func evictOverBudget() {
        while bytes > budget, let last = items.last {
            // Evict every candidate with the largest key (equal keys leave together).
            let k = last.key
            while let l = items.last, l.key == k {
                bytes -= l.document.text.count
                items.removeLast()
            }
            limit = k
        }
    }

    // MARK: File

    /// Writes the candidates in reading order (shard, line) as length-prefixed records.
    func write(to path: String) throws {
        let file = try AtomicFileWriter(path: path)
        var out: [UInt8] = []
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func bytes(_ b: [UInt8]?) {
            guard let b else { u64(UInt64.max); return }
            u64(UInt64(b.count))
            out.append(contentsOf: b)
        }
        for c in items.sorted(by: { ($0.shard, $0.document.location.line) < ($1.shard, $1.document.location.line) }) {
            out.removeAll(keepingCapacity: true)
            let d = c.document
            u64(c.key)
            u64(UInt64(c.shard))
            u64(UInt64(d.location.line))
            u64(d.completionStart.map { UInt64($0) } ?? UInt64.max)
            bytes(Array(d.id.utf8))
            bytes(d.group.map { Array($0.utf8) })
            bytes(d.header)
            bytes(Array(d.location.file.utf8))
            bytes(d.text)
            try out.withUnsafeBytes { try file.write($0) }
        }
        try file.commit()
    }

    /// Reads a file `write` made: (key, shard, document) in reading order.
    static func read(_ path: String, source: String) throws -> [Candidate] {
        let data = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        var at = 0
        func u64() throws -> UInt64 {
            guard at + 8 <= data.count else { throw InputError.file(path, reason: .corruptPart, "truncated candidate record") }
            defer { at += 8 }
            return data[at..<(at + 8)].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        }
        func bytes() throws -> [UInt8]? {
            let n = try u64()
            guard n != UInt64.max else { return nil }
            guard at + Int(n) <= data.count else { throw InputError.file(path, reason: .corruptPart, "truncated candidate record") }
            defer { at += Int(n) }
            return Array(data[at..<(at + Int(n))])
        }
        var out: [Candidate] = []
        while at < data.count {
            let key = try u64(), shard = Int(try u64()), line = Int(try u64()), completion = try u64()
            let id = String(decoding: try bytes() ?? [], as: UTF8.self)
            let group = try bytes().map { String(decoding: $0, as: UTF8.self) }
            let header = try bytes()
            let file = String(decoding: try bytes() ?? [], as: UTF8.self)
            let text = try bytes() ?? []
            out.append(Candidate(key: key, shard: shard, document: Document(
                id: id, source: source, text: text, group: group, location: RecordLocation(file: file, line: line),
                completionStart: completion == UInt64.max ? nil : Int(completion), header: header)))
        }
        return out
    }
}
