/// One named tensor inside a flat buffer: its Hugging Face name, shape and element offset.
public struct TensorSpec: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    public var offset: Int
    public var count: Int { shape.reduce(1, *) }
    /// Matrices get weight decay; norm gains do not.
    public var isMatrix: Bool { shape.count == 2 }
}

/// Where every parameter of a `ModelConfig` lives in one flat float buffer, in the order
/// embedding, then per layer (input norm, q, k, v, o, post-attention norm, gate, up, down), final
/// norm, LM head. Matrices are `[out, in]` row-major, as in PyTorch's `nn.Linear`.
public struct ParameterLayout: Sendable {
    public let tensors: [TensorSpec]
    public let count: Int

    public init(_ c: ModelConfig) {
        var tensors: [TensorSpec] = []
        var offset = 0
        func add(_ name: String, _ shape: [Int]) {
            tensors.append(TensorSpec(name: name, shape: shape, offset: offset))
            offset += shape.reduce(1, *)
        }
        add("model.embed_tokens.weight", [c.vocabSize, c.hiddenSize])
        for l in 0..<c.numLayers {
            let p = "model.layers.\(l)."
            add(p + "input_layernorm.weight", [c.hiddenSize])
            add(p + "self_attn.q_proj.weight", [c.hiddenSize, c.hiddenSize])
            add(p + "self_attn.k_proj.weight", [c.kvDim, c.hiddenSize])
            add(p + "self_attn.v_proj.weight", [c.kvDim, c.hiddenSize])
            add(p + "self_attn.o_proj.weight", [c.hiddenSize, c.hiddenSize])
            add(p + "post_attention_layernorm.weight", [c.hiddenSize])
            add(p + "mlp.gate_proj.weight", [c.intermediateSize, c.hiddenSize])
            add(p + "mlp.up_proj.weight", [c.intermediateSize, c.hiddenSize])
            add(p + "mlp.down_proj.weight", [c.hiddenSize, c.intermediateSize])
        }
        add("model.norm.weight", [c.hiddenSize])
        add("lm_head.weight", [c.vocabSize, c.hiddenSize])
        self.tensors = tensors
        self.count = offset
    }
}

/// Pointers to one layer's tensors inside a flat buffer (parameters or their gradients).
public struct LayerTensors {
    public var attentionNorm, wq, wk, wv, wo, mlpNorm, wGate, wUp, wDown: UnsafeMutablePointer<Float>
}

/// Pointers to every tensor of a model inside one flat buffer, in `ParameterLayout` order; the same
/// view serves the parameters and the gradients.
public struct ModelTensors {
    public var embedding: UnsafeMutablePointer<Float>
    public var layers: [LayerTensors]
    public var finalNorm: UnsafeMutablePointer<Float>
    public var lmHead: UnsafeMutablePointer<Float>

    public init(base: UnsafeMutablePointer<Float>, layout: ParameterLayout, layers count: Int) {
        var index = 0
        func next() -> UnsafeMutablePointer<Float> { defer { index += 1 }; return base + layout.tensors[index].offset }
        embedding = next()
        var layers: [LayerTensors] = []
        for _ in 0..<count {
            layers.append(LayerTensors(attentionNorm: next(), wq: next(), wk: next(), wv: next(), wo: next(),
                                       mlpNorm: next(), wGate: next(), wUp: next(), wDown: next()))
        }
        self.layers = layers
        finalNorm = next()
        lmHead = next()
    }
}
