import ShardIO

/// One fine-tuning example as written to the task JSONL: `id`, `prompt`, `completion`,
/// `text` (= prompt + completion, the Long-Data-Collections layout), the task's own fields, and
/// `token_count` when a tokenizer was given.
public struct TaskExample: Sendable, Equatable {
    /// A value of one of the task's own output fields.
    public enum Field: Sendable, Equatable {
        case string(String)
        case strings([String])
        case integer(Int)
    }

    public var id: String
    public var prompt: String
    public var completion: String
    /// Extra output fields in output order, for example `answers`, `gold_position`.
    public var fields: [(name: String, value: Field)]

    public init(id: String, prompt: String, completion: String, fields: [(name: String, value: Field)] = []) {
        self.id = id
        self.prompt = prompt
        self.completion = completion
        self.fields = fields
    }

    public var text: String { prompt + completion }

    public static func == (a: TaskExample, b: TaskExample) -> Bool {
        a.id == b.id && a.prompt == b.prompt && a.completion == b.completion
            && a.fields.map(\.name) == b.fields.map(\.name) && a.fields.map(\.value) == b.fields.map(\.value)
    }

    /// The example as one JSON line (no trailing newline).
    public func jsonLine(tokenCount: Int?) -> [UInt8] {
        var out = JSONOutput()
        out.raw("{")
        out.key("id"); out.string(id)
        out.raw(","); out.key("prompt"); out.string(prompt)
        out.raw(","); out.key("completion"); out.string(completion)
        out.raw(","); out.key("text"); out.string(text)
        for (name, value) in fields {
            out.raw(","); out.key(name)
            switch value {
            case .string(let s): out.string(s)
            case .integer(let n): out.integer(n)
            case .strings(let list):
                out.raw("[")
                for (i, s) in list.enumerated() {
                    if i > 0 { out.raw(",") }
                    out.string(s)
                }
                out.raw("]")
            }
        }
        if let tokenCount { out.raw(","); out.key("token_count"); out.integer(tokenCount) }
        out.raw("}")
        return out.bytes
    }
}

extension MQAExample {
    /// The output record: answers, question, gold position (0-based) and number of documents.
    public var taskExample: TaskExample {
        TaskExample(id: id, prompt: prompt, completion: completion, fields: [
            ("question", .string(question)), ("answers", .strings(answers)),
            ("gold_position", .integer(goldPosition)), ("num_documents", .integer(documentCount)),
        ])
    }
}

extension BookSumRecord {
    /// The output record, with the reference summary kept as `summary` for scoring.
    public var taskExample: TaskExample {
        TaskExample(id: id, prompt: BookSumTemplate.prompt(chapter: chapter),
                    completion: BookSumTemplate.completion(summary: summary),
                    fields: [("summary", .string(summary))])
    }
}
