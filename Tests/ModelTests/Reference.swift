import LongMixCore
import Foundation
@testable import Model

/// Float64 reference forwards, written plainly from the definitions (not from the float32 code),
/// for finite-difference gradients and for checking the tiled attention.
enum Reference {
    static func matmul(_ x: [Double], _ w: [Double], n: Int, c: Int, oc: Int) -> [Double] {
        var out = [Double](repeating: 0, count: n * oc)
        for i in 0..<n { for o in 0..<oc { var s = 0.0; for j in 0..<c { s += x[i * c + j] * w[o * c + j] }; out[i * oc + o] = s } }
        return out
    }

    static func rmsnorm(_ x: [Double], _ w: [Double], n: Int, c: Int, eps: Double) -> [Double] {
        var out = x
        for i in 0..<n {
            var ms = 0.0
            for j in 0..<c { ms += x[i * c + j] * x[i * c + j] }
            let r = 1 / (ms / Double(c) + eps).squareRoot()
            for j in 0..<c { out[i * c + j] = w[j] * x[i * c + j] * r }
        }
        return out
    }

    /// rotate_half RoPE: x * cos + rotate_half(x) * sin with rotate_half(a, b) = (-b, a).
    static func rope(_ x: [Double], positions: [Int], n: Int, heads: Int, d: Int, theta: Double, factor: Double) -> [Double] {
        var out = x
        let half = d / 2
        for i in 0..<n { for h in 0..<heads { for j in 0..<half {
            let angle = Double(positions[i]) / factor / pow(theta, Double(2 * j) / Double(d))
            let a = x[i * heads * d + h * d + j], b = x[i * heads * d + h * d + j + half]
            out[i * heads * d + h * d + j] = a * cos(angle) - b * sin(angle)
            out[i * heads * d + h * d + j + half] = b * cos(angle) + a * sin(angle)
        } } }
        return out
    }

    static func swiglu(_ g: [Double], _ u: [Double]) -> [Double] {
        zip(g, u).map { g, u in g / (1 + exp(-g)) * u }
    }

    /// Naive softmax attention with the full score matrix; documentStart nil means causal over all.
    static func attention(_ q: [Double], _ k: [Double], _ v: [Double], documentStart: [Int]?, shape s: AttentionShape) -> [Double] {
        let d = s.headDim, qs = s.heads * d, ks = s.kvHeads * d, t = s.length
        var out = [Double](repeating: 0, count: s.batch * t * qs)
        for b in 0..<s.batch { for h in 0..<s.heads {
            let g = h / (s.heads / s.kvHeads)
            for i in 0..<t {
                let lo = documentStart?[b * t + i] ?? 0
                var scores: [Double] = []
                for j in lo...i {
                    var dot = 0.0
                    for x in 0..<d { dot += q[(b * t + i) * qs + h * d + x] * k[(b * t + j) * ks + g * d + x] }
                    scores.append(dot / Double(d).squareRoot())
                }
                let m = scores.max()!
                let e = scores.map { exp($0 - m) }, z = e.reduce(0, +)
                for (idx, j) in (lo...i).enumerated() {
                    for x in 0..<d { out[(b * t + i) * qs + h * d + x] += e[idx] / z * v[(b * t + j) * ks + g * d + x] }
                }
            }
        } }
        return out
    }

    /// Sum over rows with a target of -log softmax(logits)[target].
    static func crossEntropy(_ logits: [Double], targets: [Int32], v: Int) -> Double {
        var total = 0.0
        for (i, t) in targets.enumerated() where t >= 0 {
            let row = logits[(i * v)..<((i + 1) * v)]
            let m = row.max()!
            total += m + log(row.reduce(0) { $0 + exp($1 - m) }) - row[i * v + Int(t)]
        }
        return total
    }

