/// Encodes text with a `SentencePieceBPEModel` on one thread.
///
/// Steps, each matching sentencepiece: (1) normalize the bytes (dummy `▁` prefix, spaces to `▁`,
/// U+FFFD for each invalid byte, optional removal of extra spaces); (2) cut the normalized text
/// before every `▁` that follows a non-`▁` character, when the model allows it (see
/// `SentencePieceBPEModel.cutsBeforeSpaceSymbol`); (3) encode each segment by BPE — repeatedly merge
/// the adjacent pair whose concatenation is a NORMAL piece with the highest score, ties to the
/// leftmost — memoized per segment bytes in a `SegmentCache`; (4) map final symbols to ids, with
/// unknown symbols spelled as `<0xXX>` byte pieces (byte_fallback) or as one `<unk>` per run.
///
/// Everything works on bytes and integer ids; no `String` or `Character` is touched.
final class SentencePieceEncoder: TokenEncoder {
    private let model: SentencePieceBPEModel
    private let cache = SegmentCache()
    // Model flags, copied out of the ModelProto for the hot path.
    private let byteFallback: Bool
    private let escapeWhitespaces: Bool
    private let removeExtraWhitespaces: Bool
    private let addDummyPrefix: Bool
    private let unknownID: TokenID
    /// Normalized text of the current call.
    private var normalized: UnsafeMutablePointer<UInt8>
    private var normalizedCapacity: Int

    // BPE scratch, reused across segments.
    private struct Symbol {
        var start: Int32
        var length: Int32
        var prev: Int32
        var next: Int32
    }
    private struct Candidate {
        var score: Float
        var left: Int32
        var right: Int32
        var length: Int32
    }
    private var symbols: [Symbol] = []
    private var agenda: [Candidate] = []
    private var segmentIDs: [TokenID] = []

    var bosID: TokenID? { model.bosID }
    var eosID: TokenID? { model.eosID }

    init(model: SentencePieceBPEModel) {
        self.model = model
        byteFallback = model.proto.byteFallback
        escapeWhitespaces = model.proto.escapeWhitespaces
        removeExtraWhitespaces = model.proto.removeExtraWhitespaces
        addDummyPrefix = model.proto.addDummyPrefix
        unknownID = model.unknownID
        normalizedCapacity = 4096
        normalized = .allocate(capacity: normalizedCapacity)
    }

    deinit { normalized.deallocate() }

