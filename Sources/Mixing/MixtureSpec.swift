import Foundation
import LongMixCore
import ShardIO
import Yams

/// How a source's documents are packed into sequences.
public enum PackingStrategy: String, Sendable, CaseIterable, Codable {
    /// OpenChatKit: documents joined and cut into exact sequences, no padding.
    case concat
    /// Best-fit-decreasing: no document that fits is cut; padding instead.
    case bestFit = "best-fit"
    /// Examples of one group under the group's header, as many as fit per sequence.
    case fewShot = "few-shot"
}

/// Which tokens count in the loss.
public enum LossPolicy: String, Sendable, CaseIterable, Codable {
    case all
    /// Prompt tokens (a source's text before its `completion`) and few-shot headers get mask 0.
    case completionOnly = "completion-only"
}

/// How much the mixture produces in total.
public enum TokenBudget: Sendable, Equatable {
    /// A fixed number of output tokens.
    case tokens(Int)
    /// As much as the scarcest source allows at its weight without up-sampling it.
    case smallestSource
}

/// One source of a mixture.
public struct MixtureSource: Sendable {
    public var name: String
    /// Shard patterns, already resolved against the data root.
    public var paths: [String]
    public var weight: Double
    /// How records become documents; `reader.completion` marks the answer part (the only part
    /// in the loss under completion-only) and `reader.header` a few-shot group's instruction.
    public var reader: ReaderOptions
    public var packing: PackingStrategy
    public var minDocumentTokens: Int
    /// Few-shot only: a sequence's leftover space takes another group's examples under that
    /// group's own header (`few_shot_fill`), instead of padding.
    public var fewShotFill: Bool = false
}

/// The decontamination a mixture asks for.
public struct DecontaminationSpec: Sendable {
    public var index: String
    /// Test-set files imported into the index (idempotently) before the build.
    public var testSets: [String]
    public var protocolName: String
    public var n: Int?
    public var normalization: String?
}

/// A mixture file (YAML), validated: every error names the file, the key and the line.
///
/// Relative paths in it (tokenizer, data, index) are resolved against `data_root` for shards and
/// against the mixture file's directory for everything else; `data_root` itself defaults to the
/// mixture file's directory.
public struct MixtureSpec: Sendable {
    public var path: String
    public var name: String
    public var seed: UInt64
    public var seqLen: Int
    public var minDocumentTokens: Int
    public var tokenizer: String
    public var budget: TokenBudget
    public var packing: PackingStrategy
    public var addBOS: Bool
    public var addEOS: Bool
    /// `special_tokens.pad`: the id padding is written with; nil means EOS (then padding and
    /// document ends look alike in `tokens.bin`; segments and the loss mask still tell them apart).
    public var padID: UInt32?
    /// Line of `special_tokens.pad` in the file, for errors found once the tokenizer is known.
    public var padLine: Int?
    public var loss: LossPolicy
    public var decontamination: DecontaminationSpec?
    public var sources: [MixtureSource]
    /// Most passes over a source that up-sampling may make (`max_epochs`, default 10).
    public var maxEpochs: Int
    /// The directory shard paths are resolved against; default document ids are shard paths
    /// relative to it plus the line number (`"redpajama/book/shard-001.jsonl:17"`).
    public var dataRoot: String
    /// SHA-256 of the file's bytes, recorded in the pack manifest.
    public var sha256: String
    /// The line of the file's `tokenizer:` key; nil when the tokenizer was given as an override.
    public var tokenizerLine: Int?

    static let topKeys: Set<String> = ["name", "description", "seed", "seq_len", "min_doc_tokens", "tokenizer", "data_root",
                                       "budget", "packing", "few_shot_fill", "special_tokens", "loss", "decontamination", "sources",
                                       "max_epochs"]
    static let sourceKeys: Set<String> = ["name", "paths", "text", "template", "completion", "header", "id_field", "group_field",
                                          "weight", "packing", "few_shot_fill", "min_doc_tokens", "description"]

    /// The id padding is written with: `special_tokens.pad`, else EOS (else 0). Refuses an id
    /// outside the tokenizer's vocabulary, naming the key and line.
    public func resolvedPadID(vocabularySize: Int, eosID: UInt32?) throws -> UInt32 {
        guard let padID else { return eosID ?? 0 }
        guard Int(padID) < vocabularySize else {
            throw ConfigurationError(file: path, key: "special_tokens.pad", line: padLine,
                                     "pad id \(padID) is outside the tokenizer's vocabulary of \(vocabularySize) ids")
        }
        return padID
    }

