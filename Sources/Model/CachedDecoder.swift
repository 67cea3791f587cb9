import Foundation
import LongMixCore

/// Causal attention of `rows` new queries against a key/value cache (the decoding step).
/// out[R, H * hd]: row i, at position past + i, attends to cache rows 0 ... past + i of
/// kCache/vCache [T, Hkv * hd] (the new rows' keys and values already written there), query head h
/// reading KV head h / (H / Hkv); scores[T] is scratch. Scores, softmax and sums in float32.
public func cachedAttentionForward(_ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>,
                                   _ kCache: UnsafePointer<Float>, _ vCache: UnsafePointer<Float>,
                                   rows: Int, past: Int, heads: Int, kvHeads: Int, headDim d: Int,
                                   scores: UnsafeMutablePointer<Float>) {
    let scale = 1 / Float(d).squareRoot(), group = heads / kvHeads, kvWidth = kvHeads * d
    for i in 0..<rows {
        let keys = past + i + 1
        for h in 0..<heads {
            let qh = q + i * heads * d + h * d, o = out + i * heads * d + h * d
            let kvOffset = (h / group) * d
            var maximum = -Float.infinity
            for j in 0..<keys {
                let k = kCache + j * kvWidth + kvOffset
                var s: Float = 0
                for x in 0..<d { s += qh[x] * k[x] }
                s *= scale
                scores[j] = s
                maximum = max(maximum, s)
            }
            var sum: Float = 0
            for j in 0..<keys {
                let p = exp(scores[j] - maximum)
                scores[j] = p
                sum += p
            }
            o.update(repeating: 0, count: d)
            for j in 0..<keys {
                let v = vCache + j * kvWidth + kvOffset, p = scores[j] / sum
                for x in 0..<d { o[x] += p * v[x] }
            }
        }
    }
}

/// The reference model for generation: a LLaMA decoder with a key/value cache, fed tokens a chunk
/// at a time, returning the logits of the last one. Same operations as `LlamaModel`'s forward
/// (RMSNorm, sgemm projections, RoPE with the config's Position Interpolation factor, SwiGLU,
/// untied LM head), causal over everything appended since `reset()`; each token is computed once.
///
/// Contract: `append` accepts up to `capacity` tokens in all; the logits it returns are those the
/// full forward pass over the whole prefix gives at its last position (tested). Parameters, cache
/// and scratch are allocated at `init`; nothing is allocated while decoding.
public final class CachedDecoder {
    public let config: ModelConfig
    public let layout: ParameterLayout
    /// Most tokens the cache holds, and most tokens one `append` chunk computes at once.
    public let capacity: Int
    public let chunk: Int
    public private(set) var count = 0

    public let parameters: UnsafeMutablePointer<Float>
    private let weights: ModelTensors
    private let kCache: [UnsafeMutablePointer<Float>]  // L of [capacity, Hkv * hd], after RoPE
    private let vCache: [UnsafeMutablePointer<Float>]  // L of [capacity, Hkv * hd]
    private let memory: UnsafeMutableRawPointer
    private let x: UnsafeMutablePointer<Float>        // [chunk, C] residual stream
    private let norm: UnsafeMutablePointer<Float>     // [chunk, C]
    private let rstd: UnsafeMutablePointer<Float>     // [chunk]
    private let q: UnsafeMutablePointer<Float>        // [chunk, C]
    private let attention: UnsafeMutablePointer<Float> // [chunk, C]
    private let projected: UnsafeMutablePointer<Float> // [chunk, C]
    private let gate: UnsafeMutablePointer<Float>     // [chunk, F]
    private let up: UnsafeMutablePointer<Float>       // [chunk, F]
    private let hidden: UnsafeMutablePointer<Float>   // [chunk, F]
    private let logitBuffer: UnsafeMutablePointer<Float> // [V]
    private let scores: UnsafeMutablePointer<Float>   // [capacity]
    private let tokens: UnsafeMutablePointer<Int32>   // [chunk]
    private let positions: UnsafeMutablePointer<Int32> // [chunk]
    private let rope: RoPETable

