import LongMixCore

/// Where the gold passage goes among the k documents (0-based).
public enum GoldPlacement: Sendable, Equatable {
    /// The same position for every record.
    case fixed(Int)
    /// One example per position 0..<k for every record (k examples per record).
    case every
    /// A position drawn per record from `StableHash` of (seed, record id): the same record always
    /// gets the same position, whatever the order or the split of the input.
    case random(seed: UInt64)
}

/// How the answer follows the prompt.
public enum MQACompletionStyle: String, Sendable, CaseIterable {
    /// ` {first gold answer}`: the prompt ends in `Answer:`.
    case answer
    /// togethercomputer/Long-Data-Collections' form. Prompt and completion read
    /// `...Answer: {answer}\nLong Answer: {gold passage text}\nGold Document ID: {1-based index}`,
    /// the prompt still ending in `Answer:` so it stays the exact Lost in the Middle prompt.
    case longDataCollections = "long-data-collections"
}

/// One multi-document QA example: the Lost in the Middle prompt with its completion.
public struct MQAExample: Sendable, Equatable {
    public var id: String
    public var question: String
    public var prompt: String
    public var completion: String
    public var answers: [String]
    /// 0-based position of the gold passage among the documents.
    public var goldPosition: Int
    public var documentCount: Int
}

/// Builds Lost in the Middle multi-document QA prompts (nelson-liu/lost-in-the-middle,
/// `make_qa_data_from_retrieval_results.py` and `prompting.get_qa_prompt`).
///
/// For each record: take the first k-1 distractors in retrieval order, insert the gold passage at
/// the chosen 0-based position (Python's `list.insert`), and render
/// `Write a high-quality answer for the given question using only the provided search results (some of which might be irrelevant).\n\n{docs}\n\nQuestion: {question}\nAnswer:`
/// with docs `Document [{i}](Title: {title}) {text}` (1-based i) joined by `\n`.
///
/// One difference from their script: it requires k distractors of every record though only k-1
/// are used; this builder requires the k-1 it uses.
public struct MultiDocumentQABuilder: Sendable {
    public let documentCount: Int
    public let placement: GoldPlacement
    public let completionStyle: MQACompletionStyle

    public static let instruction =
        "Write a high-quality answer for the given question using only the provided search results (some of which might be irrelevant)."

    public init(documentCount: Int, placement: GoldPlacement, completionStyle: MQACompletionStyle = .answer) throws {
        guard documentCount >= 1 else {
            throw ConfigurationError(key: "documents", "the number of documents must be at least 1, got \(documentCount)")
        }
        if case .fixed(let position) = placement, !(0..<documentCount).contains(position) {
            throw ConfigurationError(key: "gold-position",
                                     "the gold position must be in 0...\(documentCount - 1) for \(documentCount) documents, got \(position)")
        }
        self.documentCount = documentCount
        self.placement = placement
        self.completionStyle = completionStyle
    }

    /// The gold positions this builder uses for `record`, in output order.
    public func goldPositions(for record: LostInTheMiddleRecord) -> [Int] {
        switch placement {
        case .fixed(let position): return [position]
        case .every: return Array(0..<documentCount)
        case .random(let seed):
            let h = StableHash.hash(keys: ["mqa-gold-position", record.id], seed: seed)
            return [Int(h % UInt64(documentCount))]
        }
    }

    /// The examples for one record; throws `too-few-distractors` when the record has fewer than
    /// k-1 passages without the answer.
    public func examples(for record: LostInTheMiddleRecord) throws -> [MQAExample] {
        let needed = documentCount - 1
        guard record.distractors.count >= needed else {
            throw InputError(location: record.location, field: "ctxs", reason: .tooFewDistractors,
                             message: "\(documentCount) documents need \(needed) distractors (ctxs with hasanswer false), "
                                 + "the record has \(record.distractors.count); lower --documents or drop the record")
        }
        let distractors = Array(record.distractors.prefix(needed))
        return goldPositions(for: record).map { position in
            var documents = distractors
            documents.insert(record.gold, at: position)
            return MQAExample(id: record.id, question: record.question,
                              prompt: Self.prompt(question: record.question, documents: documents),
                              completion: completion(for: record, goldPosition: position),
                              answers: record.answers, goldPosition: position, documentCount: documentCount)
        }
    }

    /// The exact Lost in the Middle QA prompt for `documents` in the given order.
    public static func prompt(question: String, documents: [Passage]) -> String {
        var out = instruction + "\n\n"
        for (i, document) in documents.enumerated() {
            if i > 0 { out += "\n" }
            out += "Document [\(i + 1)](Title: \(document.title)) \(document.text)"
        }
        out += "\n\nQuestion: \(question)\nAnswer:"
        return out
    }

    func completion(for record: LostInTheMiddleRecord, goldPosition: Int) -> String {
        switch completionStyle {
        case .answer:
            return " " + record.answers[0]
        case .longDataCollections:
            return " \(record.answers[0])\nLong Answer: \(record.gold.text)\nGold Document ID: \(goldPosition + 1)"
        }
    }
}
