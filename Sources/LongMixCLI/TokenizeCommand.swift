import ArgumentParser
import Foundation
import Packing
import ShardIO
import Tokenization

/// `longmix tokenize`: JSONL(.zst/.gz) documents -> JSONL `{"ids": [...]}` in input order.
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode documents (or one string) with a SentencePiece tokenizer.model or a tokenizer.json.",
        discussion: """
            Reads JSON Lines shards (.jsonl, .jsonl.zst, .jsonl.gz; files, directories or globs) and \
            writes every document's ids in input order, whatever --threads is, in the format -o/--output's \
            extension names: .npy (one 1-D array of all ids, uint16 when the vocabulary has at most \
            65,536 ids, else uint32; use --bos/--eos to mark documents), .bin (a Megatron-LM indexed \
            dataset, FILE.bin + FILE.idx, one sequence per document), .jsonl or .jsonl.zst (a line \
            {"ids": [...]} per document, with "id" when --id-field is given). Without -o, JSON lines go \
            to stdout. With --text, encodes that one string instead. A summary (documents, bytes, \
            tokens, encoding speed) goes to stderr.
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
        // Inputs are expanded (and registered) first, so an output overlapping them is refused.
        let paths = text == nil ? try ShardPaths.expand(inputs) : []
        let sink = try makeSink(vocabularySize: loaded.vocabularySize)
        if let text {
            try sink.append(loaded.encode(Array(text.utf8), addBOS: bos, addEOS: eos), documentID: "text")
            try sink.finish()
            return
        }
        let meter = progress.meter("tokenize", totalBytes: ShardPaths.totalBytes(paths))
        let reader = DocumentReader(paths: paths, source: "input", options: try reading.readerOptions(progress: meter))
        let job = DocumentTokenization(tokenizer: loaded, threads: threads, addBOS: bos, addEOS: eos)
        let summary = try job.run(reader: reader, into: sink)
        try sink.finish()
        meter?.finish()
        var err = StandardError()
        printSkipped(reader, to: &err)
        let rate = String(format: "%.1f", summary.encodeMegabytesPerSecond)
        let seconds = String(format: "%.3f", summary.encodeSeconds)
        print("tokenize: \(summary.documents) documents, \(summary.textBytes) bytes of text, \(summary.tokens) tokens; "
              + "encoding \(seconds) s (\(rate) MB/s, \(threads) thread\(threads == 1 ? "" : "s")); "
              + "tokenizer \(loaded.format.rawValue) \(loaded.path) loaded in "
              + String(format: "%.1f", loadMilliseconds) + " ms", to: &err)
    }

    /// The output format, chosen by the extension of -o/--output.
    private func makeSink(vocabularySize: Int) throws -> TokenSink {
        guard let output else {
            let stdout = LineSink()
            return JSONLTokenSink(includeID: reading.text.idField != nil, writeLine: stdout.write, finish: stdout.finish)
        }
        let existing = outputOption.existing
        if output.hasSuffix(".npy") { return try NumpyTokenWriter(path: output, vocabularySize: vocabularySize, existing: existing) }
        if output.hasSuffix(".bin") {
            return try IndexedDatasetWriter(prefix: String(output.dropLast(4)), vocabularySize: vocabularySize, existing: existing)
        }
        if output.hasSuffix(".jsonl") || output.hasSuffix(".jsonl.zst") {
            let file = try LineSink(path: output, existing: existing)
            return JSONLTokenSink(includeID: reading.text.idField != nil, writeLine: file.write, finish: file.finish)
        }
        throw ValidationError("-o/--output must end in .npy, .bin (Megatron .bin + .idx), .jsonl or .jsonl.zst: \(output)")
    }
}

/// Where JSON lines go: an atomically written file, or buffered stdout.
final class LineSink {
    private let writer: JSONLWriter?
    private var buffer: [UInt8] = []

    init(path: String?, existing: ExistingFile) throws {
        writer = try path.map { try JSONLWriter(path: $0, existing: existing) }
    }

    /// Buffered standard output.
    init() { writer = nil }

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
