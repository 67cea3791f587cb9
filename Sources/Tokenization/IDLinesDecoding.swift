import LongMixCore
import ShardIO

/// Decodes JSON Lines `{"id"?: ..., "ids": [...]}` into `{"id"?: ..., "text": "..."}`, line for line.
public struct IDLinesDecoding {
    public var tokenizer: Tokenizer

    public init(tokenizer: Tokenizer) { self.tokenizer = tokenizer }

    /// Decodes every line of `paths` in order; returns the number of lines written. A line that is
    /// not such an object, or holds an id outside the vocabulary, throws an `InputError` naming
    /// file, line and field.
    public func run(paths: [String], writeLine: ([UInt8]) throws -> Void) throws -> Int {
        var strict = RecordLedger(skipBadRecords: false)
        return try run(paths: paths, ledger: &strict, writeLine: writeLine)
    }

    /// As `run(paths:writeLine:)`, with bad lines and unreadable files handled by `ledger`
    /// (skipped and counted under `--keep-going`, else thrown).
    public func run(paths: [String], ledger: inout RecordLedger, writeLine: ([UInt8]) throws -> Void) throws -> Int {
        var written = 0
        var out = JSONOutput()
        for path in paths {
            try ledger.forEachLine(of: path) { line, location in
                try writeLine(try decode(line, location: location, into: &out))
                written += 1
            }
        }
        return written
    }

    /// One `{"id"?, "text"}` line for one `{"id"?, "ids"}` line.
    private func decode(_ line: UnsafeBufferPointer<UInt8>, location: RecordLocation, into out: inout JSONOutput) throws -> [UInt8] {
        let record: JSONValue
        do {
            record = try JSONValue.parse(line)
        } catch {
            throw InputError(location: location, reason: .malformedJSON, message: "\(error)")
        }
        guard let values = record["ids"]?.arrayValue else {
            throw InputError(location: location, field: "ids", reason: .missingField,
                             message: "expected an array of token ids")
        }
        var ids: [TokenID] = []
        ids.reserveCapacity(values.count)
        for value in values {
            guard let id = value.intValue, id >= 0, id < tokenizer.vocabularySize else {
                throw InputError(location: location, field: "ids", reason: .badTokenId,
                                 message: "\(value) is not an id of this tokenizer (vocabulary \(tokenizer.vocabularySize))")
            }
            ids.append(TokenID(id))
        }
        out.clear()
        out.raw("{")
        if let id = record["id"] {
            out.key("id")
            switch id {
            case .string(let s): out.string(s)
            case .number(let n): out.bytes.append(contentsOf: n.utf8)
            default:
                throw InputError(location: location, field: "id", reason: .nonStringField,
                                 message: "expected a string or a number, found \(id.kind)")
            }
            out.raw(",")
        }
        out.key("text")
        out.string(try tokenizer.decode(ids))
        out.raw("}")
        return out.bytes
    }
}
