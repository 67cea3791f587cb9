import Foundation
import LongMixCore

/// The shape of a LLaMA decoder, read from and written as a Hugging Face `config.json`
/// (`LlamaForCausalLM`): `vocab_size`, `hidden_size`, `intermediate_size`, `num_hidden_layers`,
/// `num_attention_heads`, `num_key_value_heads`, `rms_norm_eps`, `rope_theta`,
/// `max_position_embeddings` and `rope_scaling {"type": "linear", "factor": F}` (Position
/// Interpolation: positions are divided by F). Embeddings are never tied to the LM head.
public struct ModelConfig: Equatable, Sendable {
    public var vocabSize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numLayers: Int
    public var numHeads: Int
    public var numKVHeads: Int
    public var rmsNormEps: Float
    public var ropeTheta: Double
    /// Linear Position Interpolation factor (1: none).
    public var ropeFactor: Double
    public var maxPositionEmbeddings: Int

    public init(vocabSize: Int, hiddenSize: Int, intermediateSize: Int, numLayers: Int, numHeads: Int,
                numKVHeads: Int, rmsNormEps: Float = 1e-5, ropeTheta: Double = 10_000, ropeFactor: Double = 1,
                maxPositionEmbeddings: Int = 2048) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.numKVHeads = numKVHeads
        self.rmsNormEps = rmsNormEps
        self.ropeTheta = ropeTheta
        self.ropeFactor = ropeFactor
        self.maxPositionEmbeddings = maxPositionEmbeddings
    }

    public var headDim: Int { hiddenSize / numHeads }
    /// Width of the key and value projections (`num_key_value_heads * head_dim`).
    public var kvDim: Int { numKVHeads * headDim }

    /// Checks the shape is one this implementation runs; `file` names the source in the error.
    public func validate(file: String? = nil) throws {
        func fail(_ key: String, _ message: String) -> ConfigurationError { ConfigurationError(file: file, key: key, message) }
        for (key, value) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("intermediate_size", intermediateSize),
                             ("num_hidden_layers", numLayers), ("num_attention_heads", numHeads),
                             ("num_key_value_heads", numKVHeads), ("max_position_embeddings", maxPositionEmbeddings)] where value <= 0 {
            throw fail(key, "must be positive, got \(value)")
        }
        guard hiddenSize % numHeads == 0 else { throw fail("num_attention_heads", "\(numHeads) does not divide hidden_size \(hiddenSize)") }
        guard headDim % 2 == 0 else { throw fail("num_attention_heads", "head_dim \(headDim) must be even for RoPE") }
        guard numHeads % numKVHeads == 0 else { throw fail("num_key_value_heads", "\(numKVHeads) does not divide num_attention_heads \(numHeads)") }
        guard ropeFactor >= 1 else { throw fail("rope_scaling.factor", "must be at least 1, got \(ropeFactor)") }
        guard rmsNormEps > 0, ropeTheta > 0 else { throw fail("rms_norm_eps", "rms_norm_eps and rope_theta must be positive") }
    }

    /// Reads a Hugging Face `config.json` (or a LongMix model file in the same format).
    public static func load(path: String) throws -> ModelConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(file: path, "cannot read the model config")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data), let json = object as? [String: Any] else {
            throw ConfigurationError(file: path, "not a JSON object")
        }
        return try ModelConfig(json: json, file: path)
    }

    public init(json: [String: Any], file: String? = nil) throws {
        func number(_ key: String, default value: Double? = nil) throws -> Double {
            if let v = json[key] as? NSNumber { return v.doubleValue }
            if json[key] == nil || json[key] is NSNull, let value { return value }
            throw ConfigurationError(file: file, key: key, json[key] == nil ? "missing" : "must be a number")
        }
        func integer(_ key: String, default value: Int? = nil) throws -> Int {
            let v = try number(key, default: value.map(Double.init))
            guard v == v.rounded() else { throw ConfigurationError(file: file, key: key, "must be an integer, got \(v)") }
            return Int(v)
        }
        if let tied = json["tie_word_embeddings"] as? Bool, tied {
            throw ConfigurationError(file: file, key: "tie_word_embeddings", "tied embeddings are not supported (the LM head is its own matrix)")
        }
        if let act = json["hidden_act"] as? String, act != "silu" {
            throw ConfigurationError(file: file, key: "hidden_act", "only silu (SwiGLU) is supported, got \(act)")
        }
        var factor = 1.0
        // transformers 4.x writes rope_scaling; 5.x writes rope_parameters (with rope_theta inside).
        let scalingKey = json["rope_parameters"] != nil ? "rope_parameters" : "rope_scaling"
        var theta = try number("rope_theta", default: 10_000)
        if let scaling = json[scalingKey], !(scaling is NSNull) {
            guard let s = scaling as? [String: Any] else { throw ConfigurationError(file: file, key: scalingKey, "must be an object or null") }
            if let t = s["rope_theta"] as? NSNumber { theta = t.doubleValue }
            let type = (s["type"] as? String) ?? (s["rope_type"] as? String) ?? ""
            guard type == "linear" || type == "default" else {
                throw ConfigurationError(file: file, key: scalingKey + ".type", "only \"linear\" (Position Interpolation) is supported, got \"\(type)\"")
            }
            if type == "linear" {
                guard let f = s["factor"] as? NSNumber else { throw ConfigurationError(file: file, key: scalingKey + ".factor", "missing or not a number") }
                factor = f.doubleValue
            }
        }
        let heads = try integer("num_attention_heads")
        self.init(vocabSize: try integer("vocab_size"), hiddenSize: try integer("hidden_size"),
                  intermediateSize: try integer("intermediate_size"), numLayers: try integer("num_hidden_layers"),
                  numHeads: heads, numKVHeads: try integer("num_key_value_heads", default: heads),
                  rmsNormEps: Float(try number("rms_norm_eps", default: 1e-6)), ropeTheta: theta,
                  ropeFactor: factor, maxPositionEmbeddings: try integer("max_position_embeddings", default: 2048))
        if let headDim = json["head_dim"] as? Int, headDim != self.headDim {
            throw ConfigurationError(file: file, key: "head_dim", "\(headDim) differs from hidden_size / num_attention_heads = \(self.headDim)")
        }
        try validate(file: file)
    }

    /// The Hugging Face `config.json` of this shape (keys sorted, so the bytes are stable).
    public func jsonData() -> Data {
        var json: [String: Any] = [
            "architectures": ["LlamaForCausalLM"], "model_type": "llama", "torch_dtype": "float32",
            "vocab_size": vocabSize, "hidden_size": hiddenSize, "intermediate_size": intermediateSize,
            "num_hidden_layers": numLayers, "num_attention_heads": numHeads, "num_key_value_heads": numKVHeads,
            "head_dim": headDim, "rms_norm_eps": Double(rmsNormEps), "rope_theta": ropeTheta,
            "max_position_embeddings": maxPositionEmbeddings, "hidden_act": "silu", "tie_word_embeddings": false,
            "attention_bias": false, "mlp_bias": false, "attention_dropout": 0.0, "initializer_range": 0.02,
            "bos_token_id": 1, "eos_token_id": 2, "use_cache": true,
        ]
        json["rope_scaling"] = ropeFactor == 1 ? NSNull() : ["type": "linear", "rope_type": "linear", "factor": ropeFactor] as [String: Any]
        return (try? JSONSerialization.data(withJSONObject: json, options: [.prettyPrinted, .sortedKeys])) ?? Data()
    }
}
