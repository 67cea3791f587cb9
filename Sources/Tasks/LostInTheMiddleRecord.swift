import LongMixCore
import ShardIO

/// One passage of a retrieval result or of the gold annotation.
public struct Passage: Sendable, Equatable {
    public var title: String
    public var text: String

    public init(title: String, text: String) {
        self.title = title
        self.text = text
    }
}

/// A Lost in the Middle (nelson-liu/lost-in-the-middle) question with its retrieved passages.
///
/// Input layout, one JSON object per line: `question`, `answers` (list of strings), `ctxs` (list of
/// `{id, title, text, score, hasanswer, isgold}` in retrieval order) and `nq_annotated_gold`
/// (`{title, chunked_long_answer, ...}`). Both the retrieval-results file and the QA files their
/// `make_qa_data_from_retrieval_results.py` writes have this layout.
///
/// - The gold passage is `nq_annotated_gold` (title, `chunked_long_answer`), as in their script;
///   a record without it may instead mark exactly one ctx `isgold: true`.
/// - Distractors are the ctxs with `hasanswer: false` (and not `isgold: true`), in retrieval order.
///   Every ctx must say `hasanswer`, since a passage that may contain the answer cannot be a
///   distractor.
/// - `id` is the record's `id` (or `example_id`) field when present, else its question.
public struct LostInTheMiddleRecord: Sendable {
    public var id: String
    public var question: String
    public var answers: [String]
    public var gold: Passage
    public var distractors: [Passage]
    public var location: RecordLocation

    public init(id: String, question: String, answers: [String], gold: Passage, distractors: [Passage],
                location: RecordLocation) {
        self.id = id
        self.question = question
        self.answers = answers
        self.gold = gold
        self.distractors = distractors
        self.location = location
    }

    /// Reads and checks one record; throws an `InputError` naming the field for a missing question
    /// or answers, an empty answer list, malformed ctxs, or a record without a gold passage.
    public init(json: JSONValue, location: RecordLocation) throws {
        let record = RecordFields(json, location: location)
        guard case .object = json else {
            throw InputError(location: location, reason: .wrongType, message: "expected a JSON object, found \(json.kind)")
        }
        question = try record.string("question")
        if question.isEmpty { throw record.invalid("question", reason: .emptyField, "the question is empty") }
        guard record.optional("answers") != nil else {
            throw record.invalid("answers", reason: .missingAnswers, "the record has no 'answers'; a QA example needs at least one gold answer")
        }
        answers = try record.stringList("answers")
        if answers.isEmpty {
            throw record.invalid("answers", reason: .missingAnswers, "the answer list is empty; a QA example needs at least one gold answer")
        }
        id = try record.identifier("id") ?? record.identifier("example_id") ?? question
        self.location = location

        var markedGold: [Passage] = []
        distractors = []
        for ctx in try record.objectList("ctxs") {
            let passage = Passage(title: try ctx.string("title"), text: try ctx.string("text"))
            guard let hasAnswer = try ctx.optionalBool("hasanswer") else {
                throw InputError(location: location, field: ctx.fieldPath("hasanswer"), reason: .missingField,
                                 message: "the passage does not say whether it contains the answer (hasanswer)")
            }
            let isGold = try ctx.optionalBool("isgold") ?? false
            if isGold { markedGold.append(passage) } else if !hasAnswer { distractors.append(passage) }
        }
        if let annotated = try record.object("nq_annotated_gold") {
            gold = Passage(title: try annotated.string("title"), text: try annotated.string("chunked_long_answer"))
        } else if markedGold.count == 1 {
            gold = markedGold[0]
        } else {
            throw record.invalid("nq_annotated_gold", reason: .noGoldPassage, markedGold.isEmpty
                ? "the record has no gold passage: neither nq_annotated_gold nor a ctx with isgold true"
                : "no nq_annotated_gold and \(markedGold.count) ctxs marked isgold; cannot tell which is the gold passage")
        }
    }
}
