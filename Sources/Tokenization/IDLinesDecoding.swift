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
        var written = 0
        var out = JSONOutput()
        for path in paths {
            let lines = try LineReader(path: path)
            while let line = try lines.next() {
                let location = RecordLocation(file: path, line: lines.lineNumber)
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { continue }
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
                try writeLine(out.bytes)
                written += 1
            }
        }
        return written
    }
}
