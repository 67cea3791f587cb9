import LongMixCore
import Mixing

/// The selection stage for one source: documents in key order, up to the target.
///
/// The rule (unchanged from the full pass): key order of (seed, source, id); when up-sampled,
/// further passes each in a fresh key order; stop at the target. Concat cuts the last document
/// to hit the target exactly; best-fit and few-shot take whole documents only, passing over any
/// that would overshoot.
///
/// Sample first: the store may hold only the documents of keys below a threshold. The walk is
/// exact when it finishes inside them: concat once the target is reached; whole-document
/// packing once the gap left is smaller than any document can be (`minimumLength`, the length
/// filter's floor), since no later document could fill it. Otherwise the result is `.short`
/// and the caller raises the threshold; a store holding every key always finishes.
enum Selection {
    struct Pick {
        var entry: Int
        var limit: Int
    }

    enum Outcome {
        case done([Pick])
        /// The covered keys ran out first, holding `found` of the target's tokens.
        case short(found: Int)
    }

    static func select(_ store: SourceStore, target: Int, packing: PackingStrategy, minimumLength: Int, seed: UInt64) -> Outcome {
        var chosen: [Pick] = []
        var total = 0
        let order = store.keyOrder()
        func finished() -> Bool {
            let remaining = target - total
            return remaining <= 0 || (packing != .concat && remaining < max(1, minimumLength))
        }
        for k in order {
            if finished() { break }
            take(k)
        }
        if finished() { return .done(chosen) }
        guard store.isWhole else { return .short(found: total) }
        guard !order.isEmpty else { return .done(chosen) }
        var epoch = 1
        while total < target {
            let keys = order.map { SelectionKey.epochKey(seed: seed, source: store.name, id: store.entries[$0].id, epoch: epoch) }
            let shuffled = order.indices.sorted {
                let a = store.entries[order[$0]], b = store.entries[order[$1]]
                return (keys[$0], a.shard, a.line, a.piece) < (keys[$1], b.shard, b.line, b.piece)
            }.map { order[$0] }
            let before = total
            for k in shuffled {
                if target - total <= 0 { break }
                take(k)
            }
            // Whole documents only: stop when nothing left fits the gap.
            if packing != .concat && total == before { break }
            epoch += 1
        }
        return .done(chosen)

        func take(_ k: Int) {
            let remaining = target - total
            let length = store.entries[k].length
            if packing == .concat {
                let n = min(length, remaining)
                chosen.append(Pick(entry: k, limit: n))
                total += n
            } else if length <= remaining {
                chosen.append(Pick(entry: k, limit: length))
                total += length
            }
        }
    }
}
