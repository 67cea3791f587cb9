import Foundation

/// The result of a perplexity evaluation: one row per model, one cell per context (the shape of
/// the LLaMA-2-7B-32K and Position Interpolation tables), as printed text and as JSON.
public struct PerplexityTable: Codable, Sendable, Equatable {
    public struct Cell: Codable, Sendable, Equatable {
        public var context: Int
        public var perplexityPerByte: Double
        public var bitsPerByte: Double
        public var tokens: Int
        public var bytes: Int
        /// The context is longer than the model's trained context times its rope factor.
        public var extrapolated: Bool

        public init(context: Int, result: PerplexityPerByte, extrapolated: Bool) {
            self.context = context
            perplexityPerByte = result.perplexityPerByte
            bitsPerByte = result.bitsPerByte
            tokens = result.tokens
            bytes = result.bytes
            self.extrapolated = extrapolated
        }
    }

    public struct Row: Codable, Sendable, Equatable {
        public var name: String
        public var checkpoint: String
        public var trainedContext: Int?
        public var ropeFactor: Double
        public var cells: [Cell]

        public init(name: String, checkpoint: String, trainedContext: Int?, ropeFactor: Double, cells: [Cell]) {
            self.name = name
            self.checkpoint = checkpoint
            self.trainedContext = trainedContext
            self.ropeFactor = ropeFactor
            self.cells = cells
        }
    }

    public var contexts: [Int]
    /// Sliding-window stride; nil for non-overlapping windows.
    public var stride: Int?
    public var documents: Int
    public var rows: [Row]

    public init(contexts: [Int], stride: Int?, documents: Int, rows: [Row] = []) {
        self.contexts = contexts
        self.stride = stride
        self.documents = documents
        self.rows = rows
    }

    /// Perplexity per byte, a row per model and a column per context; extrapolated cells marked `*`.
    public func rendered() -> String {
        let nameWidth = max(5, rows.map(\.name.count).max() ?? 0)
        func pad(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        var lines = ["perplexity per byte" + (stride.map { ", sliding window stride \($0)" } ?? ", non-overlapping windows")
                     + ", \(documents) documents"]
        lines.append("model".padding(toLength: nameWidth, withPad: " ", startingAt: 0) + contexts.map { pad(String($0), 10) }.joined())
        for row in rows {
            let cells = row.cells.map { pad(String(format: "%.4f", $0.perplexityPerByte) + ($0.extrapolated ? "*" : " "), 10) }
            lines.append(row.name.padding(toLength: nameWidth, withPad: " ", startingAt: 0) + cells.joined())
        }
        if rows.contains(where: { $0.cells.contains(where: \.extrapolated) }) {
            lines.append("* past the model's trained context times its rope factor (extrapolation)")
        }
        return lines.joined(separator: "\n")
    }
}
