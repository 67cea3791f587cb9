import LongMixCore
import Foundation

/// How tokens of a packed sequence attend to each other.
public enum AttentionMode: String, Sendable, Codable, CaseIterable {
    /// Causal over the whole packed sequence, positions 0 ..< T (Together's recipe).
    case sequence
    /// Causal within each document, positions restarting at every document: a document is a pack
    /// segment, or in a few-shot source a group's header with the examples after it (`PackBatches.fill`).
    case document
}

/// The inputs of one micro-batch of `batch` windows of `length` tokens (N = batch * length rows),
/// filled by the data loader before `forward`.
public struct BatchInputs {
    /// tokens[N]: input ids.
    public let tokens: UnsafeMutablePointer<Int32>
    /// targets[N]: the id to predict at each row, -1 where the row does not count in the loss.
    public let targets: UnsafeMutablePointer<Int32>
    /// positions[N]: RoPE position of each row (before the Position Interpolation factor).
    public let positions: UnsafeMutablePointer<Int32>
    /// documentStart[N]: first row (within its window) of the row's document; used in document mode.
    public let documentStart: UnsafeMutablePointer<Int32>
}

/// One layer's stored activations ([N, ...] rows, as in llm.c's ActivationTensors).
struct LayerActivations {
    var rstd1: UnsafeMutablePointer<Float>   // [N]
    var q: UnsafeMutablePointer<Float>       // [N, H * hd], after RoPE
    var k: UnsafeMutablePointer<Float>       // [N, Hkv * hd], after RoPE
    var v: UnsafeMutablePointer<Float>       // [N, Hkv * hd]
    var attention: UnsafeMutablePointer<Float> // [N, H * hd], attention output O
    var lse: UnsafeMutablePointer<Float>     // [B, H, T], logsumexp of each score row
    var mid: UnsafeMutablePointer<Float>     // [N, C], residual stream after attention
    var rstd2: UnsafeMutablePointer<Float>   // [N]
    var gate: UnsafeMutablePointer<Float>    // [N, F]
    var up: UnsafeMutablePointer<Float>      // [N, F]
}

/// A LLaMA decoder in float32 over flat buffers, after llm.c's train_gpt2.c: parameters in one
/// allocation, gradients in one, activations (and every scratch buffer) in one, all made at `init`;
/// `forward` and `backward` allocate nothing. `forward` with gradients also runs the LM head's
/// backward chunk by chunk (the [N, V] logits never exist at once), so `backward` starts at the
/// final norm.
///
/// With `recompute`, only each layer's input is kept and a layer's activations are recomputed just
/// before its backward pass (activation checkpointing): memory for a 32K-token window is then a
/// few layer-sized buffers instead of one set per layer.
///
/// With `forwardOnly` (evaluation), nothing the backward pass needs is allocated: no gradients,
/// no gradient buffers, one set of layer activations and two residual-stream buffers used in turn;
/// only `forward(gradients: false)` may run (about half the memory of `recompute` at any length).
///
/// `threads` sizes the model's own workers; OpenBLAS's thread count is process-wide and is the
/// caller's to set once (`loadOpenBLAS(threads:)`), before any model runs.
public final class LlamaModel {
    public let config: ModelConfig
    public let layout: ParameterLayout
    public let batch: Int
    public let length: Int
    public let attentionMode: AttentionMode
    public let recompute: Bool
    public let forwardOnly: Bool
    public let workers: Workers

    /// All parameters, `layout.count` floats, and their gradients, the same size.
    public let parameters: UnsafeMutablePointer<Float>
    public let gradients: UnsafeMutablePointer<Float>
    public let weights: ModelTensors
    public let grads: ModelTensors
    public let inputs: BatchInputs

