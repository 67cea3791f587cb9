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
        var headerTokens = 0
        for (g, group) in groups.enumerated() {
            let capacity = seqLen - group.headerLength
            guard capacity > 0 else { continue }  // every example counts as truncated below
            let fitting = group.items.filter { lengths[$0] <= capacity }
            for bin in BestFitPlanner.bins(lengths: fitting.map { lengths[$0] }, capacity: capacity) {
                var sequence = PlannedSequence()
                if group.headerLength > 0 {
                    sequence.pieces.append(PlannedPiece(kind: .header(group: g), item: -1, offset: 0, length: group.headerLength))
                    headerTokens += group.headerLength
                }
                for piece in bin.pieces {
                    sequence.pieces.append(.item(fitting[piece.item], offset: piece.offset, length: piece.length))
                }
                plan.sequences.append(sequence)
            }
        }
        // Items not placed (too long beside the header) count as truncated, whole.
        plan.counts = PackingCounts.measure(plan.sequences, lengths: lengths, started: lengths.count)
        plan.counts.headerTokens = headerTokens
        plan.counts.paddingTokens = plan.sequences.reduce(0) { $0 + seqLen - $1.used }
        return plan
    }
}