    /// The accepted ranges of a mixture's numbers (a value outside is an error naming key and
    /// line). They keep every product and sum the build forms on them inside `Int`.
    public enum Limits {
        public static let seqLen = 1...(1 << 22)
        public static let tokens = 0...(1 << 50)
        public static let budget = 1...(1 << 50)
        public static let weight = 1e-9...1e9
        public static let maxEpochs = 1...10_000
        public static let ngram = 1...64
        public static let sources = 1...Int(UInt16.max)
    }

    /// Whether `name` may name a source: it becomes a file name in the build's directories, so
    /// only letters, digits, `.`, `_` and `-`, not starting with `.` or `-`, at most 100 bytes.
    public static func isValidSourceName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first != UInt8(ascii: "."), first != UInt8(ascii: "-"), name.utf8.count <= 100 else { return false }
        return name.utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x2E || b == 0x5F || b == 0x2D
        }
    }

    /// Loads and validates `path`; `dataRoot` and `tokenizer` override the file's values.
    public static func load(path: String, dataRoot: String? = nil, tokenizer: String? = nil) throws -> MixtureSpec {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, "cannot read the mixture file")
        }
        InputFiles.register([path])
        let text = String(decoding: data, as: UTF8.self)
        let composed: Node?
        do {
            composed = try Yams.compose(yaml: text)
        } catch {
            throw ConfigurationError(file: path, "not valid YAML: \(error)")
        }
        guard let composed else { throw ConfigurationError(file: path, "the mixture file is empty") }
        let root = YAMLNode(node: composed, file: path, path: "")
        let top = try root.mapping(allowed: topKeys)
        func required(_ key: String) throws -> YAMLNode {
            guard let node = top[key] else { throw ConfigurationError(file: path, key: key, "missing required key") }
            return node
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        func resolve(_ p: String, against base: String) -> String {
            p.hasPrefix("/") ? p : URL(fileURLWithPath: base).appendingPathComponent(p).standardized.path
        }

        let name = try required("name").string()
        let seed = try top["seed"].map { UInt64(try $0.int(in: 0...Int.max)) } ?? 0
        let seqLen = try top["seq_len"].map { try $0.int(in: Limits.seqLen) } ?? 32768
        let minTokens = try top["min_doc_tokens"].map { try $0.int(in: Limits.tokens) } ?? 2048
        let maxEpochs = try top["max_epochs"].map { try $0.int(in: Limits.maxEpochs) } ?? 10
        let tokenizerPath = try tokenizer ?? resolve(try required("tokenizer").string(), against: directory)
        var root_ = dataRoot ?? directory
        if dataRoot == nil, let node = top["data_root"] { root_ = resolve(try node.string(), against: directory) }
        let packing = try top["packing"].map { try $0.oneOf(PackingStrategy.self) } ?? .concat
        let loss = try top["loss"].map { try $0.oneOf(LossPolicy.self) } ?? .all
        let fewShotFill = try top["few_shot_fill"].map { try $0.bool() } ?? false

        var budget = TokenBudget.smallestSource
        if let b = top["budget"] {
            if b.node.int != nil {
                budget = .tokens(try b.int(in: Limits.budget))
            } else if try b.string() != "smallest-source" {
                throw b.error("must be a number of tokens or 'smallest-source'")
            }
        }

        var addBOS = true, addEOS = true
        var padID: UInt32?
        var padLine: Int?
        if let special = top["special_tokens"] {
            let m = try special.mapping(allowed: ["bos", "eos", "pad"])
            addBOS = try m["bos"].map { try $0.bool() } ?? true
            addEOS = try m["eos"].map { try $0.bool() } ?? true
            if let node = m["pad"] {
                padLine = node.line
                padID = UInt32(try node.int(in: 0...Int(UInt32.max)))
            }
        }

        var decontamination: DecontaminationSpec?
        if let d = top["decontamination"] {
            let m = try d.mapping(allowed: ["index", "test_sets", "protocol", "n", "normalization"])
            guard let index = m["index"] else { throw d.error("missing required key", key: "decontamination.index") }
            decontamination = DecontaminationSpec(
                index: resolve(try index.string(), against: directory),
                testSets: try m["test_sets"].map { try $0.strings().map { resolve($0, against: directory) } } ?? [],
                protocolName: try m["protocol"].map { try $0.string() } ?? "together",
                n: try m["n"].map { try $0.int(in: Limits.ngram) }, normalization: try m["normalization"].map { try $0.string() })
        }

        let sourceNodes = try required("sources").sequence()
        guard !sourceNodes.isEmpty else { throw top["sources"]!.error("a mixture needs at least one source") }
        guard Limits.sources.contains(sourceNodes.count) else { throw top["sources"]!.error("at most \(Limits.sources.upperBound) sources") }
        var sources: [MixtureSource] = []
        for node in sourceNodes {
            let m = try node.mapping(allowed: sourceKeys)
            guard let nameNode = m["name"] else { throw node.error("missing required key", key: node.path + ".name") }
            let sourceName = try nameNode.string()
            guard isValidSourceName(sourceName) else {
                throw nameNode.error("'\(sourceName)' cannot name a source: it becomes a file name, so use letters, digits, '.', '_' and '-' (not first), at most 100 characters")
            }
            guard !sources.contains(where: { $0.name == sourceName }) else { throw nameNode.error("duplicate source name '\(sourceName)'") }
            guard let pathsNode = m["paths"] else { throw node.error("missing required key", key: node.path + ".paths") }
            let weight = try m["weight"].map { try $0.double(in: Limits.weight) } ?? 1
            if m["text"] != nil && m["template"] != nil { throw m["template"]!.error("give either text or template, not both") }
            let text: TextSelector
            do {
                text = try m["template"].map { try TextSelector.template(try $0.string()) } ?? .field(try m["text"]?.string() ?? "text")
            } catch let e as ConfigurationError {
                throw (m["template"] ?? node).error(e.message)
            }
            func template(_ key: String) throws -> TextSelector? {
                guard let n = m[key] else { return nil }
                do { return try TextSelector.template(try n.string()) } catch let e as ConfigurationError { throw n.error(e.message) }
            }
            let sourcePacking = try m["packing"].map { try $0.oneOf(PackingStrategy.self) } ?? packing
            let groupField = try m["group_field"].map { FieldPath(try $0.string()) }
            if sourcePacking == .fewShot && groupField == nil {
                throw node.error("few-shot packing needs a group_field (for example meta.task_name)", key: node.path + ".group_field")
            }
            var reader = ReaderOptions(text: text, idField: try m["id_field"].map { FieldPath(try $0.string()) },
                                       groupField: groupField, completion: try template("completion"), header: try template("header"))
            reader.idRoot = root_
            let fill = try m["few_shot_fill"].map { try $0.bool() }
            if fill == true && sourcePacking != .fewShot {
                throw m["few_shot_fill"]!.error("few_shot_fill needs packing: few-shot")
            }
            sources.append(MixtureSource(
                name: sourceName, paths: try pathsNode.strings().map { resolve($0, against: root_) }, weight: weight,
                reader: reader, packing: sourcePacking, minDocumentTokens: try m["min_doc_tokens"].map { try $0.int(in: Limits.tokens) } ?? minTokens,
                fewShotFill: sourcePacking == .fewShot && (fill ?? fewShotFill)))
        }
        let total = sources.reduce(0) { $0 + $1.weight }
        for i in sources.indices { sources[i].weight /= total }

        return MixtureSpec(path: path, name: name, seed: seed, seqLen: seqLen, minDocumentTokens: minTokens,
                           tokenizer: tokenizerPath, budget: budget, packing: packing, addBOS: addBOS, addEOS: addEOS,
                           padID: padID, padLine: padLine, loss: loss, decontamination: decontamination, sources: sources,
                           maxEpochs: maxEpochs, dataRoot: root_, sha256: SHA256.hexDigest(SHA256.hash([UInt8](data))),
                           tokenizerLine: tokenizer == nil ? top["tokenizer"]?.line : nil)
    }

    /// Checks that the tokenizer file exists, else a `ConfigurationError` naming the `tokenizer`
    /// key and its line (or the override) and saying how to pass another one.
    public func requireTokenizer() throws {
        guard !FileManager.default.fileExists(atPath: tokenizer) else { return }
        let how = "pass --tokenizer /path/to/tokenizer.model (or tokenizer.json) to `longmix build` / `longmix plan`, "
            + "or edit the key (LLaMA-2's tokenizer.model: see README, \"Tokenizers\")"
        if let tokenizerLine {
            throw ConfigurationError(file: path, key: "tokenizer", line: tokenizerLine, "no tokenizer file at \(tokenizer); " + how)
        }
        throw ConfigurationError(key: "--tokenizer", "no tokenizer file at \(tokenizer)")
    }
}
