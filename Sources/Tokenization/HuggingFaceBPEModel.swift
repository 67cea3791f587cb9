import ShardIO

/// A Hugging Face `tokenizer.json` holding a SentencePiece-style BPE model — the LLaMA-2 family as
/// transformers' LlamaConverter writes it — encoding and decoding as the `tokenizers` library does.
///
/// Supported (anything else is refused with a message, never approximated):
/// - model: BPE with vocab and merges (`"a b"` strings or `["a", "b"]` pairs), byte_fallback,
///   fuse_unk, unk_token, ignore_merges; no dropout, no subword prefix or suffix;
/// - normalizer: none, or Prepend / Replace(String) steps (LLaMA-2 legacy: Prepend("▁"),
///   Replace(" ", "▁"));
/// - pre_tokenizer: none, or Metaspace with split false (prepend_scheme always / first / never);
/// - added tokens matched on the raw text (normalized false, no lstrip/rstrip/single_word): HF
///   splits `<s>` in text out as the special token, unlike SentencePiece;
/// - decoder: Replace / ByteFallback / Fuse / Strip steps (as LLaMA-2's); decoding skips special
///   tokens, as `Tokenizer.decode` does by default.
/// Text bytes that are not valid UTF-8 (the library only takes valid strings) become U+FFFD per
/// invalid byte before anything else.
public final class HuggingFaceBPEModel: TokenizerModel {
    enum NormalizerStep {
        case prepend([UInt8])
        case replace(pattern: [UInt8], content: [UInt8])
    }
    enum PrependScheme { case always, first, never }
    enum DecoderStep {
        case replace(pattern: [UInt8], content: [UInt8])
        case byteFallback
        case fuse
        case strip(content: [UInt8], start: Int, stop: Int)
    }
    struct AddedToken {
        var content: [UInt8]
        var id: TokenID
        var special: Bool
    }

    let vocabulary: ByteStringTable
    let merges: IDPairTable
    let pieces: [[UInt8]]
    let unknownID: TokenID?
    let byteFallback: Bool
    let fuseUnknown: Bool
    let ignoreMerges: Bool
    /// `<0xXX>` ids, nil where the vocabulary lacks one.
    let byteIDs: [TokenID?]
    let normalizer: [NormalizerStep]
    /// The Metaspace pre-tokenizer (replacement, scheme), when there is one.
    let metaspace: (replacement: [UInt8], scheme: PrependScheme)?
    let addedTokens: [AddedToken]
    let decoder: [DecoderStep]
    /// Where words may be cut into independently encoded segments; nil when cutting is not exact
    /// for this model (unknown tokens can occur, or merges involve byte-fallback tokens).
    let segmentation: CharacterPairTable?

    public let bosID: TokenID?
    public let eosID: TokenID?
    public var vocabularySize: Int { pieces.count }