    private let activationMemory: UnsafeMutableRawPointer
    public let activationBytes: Int
    private let residual: [UnsafeMutablePointer<Float>] // L + 1 of [N, C]: stream entering each layer, then the last output (2, forward-only)
    private let layerActivations: [LayerActivations]    // L, or 1 shared when recomputing
    private let norm: UnsafeMutablePointer<Float>        // [N, C] normalized input / projection scratch
    private let hidden: UnsafeMutablePointer<Float>      // [N, F] swiglu output
    private let finalNorm: UnsafeMutablePointer<Float>   // [N, C]
    private let finalRstd: UnsafeMutablePointer<Float>   // [N]
    private let logits: UnsafeMutablePointer<Float>      // [logitRows, V], one chunk
    private let logitLSE: UnsafeMutablePointer<Float>    // [logitRows]
    private let dResidual: UnsafeMutablePointer<Float>   // [N, C]
    private let dNorm: UnsafeMutablePointer<Float>       // [N, C], also d(final norm output)
    private let dAttention: UnsafeMutablePointer<Float>  // [N, C]
    private let dq: UnsafeMutablePointer<Float>          // [N, H * hd]
    private let dk: UnsafeMutablePointer<Float>          // [N, Hkv * hd]
    private let dv: UnsafeMutablePointer<Float>          // [N, Hkv * hd]
    private let dHidden: UnsafeMutablePointer<Float>     // [N, F]
    private let dGate: UnsafeMutablePointer<Float>       // [N, F]
    private let dUp: UnsafeMutablePointer<Float>         // [N, F]
    private let normPartials: UnsafeMutablePointer<Float> // [workers, C] per-chunk norm-weight gradients
    private let lossPartials: UnsafeMutablePointer<Double> // [workers]
    private let rope: RoPETable
    private let attentionScratch: AttentionScratch
    private let logitRows: Int

    /// rows per LM-head chunk: by default as many as fit in 32 MB of logits.
    public init(config: ModelConfig, batch: Int, length: Int, attention: AttentionMode = .sequence,
                recompute: Bool = false, forwardOnly: Bool = false, threads: Int = 1, attentionTile: Int = 64,
                logitRows: Int? = nil) {
        self.config = config
        self.layout = ParameterLayout(config)
        self.batch = batch
        self.length = length
        self.attentionMode = attention
        self.recompute = recompute
        self.forwardOnly = forwardOnly
        self.workers = Workers(count: threads)
        let n = batch * length, c = config.hiddenSize, f = config.intermediateSize, kv = config.kvDim
        let v = config.vocabSize, layers = config.numLayers
        let rows = min(n, max(1, logitRows ?? (8 << 20) / v))
        self.logitRows = rows

        parameters = .allocate(capacity: layout.count)
        parameters.initialize(repeating: 0, count: layout.count)
        let gradientCount = forwardOnly ? 0 : layout.count
        gradients = .allocate(capacity: gradientCount)
        gradients.initialize(repeating: 0, count: gradientCount)
        weights = ModelTensors(base: parameters, layout: layout, layers: layers)
        grads = ModelTensors(base: gradients, layout: layout, layers: layers)

        // One allocation for every activation and scratch buffer: sizes in floats (ints are 4 bytes too).
        let sets = recompute || forwardOnly ? 1 : layers
        let streams = forwardOnly ? 2 : layers + 1
        let backwardOnly = forwardOnly ? 0 : 1  // multiplies the sizes of buffers only the backward pass uses
        let perLayer = n + n * c + 2 * n * kv + n * c + batch * config.numHeads * length + n * c + n + 2 * n * f
        var sizes: [Int] = [2 * workers.count]
        sizes += Array(repeating: n * c, count: streams)
        sizes += Array(repeating: perLayer, count: sets)
        sizes += [n * c, n * f, n * c, n, rows * v, rows]
        sizes += [n * c, n * c, n * c, n * c, n * kv, n * kv, n * f, n * f, n * f, workers.count * c].map { $0 * backwardOnly }
        sizes += [4 * n]
        let total = sizes.reduce(0, +)
        activationBytes = total * 4
        activationMemory = .allocate(byteCount: total * 4, alignment: 64)
        activationMemory.initializeMemory(as: Float.self, repeating: 0, count: total)
        var cursor = activationMemory.assumingMemoryBound(to: Float.self)
        func take(_ count: Int) -> UnsafeMutablePointer<Float> { defer { cursor += count }; return cursor }
        lossPartials = UnsafeMutableRawPointer(take(2 * workers.count)).assumingMemoryBound(to: Double.self) // 64-byte aligned
        residual = (0..<streams).map { _ in take(n * c) }
        layerActivations = (0..<sets).map { _ in
            LayerActivations(rstd1: take(n), q: take(n * c), k: take(n * kv), v: take(n * kv), attention: take(n * c),
                             lse: take(batch * config.numHeads * length), mid: take(n * c), rstd2: take(n),
                             gate: take(n * f), up: take(n * f))
        }
        norm = take(n * c); hidden = take(n * f); finalNorm = take(n * c); finalRstd = take(n)
        logits = take(rows * v); logitLSE = take(rows)
        let b = backwardOnly
        dResidual = take(b * n * c); dNorm = take(b * n * c); dAttention = take(b * n * c); dq = take(b * n * c)
        dk = take(b * n * kv); dv = take(b * n * kv); dHidden = take(b * n * f); dGate = take(b * n * f); dUp = take(b * n * f)
        normPartials = take(b * workers.count * c)
        let ints = UnsafeMutableRawPointer(take(4 * n)).assumingMemoryBound(to: Int32.self)
        inputs = BatchInputs(tokens: ints, targets: ints + n, positions: ints + 2 * n, documentStart: ints + 3 * n)
        for i in 0..<n { inputs.positions[i] = Int32(i % length); inputs.targets[i] = -1 }

        rope = RoPETable(headDim: config.headDim, positions: length, theta: config.ropeTheta, factor: config.ropeFactor)
        attentionScratch = AttentionScratch(tile: attentionTile, headDim: config.headDim, workers: workers.count)
    }

