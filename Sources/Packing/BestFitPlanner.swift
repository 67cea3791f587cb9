/// Best-fit-decreasing bin packing (Ding et al. 2024, "Fewer Truncations Improve Language
/// Modeling"): items longer than a sequence are first cut into `capacity`-token pieces (each full
/// piece is a sequence of its own), then every remaining item or tail piece goes, longest first,
/// into the open sequence with the least room that still holds it, or a new one.
///
/// Contract: no item that fits in a sequence is ever cut; every token of every item is written;
/// sequences are padded to `seqLen`. Ties (equal lengths) keep input order, and among sequences
/// with equal room the earliest opened is used, so the plan depends only on the input.
/// O(n log n + n log seqLen) with a segment tree over remaining room.
public enum BestFitPlanner {
    /// - Parameter capacity: tokens available to items per sequence (`seqLen` minus any header).
    public static func bins(lengths: [Int], capacity: Int) -> [PlannedSequence] {
        precondition(capacity > 0)
        var sequences: [PlannedSequence] = []
        var pieces: [PlannedPiece] = []
        for (item, length) in lengths.enumerated() where length > 0 {
            var offset = 0
            while length - offset > capacity {
                sequences.append(PlannedSequence(pieces: [.item(item, offset: offset, length: capacity)]))
                offset += capacity
            }
            if offset > 0 && offset == length { continue }
            pieces.append(.item(item, offset: offset, length: length - offset))
        }
        // Stable sort, longest first.
        let order = pieces.indices.sorted { a, b in
            pieces[a].length != pieces[b].length ? pieces[a].length > pieces[b].length : a < b
        }
        var room = RoomTree(capacity: capacity)
        var open: [PlannedSequence] = []
        var rooms: [Int] = []
        for index in order {
            let piece = pieces[index]
            if let bin = room.takeBestFit(piece.length) {
                open[bin].pieces.append(piece)
                rooms[bin] -= piece.length
                room.insert(bin: bin, room: rooms[bin])
            } else {
                open.append(PlannedSequence(pieces: [piece]))
                rooms.append(capacity - piece.length)
                room.insert(bin: open.count - 1, room: rooms[open.count - 1])
            }
        }
        return sequences + open
    }
}

/// Open sequences indexed by remaining room: finds the one with the least room >= a size
/// (earliest opened among equals) in O(log capacity).
struct RoomTree {
    private let size: Int
    /// Segment tree over room values 1...capacity: whether any sequence has that room.
    private var any: [Bool]
    /// Room value -> sequences with that room, in opening order (a min-heap of bin indices).
    private var binsByRoom: [Int: [Int]] = [:]

    init(capacity: Int) {
        var size = 1
        while size < capacity + 1 { size *= 2 }
        self.size = size
        any = [Bool](repeating: false, count: 2 * size)
    }

    mutating func insert(bin: Int, room: Int) {
        guard room > 0 else { return }
        var list = binsByRoom[room, default: []]
        // Keep ascending bin order (bins re-enter with less room, so insert in place).
        let at = list.firstIndex(where: { $0 > bin }) ?? list.count
        list.insert(bin, at: at)
        binsByRoom[room] = list
        set(room, true)
    }

    /// Removes and returns the earliest bin with the least room >= `length`.
    mutating func takeBestFit(_ length: Int) -> Int? {
        guard let room = firstAtLeast(length) else { return nil }
        var list = binsByRoom[room]!
        let bin = list.removeFirst()
        if list.isEmpty {
            binsByRoom[room] = nil
            set(room, false)
        } else {
            binsByRoom[room] = list
        }
        return bin
    }

    private mutating func set(_ position: Int, _ value: Bool) {
        var i = position + size
        any[i] = value
        i /= 2
        while i >= 1 {
            any[i] = any[2 * i] || any[2 * i + 1]
            i /= 2
        }
    }

    /// The smallest position >= `low` whose flag is set.
    private func firstAtLeast(_ low: Int) -> Int? {
        guard low < size else { return nil }
        return search(node: 1, nodeLow: 0, nodeHigh: size - 1, low: low)
    }

    private func search(node: Int, nodeLow: Int, nodeHigh: Int, low: Int) -> Int? {
        if nodeHigh < low || !any[node] { return nil }
        if nodeLow == nodeHigh { return nodeLow }
        let mid = (nodeLow + nodeHigh) / 2
        return search(node: 2 * node, nodeLow: nodeLow, nodeHigh: mid, low: low)
            ?? search(node: 2 * node + 1, nodeLow: mid + 1, nodeHigh: nodeHigh, low: low)
    }
}

extension BestFitPlanner {
    /// A source's best-fit plan over `seqLen` sequences, with its counts (padding included).
    /// Padding lower bound: `ceil(T / seqLen) * seqLen - T` for `T` tokens written (as if
    /// documents could be cut anywhere; best-fit meets it only when the lengths allow).
    public static func plan(lengths: [Int], seqLen: Int) -> PackPlan {
        var plan = PackPlan()
        plan.sequences = bins(lengths: lengths, capacity: seqLen)
        plan.counts = PackingCounts.measure(plan.sequences, lengths: lengths, started: lengths.count)
        plan.counts.paddingTokens = plan.sequences.reduce(0) { $0 + seqLen - $1.used }
        plan.counts.paddingLowerBound = PackingCounts.paddingOfFewestSequences(tokens: plan.counts.documentTokens, capacity: seqLen)
        return plan
    }
}