    public init(config: ModelConfig, capacity: Int, chunk: Int = 64, threads: Int = 1) {
        self.config = config
        layout = ParameterLayout(config)
        self.capacity = capacity
        self.chunk = max(1, min(chunk, capacity))
        setBLASThreads(max(1, threads))
        let c = config.hiddenSize, f = config.intermediateSize, kv = config.kvDim, r = self.chunk
        parameters = .allocate(capacity: layout.count)
        parameters.initialize(repeating: 0, count: layout.count)
        weights = ModelTensors(base: parameters, layout: layout, layers: config.numLayers)
        let floats = 2 * config.numLayers * capacity * kv + 5 * r * c + r + 3 * r * f + config.vocabSize + capacity + 2 * r
        memory = .allocate(byteCount: floats * 4, alignment: 64)
        memory.initializeMemory(as: Float.self, repeating: 0, count: floats)
        var cursor = memory.assumingMemoryBound(to: Float.self)
        func take(_ n: Int) -> UnsafeMutablePointer<Float> { defer { cursor += n }; return cursor }
        kCache = (0..<config.numLayers).map { _ in take(capacity * kv) }
        vCache = (0..<config.numLayers).map { _ in take(capacity * kv) }
        x = take(r * c); norm = take(r * c); q = take(r * c); attention = take(r * c); projected = take(r * c)
        rstd = take(r); gate = take(r * f); up = take(r * f); hidden = take(r * f)
        logitBuffer = take(config.vocabSize); scores = take(capacity)
        let ints = UnsafeMutableRawPointer(take(2 * r)).assumingMemoryBound(to: Int32.self)
        tokens = ints
        positions = ints + r
        rope = RoPETable(headDim: config.headDim, positions: capacity, theta: config.ropeTheta, factor: config.ropeFactor)
    }

    deinit {
        parameters.deallocate()
        memory.deallocate()
        rope.deallocate()
    }

    /// Loads a checkpoint directory's `model.safetensors` (F32, F16 or BF16, HF names).
    public func loadWeights(_ directory: String) throws {
        let file = try SafeTensors.File(path: directory + "/" + Checkpoint.weightsFile)
        for t in layout.tensors { try file.read(t.name, shape: t.shape, into: parameters + t.offset) }
    }

    /// Forgets every cached token.
    public func reset() { count = 0 }

    /// Feeds `ids` after what is cached and returns the logits [V] at the last of them (valid until
    /// the next call). Throws when the cache would overflow or an id is outside the vocabulary.
    public func append(_ ids: [Int32]) throws -> UnsafeBufferPointer<Float> {
        guard !ids.isEmpty else { throw ConfigurationError(file: nil, "append: no tokens") }
        guard count + ids.count <= capacity else {
            throw ConfigurationError(file: nil, "the decoder holds \(capacity) tokens; \(count) cached + \(ids.count) new do not fit")
        }
        if let bad = ids.first(where: { $0 < 0 || Int($0) >= config.vocabSize }) {
            throw ConfigurationError(file: nil, "token id \(bad) is outside the vocabulary of \(config.vocabSize)")
        }
        var start = 0
        while start < ids.count {
            let rows = min(chunk, ids.count - start)
            for i in 0..<rows {
                tokens[i] = ids[start + i]
                positions[i] = Int32(count + i)
            }
            forwardChunk(rows: rows)
            count += rows
            start += rows
        }
        return UnsafeBufferPointer(start: logitBuffer, count: config.vocabSize)
    }

    /// One chunk of `rows` new tokens through every layer; leaves the last row's logits.
    private func forwardChunk(rows r: Int) {
        let c = config.hiddenSize, f = config.intermediateSize, kv = config.kvDim, hd = config.headDim
        let eps = config.rmsNormEps
        embeddingForward(x, tokens, weights.embedding, rows: r, dim: c)
        for l in 0..<config.numLayers {
            let w = weights.layers[l]
            let k = kCache[l] + count * kv, v = vCache[l] + count * kv
            rmsnormForward(norm, rstd, x, w.attentionNorm, rows: r, dim: c, eps: eps)
            matmulForward(q, norm, w.wq, rows: r, inDim: c, outDim: c)
            matmulForward(k, norm, w.wk, rows: r, inDim: c, outDim: kv)
            matmulForward(v, norm, w.wv, rows: r, inDim: c, outDim: kv)
            ropeForward(q, positions, rope, rows: r, heads: config.numHeads, headDim: hd)
            ropeForward(k, positions, rope, rows: r, heads: config.numKVHeads, headDim: hd)
            cachedAttentionForward(attention, q, kCache[l], vCache[l], rows: r, past: count, heads: config.numHeads,
                                   kvHeads: config.numKVHeads, headDim: hd, scores: scores)
            matmulForward(projected, attention, w.wo, rows: r, inDim: c, outDim: c)
            residualForward(x, x, projected, count: r * c)
            rmsnormForward(norm, rstd, x, w.mlpNorm, rows: r, dim: c, eps: eps)
            matmulForward(gate, norm, w.wGate, rows: r, inDim: c, outDim: f)
            matmulForward(up, norm, w.wUp, rows: r, inDim: c, outDim: f)
            swigluForward(hidden, gate, up, count: r * f)
            matmulForward(projected, hidden, w.wDown, rows: r, inDim: f, outDim: c)
            residualForward(x, x, projected, count: r * c)
        }
        let last = x + (r - 1) * c
        rmsnormForward(norm, rstd, last, weights.finalNorm, rows: 1, dim: c, eps: eps)
        matmulForward(logitBuffer, norm, weights.lmHead, rows: 1, inDim: c, outDim: config.vocabSize)
    }
}