    public init(json: [UInt8], path: String? = nil) throws {
        func fail(_ message: String) -> TokenizerError { TokenizerError(path: path, message) }
        let root: JSONValue
        do {
            root = try JSONValue.parse(json)
        } catch {
            throw fail("not valid JSON: \(error)")
        }
        guard let model = root["model"], case .object = model else { throw fail("no \"model\" object") }
        guard model["type"]?.stringValue == "BPE" else {
            throw fail("model type \(model["type"]?.stringValue ?? "missing") is not supported (only BPE)")
        }
        if let dropout = model["dropout"], dropout != .null { throw fail("BPE dropout is not supported") }
        for key in ["continuing_subword_prefix", "end_of_word_suffix"] {
            if let value = model[key], value != .null, value.stringValue != "" { throw fail("BPE \(key) is not supported") }
        }
        func flag(_ value: JSONValue?, _ name: String) throws -> Bool {
            guard let value, value != .null else { return false }
            guard let bool = value.boolValue else { throw fail("model.\(name) must be a boolean") }
            return bool
        }
        byteFallback = try flag(model["byte_fallback"], "byte_fallback")
        fuseUnknown = try flag(model["fuse_unk"], "fuse_unk")
        ignoreMerges = try flag(model["ignore_merges"], "ignore_merges")

        // Vocabulary: piece bytes -> id (keys compared as bytes, never as String).
        guard case .object(let vocabMembers)? = model["vocab"] else { throw fail("model.vocab must be an object") }
        var entries: [(key: [UInt8], value: UInt32)] = []
        entries.reserveCapacity(vocabMembers.count)
        var maxID = -1
        for member in vocabMembers {
            guard let id = member.value.intValue, id >= 0, id < Int(UInt32.max) else {
                throw fail("model.vocab[\(member.key.debugDescription)] is not a token id")
            }
            entries.append((Array(member.key.utf8), UInt32(id)))
            maxID = max(maxID, id)
        }
        // Added tokens may carry ids beyond the model vocabulary.
        var added: [AddedToken] = []
        if case .array(let list)? = root["added_tokens"] {
            for token in list {
                guard let content = token["content"]?.stringValue, let id = token["id"]?.intValue, id >= 0 else {
                    throw fail("an added token lacks content or id")
                }
                for option in ["single_word", "lstrip", "rstrip", "normalized"] where token[option]?.boolValue == true {
                    throw fail("added token \(content.debugDescription) sets \(option), which is not supported")
                }
                added.append(AddedToken(content: Array(content.utf8), id: TokenID(id), special: token["special"]?.boolValue ?? false))
                maxID = max(maxID, id)
            }
        }
        var pieces = [[UInt8]](repeating: [], count: maxID + 1)
        for (key, id) in entries { pieces[Int(id)] = key }
        for token in added where pieces[Int(token.id)].isEmpty { pieces[Int(token.id)] = token.content }
        let vocabulary = ByteStringTable(entries)
        self.vocabulary = vocabulary
        self.pieces = pieces
        addedTokens = added.filter { !$0.content.isEmpty }

        if let unk = model["unk_token"], unk != .null {
            guard let name = unk.stringValue, let id = vocabulary.lookup(Array(name.utf8)) else {
                throw fail("model.unk_token is not in the vocabulary")
            }
            unknownID = id
        } else {
            unknownID = nil
        }
        let hex = Array("0123456789ABCDEF".utf8)
        let byteLookups = (0..<256).map { b in
            vocabulary.lookup(Array("<0x".utf8) + [hex[b >> 4], hex[b & 15], UInt8(ascii: ">")])
        }
        byteIDs = byteLookups

        // Merges, in rank order.
        guard case .array(let mergeList)? = model["merges"] else { throw fail("model.merges must be an array") }
        var mergeEntries: [(left: TokenID, right: TokenID, rank: UInt32, result: TokenID)] = []
        mergeEntries.reserveCapacity(mergeList.count)
        var byteTokenMerges = false
        let byteTokenIDs = Set(byteLookups.compactMap { $0 })
        for (rank, merge) in mergeList.enumerated() {
            let parts: [String]
            if let text = merge.stringValue {
                parts = text.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            } else if let pair = merge.arrayValue, pair.count == 2, let a = pair[0].stringValue, let b = pair[1].stringValue {
                parts = [a, b]
            } else {
                throw fail("merge \(rank) is neither \"a b\" nor [\"a\", \"b\"]")
            }
            guard parts.count == 2 else { throw fail("merge \(rank) does not have two parts") }
            let left = Array(parts[0].utf8), right = Array(parts[1].utf8)
            guard let leftID = vocabulary.lookup(left), let rightID = vocabulary.lookup(right),
                  let resultID = vocabulary.lookup(left + right) else {
                throw fail("merge \(rank) (\(parts[0].debugDescription), \(parts[1].debugDescription)) uses a piece missing from the vocabulary")
            }
            if byteTokenIDs.contains(leftID) || byteTokenIDs.contains(rightID) { byteTokenMerges = true }
            mergeEntries.append((leftID, rightID, UInt32(rank), resultID))
        }
        merges = IDPairTable(mergeEntries)

        normalizer = try Self.parseNormalizer(root["normalizer"], fail)
        metaspace = try Self.parsePreTokenizer(root["pre_tokenizer"], fail)
        decoder = try Self.parseDecoder(root["decoder"], fail)

        let unknownImpossible = byteFallback && !byteLookups.contains(where: { $0 == nil })
        segmentation = unknownImpossible && !byteTokenMerges ? CharacterPairTable(pieces: entries.map(\.key)) : nil

        func specialID(_ content: String) -> TokenID? {
            added.first(where: { $0.content == Array(content.utf8) })?.id ?? vocabulary.lookup(Array(content.utf8))
        }
        bosID = specialID("<s>")
        eosID = specialID("</s>")
    }