    func encode(_ text: UnsafeBufferPointer<UInt8>, into ids: inout [TokenID]) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        let length = normalize(base, text.count)
        guard length > 0 else { return }
        let firstOwnID = ids.count
        let p = normalized
        guard model.cutsBeforeSpaceSymbol else {
            encodeSegment(p, length, firstOwnID: firstOwnID, into: &ids)
            return
        }
        var segmentStart = 0
        var previousIsSpaceSymbol = false
        var i = 0
        while i < length {
            if p[i] == 0xE2 && i + 2 < length && p[i + 1] == 0x96 && p[i + 2] == 0x81 {
                if !previousIsSpaceSymbol && i > segmentStart {
                    encodeSegment(p + segmentStart, i - segmentStart, firstOwnID: firstOwnID, into: &ids)
                    segmentStart = i
                }
                previousIsSpaceSymbol = true
                i += 3
            } else {
                previousIsSpaceSymbol = false
                i += 1
            }
        }
        encodeSegment(p + segmentStart, length - segmentStart, firstOwnID: firstOwnID, into: &ids)
    }

    // MARK: Normalization (normalizer.cc, identity rules)

    private func reserveNormalized(_ capacity: Int) {
        guard capacity > normalizedCapacity else { return }
        normalized.deallocate()
        normalizedCapacity = max(capacity, normalizedCapacity * 2)
        normalized = .allocate(capacity: normalizedCapacity)
    }

    /// Writes the normalized text to `normalized` and returns its length.
    private func normalize(_ text: UnsafePointer<UInt8>, _ count: Int) -> Int {
        reserveNormalized(count * 3 + 3)
        let out = normalized
        var n = 0
        let escape = escapeWhitespaces
        @inline(__always) func appendSpace() {
            if escape {
                out[n] = 0xE2; out[n + 1] = 0x96; out[n + 2] = 0x81
                n += 3
            } else {
                out[n] = 0x20
                n += 1
            }
        }
        var i = 0
        let removeExtra = removeExtraWhitespaces
        if removeExtra {
            while i < count && text[i] == 0x20 { i += 1 }
            if i == count { return 0 }
        }
        if addDummyPrefix { appendSpace() }
        if !removeExtra {
            while i < count {
                let b = text[i]
                if b < 0x80 {
                    if b == 0x20 && escape {
                        out[n] = 0xE2; out[n + 1] = 0x96; out[n + 2] = 0x81
                        n += 3
                    } else {
                        out[n] = b
                        n += 1
                    }
                    i += 1
                } else {
                    n += copyCharacter(text, &i, count, to: out + n)
                }
            }
            return n
        }
        // remove_extra_whitespaces: drop a space that follows a space, then trailing space symbols.
        var previousIsSpace = true
        while i < count {
            if text[i] == 0x20 {
                if !previousIsSpace { appendSpace() }
                previousIsSpace = true
                i += 1
            } else {
                n += copyCharacter(text, &i, count, to: out + n)
                previousIsSpace = false
            }
        }
        let symbol: [UInt8] = escape ? UTF8Scanning.spaceSymbol : [0x20]
        while n >= symbol.count && (0..<symbol.count).allSatisfy({ out[n - symbol.count + $0] == symbol[$0] }) {
            n -= symbol.count
        }
        return n
    }

    /// Copies one character (or U+FFFD for an invalid byte) and advances `i`; returns bytes written.
    @inline(__always)
    private func copyCharacter(_ text: UnsafePointer<UInt8>, _ i: inout Int, _ count: Int,
                               to out: UnsafeMutablePointer<UInt8>) -> Int {
        let length = UTF8Scanning.validSequenceLength(text, i, count)
        if length == 0 {
            out[0] = 0xEF; out[1] = 0xBF; out[2] = 0xBD
            i += 1
            return 3
        }
        for k in 0..<length { out[k] = text[i + k] }
        i += length
        return length
    }

    // MARK: Segments

    private func encodeSegment(_ p: UnsafeMutablePointer<UInt8>, _ length: Int, firstOwnID: Int,
                               into ids: inout [TokenID]) {
        let cacheable = length <= SegmentCache.maxKeyLength
        let hash = cacheable ? tokenizerHash(p, length) : 0
        var hit = false
        if cacheable {
            hit = cache.withCached(p, length, hash: hash) { append($0, firstOwnID: firstOwnID, to: &ids) }
        }
        if hit { return }
        segmentIDs.removeAll(keepingCapacity: true)
        bytePairEncode(p, length)
        segmentIDs.withUnsafeBufferPointer { segment in
            if cacheable { cache.insert(p, length, hash: hash, value: segment) }
            append(segment, firstOwnID: firstOwnID, to: &ids)
        }
    }

    /// Appends a segment's ids. Without byte fallback sentencepiece reports a run of unknown
    /// symbols as one `<unk>`, also across a segment cut, so a leading `<unk>` that follows one
    /// is dropped.
    @inline(__always)
    private func append(_ segment: UnsafeBufferPointer<TokenID>, firstOwnID: Int, to ids: inout [TokenID]) {
        if !byteFallback, let first = segment.first, first == unknownID,
           ids.count > firstOwnID, ids[ids.count - 1] == unknownID {
            ids.append(contentsOf: segment.dropFirst())
        } else {
            ids.append(contentsOf: segment)
        }
    }

    // MARK: BPE (bpe_model.cc)

    @inline(__always)
    private static func outranks(_ a: Candidate, _ b: Candidate) -> Bool {
        a.score > b.score || (a.score == b.score && a.left < b.left)
    }

    private func push(_ candidate: Candidate) {
        agenda.append(candidate)
        var child = agenda.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.outranks(agenda[child], agenda[parent]) else { break }
            agenda.swapAt(child, parent)
            child = parent
        }
    }

    private func pop() -> Candidate {
        let top = agenda[0]
        let last = agenda.removeLast()
        if !agenda.isEmpty {
            agenda[0] = last
            var parent = 0
            let count = agenda.count
            while true {
                let left = 2 * parent + 1
                guard left < count else { break }
                var best = left
                if left + 1 < count && Self.outranks(agenda[left + 1], agenda[left]) { best = left + 1 }
                guard Self.outranks(agenda[best], agenda[parent]) else { break }
                agenda.swapAt(best, parent)
                parent = best
            }
        }
        return top
    }

    /// Queues the pair (left, right) when its concatenation is a mergeable piece.
    @inline(__always)
    private func consider(_ p: UnsafeMutablePointer<UInt8>, _ left: Int32, _ right: Int32) {
        guard left >= 0, right >= 0 else { return }
        let start = symbols[Int(left)].start
        let length = symbols[Int(left)].length + symbols[Int(right)].length
        guard let id = model.mergeable.lookup(p + Int(start), Int(length)) else { return }
        push(Candidate(score: model.scores[Int(id)], left: left, right: right, length: length))
    }

    /// BPE-encodes one normalized segment into `segmentIDs`.
    private func bytePairEncode(_ p: UnsafeMutablePointer<UInt8>, _ length: Int) {
        symbols.removeAll(keepingCapacity: true)
        agenda.removeAll(keepingCapacity: true)
        var i = 0
        while i < length {
            let charLength = min(UTF8Scanning.leadByteLength(p[i]), length - i)
            let index = Int32(symbols.count)
            symbols.append(Symbol(start: Int32(i), length: Int32(charLength), prev: index - 1,
                                  next: i + charLength < length ? index + 1 : -1))
            i += charLength
        }
        for index in 1..<max(symbols.count, 1) { consider(p, Int32(index - 1), Int32(index)) }
        while !agenda.isEmpty {
            let top = pop()
            let left = Int(top.left), right = Int(top.right)
            guard symbols[left].length > 0, symbols[right].length > 0,
                  symbols[left].length + symbols[right].length == top.length else { continue }
            symbols[left].length = top.length
            symbols[left].next = symbols[right].next
            if symbols[right].next >= 0 { symbols[Int(symbols[right].next)].prev = top.left }
            symbols[right].length = 0
            consider(p, symbols[left].prev, top.left)
            consider(p, top.left, symbols[left].next)
        }
        var index: Int32 = symbols.isEmpty ? -1 : 0
        var previousIsUnknown = false
        while index >= 0 {
            let symbol = symbols[Int(index)]
            let start = p + Int(symbol.start), count = Int(symbol.length)
            let id = model.mergeable.lookup(start, count) ?? model.reserved.lookup(start, count) ?? unknownID
            let isUnknown = id == unknownID
            if isUnknown && byteFallback {
                for k in 0..<count { segmentIDs.append(model.byteIDs[Int(start[k])]) }
            } else if !(isUnknown && previousIsUnknown) {
                segmentIDs.append(id)
            }
            previousIsUnknown = isUnknown
            index = symbol.next
        }
    }
}
