/// Encodes text with a `HuggingFaceBPEModel` on one thread, as `tokenizers` does:
/// (1) split the text on added tokens (leftmost, longest match), which map straight to their ids;
/// (2) for each other split, apply the normalizer steps, then the Metaspace pre-tokenizer;
/// (3) BPE the result as one word: start from one symbol per character (a character missing from
///     the vocabulary becomes its `<0xXX>` byte tokens, or `<unk>`, fused when fuse_unk), then
///     repeatedly apply the lowest-ranked merge among adjacent pairs, ties to the leftmost — with
///     the library's queue discipline, including how it recognizes stale entries.
/// Words are cut where no vocabulary piece can span (see `CharacterPairTable`) when that is exact
/// for the model, and segments are memoized in a `SegmentCache`.
final class HuggingFaceBPEEncoder: TokenEncoder {
    private let model: HuggingFaceBPEModel
    private let cache = SegmentCache()
    private var repaired: [UInt8] = []
    private var word: [UInt8] = []

    private struct Symbol {
        var id: TokenID
        var length: Int32
        var prev: Int32
        var next: Int32
    }
    private struct Merge {
        var rank: UInt32
        var position: Int32
        var result: TokenID
    }
    private var symbols: [Symbol] = []
    private var queue: [Merge] = []
    private var segmentIDs: [TokenID] = []

    var bosID: TokenID? { model.bosID }
    var eosID: TokenID? { model.eosID }

    init(model: HuggingFaceBPEModel) { self.model = model }

    func encode(_ text: UnsafeBufferPointer<UInt8>, into ids: inout [TokenID]) {
        guard let base = text.baseAddress, text.count > 0 else { return }
        repaired.removeAll(keepingCapacity: true)
        var i = 0
        while i < text.count {
            let length = UTF8Scanning.validSequenceLength(base, i, text.count)
            if length == 0 {
                repaired.append(contentsOf: UTF8Scanning.replacementCharacter)
                i += 1
            } else {
                repaired.append(contentsOf: UnsafeBufferPointer(rebasing: text[i..<(i + length)]))
                i += length
            }
        }
        let input = repaired
        var start = 0
        var position = 0
        while position < input.count {
            if let token = addedToken(at: position, in: input) {
                if position > start { encodeSplit(input[start..<position], isFirst: start == 0, into: &ids) }
                ids.append(token.id)
                position += token.content.count
                start = position
            } else {
                position += 1
            }
        }
        if start < input.count { encodeSplit(input[start..<input.count], isFirst: start == 0, into: &ids) }
    }

    /// The longest added token starting at `position`, if any.
    private func addedToken(at position: Int, in input: [UInt8]) -> HuggingFaceBPEModel.AddedToken? {
        var best: HuggingFaceBPEModel.AddedToken?
        for token in model.addedTokens where token.content.count <= input.count - position && token.content[0] == input[position] {
            if input[position..<(position + token.content.count)].elementsEqual(token.content),
               token.content.count > (best?.content.count ?? 0) {
                best = token
            }
        }
        return best
    }

    /// Normalizes and pre-tokenizes one split, then encodes it as a word.
    private func encodeSplit(_ split: ArraySlice<UInt8>, isFirst: Bool, into ids: inout [TokenID]) {
        word.removeAll(keepingCapacity: true)
        word.append(contentsOf: split)
        for step in model.normalizer {
            switch step {
            case .prepend(let prefix):
                if !word.isEmpty { word.insert(contentsOf: prefix, at: 0) }
            case .replace(let pattern, let content):
                word = replacing(word, pattern, content)
            }
        }
        if let (replacement, scheme) = model.metaspace {
            word = replacing(word, [0x20], replacement)
            let prepend = scheme == .always || (scheme == .first && isFirst)
            if prepend && !word.starts(with: replacement) { word.insert(contentsOf: replacement, at: 0) }
        }
        guard !word.isEmpty else { return }
        word.append(contentsOf: repeatElement(0, count: 16))  // SegmentCache reads short keys as two words
        let length = word.count - 16
        let firstOwnID = ids.count
        word.withUnsafeMutableBufferPointer { buffer in
            let p = buffer.baseAddress!
            if model.ignoreMerges, let id = model.vocabulary.lookup(p, length) {
                ids.append(id)
                return
            }
            if let segmentation = model.segmentation {
                segmentation.forEachSegment(p, length) { start, count in
                    encodeSegment(p + start, count, firstOwnID: firstOwnID, into: &ids)
                }
            } else {
                encodeSegment(p, length, firstOwnID: firstOwnID, into: &ids)
            }
        }
    }

