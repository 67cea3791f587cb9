import Foundation

/// Softmax cross-entropy on logits[N, V] against targets[N] (-1: no loss at this row).
/// Returns the sum of -log softmax(logits)[target] over rows with a target (in float64), and writes
/// each row's logsumexp to lse[N] (0 for rows without a target).
public func crossEntropyForward(_ lse: UnsafeMutablePointer<Float>, _ logits: UnsafePointer<Float>,
                                _ targets: UnsafePointer<Int32>, rows n: Int, vocab v: Int) -> Double {
    var total = 0.0
    for i in 0..<n {
        guard targets[i] >= 0 else { lse[i] = 0; continue }
        let row = logits + i * v
        let m = RowKernels.max(row, v, start: -.infinity)
        let l = m + log(RowKernels.expShiftedTotal(row, v, shift: m))
        lse[i] = l
        total += Double(l - row[Int(targets[i])])
    }
    return total
}

/// In place: logits[N, V] <- scale * (softmax(logits) - onehot(target)) for rows with a target,
/// 0 for the others; `scale` is 1 / (number of target tokens in the whole optimizer step).
public func crossEntropyBackward(_ logits: UnsafeMutablePointer<Float>, _ lse: UnsafePointer<Float>,
                                 _ targets: UnsafePointer<Int32>, rows n: Int, vocab v: Int, scale: Float) {
    for i in 0..<n {
        let row = logits + i * v
        guard targets[i] >= 0 else { row.update(repeating: 0, count: v); continue }
        RowKernels.expShifted(row, v, shift: lse[i], scale: scale)
        row[Int(targets[i])] -= scale
    }
}
