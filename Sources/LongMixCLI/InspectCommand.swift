import ArgumentParser
import Foundation
import Packing
import Tokenization

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a pack's statistics, decode a sequence with its boundaries, or verify its integrity.")

    @Argument(help: "The pack directory.")
    var pack: String

    @Option(help: "Decode sequence i, segment by segment.")
    var sequence: Int?

    @Flag(help: "Check every sequence (segments tile it, padding unmasked, ids in the vocabulary, totals).")
    var verify = false

    @Option(help: "Tokenizer for decoding (default: the one recorded in the manifest).")
    var tokenizer: String?

    func run() throws {
        let reader = try PackReader(directory: pack)
        let m = reader.manifest
        print("\(pack): \(m.sequences) sequences x \(m.seqLen) tokens (\(m.tokenDtype)), mixture \(m.mixture.name), seed \(m.seed)")
        print("tokenizer \(m.tokenizer.path) sha256 \(m.tokenizer.sha256.prefix(16))…, loss \(m.loss)")
        print(BuildSummary.table(m))
        if let i = sequence {
            guard i >= 0 && i < reader.count else { throw ValidationError("sequence \(i) is outside 0..<\(reader.count)") }
            let tok = try Tokenizer.load(path: tokenizer ?? m.tokenizer.path)
            let ids = reader.tokens(of: i)
            let mask = reader.lossMask(of: i)
            let documents = try reader.documents()
            for s in reader.segments(of: i) {
                // A corrupt pack is reported, never trapped on: see --verify for a full check.
                guard Int(s.start) + Int(s.length) <= ids.count,
                      s.kind != .document || (s.document >= 0 && Int(s.document) < documents.count),
                      s.kind != .header || Int(s.source) < m.sources.count else {
                    throw PackError("\(pack): sequence \(i) has a segment outside the sequence, the document table or the sources; run `longmix inspect \(pack) --verify`")
                }
                let range = Int(s.start)..<(Int(s.start) + Int(s.length))
                let name: String
                switch s.kind {
                case .padding: name = "padding"
                case .header: name = "header (\(m.sources[Int(s.source)].name), group \(s.group))"
                case .document:
                    name = "\(documents[Int(s.document)].source)/\(documents[Int(s.document)].id) from token \(s.documentOffset)"
                        + (s.group >= 0 ? ", group \(s.group)" : "")
                }
                let masked = mask[range].filter { $0 == 0 }.count
                print("--- [\(range.lowerBound), \(range.upperBound)) \(name); \(masked) tokens without loss")
                if s.kind != .padding {
                    print(String(decoding: try tok.decode(Array(ids[range])), as: UTF8.self))
                }
            }
        }
        if verify {
            let problems = try reader.verify()
            if problems.isEmpty {
                print("verify: OK (\(reader.count) sequences)")
            } else {
                problems.forEach { print("verify: \($0)") }
                throw ExitCode(1)
            }
        }
    }
}
