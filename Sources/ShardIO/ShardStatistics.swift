import Foundation
import LongMixCore

/// Document and byte counts per source and a histogram of document lengths, for `longmix stats`.
///
/// Length buckets are powers of two of UTF-8 bytes: bucket k holds lengths in [2^k, 2^(k+1)),
/// bucket 0 also holds empty documents.
public struct ShardStatistics: Sendable {
    public struct SourceCounts: Sendable, Codable, Equatable {
        public var documents = 0
        public var bytes = 0
        public var longest = 0
    }

    public private(set) var sources: [String: SourceCounts] = [:]
    public private(set) var histogram = [Int](repeating: 0, count: 64)

    public init() {}

    public mutating func add(_ document: Document, source: String) {
        let n = document.text.count
        sources[source, default: SourceCounts()].documents += 1
        sources[source]!.bytes += n
        sources[source]!.longest = max(sources[source]!.longest, n)
        histogram[n <= 1 ? 0 : Int.bitWidth - 1 - n.leadingZeroBitCount] += 1
    }

    public var documents: Int { sources.values.reduce(0) { $0 + $1.documents } }
    public var bytes: Int { sources.values.reduce(0) { $0 + $1.bytes } }

    public func table(counts: ReadCounts) -> String {
        var lines = ["files \(counts.files)  records \(counts.records)  documents \(counts.documents)  "
            + "skipped \(counts.skippedTotal)  text bytes \(counts.textBytes)  decompressed bytes \(counts.bytes)", ""]
        lines.append("source".padding(toLength: 28, withPad: " ", startingAt: 0) + "documents".leftPadded(12)
                     + "bytes".leftPadded(15) + "mean".leftPadded(10) + "longest".leftPadded(12))
        for (name, c) in sources.sorted(by: { $0.key < $1.key }) {
            lines.append(name.padding(toLength: 28, withPad: " ", startingAt: 0) + "\(c.documents)".leftPadded(12)
                         + "\(c.bytes)".leftPadded(15) + "\(c.documents > 0 ? c.bytes / c.documents : 0)".leftPadded(10)
                         + "\(c.longest)".leftPadded(12))
        }
        lines.append("")
        lines.append("length (bytes)        documents")
        let peak = max(histogram.max() ?? 1, 1)
        for (k, n) in histogram.enumerated() where n > 0 {
            let label = k == 0 ? "0-1" : "\(1 << k)-\((1 << (k + 1)) - 1)"
            lines.append(label.padding(toLength: 20, withPad: " ", startingAt: 0) + "\(n)".leftPadded(11) + "  "
                         + String(repeating: "#", count: max(1, n * 40 / peak)))
        }
        return lines.joined(separator: "\n")
    }

    public func json(counts: ReadCounts) throws -> Data {
        struct Output: Codable {
            var counts: ReadCounts
            var sources: [String: SourceCounts]
            var lengthHistogram: [String: Int]
        }
        var buckets: [String: Int] = [:]
        for (k, n) in histogram.enumerated() where n > 0 { buckets["\(k == 0 ? 0 : 1 << k)"] = n }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(Output(counts: counts, sources: sources, lengthHistogram: buckets))
    }
}

extension String {
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
