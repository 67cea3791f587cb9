import LongMixCore
import Foundation
import Testing
@testable import Model

/// Every operation's backward against central finite differences of the float64 reference forward
/// (objective: sum(dout * f(x)) for a random dout), and its float32 forward against the reference.
@Suite struct OperationGradientTests {
    func floats(_ x: [Double]) -> [Float] { x.map(Float.init) }

    func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }

    func maxAbsDiff(_ a: [Float], _ b: [Double]) -> Double { zip(a, b).map { abs(Double($0) - $1) }.max() ?? 0 }

    @Test func matmul() {
        var rng = SplitMix64(seed: 1)
        let n = 5, c = 7, oc = 4
        let x = Reference.random(n * c, &rng), w = Reference.random(oc * c, &rng), dout = Reference.random(n * oc, &rng)
        var out = [Float](repeating: 0, count: n * oc)
        let xf = floats(x), wf = floats(w)
        matmulForward(&out, xf, wf, rows: n, inDim: c, outDim: oc)
        #expect(maxAbsDiff(out, Reference.matmul(x, w, n: n, c: c, oc: oc)) < 1e-5)
        var dx = [Float](repeating: 9, count: n * c), dw = [Float](repeating: 0, count: oc * c)
        matmulBackward(&dx, &dw, floats(dout), xf, wf, rows: n, inDim: c, outDim: oc, accumulateInput: false)
        let nx = Reference.numericGradient(x) { dot(dout, Reference.matmul($0, w, n: n, c: c, oc: oc)) }
        let nw = Reference.numericGradient(w) { dot(dout, Reference.matmul(x, $0, n: n, c: c, oc: oc)) }
        #expect(Reference.relativeError(dx, nx) < 1e-4)
        #expect(Reference.relativeError(dw, nw) < 1e-4)
        // dweight accumulates across calls (gradient accumulation); dinp accumulates on request.
        matmulBackward(&dx, &dw, floats(dout), xf, wf, rows: n, inDim: c, outDim: oc, accumulateInput: true)
        #expect(Reference.relativeError(dw, nw.mapValues { 2 * $0 }) < 1e-4)
        #expect(Reference.relativeError(dx, nx.mapValues { 2 * $0 }) < 1e-4)
    }

    @Test func rmsnorm() {
        var rng = SplitMix64(seed: 2)
        let n = 4, c = 6
        let x = Reference.random(n * c, &rng), w = Reference.random(c, &rng), dout = Reference.random(n * c, &rng)
        var out = [Float](repeating: 0, count: n * c), rstd = [Float](repeating: 0, count: n)
        rmsnormForward(&out, &rstd, floats(x), floats(w), rows: n, dim: c, eps: 1e-5)
        #expect(maxAbsDiff(out, Reference.rmsnorm(x, w, n: n, c: c, eps: 1e-5)) < 1e-5)
        var again = [Float](repeating: 0, count: n * c)
        rmsnormRecompute(&again, rstd, floats(x), floats(w), rows: n, dim: c)
        #expect(again == out)
        var dx = [Float](repeating: 0, count: n * c), dw = [Float](repeating: 0, count: c)
        rmsnormBackward(&dx, &dw, floats(dout), floats(x), floats(w), rstd, rows: n, dim: c)
        let nx = Reference.numericGradient(x) { dot(dout, Reference.rmsnorm($0, w, n: n, c: c, eps: 1e-5)) }
        let nw = Reference.numericGradient(w) { dot(dout, Reference.rmsnorm(x, $0, n: n, c: c, eps: 1e-5)) }
        #expect(Reference.relativeError(dx, nx) < 1e-4)
        #expect(Reference.relativeError(dw, nw) < 1e-4)
    }

    @Test(arguments: [1.0, 4.0]) func rope(factor: Double) {
        var rng = SplitMix64(seed: 3)
        let n = 5, heads = 2, d = 8, positions = [0, 3, 17, 100, 4095]
        let x = Reference.random(n * heads * d, &rng), dout = Reference.random(n * heads * d, &rng)
        let table = RoPETable(headDim: d, positions: 4096, theta: 10_000, factor: factor)
        defer { table.deallocate() }
        let pos = positions.map(Int32.init)
        var y = floats(x)
        ropeForward(&y, pos, table, rows: n, heads: heads, headDim: d)
        let ref = Reference.rope(x, positions: positions, n: n, heads: heads, d: d, theta: 10_000, factor: factor)
        #expect(maxAbsDiff(y, ref) < 1e-4)
        var dx = floats(dout)
        ropeBackward(&dx, pos, table, rows: n, heads: heads, headDim: d)
        let nx = Reference.numericGradient(x) { dot(dout, Reference.rope($0, positions: positions, n: n, heads: heads, d: d, theta: 10_000, factor: factor)) }
        #expect(Reference.relativeError(dx, nx) < 1e-4)
    }

    @Test func swiglu() {
        var rng = SplitMix64(seed: 4)
        let count = 20
        let g = Reference.random(count, &rng, scale: 2), u = Reference.random(count, &rng), dout = Reference.random(count, &rng)
        var out = [Float](repeating: 0, count: count)
        swigluForward(&out, floats(g), floats(u), count: count)
        #expect(maxAbsDiff(out, Reference.swiglu(g, u)) < 1e-5)
        var dg = [Float](repeating: 0, count: count), du = [Float](repeating: 0, count: count)
        swigluBackward(&dg, &du, floats(dout), floats(g), floats(u), count: count)
        #expect(Reference.relativeError(dg, Reference.numericGradient(g) { dot(dout, Reference.swiglu($0, u)) }) < 1e-4)
        #expect(Reference.relativeError(du, Reference.numericGradient(u) { dot(dout, Reference.swiglu(g, $0)) }) < 1e-4)
    }

    @Test func embeddingAndResidual() {
        var rng = SplitMix64(seed: 5)
        let v = 6, c = 3, tokens: [Int32] = [2, 0, 2, 5]
        let table = Reference.random(v * c, &rng), dout = Reference.random(tokens.count * c, &rng)
        func lookup(_ t: [Double]) -> [Double] { tokens.flatMap { t[(Int($0) * c)..<(Int($0) * c + c)] } }
        var out = [Float](repeating: 0, count: tokens.count * c)
        embeddingForward(&out, tokens, floats(table), rows: tokens.count, dim: c)
        #expect(maxAbsDiff(out, lookup(table)) < 1e-6)
        var dt = [Float](repeating: 0, count: v * c)
        embeddingBackward(&dt, floats(dout), tokens, rows: tokens.count, dim: c)
        #expect(Reference.relativeError(dt, Reference.numericGradient(table) { dot(dout, lookup($0)) }) < 1e-6)

        let a = Reference.random(8, &rng), b = Reference.random(8, &rng), g = Reference.random(8, &rng)
        var sum = [Float](repeating: 0, count: 8)
        residualForward(&sum, floats(a), floats(b), count: 8)
        #expect(maxAbsDiff(sum, zip(a, b).map(+)) < 1e-6)
        var da = [Float](repeating: 0, count: 8), db = [Float](repeating: 0, count: 8)
        residualBackward(&da, &db, floats(g), count: 8)
        #expect(Reference.relativeError(da, Reference.numericGradient(a) { dot(g, zip($0, b).map(+)) }) < 1e-6)
        #expect(Reference.relativeError(db, Reference.numericGradient(b) { dot(g, zip(a, $0).map(+)) }) < 1e-6)
    }

    @Test func crossEntropyWithMask() {
        var rng = SplitMix64(seed: 6)
        let n = 5, v = 7, targets: [Int32] = [3, -1, 0, 6, -1]
        let logits = Reference.random(n * v, &rng, scale: 3)
        var lse = [Float](repeating: 0, count: n)
        let loss = crossEntropyForward(&lse, floats(logits), targets, rows: n, vocab: v)
        let ref = Reference.crossEntropy(logits, targets: targets, v: v)
        #expect(abs(loss - ref) < 1e-5 * abs(ref))
        var grad = floats(logits)
        crossEntropyBackward(&grad, lse, targets, rows: n, vocab: v, scale: 0.5)
        let numeric = Reference.numericGradient(logits) { 0.5 * Reference.crossEntropy($0, targets: targets, v: v) }
        #expect(Reference.relativeError(grad, numeric) < 1e-4)
        #expect(grad[(v)..<(2 * v)].allSatisfy { $0 == 0 })
    }

    @Test(arguments: [false, true]) func attention(documents: Bool) {
        var rng = SplitMix64(seed: 7)
        let shape = AttentionShape(batch: 2, length: 6, heads: 4, kvHeads: 2, headDim: 4)
        let n = shape.batch * shape.length, qs = shape.heads * shape.headDim, ks = shape.kvHeads * shape.headDim
        let q = Reference.random(n * qs, &rng), k = Reference.random(n * ks, &rng), v = Reference.random(n * ks, &rng)
        let dout = Reference.random(n * qs, &rng)
        let starts: [Int]? = documents ? [0, 0, 2, 2, 2, 5, 0, 1, 1, 3, 3, 3] : nil
        let scratch = AttentionScratch(tile: 4, headDim: shape.headDim, workers: 2)
        let workers = Workers(count: 2)
        var out = [Float](repeating: 0, count: n * qs), lse = [Float](repeating: 0, count: shape.batch * shape.heads * shape.length)
        let qf = floats(q), kf = floats(k), vf = floats(v)
        let startsI32 = starts?.map(Int32.init) ?? []
        func run(_ body: (UnsafePointer<Int32>?) -> Void) {
            if documents { startsI32.withUnsafeBufferPointer { body($0.baseAddress) } } else { body(nil) }
        }
        run { ds in attentionForward(&out, &lse, qf, kf, vf, documentStart: ds, shape: shape, scratch: scratch, workers: workers) }
        #expect(maxAbsDiff(out, Reference.attention(q, k, v, documentStart: starts, shape: shape)) < 1e-5)
        var dq = [Float](repeating: 7, count: n * qs), dk = [Float](repeating: 7, count: n * ks), dv = [Float](repeating: 7, count: n * ks)
        run { ds in
            attentionBackward(&dq, &dk, &dv, floats(dout), qf, kf, vf, out, lse, documentStart: ds, shape: shape, scratch: scratch, workers: workers)
        }
        let f = { (q: [Double], k: [Double], v: [Double]) in dot(dout, Reference.attention(q, k, v, documentStart: starts, shape: shape)) }
        #expect(Reference.relativeError(dq, Reference.numericGradient(q) { f($0, k, v) }) < 1e-4)
        #expect(Reference.relativeError(dk, Reference.numericGradient(k) { f(q, $0, v) }) < 1e-4)
        #expect(Reference.relativeError(dv, Reference.numericGradient(v) { f(q, k, $0) }) < 1e-4)
    }
}