    private func encodeSegment(_ p: UnsafeMutablePointer<UInt8>, _ length: Int, firstOwnID: Int,
                               into ids: inout [TokenID]) {
        // Segments are cut only when no <unk> can occur (see HuggingFaceBPEModel.segmentation),
        // so caching and cutting never meet fuse_unk.
        let cacheable = length <= SegmentCache.maxKeyLength
        let probe = cacheable ? cache.probe(p, length) : SegmentCache.Probe()
        if cacheable, let found = cache.cached(p, length, probe) {
            ids.append(contentsOf: found)
            return
        }
        segmentIDs.removeAll(keepingCapacity: true)
        bytePairEncode(p, length)
        segmentIDs.withUnsafeBufferPointer { segment in
            if cacheable { cache.insert(p, length, probe: probe, value: segment) }
            ids.append(contentsOf: segment)
        }
    }

    // MARK: BPE (tokenizers/src/models/bpe/model.rs merge_word and word.rs merge_all)

    private func addSymbol(_ id: TokenID, _ length: Int) {
        let index = Int32(symbols.count)
        if index > 0 { symbols[Int(index) - 1].next = index }
        symbols.append(Symbol(id: id, length: Int32(length), prev: index - 1, next: -1))
    }

    @inline(__always)
    private static func precedes(_ a: Merge, _ b: Merge) -> Bool {
        a.rank < b.rank || (a.rank == b.rank && a.position < b.position)
    }

    private func push(_ merge: Merge) {
        queue.append(merge)
        var child = queue.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(queue[child], queue[parent]) else { break }
            queue.swapAt(child, parent)
            child = parent
        }
    }

    private func pop() -> Merge {
        let top = queue[0]
        let last = queue.removeLast()
        if !queue.isEmpty {
            queue[0] = last
            var parent = 0
            while true {
                var best = 2 * parent + 1
                guard best < queue.count else { break }
                if best + 1 < queue.count && Self.precedes(queue[best + 1], queue[best]) { best += 1 }
                guard Self.precedes(queue[best], queue[parent]) else { break }
                queue.swapAt(best, parent)
                parent = best
            }
        }
        return top
    }

    private func bytePairEncode(_ p: UnsafeMutablePointer<UInt8>, _ length: Int) {
        symbols.removeAll(keepingCapacity: true)
        queue.removeAll(keepingCapacity: true)
        // Initial symbols, one per character.
        var pendingUnknown: (id: TokenID, length: Int)?
        var i = 0
        while i < length {
            let charLength = min(UTF8Scanning.leadByteLength(p[i]), length - i)
            if let id = model.vocabulary.lookup(p + i, charLength) {
                if let unknown = pendingUnknown {
                    addSymbol(unknown.id, unknown.length)
                    pendingUnknown = nil
                }
                addSymbol(id, charLength)
            } else if model.byteFallback, (0..<charLength).allSatisfy({ model.byteIDs[Int(p[i + $0])] != nil }) {
                // Byte tokens do not flush a pending <unk> (as in the library).
                for k in 0..<charLength { addSymbol(model.byteIDs[Int(p[i + k])]!, 1) }
            } else if let unknownID = model.unknownID {
                if let unknown = pendingUnknown {
                    if model.fuseUnknown {
                        pendingUnknown = (unknownID, unknown.length + charLength)
                    } else {
                        addSymbol(unknown.id, unknown.length)
                        pendingUnknown = (unknownID, charLength)
                    }
                } else {
                    pendingUnknown = (unknownID, charLength)
                }
            }
            i += charLength
        }
        if let unknown = pendingUnknown { addSymbol(unknown.id, unknown.length) }

        let merges = model.merges
        for index in 0..<max(symbols.count - 1, 0) {
            if let merge = merges.lookup(symbols[index].id, symbols[index + 1].id) {
                push(Merge(rank: merge.rank, position: Int32(index), result: merge.result))
            }
        }
        while !queue.isEmpty {
            let top = pop()
            let position = Int(top.position)
            if symbols[position].length == 0 { continue }
            let nextPosition = symbols[position].next
            if nextPosition == -1 { continue }
            let right = symbols[Int(nextPosition)]
            // An entry is stale unless the pair there still merges into the same id.
            guard let current = merges.lookup(symbols[position].id, right.id), current.result == top.result else { continue }
            symbols[position].id = top.result
            symbols[position].length += right.length
            symbols[position].next = right.next
            symbols[Int(nextPosition)].length = 0
            if right.next >= 0 { symbols[Int(right.next)].prev = top.position }
            let merged = symbols[position]
            if merged.prev >= 0, let merge = merges.lookup(symbols[Int(merged.prev)].id, merged.id) {
                push(Merge(rank: merge.rank, position: merged.prev, result: merge.result))
            }
            if merged.next >= 0, let merge = merges.lookup(merged.id, symbols[Int(merged.next)].id) {
                push(Merge(rank: merge.rank, position: top.position, result: merge.result))
            }
        }
        for symbol in symbols where symbol.length > 0 { segmentIDs.append(symbol.id) }
    }
}