    public func makeEncoder() -> any TokenEncoder { HuggingFaceBPEEncoder(model: self) }

    private static func stringPattern(_ value: JSONValue?) -> [UInt8]? {
        guard let pattern = value?["String"]?.stringValue else { return nil }
        return Array(pattern.utf8)
    }

    private static func parseNormalizer(_ value: JSONValue?, _ fail: (String) -> TokenizerError) throws -> [NormalizerStep] {
        guard let value, value != .null else { return [] }
        switch value["type"]?.stringValue {
        case "Sequence":
            guard let list = value["normalizers"]?.arrayValue else { throw fail("normalizer Sequence without normalizers") }
            return try list.flatMap { try parseNormalizer($0, fail) }
        case "Prepend":
            guard let text = value["prepend"]?.stringValue else { throw fail("Prepend normalizer without prepend") }
            return [.prepend(Array(text.utf8))]
        case "Replace":
            guard let pattern = stringPattern(value["pattern"]), !pattern.isEmpty, let content = value["content"]?.stringValue else {
                throw fail("only Replace normalizers with a literal String pattern are supported")
            }
            return [.replace(pattern: pattern, content: Array(content.utf8))]
        case let other:
            throw fail("normalizer \(other ?? "?") is not supported (LLaMA-2 tokenizer.json uses Prepend and Replace)")
        }
    }

    private static func parseScheme(_ value: JSONValue, _ fail: (String) -> TokenizerError) throws -> PrependScheme {
        if let scheme = value["prepend_scheme"]?.stringValue {
            switch scheme {
            case "always": return .always
            case "first": return .first
            case "never": return .never
            default: throw fail("Metaspace prepend_scheme \(scheme) is not supported")
            }
        }
        // Files from older tokenizers releases say add_prefix_space instead.
        return value["add_prefix_space"]?.boolValue == false ? .never : .always
    }

    private static func parsePreTokenizer(_ value: JSONValue?, _ fail: (String) -> TokenizerError) throws -> (replacement: [UInt8], scheme: PrependScheme)? {
        guard let value, value != .null else { return nil }
        guard value["type"]?.stringValue == "Metaspace" else {
            throw fail("pre_tokenizer \(value["type"]?.stringValue ?? "?") is not supported (only Metaspace, as in LLaMA-2)")
        }
        if value["split"]?.boolValue == true { throw fail("Metaspace with split=true is not supported") }
        guard let replacement = value["replacement"]?.stringValue else { throw fail("Metaspace without replacement") }
        return (Array(replacement.utf8), try parseScheme(value, fail))
    }

    private static func parseDecoder(_ value: JSONValue?, _ fail: (String) -> TokenizerError) throws -> [DecoderStep] {
        guard let value, value != .null else { return [] }
        switch value["type"]?.stringValue {
        case "Sequence":
            guard let list = value["decoders"]?.arrayValue else { throw fail("decoder Sequence without decoders") }
            return try list.flatMap { try parseDecoder($0, fail) }
        case "Replace":
            guard let pattern = stringPattern(value["pattern"]), !pattern.isEmpty, let content = value["content"]?.stringValue else {
                throw fail("only Replace decoders with a literal String pattern are supported")
            }
            return [.replace(pattern: pattern, content: Array(content.utf8))]
        case "ByteFallback": return [.byteFallback]
        case "Fuse": return [.fuse]
        case "Strip":
            guard let content = value["content"]?.stringValue, content.unicodeScalars.count == 1,
                  let start = value["start"]?.intValue, let stop = value["stop"]?.intValue else {
                throw fail("Strip decoder needs a one-character content, start and stop")
            }
            return [.strip(content: Array(content.utf8), start: start, stop: stop)]
        case let other:
            throw fail("decoder \(other ?? "?") is not supported")
        }
    }