    deinit {
        parameters.deallocate()
        gradients.deallocate()
        activationMemory.deallocate()
        rope.deallocate()
    }

    /// Draws every matrix from N(0, 0.02) and sets norm gains to 1, deterministically from `seed`.
    public func initializeParameters(seed: UInt64) {
        var rng = SplitMix64(seed: seed)
        for t in layout.tensors {
            let p = parameters + t.offset
            if t.isMatrix {
                for i in 0..<t.count { p[i] = Float(0.02 * rng.normal()) }
            } else {
                p.update(repeating: 1, count: t.count)
            }
        }
    }

    public func zeroGradients() {
        precondition(!forwardOnly, "a forward-only model has no gradients")
        gradients.update(repeating: 0, count: layout.count)
    }

    private var attentionShape: AttentionShape {
        AttentionShape(batch: batch, length: length, heads: config.numHeads, kvHeads: config.numKVHeads, headDim: config.headDim)
    }

    private var documentStart: UnsafePointer<Int32>? {
        attentionMode == .document ? UnsafePointer(inputs.documentStart) : nil
    }

    private func layerStore(_ l: Int) -> LayerActivations { layerActivations[layerActivations.count == 1 ? 0 : l] }

    /// The residual stream entering layer `l` (l == layers: the last layer's output).
    private func stream(_ l: Int) -> UnsafeMutablePointer<Float> { residual[forwardOnly ? l % 2 : l] }

    /// Number of rows of the batch with a target.
    public var targetCount: Int {
        var count = 0
        for i in 0..<(batch * length) where inputs.targets[i] >= 0 { count += 1 }
        return count
    }

    /// Runs the model on `inputs` and returns the summed next-token loss over rows with a target.
    /// With `gradients`, also accumulates the LM head's gradient and leaves d(final norm output)
    /// for `backward`, the loss being scaled by `lossScale` (1 / target rows of the whole step).
    public func forward(gradients computeGradients: Bool, lossScale: Float = 1) -> Double {
        precondition(!(forwardOnly && computeGradients), "a forward-only model computes no gradients")
        let n = batch * length, c = config.hiddenSize, v = config.vocabSize
        embeddingForward(stream(0), inputs.tokens, weights.embedding, rows: n, dim: c)
        for l in 0..<config.numLayers { layerForward(l) }
        rowwise(n, c) { lo, rows in
            rmsnormForward(finalNorm + lo * c, finalRstd + lo, stream(config.numLayers) + lo * c, weights.finalNorm,
                           rows: rows, dim: c, eps: config.rmsNormEps)
        }
        var loss = 0.0
        var r0 = 0
        while r0 < n {
            let rows = min(logitRows, n - r0)
            matmulForward(logits, finalNorm + r0 * c, weights.lmHead, rows: rows, inDim: c, outDim: v)
            for w in 0..<workers.count { lossPartials[w] = 0 }
            workers.forRows(rows) { chunk, lo, hi in
                lossPartials[chunk] = crossEntropyForward(logitLSE + lo, logits + lo * v, inputs.targets + r0 + lo, rows: hi - lo, vocab: v)
                if computeGradients {
                    crossEntropyBackward(logits + lo * v, logitLSE + lo, inputs.targets + r0 + lo, rows: hi - lo, vocab: v, scale: lossScale)
                }
            }
            for w in 0..<workers.count { loss += lossPartials[w] }
            if computeGradients {
                matmulBackward(dNorm + r0 * c, grads.lmHead, logits, finalNorm + r0 * c, weights.lmHead,
                               rows: rows, inDim: c, outDim: v, accumulateInput: false)
            }
            r0 += rows
        }
        return loss
    }

