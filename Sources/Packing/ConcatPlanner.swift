/// OpenChatKit's packing: items joined end to end and cut into exact `seqLen` chunks, no padding;
/// items cross sequence boundaries (REFERENCE.md section 1).
///
/// Contract: stops once `maxSequences` full sequences are planned (nil: as many as the items
/// fill). The unfinished last chunk is dropped, as OpenChatKit drops it. Tokens of started items
/// that are not written count as truncated; items after the last one started are not counted
/// (the caller selected more than needed).
public enum ConcatPlanner {
    public static func plan(lengths: [Int], seqLen: Int, maxSequences: Int? = nil) -> PackPlan {
        precondition(seqLen > 0)
        var plan = PackPlan()
        var current = PlannedSequence()
        var room = seqLen
        var lastStarted = -1
        outer: for (item, length) in lengths.enumerated() where length > 0 {
            lastStarted = item
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
                    if let maxSequences, plan.sequences.count >= maxSequences { break outer }
                }
            }
        }
        plan.counts = PackingCounts.measure(plan.sequences, lengths: lengths, started: lastStarted + 1)
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