    /// The whole decoder's summed loss, parameters in `ParameterLayout` order.
    static func modelLoss(_ config: ModelConfig, _ p: [Double], tokens: [Int32], targets: [Int32], positions: [Int],
                          documentStart: [Int]?, batch: Int, length: Int) -> Double {
        let layout = ParameterLayout(config)
        func tensor(_ name: String) -> [Double] {
            let t = layout.tensors.first { $0.name == name }!
            return Array(p[t.offset..<(t.offset + t.count)])
        }
        let n = batch * length, c = config.hiddenSize, f = config.intermediateSize, kv = config.kvDim, eps = Double(config.rmsNormEps)
        let embed = tensor("model.embed_tokens.weight")
        var x = [Double](repeating: 0, count: n * c)
        for i in 0..<n { for j in 0..<c { x[i * c + j] = embed[Int(tokens[i]) * c + j] } }
        let shape = AttentionShape(batch: batch, length: length, heads: config.numHeads, kvHeads: config.numKVHeads, headDim: config.headDim)
        for l in 0..<config.numLayers {
            let pre = "model.layers.\(l)."
            let h1 = rmsnorm(x, tensor(pre + "input_layernorm.weight"), n: n, c: c, eps: eps)
            let q = rope(matmul(h1, tensor(pre + "self_attn.q_proj.weight"), n: n, c: c, oc: c), positions: positions, n: n,
                         heads: config.numHeads, d: config.headDim, theta: config.ropeTheta, factor: config.ropeFactor)
            let k = rope(matmul(h1, tensor(pre + "self_attn.k_proj.weight"), n: n, c: c, oc: kv), positions: positions, n: n,
                         heads: config.numKVHeads, d: config.headDim, theta: config.ropeTheta, factor: config.ropeFactor)
            let v = matmul(h1, tensor(pre + "self_attn.v_proj.weight"), n: n, c: c, oc: kv)
            let o = matmul(attention(q, k, v, documentStart: documentStart, shape: shape), tensor(pre + "self_attn.o_proj.weight"), n: n, c: c, oc: c)
            x = zip(x, o).map(+)
            let h2 = rmsnorm(x, tensor(pre + "post_attention_layernorm.weight"), n: n, c: c, eps: eps)
            let g = matmul(h2, tensor(pre + "mlp.gate_proj.weight"), n: n, c: c, oc: f)
            let u = matmul(h2, tensor(pre + "mlp.up_proj.weight"), n: n, c: c, oc: f)
            x = zip(x, matmul(swiglu(g, u), tensor(pre + "mlp.down_proj.weight"), n: n, c: f, oc: c)).map(+)
        }
        let logits = matmul(rmsnorm(x, tensor("model.norm.weight"), n: n, c: c, eps: eps), tensor("lm_head.weight"), n: n, c: c, oc: config.vocabSize)
        return crossEntropy(logits, targets: targets, v: config.vocabSize)
    }

    /// Central differences of f at x for the given indices (all when nil).
    static func numericGradient(_ x: [Double], indices: [Int]? = nil, step: Double = 1e-5, _ f: ([Double]) -> Double) -> [Int: Double] {
        var grad: [Int: Double] = [:]
        var xp = x
        for i in indices ?? Array(x.indices) {
            xp[i] = x[i] + step
            let up = f(xp)
            xp[i] = x[i] - step
            let down = f(xp)
            xp[i] = x[i]
            grad[i] = (up - down) / (2 * step)
        }
        return grad
    }

    /// ||a - b|| / ||b|| over the indices of `numeric` (b must not vanish).
    static func relativeError(_ analytic: [Float], _ numeric: [Int: Double]) -> Double {
        var diff = 0.0, norm = 0.0
        for (i, n) in numeric {
            diff += (Double(analytic[i]) - n) * (Double(analytic[i]) - n)
            norm += n * n
        }
        return norm == 0 ? .infinity : (diff / norm).squareRoot()
    }

    static func random(_ count: Int, _ rng: inout SplitMix64, scale: Double = 1) -> [Double] {
        (0..<count).map { _ in scale * rng.normal() }
    }
}
