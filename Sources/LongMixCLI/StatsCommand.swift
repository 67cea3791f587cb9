import ArgumentParser
import Foundation
import LongMixCore
import ShardIO

struct StatsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stats",
        abstract: "Count documents and bytes in shards, per source, with a length histogram.",
        discussion: "Sources are the values of --by (a field path such as meta.pile_set_name), or else each shard's directory name.")

    @OptionGroup var shards: ShardOptions

    @Option(help: "Field path to group counts by (default: the shard's directory).")
    var by: String?

    @Flag(help: "Print one JSON object instead of tables.")
    var json = false

    func run() throws {
        var options = try shards.reading.readerOptions()
        if let by { options.groupField = FieldPath(by) }
        let paths = try ShardPaths.expand(shards.shards)
        let reader = DocumentReader(paths: paths, source: "input", options: options)
        var summary = ShardStatistics()
        var file = "", directory = ""  // the shard's directory name, worked out once per shard
        while let document = try reader.next() {
            if by == nil && document.location.file != file {
                file = document.location.file
                directory = URL(fileURLWithPath: file).deletingLastPathComponent().lastPathComponent
            }
            summary.add(document, source: by != nil ? (document.group ?? "-") : directory)
        }
        if json {
            print(String(decoding: try summary.json(counts: reader.counts), as: UTF8.self))
        } else {
            print(summary.table(counts: reader.counts))
        }
        var err = StandardError()
        printSkipped(reader, to: &err)
    }
}
