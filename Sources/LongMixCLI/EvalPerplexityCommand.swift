import ArgumentParser
import Model
import Evaluation
import Foundation
import Packing
import ShardIO
import Tokenization

/// `longmix eval ppl`: perplexity per byte of documents, one row per checkpoint, one column per context.
struct EvalPerplexityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppl",
        abstract: "Perplexity per byte (and bits per byte) of documents at several contexts, one row per checkpoint.",
        discussion: """
        Perplexity per byte is exp(sum of token negative log-likelihoods / UTF-8 bytes of the scored text). \
        Each document is tokenized once as BOS + ids, cut to --max-tokens (default: the largest context) so \
        that every context scores the same tokens; documents shorter than --min-tokens (default: the largest \
        context) are counted and left out. Windows are non-overlapping by default (each token scored once, \
        consecutive windows sharing one token); --stride S slides windows by S tokens, each scored token \
        seeing at least context - S tokens (the PI paper uses 256). A cell is marked * when the context \
        reaches rotary positions the checkpoint never trained on (extrapolation). A checkpoint written \
        DIR@F is evaluated with linear RoPE factor F instead of its own (Position Interpolation without training). \
        With --pack DIR instead of shards, each pack sequence (up to its padding, documents joined as the \
        trainer sees them) is one stream, scored after its first token; the pack must have been built with \
        --tokenizer.
        """)

    @Option(name: .customLong("checkpoint"), help: "Checkpoint directory, or DIR@F for rope factor F (repeat for several rows).")
    var checkpoints: [String]

    @Option(help: "Contexts to evaluate at, comma-separated, e.g. 2048,4096,8192.")
    var contexts: String

    @Option(help: "Sliding-window stride (default: non-overlapping windows).")
    var stride: Int?

    @Option(help: "The tokenizer the checkpoints were trained with (SentencePiece .model or tokenizer.json).")
    var tokenizer: String

    @Argument(help: "Shard files (.jsonl, .jsonl.zst, .jsonl.gz), directories or glob patterns (or --pack).")
    var shards: [String] = []

    @OptionGroup var reading: ReadingOptions

    @Option(help: "Score the sequences of this pack directory instead of shards.")
    var pack: String?

    @Option(help: "Leave out documents with fewer stream tokens than this (default: the largest context).")
    var minTokens: Int?

    @Option(help: "Cut documents to this many stream tokens (default: the largest context).")
    var maxTokens: Int?

    @Option(help: "Score at most this many documents.")
    var maxDocuments: Int?

    @OptionGroup var force: ForceOption

    @Option(help: "Also write the table as JSON here.")
    var json: String?

    @OptionGroup var threadOptions: ThreadOptions

    @OptionGroup var progressOptions: ProgressOptions

    func validate() throws {
        guard (pack == nil) != shards.isEmpty else { throw ValidationError("give shards or --pack DIR (one of them)") }
    }

    func run() throws {
        try loadOpenBLAS(threads: threadOptions.threads)  // once per process, before any model runs
        let contextList = try contexts.split(separator: ",").map { part -> Int in
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)), n >= 2 else {
                throw ValidationError("--contexts '\(contexts)': expected comma-separated token counts of at least 2")
            }
            return n
        }
        guard let largest = contextList.max() else { throw ValidationError("--contexts is empty") }
        let models = try checkpoints.map { try PerplexityModel(argument: $0) }
        let loaded = try Tokenizer.load(path: tokenizer)
        // The table is written at the end, after the models ran: refuse its path now.
        InputFiles.register(models.map(\.checkpoint) + (pack.map { [$0] } ?? []))
        let shardPaths = pack == nil ? try ShardPaths.expand(shards) : []
        if let json { try OutputTarget.checkFile(json, existing: force.existing) }
        var err = StandardError()
        let corpus: PerplexityCorpus
        if let pack {
            corpus = try PerplexityCorpus(pack: try PackReader(directory: pack), tokenizer: loaded, minTokens: minTokens ?? largest,
                                          maxTokens: maxTokens ?? largest, maxDocuments: maxDocuments)
        } else {
            let reader = DocumentReader(paths: shardPaths, source: "input", options: try reading.readerOptions())
            corpus = try PerplexityCorpus(reader: reader, tokenizer: loaded, minTokens: minTokens ?? largest,
                                          maxTokens: maxTokens ?? largest, maxDocuments: maxDocuments)
            printSkipped(reader, to: &err)
        }
        print("\(pack == nil ? "documents" : "sequences") read \(corpus.documentsRead): scored \(corpus.documents) (\(corpus.documentsCut) cut to "
              + "\(maxTokens ?? largest) tokens), too short \(corpus.documentsTooShort); \(corpus.tokens) tokens, "
              + "\(corpus.bytes.reduce(0, +)) bytes")
        let meter = progressOptions.meter("score", total: 0, unit: .items("tokens"))
        let table = try PerplexityRun.evaluate(corpus: corpus, models: models, contexts: contextList, stride: stride,
                                               threads: threadOptions.threads, progress: meter,
                                               cellScored: progressOptions.quiet ? nil : { line in print(line, to: &err) })
        print(table.rendered())
        if let json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let writer = try AtomicFileWriter(path: json, existing: force.existing)
            try writer.write([UInt8](try encoder.encode(table)) + [10])
            try writer.commit()
        }
    }
}