    /// Logits of rows lo ..< hi of the last `forward` ([hi - lo, V] into `out`), recomputed from the
    /// kept final-norm output; for comparing with another implementation.
    public func logits(rows lo: Int, _ hi: Int, into out: UnsafeMutablePointer<Float>) {
        let c = config.hiddenSize
        matmulForward(out, finalNorm + lo * c, weights.lmHead, rows: hi - lo, inDim: c, outDim: config.vocabSize)
    }

    /// Accumulates every parameter's gradient; call after `forward(gradients: true)`.
    public func backward() {
        precondition(!forwardOnly, "a forward-only model has no backward pass")
        let n = batch * length, c = config.hiddenSize, layers = config.numLayers
        dResidual.update(repeating: 0, count: n * c)
        normBackward(dResidual, grads.finalNorm, dNorm, stream(layers), weights.finalNorm, finalRstd)
        for l in stride(from: layers - 1, through: 0, by: -1) {
            if recompute { layerForward(l) }
            layerBackward(l)
        }
        embeddingBackward(grads.embedding, dResidual, inputs.tokens, rows: n, dim: c)
    }

    private func layerForward(_ l: Int) {
        let n = batch * length, c = config.hiddenSize, f = config.intermediateSize, kv = config.kvDim
        let hd = config.headDim, eps = config.rmsNormEps
        let a = layerStore(l), w = weights.layers[l], x = stream(l)
        rowwise(n, c) { lo, rows in rmsnormForward(norm + lo * c, a.rstd1 + lo, x + lo * c, w.attentionNorm, rows: rows, dim: c, eps: eps) }
        matmulForward(a.q, norm, w.wq, rows: n, inDim: c, outDim: c)
        matmulForward(a.k, norm, w.wk, rows: n, inDim: c, outDim: kv)
        matmulForward(a.v, norm, w.wv, rows: n, inDim: c, outDim: kv)
        workers.forRows(n) { _, lo, hi in
            ropeForward(a.q + lo * c, inputs.positions + lo, rope, rows: hi - lo, heads: config.numHeads, headDim: hd)
            ropeForward(a.k + lo * kv, inputs.positions + lo, rope, rows: hi - lo, heads: config.numKVHeads, headDim: hd)
        }
        attentionForward(a.attention, a.lse, a.q, a.k, a.v, documentStart: documentStart, shape: attentionShape,
                         scratch: attentionScratch, workers: workers)
        matmulForward(norm, a.attention, w.wo, rows: n, inDim: c, outDim: c)
        rowwise(n, c) { lo, rows in residualForward(a.mid + lo * c, x + lo * c, norm + lo * c, count: rows * c) }
        rowwise(n, c) { lo, rows in rmsnormForward(norm + lo * c, a.rstd2 + lo, a.mid + lo * c, w.mlpNorm, rows: rows, dim: c, eps: eps) }
        matmulForward(a.gate, norm, w.wGate, rows: n, inDim: c, outDim: f)
        matmulForward(a.up, norm, w.wUp, rows: n, inDim: c, outDim: f)
        rowwise(n, f) { lo, rows in swigluForward(hidden + lo * f, a.gate + lo * f, a.up + lo * f, count: rows * f) }
        matmulForward(norm, hidden, w.wDown, rows: n, inDim: f, outDim: c)
        rowwise(n, c) { lo, rows in residualForward(stream(l + 1) + lo * c, a.mid + lo * c, norm + lo * c, count: rows * c) }
    }