@Suite struct FastExpTests {
    @Test func fastExpMatchesFoundation() {
        var worst = 0.0
        var x: Float = -87
        while x <= 88 {
            let want = Foundation.exp(Double(x)), got = Double(fastExp(x))
            worst = max(worst, abs(got - want) / want)
            x += 0.0137
        }
        #expect(worst < 2e-7, "worst relative error \(worst)")
        #expect(fastExp(-.infinity) == 0 && fastExp(-100) == 0 && fastExp(0) == 1)
    }

    /// The 8-lane version gives each lane exactly the scalar result, across the range, at the
    /// clamps and beyond them.
    @Test func simdFastExpEqualsTheScalarOneBitForBit() {
        var values: [Float] = [-.infinity, -1000, -87.5, -87, -86.99, 0, 1e-30, 87.99, 88, 88.5, 1000, .infinity]
        var x: Float = -90
        while x <= 90 { values.append(x); x += 0.00731 }
        while values.count % 8 != 0 { values.append(0.5) }
        var mismatches = 0
        for i in stride(from: 0, to: values.count, by: 8) {
            let lanes = fastExp(SIMD8<Float>(values[i..<(i + 8)]))
            for j in 0..<8 where lanes[j].bitPattern != fastExp(values[i + j]).bitPattern { mismatches += 1 }
        }
        #expect(mismatches == 0, "\(mismatches) of \(values.count) values differ")
    }

