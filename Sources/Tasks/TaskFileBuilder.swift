import LongMixCore
import ShardIO
import Tokenization

/// What a task build read, wrote and dropped.
///
/// Invariant: `counts.documentsRead` (records) = kept + dropped by reason; `counts.unitsKept` is
/// the number of examples written (a record can give several, for example one per gold position).
public struct TaskBuildSummary: Sendable {
    public var counts = StageCounts()
    public var blankLines = 0
    public var files = 0
    /// The first errors met when skipping bad records (at most `maxKeptErrors`).
    public var firstErrors: [InputError] = []
    public static let maxKeptErrors = 20
    /// Sum of `token_count` over written examples, when a tokenizer was given.
    public var tokens: Int?
}

/// Streams task input shards (JSONL, `.jsonl.zst`, `.jsonl.gz`) record by record through a
/// converter and writes the examples to one JSONL file, published atomically.
///
/// Contract: records are read in shard order then line order and examples written in that order,
/// so the output is the same on every run. Strictly (the default) the first bad record stops the
/// build with an `InputError` naming file, line and field, and nothing is written; with
/// `skipBadRecords` each bad record is counted by reason and the build goes on.
public struct TaskFileBuilder {
    public var skipBadRecords = false
    /// Counts the tokens of an example's `text`, when given; the count is written as `token_count`.
    public var tokenCounter: ((String) -> Int)?

    public init(skipBadRecords: Bool = false, tokenCounter: ((String) -> Int)? = nil) {
        self.skipBadRecords = skipBadRecords
        self.tokenCounter = tokenCounter
    }

    /// Counts with `tokenizer`: the ids of an example's `text` (prompt + completion encoded as one
    /// string), without BOS or EOS.
    public init(skipBadRecords: Bool = false, tokenizer: Tokenizer?) {
        self.skipBadRecords = skipBadRecords
        guard let tokenizer else { return }
        let encoder = tokenizer.makeEncoder()
        tokenCounter = { text in encoder.encode(Array(text.utf8)).count }
    }

    /// Converts every record of `inputs` into `output` (an existing file there is replaced only if
    /// `existing` is `.replace`, and never when it is an input).
    public func build(inputs: [String], output: String, existing: ExistingFile = .refuse,
                      convert: (JSONValue, RecordLocation) throws -> [TaskExample]) throws -> TaskBuildSummary {
        var summary = TaskBuildSummary()
        if tokenCounter != nil { summary.tokens = 0 }
        let paths = try ShardPaths.expand(inputs)
        let writer = try JSONLWriter(path: output, existing: existing)
        for path in paths {
            summary.files += 1
            let lines = try LineReader(path: path)
            while let line = try lines.next() {
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) {
                    summary.blankLines += 1
                    continue
                }
                let location = RecordLocation(file: path, line: lines.lineNumber)
                let examples: [TaskExample]
                do {
                    let json: JSONValue
                    do {
                        json = try JSONValue.parse(line)
                    } catch {
                        throw InputError(location: location, reason: error.reason,
                                         message: "\(error.message) at column \(error.offset + 1)")
                    }
                    examples = try convert(json, location)
                } catch let error as InputError where skipBadRecords {
                    summary.counts.drop(units: 0, reason: error.reason)
                    if summary.firstErrors.count < TaskBuildSummary.maxKeptErrors { summary.firstErrors.append(error) }
                    continue
                }
                for example in examples {
                    let tokenCount = tokenCounter.map { $0(example.text) }
                    if let tokenCount { summary.tokens! += tokenCount }
                    try writer.write(line: example.jsonLine(tokenCount: tokenCount))
                }
                summary.counts.keep(units: examples.count)
            }
        }
        try writer.finish()
        return summary
    }
}
