import Foundation

/// Shape of one attention call: `batch` sequences of `length` tokens, `heads` query heads sharing
/// `kvHeads` key/value heads (grouped-query attention when fewer), `headDim` each.
public struct AttentionShape: Sendable {
    public var batch, length, heads, kvHeads, headDim: Int
    public init(batch: Int, length: Int, heads: Int, kvHeads: Int, headDim: Int) {
        self.batch = batch
        self.length = length
        self.heads = heads
        self.kvHeads = kvHeads
        self.headDim = headDim
    }
}

/// Per-worker tiles for `attentionForward`/`attentionBackward`, allocated once.
///
/// Query tiles have `tile` rows; key tiles have `keyTile` ≤ `tile` columns, chosen so every tile
/// product has m·n·k ≤ 131,072, below OpenBLAS's multithreading threshold (65,536 × 4): each
/// worker's sgemm then runs single-threaded in that worker, and the process-wide OpenBLAS thread
/// count is never changed here (changing it while another thread is inside sgemm is unsafe).
public final class AttentionScratch {
    public let tile: Int
    public let keyTile: Int
    let workers: Int
    let scores: UnsafeMutablePointer<Float>      // [workers, tile, tile]  S, then P
    let dscores: UnsafeMutablePointer<Float>     // [workers, tile, tile]  dP, then dS
    let accumulator: UnsafeMutablePointer<Float> // [workers, tile, headDim]
    let rowStats: UnsafeMutablePointer<Float>    // [workers, 3, tile]  m, l, D

    public init(tile: Int, headDim: Int, workers: Int) {
        self.tile = tile
        keyTile = max(1, min(tile, 131_072 / max(1, tile * headDim)))
        self.workers = workers
        scores = .allocate(capacity: workers * tile * tile)
        dscores = .allocate(capacity: workers * tile * tile)
        accumulator = .allocate(capacity: workers * tile * headDim)
        rowStats = .allocate(capacity: workers * 3 * tile)
    }

    deinit {
        scores.deallocate()
        dscores.deallocate()
        accumulator.deallocate()
        rowStats.deallocate()
    }
}

/// Causal attention computed tile by tile with an online softmax (FlashAttention's forward on CPU):
/// memory is O(length), no [length, length] matrix exists.
///
/// q, out: [B * T, H * d]; k, v: [B * T, Hkv * d] (query head h reads kv head h / (H / Hkv));
/// lse: [B, H, T] receives each row's logsumexp of the scaled scores, for the backward pass.
/// documentStart: nil for causal attention over the whole sequence, or [B * T] with each token's
/// document start (index within its sequence): token i then attends to j in documentStart[i] ... i.
public func attentionForward(_ out: UnsafeMutablePointer<Float>, _ lse: UnsafeMutablePointer<Float>,
                             _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>,
                             documentStart: UnsafePointer<Int32>?, shape: AttentionShape,
                             scratch: AttentionScratch, workers: Workers) {
    let t = shape.length, d = shape.headDim, heads = shape.heads, group = shape.heads / shape.kvHeads
    let qs = heads * d, ks = shape.kvHeads * d, tile = scratch.tile, keyTile = scratch.keyTile
    let scale = 1 / Float(d).squareRoot()
    workers.forEach(shape.batch * shape.kvHeads) { task, w in
        let b = task / shape.kvHeads, g = task % shape.kvHeads
        let s = scratch.scores + w * tile * tile, acc = scratch.accumulator + w * tile * d
        let m = scratch.rowStats + w * 3 * tile, l = m + tile
        for h in (g * group)..<((g + 1) * group) {
            var i0 = 0
            while i0 < t {
                let i1 = min(i0 + tile, t), br = i1 - i0
                let qp = q + (b * t + i0) * qs + h * d
                for r in 0..<br { m[r] = -.infinity; l[r] = 0 }
                acc.update(repeating: 0, count: br * d)
                var j0 = documentStart.map { Int($0[b * t + i0]) } ?? 0
                while j0 < i1 {
                    let j1 = min(j0 + keyTile, i1), bc = j1 - j0
                    let kp = k + (b * t + j0) * ks + g * d, vp = v + (b * t + j0) * ks + g * d
                    // S[br, bc] = scale * Q_i K_j^T
                    sgemm(.none, .transposed, Int32(br), Int32(bc), Int32(d),
                                scale, qp, Int32(qs), kp, Int32(ks), 0, s, Int32(tile))
                    for r in 0..<br {
                        // Row i sees keys j in [lo, i]: columns [cLo, cHi) of this tile.
                        let i = i0 + r, lo = documentStart.map { Int($0[b * t + i]) } ?? 0
                        let cLo = Swift.min(Swift.max(lo - j0, 0), bc), cHi = Swift.max(Swift.min(i - j0 + 1, bc), cLo)
                        let row = s + r * tile
                        if cLo > 0 { row.update(repeating: 0, count: cLo) }
                        if cHi < bc { (row + cHi).update(repeating: 0, count: bc - cHi) }
                        if cHi == cLo { continue }
                        let rowMax = RowKernels.max(row + cLo, cHi - cLo, start: m[r])
                        let alpha = fastExp(m[r] - rowMax)
                        let sum = RowKernels.expShiftedSum(row + cLo, cHi - cLo, shift: rowMax)
                        l[r] = l[r] * alpha + sum
                        m[r] = rowMax
                        if alpha != 1 {
                            let a = acc + r * d
                            for x in 0..<d { a[x] *= alpha }
                        }
                    }
                    // acc[br, d] += P V_j
                    sgemm(.none, .none, Int32(br), Int32(d), Int32(bc),
                                1, s, Int32(tile), vp, Int32(ks), 1, acc, Int32(d))
                    j0 = j1
                }
                for r in 0..<br {
                    let o = out + (b * t + i0 + r) * qs + h * d, a = acc + r * d, inv = 1 / l[r]
                    for x in 0..<d { o[x] = a[x] * inv }
                    lse[(b * heads + h) * t + i0 + r] = m[r] + log(l[r])
                }
                i0 = i1
            }
        }
    }
}

