/// Encodes text with a `SentencePieceBPEModel` on one thread.
///
/// Steps, each matching sentencepiece: (1) normalize the bytes (dummy `▁` prefix, spaces to `▁`,
/// U+FFFD for each invalid byte, optional removal of extra spaces); (2) cut the normalized text
/// where no vocabulary piece can span (before every `▁` that follows a non-`▁`, around newlines;
/// see `CharacterPairTable`); (3) encode each segment by BPE — repeatedly merge
/// the adjacent pair whose concatenation is a NORMAL piece with the highest score, ties to the
/// leftmost — memoized per segment bytes in a `SegmentCache`; (4) map final symbols to ids, with
/// unknown symbols spelled as `<0xXX>` byte pieces (byte_fallback) or as one `<unk>` per run.
///
/// Steps (1) and (2) are swapped where that is exact: without remove_extra_whitespaces,
/// normalization maps each character on its own (a space to `▁`, an invalid byte to U+FFFD, any
/// other character to itself), and the mapped character has the class the cutting rule gives the
/// original (`CharacterPairTable.Cutter`, `unnormalized`). So the text (behind a
/// space for the dummy prefix) is cut as it is, each segment is looked up in the cache by its
/// bytes as they are, and only a segment the cache does not know is normalized, for BPE. The cache
/// may hold two keys for one normalized segment (a space and a literal `▁`), each with the right
/// ids. With remove_extra_whitespaces (which depends on neighbouring characters) the whole text
/// is normalized first, and the same cutting and lookups run on the normalized text (normalizing
/// a segment again changes nothing).
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
    /// The current text as it is cut: behind the dummy prefix's space, or normalized (with
    /// remove_extra_whitespaces). 16 bytes of slack: SegmentCache reads short keys as two words.
    private var normalized: UnsafeMutablePointer<UInt8>
    private var normalizedCapacity: Int
    /// The id of each one-byte segment that encodes to one known piece, `TokenID.max` for the
    /// others (computed at `init` by the same normalization and BPE a segment otherwise gets).
    /// Almost half of all segments are one byte (a newline, a digit, a period), so these skip the
    /// cache: its hash, prefetch and lookup cost more than this 1 KB table's load.
    private let singleByteIDs: UnsafeMutablePointer<TokenID>
    /// The normalized bytes of the segment being encoded by BPE.
    private var segmentScratch: UnsafeMutablePointer<UInt8>
    private var segmentScratchCapacity: Int

    // BPE scratch, reused across segments: symbols, the merge agenda (a binary heap) and the
    // segment's ids. Raw buffers sized for the longest segment seen, so the inner loops run on
    // plain pointers.
    private struct Symbol {
        var start: Int32
        var length: Int32
        var prev: Int32
        var next: Int32
        /// The symbol's mergeable piece id, `UInt32.max` when its bytes are not a mergeable piece
        /// (only possible for a single character).
        var id: TokenID
    }
    private struct Candidate {
        var rank: UInt32
        var left: Int32
        var right: Int32
        var length: Int32
        var id: TokenID
    }
    private var scratchCapacity = 0
    private var symbolScratch = UnsafeMutablePointer<Symbol>.allocate(capacity: 1)
    private var agendaScratch = UnsafeMutablePointer<Candidate>.allocate(capacity: 1)
    private var idScratch = UnsafeMutablePointer<TokenID>.allocate(capacity: 1)
    private var pairRankScratch = UnsafeMutablePointer<UInt32>.allocate(capacity: 1)

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
        segmentScratchCapacity = 3 * SegmentCache.maxKeyLength + 3
        segmentScratch = .allocate(capacity: segmentScratchCapacity)
        singleByteIDs = .allocate(capacity: 256)
        for byte in 0..<256 {
            var segment = UInt8(byte)
            let length = normalizeSegment(&segment, 1)
            let count = bytePairEncode(segmentScratch, length)
            singleByteIDs[byte] = count == 1 && idScratch[0] != unknownID ? idScratch[0] : .max
        }
    }

    deinit {
        normalized.deallocate()
        singleByteIDs.deallocate()
        segmentScratch.deallocate()
        endScratch.deallocate()
        probeScratch.deallocate()
        output.deallocate()
        symbolScratch.deallocate()
        agendaScratch.deallocate()
        idScratch.deallocate()
        pairRankScratch.deallocate()
    }

    func encode(_ text: UnsafeBufferPointer<UInt8>, into ids: inout [TokenID]) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        let length = removeExtraWhitespaces ? normalize(base, text.count) : prefixed(base, text.count)
        guard length > 0 else { return }
        // A text's ids go to a raw buffer first (at most one id per normalized byte: every piece,
        // byte fallback included, spans at least one byte; a byte here normalizes to at most 3),
        // then to `ids` in one append.
        reserveOutput(3 * length + 2)
        let p = normalized
        var count = 0
        // Segments are cut a batch at a time; the batch is probed (hashed, its cache lines
        // requested) before any of it is looked up, so each lookup comes a batch of work after
        // its probe: its line has had time to arrive, and the lookups' memory latencies overlap
        // instead of queueing one behind another.
        let ends = endScratch, probes = probeScratch, batch = Self.segmentBatch, out = output
        var cutter = CharacterPairTable.Cutter(model.segmentation, p, length, unnormalized: !removeExtraWhitespaces,
                                               spaceIsSymbol: escapeWhitespaces)
        var batchStart = 0
        while case let n = cutter.next(into: ends, capacity: batch), n > 0 {
            var start = batchStart
            for k in 0..<n {
                let end = ends[k]
                if Self.isCacheable(end &- start) { probes[k] = cache.probe(p + start, end &- start) }
                start = end
            }
            start = batchStart
            for k in 0..<n {
                let end = ends[k], segmentLength = end &- start
                if segmentLength == 1, case let id = singleByteIDs[Int(p[start])], id != .max {
                    out[count] = id
                    count &+= 1
                } else if Self.isCacheable(segmentLength), let found = cache.cached(p + start, segmentLength, probes[k]) {
                    append(found, to: out, count: &count)
                } else {
                    encodeUncached(p + start, segmentLength, probes[k], count: &count)
                }
                start = end
            }
            batchStart = start
        }
        ids.append(contentsOf: UnsafeBufferPointer(start: output, count: count))
    }

    /// Segments cut, probed and looked up together.
    private static let segmentBatch = 128
    private let endScratch = UnsafeMutablePointer<Int>.allocate(capacity: segmentBatch)
    /// The batch's probes (for the segments that are cached).
    private let probeScratch: UnsafeMutablePointer<SegmentCache.Probe> = {
        let probes = UnsafeMutablePointer<SegmentCache.Probe>.allocate(capacity: segmentBatch)
        probes.initialize(repeating: SegmentCache.Probe(), count: segmentBatch)
        return probes
    }()
    /// The current text's ids.
    private var output = UnsafeMutablePointer<TokenID>.allocate(capacity: 1)
    private var outputCapacity = 1

    private func reserveOutput(_ capacity: Int) {
        guard capacity > outputCapacity else { return }
        output.deallocate()
        outputCapacity = max(capacity, outputCapacity * 2)
        output = .allocate(capacity: outputCapacity)
    }

    // MARK: Normalization (normalizer.cc, identity rules)

    private func reserveNormalized(_ capacity: Int) {
        guard capacity > normalizedCapacity else { return }
        normalized.deallocate()
        normalizedCapacity = max(capacity, normalizedCapacity * 2)
        normalized = .allocate(capacity: normalizedCapacity)
    }

    /// Writes the text to `normalized` as it is, behind a space when the model adds a dummy
    /// prefix; returns its length.
    private func prefixed(_ text: UnsafePointer<UInt8>, _ count: Int) -> Int {
        reserveNormalized(count + 1 + 16)
        let prefix = addDummyPrefix ? 1 : 0
        normalized[0] = 0x20
        (normalized + prefix).update(from: text, count: count)
        return count + prefix
    }

    /// Writes the normalized segment (spaces to `▁` when escaping, U+FFFD for each invalid byte)
    /// to `segmentScratch`; returns its length. Changes nothing in normalized text.
    private func normalizeSegment(_ segment: UnsafePointer<UInt8>, _ count: Int) -> Int {
        if 3 * count + 3 > segmentScratchCapacity {
            segmentScratch.deallocate()
            segmentScratchCapacity = 3 * count + 3
            segmentScratch = .allocate(capacity: segmentScratchCapacity)
        }
        let out = segmentScratch
        var n = 0, i = 0
        while i < count {
            let b = segment[i]
            if b == 0x20 && escapeWhitespaces {
                out[n] = 0xE2; out[n + 1] = 0x96; out[n + 2] = 0x81
                n += 3
                i += 1
            } else if b < 0x80 {
                out[n] = b
                n += 1
                i += 1
            } else {
                n += copyCharacter(segment, &i, count, to: out + n)
            }
        }
        return n
    }

    /// Writes the normalized text (remove_extra_whitespaces) to `normalized`; returns its length.
    private func normalize(_ text: UnsafePointer<UInt8>, _ count: Int) -> Int {
        reserveNormalized(count * 3 + 3 + 16)  // + 16: SegmentCache reads short keys as two words
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
        while i < count && text[i] == 0x20 { i += 1 }
        if i == count { return 0 }
        if addDummyPrefix { appendSpace() }
        // Drop a space that follows a space, then trailing space symbols.
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

    /// Whether a segment of this many bytes goes through the cache: one-byte segments do not
    /// (`singleByteIDs`), nor do those longer than the cache's keys.
    @inline(__always)
    private static func isCacheable(_ length: Int) -> Bool { length > 1 && length <= SegmentCache.maxKeyLength }

    /// Encodes a segment the cache does not hold (a miss, a one-byte segment without a
    /// `singleByteIDs` entry, or one too long to cache) by BPE, and caches it if it `isCacheable`;
    /// `probe` is its probe when it is.
    @inline(never)
    private func encodeUncached(_ p: UnsafeMutablePointer<UInt8>, _ length: Int, _ probe: SegmentCache.Probe,
                                count: inout Int) {
        let cacheable = Self.isCacheable(length)
        let normalizedLength = normalizeSegment(p, length)  // may move `segmentScratch`
        let segmentCount = bytePairEncode(segmentScratch, normalizedLength)
        let segment = UnsafeBufferPointer(start: idScratch, count: segmentCount)
        if cacheable { cache.insert(p, length, probe: probe, value: segment) }
        append(segment, to: output, count: &count)
    }

    /// Appends a segment's ids to `out` (`output`), which holds `count`. Without byte fallback sentencepiece reports a run of
    /// unknown symbols as one `<unk>`, also across a segment cut, so a leading `<unk>` that
    /// follows one is dropped.
    ///
    /// A segment of up to `SegmentCache.inlineIDs` (3) ids is copied as 3 without a loop: its
    /// buffer always has 3 readable ids (a cache entry's inline ids, or `idScratch`), and
    /// `output` has room for 2 past the text's last id.
    @inline(__always)
    private func append(_ segment: UnsafeBufferPointer<TokenID>, to out: UnsafeMutablePointer<TokenID>,
                        count: inout Int) {
        guard let ids = segment.baseAddress else { return }
        var k = 0
        if !byteFallback && ids[0] == unknownID && count > 0 && out[count - 1] == unknownID { k = 1 }
        if k == 0 && segment.count <= 3 {
            out[count] = ids[0]
            out[count &+ 1] = ids[1]
            out[count &+ 2] = ids[2]
            count &+= segment.count
            return
        }
        while k < segment.count {
            out[count] = ids[k]
            count &+= 1
            k &+= 1
        }
    }

    // MARK: BPE (bpe_model.cc)

    /// Segments of at most this many characters are merged by scanning instead of with the heap
    /// (a symbol's index fits 5 bits of the scan's pair keys)...
    private static let scanLimit = 32
    /// ...when every rank fits the other 27.
    private static let maxScanRank = 1 << 27

    private func reserveScratch(_ length: Int) {
        guard length > scratchCapacity else { return }
        scratchCapacity = max(length, scratchCapacity * 2, 64)
        symbolScratch.deallocate()
        agendaScratch.deallocate()
        idScratch.deallocate()
        pairRankScratch.deallocate()
        symbolScratch = .allocate(capacity: scratchCapacity)
        // n - 1 initial pairs plus at most two per merge.
        agendaScratch = .allocate(capacity: 3 * scratchCapacity)
        idScratch = .allocate(capacity: scratchCapacity)
        pairRankScratch = .allocate(capacity: scratchCapacity)
    }

    /// BPE-encodes one normalized segment into `idScratch`; returns the number of ids.
    ///
    /// Pairs are ordered by the merged piece's rank (`SentencePieceBPEModel.ranks`: equal scores,
    /// equal ranks), which orders them exactly as sentencepiece's scores do.
    private func bytePairEncode(_ p: UnsafeMutablePointer<UInt8>, _ length: Int) -> Int {
        reserveScratch(length)
        let symbols = symbolScratch, agenda = agendaScratch, out = idScratch
        let mergeable = model.mergeable, reserved = model.reserved, pairs = model.pairs
        let none = TokenID.max
        let spaceSymbolID = model.spaceSymbolID
        return model.ranks.withUnsafeBufferPointer { ranks -> Int in
          model.asciiIDs.withUnsafeBufferPointer { asciiIDs -> Int in
            var symbolCount = 0
            var i = 0
            while i < length {
                let b = p[i]
                let charLength = min(UTF8Scanning.leadByteLength(b), length - i)
                let id: TokenID
                if b < 0x80 {
                    id = asciiIDs[Int(b)]
                } else if b == 0xE2 && charLength == 3 && p[i + 1] == 0x96 && p[i + 2] == 0x81 {
                    id = spaceSymbolID  // `▁`, the most frequent non-ASCII character by far
                } else {
                    id = mergeable.lookup(p + i, charLength) ?? none
                }
                let index = Int32(symbolCount)
                symbols[symbolCount] = Symbol(start: Int32(i), length: Int32(charLength), prev: index - 1,
                                              next: i + charLength < length ? index + 1 : -1, id: id)
                symbolCount += 1
                i += charLength
            }

            /// The mergeable piece (id, rank) spelled by two adjacent symbols, if any.
            @inline(__always) func pairPiece(_ leftSymbol: Symbol, _ rightSymbol: Symbol) -> (id: TokenID, rank: UInt32)? {
                if let pairs, leftSymbol.id != none && rightSymbol.id != none {
                    return pairs.lookup(leftSymbol.id, rightSymbol.id)
                }
                let merged = Int(leftSymbol.length + rightSymbol.length)
                return mergeable.lookup(p + Int(leftSymbol.start), merged).map { ($0, ranks[Int($0)]) }
            }
            /// Merges symbol `right` into its left neighbour `left`, which becomes piece `id`.
            @inline(__always) func merge(_ left: Int, _ right: Int, id: TokenID) {
                symbols[left].length += symbols[right].length
                symbols[left].id = id
                let next = symbols[right].next
                symbols[left].next = next
                if next >= 0 { symbols[Int(next)].prev = Int32(left) }
                symbols[right].length = 0
            }

            if symbolCount <= Self.scanLimit && ranks.count <= Self.maxScanRank {
                // Short segments: keep, per symbol, its pair with its successor as one number,
                // rank << 5 | index (UInt32.max: no pair, or a merged-away symbol), in a flat
                // array; its minimum is the lowest rank, leftmost on ties — the choice the heap
                // makes, without its bookkeeping, found by a branch-free (vectorizable) scan.
                let pairKeys = pairRankScratch
                @inline(__always) func evaluate(_ index: Int) {
                    let next = symbols[index].next
                    if next >= 0, let (id, rank) = pairPiece(symbols[index], symbols[Int(next)]) {
                        pairKeys[index] = rank << 5 | UInt32(truncatingIfNeeded: index)
                        agenda[index].id = id
                    } else {
                        pairKeys[index] = .max
                    }
                }
                for index in 0..<symbolCount { evaluate(index) }
                while true {
                    var bestKey = pairKeys[0]
                    for index in 1..<max(symbolCount, 1) { bestKey = min(bestKey, pairKeys[index]) }
                    guard bestKey != .max else { break }
                    let best = Int(bestKey & 31)
                    let right = Int(symbols[best].next)
                    merge(best, right, id: agenda[best].id)
                    pairKeys[right] = .max
                    evaluate(best)
                    let prev = Int(symbols[best].prev)
                    if prev >= 0 { evaluate(prev) }
                }
            } else {
                // The agenda: a binary heap, lowest rank first, ties to the leftmost pair.
                var agendaCount = 0
                @inline(__always) func outranks(_ a: Candidate, _ b: Candidate) -> Bool {
                    a.rank < b.rank || (a.rank == b.rank && a.left < b.left)
                }
                @inline(__always) func consider(_ left: Int32, _ right: Int32) {
                    guard left >= 0, right >= 0 else { return }
                    let leftSymbol = symbols[Int(left)], rightSymbol = symbols[Int(right)]
                    let merged = leftSymbol.length + rightSymbol.length
                    guard let (id, rank) = pairPiece(leftSymbol, rightSymbol) else { return }
                    let candidate = Candidate(rank: rank, left: left, right: right, length: merged, id: id)
                    var child = agendaCount
                    agendaCount += 1
                    while child > 0 {
                        let parent = (child - 1) >> 1
                        guard outranks(candidate, agenda[parent]) else { break }
                        agenda[child] = agenda[parent]
                        child = parent
                    }
                    agenda[child] = candidate
                }
                @inline(__always) func pop() -> Candidate {
                    let top = agenda[0]
                    agendaCount -= 1
                    let last = agenda[agendaCount]
                    var parent = 0
                    while true {
                        var best = 2 * parent + 1
                        guard best < agendaCount else { break }
                        if best + 1 < agendaCount && outranks(agenda[best + 1], agenda[best]) { best += 1 }
                        guard outranks(agenda[best], last) else { break }
                        agenda[parent] = agenda[best]
                        parent = best
                    }
                    agenda[parent] = last
                    return top
                }
                for index in stride(from: 1, to: symbolCount, by: 1) { consider(Int32(index - 1), Int32(index)) }
                while agendaCount > 0 {
                    let top = pop()
                    let left = Int(top.left), right = Int(top.right)
                    // Skip pairs made stale by an earlier merge.
                    guard symbols[left].length > 0, symbols[right].length > 0,
                          symbols[left].length + symbols[right].length == top.length else { continue }
                    merge(left, right, id: top.id)
                    consider(symbols[left].prev, top.left)
                    consider(top.left, symbols[left].next)
                }
            }

            var count = 0
            var index: Int32 = symbolCount == 0 ? -1 : 0
            var previousIsUnknown = false
            while index >= 0 {
                let symbol = symbols[Int(index)]
                let start = p + Int(symbol.start), pieceLength = Int(symbol.length)
                let id = symbol.id != none ? symbol.id : (reserved.lookup(start, pieceLength) ?? unknownID)
                let isUnknown = id == unknownID
                if isUnknown && byteFallback {
                    for k in 0..<pieceLength {
                        out[count] = model.byteIDs[Int(start[k])]
                        count += 1
                    }
                } else if !(isUnknown && previousIsUnknown) {
                    out[count] = id
                    count += 1
                }
                previousIsUnknown = isUnknown
                index = symbol.next
            }
            return count
          }
        }
    }
}