    /// Decodes as `Tokenizer.decode(ids)` with its default skip_special_tokens=True: special added
    /// tokens are dropped, the rest become their pieces and pass through the decoder steps.
    public func decode(_ ids: [TokenID]) throws -> [UInt8] {
        let special = Set(addedTokens.filter(\.special).map(\.id))
        var tokens: [[UInt8]] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            guard Int(id) < pieces.count else {
                throw TokenizerError("id \(id) is outside the vocabulary (size \(pieces.count))")
            }
            if special.contains(id) { continue }
            tokens.append(pieces[Int(id)])
        }
        for step in decoder {
            switch step {
            case .replace(let pattern, let content):
                tokens = tokens.map { replacing($0, pattern, content) }
            case .byteFallback:
                tokens = Self.fallBackBytes(tokens)
            case .fuse:
                tokens = [tokens.flatMap { $0 }]
            case .strip(let content, let start, let stop):
                tokens = tokens.map { Self.strip($0, content, start, stop) }
            }
        }
        return tokens.flatMap { $0 }
    }

    /// Runs of `<0xXX>` tokens become their bytes when those form valid UTF-8, else one U+FFFD per
    /// token (the ByteFallback decoder).
    private static func fallBackBytes(_ tokens: [[UInt8]]) -> [[UInt8]] {
        var out: [[UInt8]] = []
        var pending: [UInt8] = []
        func flush() {
            guard !pending.isEmpty else { return }
            var valid = true
            pending.withUnsafeBufferPointer { buffer in
                var i = 0
                while i < buffer.count {
                    let length = UTF8Scanning.validSequenceLength(buffer.baseAddress!, i, buffer.count)
                    if length == 0 { valid = false; return }
                    i += length
                }
            }
            if valid {
                out.append(pending)
            } else {
                out.append(contentsOf: repeatElement(UTF8Scanning.replacementCharacter, count: pending.count))
            }
            pending.removeAll()
        }
        for token in tokens {
            if token.count == 6, token.starts(with: Array("<0x".utf8)), token[5] == UInt8(ascii: ">"),
               let value = UInt8(String(decoding: token[3..<5], as: UTF8.self), radix: 16) {
                pending.append(value)
            } else {
                flush()
                out.append(token)
            }
        }
        flush()
        return out
    }

    /// Removes up to `start` leading and `stop` trailing copies of the one-character `content`.
    private static func strip(_ token: [UInt8], _ content: [UInt8], _ start: Int, _ stop: Int) -> [UInt8] {
        var low = 0, high = token.count
        var removed = 0
        while removed < start && high - low >= content.count && Array(token[low..<(low + content.count)]) == content {
            low += content.count
            removed += 1
        }
        removed = 0
        while removed < stop && high - low >= content.count && Array(token[(high - content.count)..<high]) == content {
            high -= content.count
            removed += 1
        }
        return Array(token[low..<high])
    }
}

/// `bytes` with every occurrence of `pattern` (non-empty) replaced by `content`, left to right.
func replacing(_ bytes: [UInt8], _ pattern: [UInt8], _ content: [UInt8]) -> [UInt8] {
    guard bytes.count >= pattern.count else { return bytes }
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
        if i + pattern.count <= bytes.count && bytes[i] == pattern[0] && Array(bytes[i..<(i + pattern.count)]) == pattern {
            out.append(contentsOf: content)
            i += pattern.count
        } else {
            out.append(bytes[i])
            i += 1
        }
    }
    return out
}