/// The backward pass of `attentionForward`, recomputing P = exp(S - lse) tile by tile
/// (FlashAttention's backward): with D = rowsum(dO * O), dS = P * (dP - D), dP = dO V^T;
/// dQ = scale dS K, dK = scale dS^T Q, dV = P^T dO. dq, dk, dv are overwritten.
public func attentionBackward(_ dq: UnsafeMutablePointer<Float>, _ dk: UnsafeMutablePointer<Float>, _ dv: UnsafeMutablePointer<Float>,
                              _ dout: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ k: UnsafePointer<Float>,
                              _ v: UnsafePointer<Float>, _ out: UnsafePointer<Float>, _ lse: UnsafePointer<Float>,
                              documentStart: UnsafePointer<Int32>?, shape: AttentionShape,
                              scratch: AttentionScratch, workers: Workers) {
    let t = shape.length, d = shape.headDim, heads = shape.heads, group = shape.heads / shape.kvHeads
    let qs = heads * d, ks = shape.kvHeads * d, tile = scratch.tile, keyTile = scratch.keyTile
    let scale = 1 / Float(d).squareRoot()
    workers.forEach(shape.batch * shape.kvHeads) { task, w in
        let b = task / shape.kvHeads, g = task % shape.kvHeads
        let p = scratch.scores + w * tile * tile, ds = scratch.dscores + w * tile * tile
        let dRow = scratch.rowStats + w * 3 * tile + 2 * tile
        for i in 0..<t {
            (dk + (b * t + i) * ks + g * d).update(repeating: 0, count: d)
            (dv + (b * t + i) * ks + g * d).update(repeating: 0, count: d)
            for h in (g * group)..<((g + 1) * group) { (dq + (b * t + i) * qs + h * d).update(repeating: 0, count: d) }
        }
        for h in (g * group)..<((g + 1) * group) {
            var i0 = 0
            while i0 < t {
                let i1 = min(i0 + tile, t), br = i1 - i0
                let qp = q + (b * t + i0) * qs + h * d, dop = dout + (b * t + i0) * qs + h * d
                let dqp = dq + (b * t + i0) * qs + h * d
                let rowLSE = lse + (b * heads + h) * t + i0
                for r in 0..<br {
                    let o = out + (b * t + i0 + r) * qs + h * d, go = dop + r * qs
                    dRow[r] = RowKernels.dot(go, o, d)
                }
                var j0 = documentStart.map { Int($0[b * t + i0]) } ?? 0
                while j0 < i1 {
                    let j1 = min(j0 + keyTile, i1), bc = j1 - j0
                    let kp = k + (b * t + j0) * ks + g * d, vp = v + (b * t + j0) * ks + g * d
                    let dkp = dk + (b * t + j0) * ks + g * d, dvp = dv + (b * t + j0) * ks + g * d
                    sgemm(.none, .transposed, Int32(br), Int32(bc), Int32(d),
                                scale, qp, Int32(qs), kp, Int32(ks), 0, p, Int32(tile))
                    for r in 0..<br {
                        let i = i0 + r, lo = documentStart.map { Int($0[b * t + i]) } ?? 0
                        let cLo = Swift.min(Swift.max(lo - j0, 0), bc), cHi = Swift.max(Swift.min(i - j0 + 1, bc), cLo)
                        let row = p + r * tile, l = rowLSE[r]
                        if cLo > 0 { row.update(repeating: 0, count: cLo) }
                        if cHi < bc { (row + cHi).update(repeating: 0, count: bc - cHi) }
                        RowKernels.expShifted(row + cLo, cHi - cLo, shift: l)
                    }
                    // dV_j += P^T dO_i
                    sgemm(.transposed, .none, Int32(bc), Int32(d), Int32(br),
                                1, p, Int32(tile), dop, Int32(qs), 1, dvp, Int32(ks))
                    // dP = dO_i V_j^T
                    sgemm(.none, .transposed, Int32(br), Int32(bc), Int32(d),
                                1, dop, Int32(qs), vp, Int32(ks), 0, ds, Int32(tile))
                    for r in 0..<br {
                        let pr = p + r * tile, dr = ds + r * tile, dd = dRow[r]
                        for c in 0..<bc { dr[c] = pr[c] * (dr[c] - dd) }
                    }
                    // dQ_i += scale dS K_j ; dK_j += scale dS^T Q_i
                    sgemm(.none, .none, Int32(br), Int32(d), Int32(bc),
                                scale, ds, Int32(tile), kp, Int32(ks), 1, dqp, Int32(qs))
                    sgemm(.transposed, .none, Int32(bc), Int32(d), Int32(br),
                                scale, ds, Int32(tile), qp, Int32(qs), 1, dkp, Int32(ks))
                    j0 = j1
                }
                i0 = i1
            }
        }
    }
}
