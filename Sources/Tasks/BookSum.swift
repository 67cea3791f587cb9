import LongMixCore
import ShardIO

/// A chapter-level BookSum record (kmfoda/booksum columns `chapter` and `summary_text` by default).
public struct BookSumRecord: Sendable {
    public var id: String
    public var chapter: String
    public var summary: String

    public init(id: String, chapter: String, summary: String) {
        self.id = id
        self.chapter = chapter
        self.summary = summary
    }

    /// Reads one record; missing, non-string or empty chapter or summary fields are errors naming
    /// the field. `id` is the first present of `idFields`, else `<file name>:<line>`.
    public init(json: JSONValue, location: RecordLocation, chapterField: String = "chapter",
                summaryField: String = "summary_text", idFields: [String] = ["id", "summary_id"]) throws {
        guard case .object = json else {
            throw InputError(location: location, reason: .wrongType, message: "expected a JSON object, found \(json.kind)")
        }
        let record = RecordFields(json, location: location)
        chapter = try record.string(chapterField)
        summary = try record.string(summaryField)
        if chapter.isEmpty { throw record.invalid(chapterField, reason: .emptyField, "the chapter text is empty") }
        if summary.isEmpty { throw record.invalid(summaryField, reason: .emptyField, "the summary is empty") }
        var found: String? = nil
        for field in idFields where found == nil { found = try record.identifier(field) }
        let fileName = location.file.split(separator: "/").last.map(String.init) ?? location.file
        id = found ?? "\(fileName):\(location.line)"
    }
}

/// The BookSum chapter-summary template used for the 32K fine-tune:
/// prompt `Chapter: {chapter}\n\nQ: Can you write an appropriate summary of the above paragraphs?\nA:`,
/// completion ` {summary}`.
public enum BookSumTemplate {
    public static func prompt(chapter: String) -> String {
        "Chapter: \(chapter)\n\nQ: Can you write an appropriate summary of the above paragraphs?\nA:"
    }

    public static func completion(summary: String) -> String { " " + summary }
}
