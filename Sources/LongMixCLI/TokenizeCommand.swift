import ArgumentParser
import Foundation
import ShardIO
import Tokenization

/// `longmix tokenize`: JSONL(.zst/.gz) documents -> JSONL `{"ids": [...]}` in input order.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode documents (or one string) with a SentencePiece tokenizer.model or a tokenizer.json.",
        discussion: """
            Reads JSON Lines shards (.jsonl, .jsonl.zst, .jsonl.gz; files, directories or globs) and \
            writes one line {"ids": [...]} per document, in input order whatever --threads is. With \
            --id-field each line also carries "id". With --text, encodes that one string instead. \
            A summary (documents, bytes, tokens, encoding speed) goes to stderr.
            """)

    @Option(name: .long, help: "A SentencePiece tokenizer.model or a Hugging Face tokenizer.json.")
    var tokenizer: String

    @OptionGroup var reading: ReadingOptions

    @Option(name: .long, help: "Encode this one string and print its ids.")
    var text: String?

    @OptionGroup var outputOption: OutputOption
    var output: String? { outputOption.output }

    @OptionGroup var threadOptions: ThreadOptions
    var threads: Int { threadOptions.threads }

    @OptionGroup var progress: ProgressOptions

    @Flag(name: .long, help: "Prepend the BOS id (<s>).")
    var bos = false

    @Flag(name: .long, help: "Append the EOS id (</s>).")
    var eos = false

    @Argument(help: "Input shards: files, directories or glob patterns.")
    var inputs: [String] = []

    func validate() throws {
        guard (text == nil) != inputs.isEmpty else {
            throw ValidationError("give either --text STRING or input shards, not both or neither")
        }
    }

    func run() throws {
        let clock = ContinuousClock()
        let loadStart = clock.now
        let loaded = try Tokenizer.load(path: tokenizer)
        let loadTime = clock.now - loadStart
        let loadMilliseconds = Double(loadTime.components.seconds) * 1e3 + Double(loadTime.components.attoseconds) * 1e-15
        if bos && loaded.bosID == nil { throw ValidationError("the tokenizer defines no BOS token") }
        if eos && loaded.eosID == nil { throw ValidationError("the tokenizer defines no EOS token") }
        let sink = try LineSink(path: output)
        if let text {
            var line = JSONOutput()
            line.raw("{")
            line.key("ids")
            line.integers(loaded.encode(Array(text.utf8), addBOS: bos, addEOS: eos))
            line.raw("}")
            try sink.write(line.bytes)
            try sink.finish()
            return
        }
        let paths = try ShardPaths.expand(inputs)
        let meter = progress.meter("tokenize", totalBytes: ShardPaths.totalBytes(paths))
        let reader = DocumentReader(paths: paths, source: "input", options: try reading.readerOptions(progress: meter))
        let job = DocumentTokenization(tokenizer: loaded, threads: threads, addBOS: bos, addEOS: eos,
                                       includeID: reading.text.idField != nil)
        let summary = try job.run(reader: reader, writeLine: sink.write)
        try sink.finish()
        meter?.finish()
        var err = StandardError()
        printSkipped(reader, to: &err)
        let rate = String(format: "%.1f", summary.encodeMegabytesPerSecond)
        let seconds = String(format: "%.3f", summary.encodeSeconds)
        FileHandle.standardError.write(Data((
            "tokenize: \(summary.documents) documents, \(summary.textBytes) bytes of text, \(summary.tokens) tokens; "
            + "encoding \(seconds) s (\(rate) MB/s, \(threads) thread\(threads == 1 ? "" : "s")); "
            + "tokenizer \(loaded.format.rawValue) sha256 \(loaded.sha256) loaded in "
            + String(format: "%.1f", loadMilliseconds) + " ms\n").utf8))
    }
}

/// Where JSON lines go: an atomically written file, or buffered stdout.
final class LineSink {
    private let writer: JSONLWriter?
    private var buffer: [UInt8] = []

    init(path: String?) throws {
        writer = try path.map { try JSONLWriter(path: $0) }
    }

    func write(_ line: [UInt8]) throws {
        if let writer {
            try writer.write(line: line)
            return
        }
        buffer.append(contentsOf: line)
        buffer.append(UInt8(ascii: "\n"))
        if buffer.count >= 1 << 20 { flushStdout() }
    }

    func finish() throws {
        if let writer { try writer.finish() } else { flushStdout() }
    }

    private func flushStdout() {
        FileHandle.standardOutput.write(Data(buffer))
        buffer.removeAll(keepingCapacity: true)
    }
}
