import ArgumentParser
import Foundation
import ShardIO
import Tokenization

/// `longmix detokenize`: JSONL `{"ids": [...]}` -> JSONL `{"text": "..."}`, line for line.
struct DetokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "detokenize",
        abstract: "Decode JSON Lines of token ids back to text.",
        discussion: """
            Reads lines {"ids": [...]} (as `longmix tokenize` writes them; "id" is carried over) and \
            writes {"text": "..."} per line in the same order, to -o/--output (.jsonl or .jsonl.zst) or stdout. With --ids, decodes that one \
            comma-separated list instead.
            """)

    @Option(name: .long, help: "A SentencePiece tokenizer.model or a Hugging Face tokenizer.json.")
    var tokenizer: String

    @Option(name: .long, help: "Decode these comma-separated ids and print the text.")
    var ids: String?

    @OptionGroup var output: OutputOption
    @OptionGroup var keepGoing: KeepGoingOption

    @Argument(help: "Input JSONL files of ids.")
    var inputs: [String] = []

    func validate() throws {
        guard (ids == nil) != inputs.isEmpty else {
            throw ValidationError("give either --ids LIST or input files, not both or neither")
        }
    }

    func run() throws {
        let loaded = try Tokenizer.load(path: tokenizer)
        if let ids {
            let parsed = try ids.split(separator: ",").map { part -> TokenID in
                guard let id = TokenID(part.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--ids: '\(part)' is not a token id")
                }
                return id
            }
            FileHandle.standardOutput.write(Data(try loaded.decode(parsed) + [0x0A]))
            return
        }
        let paths = try ShardPaths.expand(inputs)
        let sink = try LineSink(path: output.output, existing: output.existing)
        var ledger = RecordLedger(skipBadRecords: keepGoing.keepGoing)
        let lines = try IDLinesDecoding(tokenizer: loaded).run(paths: paths, ledger: &ledger,
                                                               writeLine: sink.write)
        try sink.finish()
        var err = StandardError()
        print("detokenize: \(lines) lines decoded", to: &err)
        printSkipped(ledger.counts, firstErrors: ledger.firstErrors, to: &err)
    }
}
