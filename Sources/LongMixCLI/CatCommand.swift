import ArgumentParser
import LongMixCore
import ShardIO

struct CatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cat",
        abstract: "Stream documents out of shards, for piping and debugging.",
        discussion: "jsonl output is one {\"id\", \"source\", \"group\"?, \"text\"} object per line; text output separates documents with a line holding only the separator.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case jsonl, text }

    @OptionGroup var shards: ShardOptions

    @Option(help: "Output format: jsonl or text.")
    var format: Format = .jsonl

    @Option(help: "Separator line between documents in text output.")
    var separator: String = "\u{1E}"

    @Option(help: "Skip this many documents first.")
    var skip: Int = 0

    @Option(help: "Stop after this many documents.")
    var limit: Int?

    @Option(name: .customLong("id"), help: "Only documents with this id (repeatable).")
    var ids: [String] = []

    func run() throws {
        let reader = try shards.makeReader()
        let wanted = Set(ids)
        let out = StandardOutput()
        var json = JSONOutput()
        var seen = 0, written = 0
        while let document = try reader.next() {
            if !wanted.isEmpty && !wanted.contains(document.id) { continue }
            seen += 1
            if seen <= skip { continue }
            if let limit, written >= limit { break }
            written += 1
            switch format {
            case .jsonl:
                json.clear()
                json.raw("{")
                json.key("id"); json.string(document.id); json.raw(",")
                json.key("source"); json.string(document.source); json.raw(",")
                if let group = document.group { json.key("group"); json.string(group); json.raw(",") }
                json.key("text"); json.string(document.text)
                json.raw("}\n")
                out.write(json.bytes)
            case .text:
                if written > 1 { out.write(separator + "\n") }
                out.write(document.text)
                out.write("\n")
            }
        }
        out.flush()
        var err = StandardError()
        printSkipped(reader, to: &err)
    }
}
