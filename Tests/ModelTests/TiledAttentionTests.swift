import LongMixCore
import Foundation
import Testing
@testable import Model

/// The tiled online-softmax attention equals naive full-matrix attention (forward, and backward
/// against the naive float64 gradients) at lengths around and across tile boundaries, with and
/// without document masking, with grouped KV heads.
@Suite struct TiledAttentionTests {
    /// Gradients of sum(dO * O) for naive attention, from the explicit formulas on the full matrix.
    static func naiveBackward(_ q: [Double], _ k: [Double], _ v: [Double], _ dout: [Double], documentStart: [Int]?,
                              shape s: AttentionShape) -> (dq: [Double], dk: [Double], dv: [Double]) {
        let d = s.headDim, qs = s.heads * d, ks = s.kvHeads * d, t = s.length, scale = 1 / Double(d).squareRoot()
        var dq = [Double](repeating: 0, count: q.count), dk = [Double](repeating: 0, count: k.count), dv = [Double](repeating: 0, count: v.count)
        for b in 0..<s.batch { for h in 0..<s.heads {
            let g = h / (s.heads / s.kvHeads)
            for i in 0..<t {
                let lo = documentStart?[b * t + i] ?? 0
                let keys = Array(lo...i)
                let scores = keys.map { j in (0..<d).reduce(0.0) { $0 + q[(b * t + i) * qs + h * d + $1] * k[(b * t + j) * ks + g * d + $1] } * scale }
                let m = scores.max()!, e = scores.map { exp($0 - m) }, z = e.reduce(0, +), p = e.map { $0 / z }
                let dp = keys.map { j in (0..<d).reduce(0.0) { $0 + dout[(b * t + i) * qs + h * d + $1] * v[(b * t + j) * ks + g * d + $1] } }
                let dsum = zip(p, dp).reduce(0.0) { $0 + $1.0 * $1.1 }
                for (idx, j) in keys.enumerated() {
                    let ds = p[idx] * (dp[idx] - dsum) * scale
                    for x in 0..<d {
                        dv[(b * t + j) * ks + g * d + x] += p[idx] * dout[(b * t + i) * qs + h * d + x]
                        dq[(b * t + i) * qs + h * d + x] += ds * k[(b * t + j) * ks + g * d + x]
                        dk[(b * t + j) * ks + g * d + x] += ds * q[(b * t + i) * qs + h * d + x]
                    }
                }
            }
        } }
        return (dq, dk, dv)
    }

    /// Random document starts: segments of 1 ... 12 tokens tiling each sequence.
    static func documentStarts(batch: Int, length: Int, rng: inout SplitMix64) -> [Int] {
        var starts: [Int] = []
        for _ in 0..<batch {
            var start = 0
            for i in 0..<length {
                if i > 0 && rng.below(6) == 0 { start = i }
                starts.append(start)
            }
        }
        return starts
    }

    @Test(arguments: [1, 7, 16, 17, 40, 67], [false, true])
    func tiledEqualsNaive(length: Int, documents: Bool) {
        var rng = SplitMix64(seed: UInt64(length * 2 + (documents ? 1 : 0)))
        let shape = AttentionShape(batch: 2, length: length, heads: 4, kvHeads: 2, headDim: 8)
        let n = shape.batch * length, qs = shape.heads * 8, ks = shape.kvHeads * 8
        let q = Reference.random(n * qs, &rng), k = Reference.random(n * ks, &rng), v = Reference.random(n * ks, &rng)
        let dout = Reference.random(n * qs, &rng)
        let starts = documents ? Self.documentStarts(batch: 2, length: length, rng: &rng) : nil
        let startsI32 = (starts ?? []).map(Int32.init)
        let expected = Reference.attention(q, k, v, documentStart: starts, shape: shape)
        let grads = Self.naiveBackward(q, k, v, dout, documentStart: starts, shape: shape)
        for (tile, threads) in [(16, 1), (8, 2), (64, 2)] {
            let scratch = AttentionScratch(tile: tile, headDim: 8, workers: threads)
            let workers = Workers(count: threads)
            var out = [Float](repeating: 0, count: n * qs), lse = [Float](repeating: 0, count: 2 * 4 * length)
            var dq = [Float](repeating: 0, count: n * qs), dk = [Float](repeating: 0, count: n * ks), dv = [Float](repeating: 0, count: n * ks)
            let qf = q.map(Float.init), kf = k.map(Float.init), vf = v.map(Float.init), df = dout.map(Float.init)
            startsI32.withUnsafeBufferPointer { sp in
                let ds = documents ? sp.baseAddress : nil
                attentionForward(&out, &lse, qf, kf, vf, documentStart: ds, shape: shape, scratch: scratch, workers: workers)
                attentionBackward(&dq, &dk, &dv, df, qf, kf, vf, out, lse, documentStart: ds, shape: shape, scratch: scratch, workers: workers)
            }
            let forwardError = zip(out, expected).map { abs(Double($0) - $1) }.max()!
            #expect(forwardError < 1e-5, "tile \(tile): forward differs by \(forwardError)")
            for (name, got, want) in [("dq", dq, grads.dq), ("dk", dk, grads.dk), ("dv", dv, grads.dv)] {
                if want.allSatisfy({ abs($0) < 1e-12 }) {  // one key per row: softmax is constant, dq = dk = 0
                    #expect(got.allSatisfy { abs($0) < 1e-6 }, "tile \(tile), \(name): should vanish")
                    continue
                }
                let error = Reference.relativeError(got, Dictionary(uniqueKeysWithValues: want.enumerated().map { ($0, $1) }))
                #expect(error < 1e-5, "tile \(tile), \(name): relative error \(error)")
            }
        }
    }
}