    /// The row kernels against plain loops (values and sums to float rounding; exp as fastExp).
    @Test func rowKernelsMatchPlainLoops() {
        var rng = SplitMix64(seed: 5)
        for n in [0, 1, 7, 8, 9, 31, 64, 2000] {
            let a = (0..<n).map { _ in Float(rng.normal() * 3) }, b = (0..<n).map { _ in Float(rng.normal()) }
            a.withUnsafeBufferPointer { pa in
                b.withUnsafeBufferPointer { pb in
                    let m = RowKernels.max(pa.baseAddress!, n, start: -.infinity)
                    #expect(m == (a.max() ?? -.infinity))
                    let dot = RowKernels.dot(pa.baseAddress!, pb.baseAddress!, n)
                    let want = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
                    #expect(abs(Double(dot) - want) <= 1e-5 * (zip(a, b).reduce(0.0) { $0 + abs(Double($1.0 * $1.1)) } + 1))
                    let total = RowKernels.expShiftedTotal(pa.baseAddress!, n, shift: 1.5)
                    var row = a
                    let sum = row.withUnsafeMutableBufferPointer { RowKernels.expShiftedSum($0.baseAddress!, n, shift: 1.5) }
                    #expect(row == a.map { fastExp($0 - 1.5) })
                    #expect(sum == total)
                    let plain = a.reduce(0.0) { $0 + Double(fastExp($1 - 1.5)) }
                    #expect(abs(Double(sum) - plain) <= 1e-6 * plain + 1e-30)
                    row = a
                    row.withUnsafeMutableBufferPointer { RowKernels.expShifted($0.baseAddress!, n, shift: 1.5, scale: 0.25) }
                    #expect(row == a.map { 0.25 * fastExp($0 - 1.5) })
                }
            }
        }
    }
}
