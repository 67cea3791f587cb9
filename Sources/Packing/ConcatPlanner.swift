/// OpenChatKit's packing: items joined end to end and cut into exact `seqLen` chunks, no padding;
/// items cross sequence boundaries (REFERENCE.md section 1).
///
/// Contract: every token of every item is planned. A last chunk shorter than `seqLen` is kept
/// and padded when `padLastSequence` is set, else dropped (as OpenChatKit drops it) and its
/// tokens counted as truncated. Callers that select exactly `k × seqLen` tokens get `k` full
/// sequences either way. Padding lower bound: `ceil(T / seqLen) * seqLen - T` for `T` tokens
/// written (only the last sequence may be short, so concat always meets it).
public enum ConcatPlanner {
    public static func plan(lengths: [Int], seqLen: Int, padLastSequence: Bool) -> PackPlan {
        precondition(seqLen > 0)
        var plan = PackPlan()
        var current = PlannedSequence()
        var room = seqLen
        for (item, length) in lengths.enumerated() where length > 0 {
            var offset = 0
            while offset < length {
                let take = min(room, length - offset)
                current.pieces.append(.item(item, offset: offset, length: take))
                offset += take
                room -= take
                if room == 0 {
                    plan.sequences.append(current)
                    current = PlannedSequence()
                    room = seqLen
                }
            }
        }
        if !current.pieces.isEmpty && padLastSequence { plan.sequences.append(current) }
        plan.counts = PackingCounts.measure(plan.sequences, lengths: lengths, started: lengths.count)
        plan.counts.paddingTokens = plan.sequences.reduce(0) { $0 + seqLen - $1.used }
        plan.counts.paddingLowerBound = PackingCounts.paddingOfFewestSequences(tokens: plan.counts.documentTokens, capacity: seqLen)
        return plan
    }
}

extension PackingCounts {
    /// Counts of item tokens written, truncated and split, for items `0..<started` of `lengths`
    /// (header and padding tokens are added by the planners that make them).
    static func measure(_ sequences: [PlannedSequence], lengths: [Int], started: Int) -> PackingCounts {
        var counts = PackingCounts()
        var written = [Int](repeating: 0, count: started)
        var sequencesOf = [Int](repeating: 0, count: started)
        for sequence in sequences {
            var itemsHere = Set<Int>()
            for piece in sequence.pieces where piece.kind == .item {
                written[piece.item] += piece.length
                counts.documentTokens += piece.length
                itemsHere.insert(piece.item)
            }
            for item in itemsHere { sequencesOf[item] += 1 }
        }
        for item in 0..<started where lengths[item] > 0 {
            if written[item] > 0 { counts.documents += 1 }
            if written[item] < lengths[item] {
                counts.truncatedTokens += lengths[item] - written[item]
                counts.documentsTruncated += 1
            }
            if sequencesOf[item] > 1 { counts.documentsSplit += 1 }
        }
        counts.sequences = sequences.count
        return counts
    }
}