    /// Takes dResidual = d(layer output) and leaves dResidual = d(layer input).
    private func layerBackward(_ l: Int) {
        let n = batch * length, c = config.hiddenSize, f = config.intermediateSize, kv = config.kvDim
        let hd = config.headDim
        let a = layerStore(l), w = weights.layers[l], g = grads.layers[l], x = stream(l)
        // MLP branch: out = mid + down(swiglu(gate(norm2(mid)), up(norm2(mid))))
        rowwise(n, c) { lo, rows in rmsnormRecompute(norm + lo * c, a.rstd2 + lo, a.mid + lo * c, w.mlpNorm, rows: rows, dim: c) }
        rowwise(n, f) { lo, rows in swigluForward(hidden + lo * f, a.gate + lo * f, a.up + lo * f, count: rows * f) }
        matmulBackward(dHidden, g.wDown, dResidual, hidden, w.wDown, rows: n, inDim: f, outDim: c, accumulateInput: false)
        rowwise(n, f) { lo, rows in
            swigluBackward(dGate + lo * f, dUp + lo * f, dHidden + lo * f, a.gate + lo * f, a.up + lo * f, count: rows * f)
        }
        matmulBackward(dNorm, g.wGate, dGate, norm, w.wGate, rows: n, inDim: c, outDim: f, accumulateInput: false)
        matmulBackward(dNorm, g.wUp, dUp, norm, w.wUp, rows: n, inDim: c, outDim: f, accumulateInput: true)
        normBackward(dResidual, g.mlpNorm, dNorm, a.mid, w.mlpNorm, a.rstd2)
        // Attention branch: mid = x + o(attention(rope(q(norm1(x))), rope(k(...)), v(...)))
        matmulBackward(dAttention, g.wo, dResidual, a.attention, w.wo, rows: n, inDim: c, outDim: c, accumulateInput: false)
        attentionBackward(dq, dk, dv, dAttention, a.q, a.k, a.v, a.attention, a.lse, documentStart: documentStart,
                          shape: attentionShape, scratch: attentionScratch, workers: workers)
        workers.forRows(n) { _, lo, hi in
            ropeBackward(dq + lo * c, inputs.positions + lo, rope, rows: hi - lo, heads: config.numHeads, headDim: hd)
            ropeBackward(dk + lo * kv, inputs.positions + lo, rope, rows: hi - lo, heads: config.numKVHeads, headDim: hd)
        }
        rowwise(n, c) { lo, rows in rmsnormRecompute(norm + lo * c, a.rstd1 + lo, x + lo * c, w.attentionNorm, rows: rows, dim: c) }
        matmulBackward(dNorm, g.wq, dq, norm, w.wq, rows: n, inDim: c, outDim: c, accumulateInput: false)
        matmulBackward(dNorm, g.wk, dk, norm, w.wk, rows: n, inDim: c, outDim: kv, accumulateInput: true)
        matmulBackward(dNorm, g.wv, dv, norm, w.wv, rows: n, inDim: c, outDim: kv, accumulateInput: true)
        normBackward(dResidual, g.attentionNorm, dNorm, x, w.attentionNorm, a.rstd1)
    }

    /// rmsnormBackward split over row chunks; each chunk's weight gradient goes to its own partial
    /// buffer, summed in chunk order (deterministic for a thread count).
    private func normBackward(_ dinp: UnsafeMutablePointer<Float>, _ dweight: UnsafeMutablePointer<Float>,
                              _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
                              _ rstd: UnsafePointer<Float>) {
        let n = batch * length, c = config.hiddenSize
        normPartials.update(repeating: 0, count: workers.count * c)
        workers.forRows(n) { chunk, lo, hi in
            rmsnormBackward(dinp + lo * c, normPartials + chunk * c, dout + lo * c, inp + lo * c, weight, rstd + lo,
                            rows: hi - lo, dim: c)
        }
        for chunk in 0..<workers.count {
            let p = normPartials + chunk * c
            for j in 0..<c { dweight[j] += p[j] }
        }
    }

    private func rowwise(_ n: Int, _ width: Int, _ body: (_ lo: Int, _ rows: Int) -> Void) {
        workers.forRows(n) { _, lo, hi in body(lo, hi - lo) }
    }

    /// Model FLOPs per trained token: 6 per matrix-product parameter (the LM head included, the
    /// embedding lookup not) plus causal attention, 6 * layers * hidden * T (the PaLM/Chinchilla count).
    public var trainingFLOPsPerToken: Double {
        let matrixParameters = layout.tensors.filter { $0.isMatrix && $0.name != "model.embed_tokens.weight" }.reduce(0) { $0 + $1.count }
        return 6 * Double(matrixParameters) + 6 * Double(config.numLayers * config.hiddenSize * length)
    }
}
