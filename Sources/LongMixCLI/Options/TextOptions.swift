import ArgumentParser
import ShardIO

/// How a record's text and id are found: `--field`, `--template` (with `\n`, `\t`, `\\` escapes),
/// `--id-field`. Shared by every command that turns shard records into documents.
struct TextOptions: ParsableArguments {
    @Option(help: "Field path holding the text, e.g. text or meta.title.")
    var field: String = "text"

    @Option(help: ArgumentHelp("Template over several fields instead of --field, e.g. '{definition}\\n\\n{inputs}'.",
                               discussion: "\\n, \\t and \\\\ in the template stand for newline, tab and backslash."))
    var template: String?

    @Option(name: .customLong("id-field"), help: "Field path holding the record's own id (default: <shard>:<line>).")
    var idField: String?

    /// The text selector: the template with its escapes decoded, else the field.
    func selector() throws -> TextSelector {
        guard let template else { return .field(field) }
        return try TextSelector.template(TextOptions.unescape(template))
    }

    /// Decodes `\n`, `\t` and `\\` (the one escape set of every `--template`); other backslashes stay.
    static func unescape(_ text: String) -> String {
        var out = "", escaping = false
        for c in text {
            if escaping {
                switch c {
                case "n": out.append("\n")
                case "t": out.append("\t")
                case "\\": out.append("\\")
                default: out.append("\\"); out.append(c)
                }
                escaping = false
            } else if c == "\\" {
                escaping = true
            } else {
                out.append(c)
            }
        }
        if escaping { out.append("\\") }
        return out
    }
}
