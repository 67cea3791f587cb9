/// The order in which sources' sequences are interleaved in the pack, after Megatron-LM's
/// `build_blending_indices`: position i goes to the source with the largest
/// `share_d * (i + 1) - taken_d` (ties to the lowest index), where `share_d` is the source's
/// fraction of all sequences. Deterministic, and every prefix of the pack is as close to the
/// final proportions as whole sequences allow.
public enum SequenceBlender {
    public static func order(counts: [Int]) -> [Int] {
        let total = counts.reduce(0, +)
        guard total > 0 else { return [] }
        var taken = [Int](repeating: 0, count: counts.count)
        var order: [Int] = []
        order.reserveCapacity(total)
        for i in 0..<total {
            var best = -1
            var bestError = -Double.infinity
            for d in counts.indices where taken[d] < counts[d] {
                let error = Double(counts[d]) / Double(total) * Double(i + 1) - Double(taken[d])
                if error > bestError { best = d; bestError = error }
            }
            order.append(best)
            taken[best] += 1
        }
        return order
    }
}
