/// Few-shot packing: the examples of one group (one Natural Instructions task, one P3 template)
/// packed as many as fit into each sequence under the group's shared instruction, which opens
/// every block of the group once.
///
/// Examples are placed by best-fit-decreasing within the group into blocks of at most
/// `seqLen` tokens, each block the group's header followed by its examples (so blocks are as
/// full as whole examples allow); an example that cannot fit beside the header in an empty
/// block is left out and counted as truncated, never cut.
///
/// - Without `fill` every block is a sequence of its own, padded to `seqLen`. Padding lower
///   bound: group g with header `h_g` and `T_g` example tokens needs at least
///   `k_g = ceil(T_g / (seqLen - h_g))` sequences, so padding is at least
///   `sum_g (k_g * (seqLen - h_g) - T_g)`.
/// - With `fill` the blocks themselves are packed best-fit-decreasing into sequences, so a
///   sequence's leftover space takes another group's block, with that group's own header: every
///   example still follows its own group's header in the same sequence, and no header is ever
///   separated from its examples. Padding lower bound: every group with examples written needs
///   its header at least once, so there are at least `N = ceil(sum_g (h_g + T_g) / seqLen)`
///   sequences, and padding is at least `N * seqLen - T - H` for `H` header tokens written
///   (met exactly when the plan uses the fewest sequences possible).
///
/// Header pieces name the group by its position in `groups`.
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

    public static func plan(groups: [Group], lengths: [Int], seqLen: Int, fill: Bool = false) -> PackPlan {
        var plan = PackPlan()
        var blocks: [PlannedSequence] = []
        var headerTokens = 0
        var separateBound = 0
        var framedTokens = 0
        for (g, group) in groups.enumerated() {
            let capacity = seqLen - group.headerLength
            guard capacity > 0 else { continue }  // every example counts as truncated below
            let fitting = group.items.filter { lengths[$0] <= capacity }
            guard !fitting.isEmpty else { continue }
            let exampleTokens = fitting.reduce(0) { $0 + lengths[$1] }
            separateBound += PackingCounts.paddingOfFewestSequences(tokens: exampleTokens, capacity: capacity)
            framedTokens += group.headerLength + exampleTokens
            for bin in BestFitPlanner.bins(lengths: fitting.map { lengths[$0] }, capacity: capacity) {
                var block = PlannedSequence()
                if group.headerLength > 0 {
                    block.pieces.append(PlannedPiece(kind: .header(group: g), item: -1, offset: 0, length: group.headerLength))
                    headerTokens += group.headerLength
                }
                for piece in bin.pieces {
                    block.pieces.append(.item(fitting[piece.item], offset: piece.offset, length: piece.length))
                }
                blocks.append(block)
            }
        }
        // Blocks are at most seqLen long, so best-fit never cuts one.
        plan.sequences = fill ? BestFitPlanner.bins(lengths: blocks.map(\.used), capacity: seqLen).map { bin in
            PlannedSequence(pieces: bin.pieces.flatMap { blocks[$0.item].pieces })
        } : blocks
        // Items not placed (too long beside the header) count as truncated, whole.
        plan.counts = PackingCounts.measure(plan.sequences, lengths: lengths, started: lengths.count)
        plan.counts.headerTokens = headerTokens
        plan.counts.paddingTokens = plan.sequences.reduce(0) { $0 + seqLen - $1.used }
        let fewest = (framedTokens + seqLen - 1) / seqLen
        plan.counts.paddingLowerBound = fill ? max(0, fewest * seqLen - plan.counts.documentTokens - headerTokens) : separateBound
        return plan
    }
}
