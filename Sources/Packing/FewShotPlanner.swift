/// Few-shot packing: the examples of one group (one Natural Instructions task, one P3 template)
/// packed as many as fit into each sequence under the group's shared instruction, which opens
/// every sequence of the group once.
///
/// Examples are placed by best-fit-decreasing within the group (so sequences are as full as
/// whole examples allow); an example that cannot fit beside the header in an empty sequence is
/// left out and counted as truncated, never cut. Sequences are padded to `seqLen`.
public enum FewShotPlanner {
    public struct Group: Sendable {
        public var headerLength: Int
        /// Indices of the group's items (into `lengths`), in the order the build selected them.
        public var items: [Int]

        public init(headerLength: Int, items: [Int]) {
            self.headerLength = headerLength
            self.items = items
        }
    }

    public static func plan(groups: [Group], lengths: [Int], seqLen: Int) -> PackPlan {
        var plan = PackPlan()
        var truncated = PackingCounts()
        for (g, group) in groups.enumerated() {
            let capacity = seqLen - group.headerLength
            guard capacity > 0 else {
                for item in group.items { truncated.truncatedTokens += lengths[item]; truncated.documentsTruncated += 1 }
                continue
            }
            let fitting = group.items.filter { lengths[$0] <= capacity }
            for item in group.items where lengths[item] > capacity {
                truncated.truncatedTokens += lengths[item]
                truncated.documentsTruncated += 1
            }
            let bins = BestFitPlanner.bins(lengths: fitting.map { lengths[$0] }, capacity: capacity)
            for bin in bins {
                var sequence = PlannedSequence()
                if group.headerLength > 0 {
                    sequence.pieces.append(PlannedPiece(kind: .header(group: g), item: -1, offset: 0, length: group.headerLength))
                }
                for piece in bin.pieces {
                    sequence.pieces.append(.item(fitting[piece.item], offset: piece.offset, length: piece.length))
                }
                plan.sequences.append(sequence)
                plan.counts.headerTokens += group.headerLength
            }
        }
        var counts = PackingCounts.measure(plan.sequences, lengths: lengths, started: 0)
        counts.documents = Set(plan.sequences.flatMap { $0.pieces.filter { $0.kind == .item }.map(\.item) }).count
        counts.headerTokens = plan.counts.headerTokens
        counts.truncatedTokens = truncated.truncatedTokens
        counts.documentsTruncated = truncated.documentsTruncated
        counts.paddingTokens = plan.sequences.reduce(0) { $0 + seqLen - $1.used }
        plan.counts = counts
        return plan
    }
}
