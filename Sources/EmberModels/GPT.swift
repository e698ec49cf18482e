// A decoder-only Transformer language model in the layout of nanoGPT / GPT-2.
import Foundation
import Ember
import EmberNN

/// Hyperparameters of a `GPT`.
public struct GPTConfig: Equatable, Sendable {
    /// Number of token ids (the embedding and head size).
    public var vocabSize: Int
    /// The longest context (nanoGPT's `block_size`): the number of position embeddings.
    public var contextLength: Int
    /// Number of Transformer blocks.
    public var numLayers: Int
    /// Attention heads per block.
    public var numHeads: Int
    /// Model width (`n_embd`); a multiple of `numHeads`.
    public var embedDim: Int
    /// Dropout on embeddings, attention weights, and residual branches (training only).
    public var dropout: Double
    /// Biases in the Linear layers and LayerNorms (GPT-2: true).
    public var bias: Bool
    /// Share one tensor between `wte.weight` and `lm_head.weight`.
    public var tieWeights: Bool

    /// Creates a configuration; the defaults are the char-LM benchmark model (4 layers, 4 heads, width 128).
    public init(vocabSize: Int, contextLength: Int, numLayers: Int = 4, numHeads: Int = 4, embedDim: Int = 128,
                dropout: Double = 0, bias: Bool = true, tieWeights: Bool = true) {
        self.vocabSize = vocabSize
        self.contextLength = contextLength
        self.numLayers = numLayers
        self.numHeads = numHeads
        self.embedDim = embedDim
        self.dropout = dropout
        self.bias = bias
        self.tieWeights = tieWeights
    }
}

/// Keys and values of every layer for the tokens seen so far, for incremental decoding.
/// Each entry is `[batch, heads, length, headDim]`.
public final class KVCache {
    /// Cached keys per layer (nil until the layer has run).
    public internal(set) var keys: [Tensor?]
    /// Cached values per layer (nil until the layer has run).
    public internal(set) var values: [Tensor?]

    /// An empty cache for a model with `numLayers` blocks.
    public init(numLayers: Int) {
        keys = Array(repeating: nil, count: numLayers)
        values = Array(repeating: nil, count: numLayers)
    }

    /// Number of cached positions.
    public var length: Int { keys.first.flatMap { $0?.shape[2] } ?? 0 }

    /// Forgets everything.
    public func reset() {
        for i in keys.indices { keys[i] = nil; values[i] = nil }
    }
}

/// Multi-head causal self-attention with a fused query/key/value projection
/// (`c_attn`: `Linear(E, 3E)`, then `c_proj`: `Linear(E, E)`), as nanoGPT.
public final class CausalSelfAttention: Module {
    /// Number of attention heads.
    public let numHeads: Int
    /// Model width.
    public let embedDim: Int
    /// Dropout on the attention weights (training only).
    public let dropoutP: Double
    /// Fused query/key/value projection, `Linear(E, 3E)` (GPT-2's name).
    public let c_attn: Linear
    /// Output projection (GPT-2's name).
    public let c_proj: Linear
    /// Dropout on the block's residual branch.
    public let resid_dropout: Dropout

    /// Creates the layer; `embedDim` must be divisible by `numHeads`.
    public init(embedDim: Int, numHeads: Int, dropout: Double = 0, bias: Bool = true) {
        precondition(embedDim > 0 && numHeads > 0 && embedDim % numHeads == 0,
                     "CausalSelfAttention: embedDim (\(embedDim)) must be divisible by numHeads (\(numHeads))")
        self.numHeads = numHeads
        self.embedDim = embedDim
        self.dropoutP = dropout
        c_attn = Linear(embedDim, 3 * embedDim, bias: bias)
        c_proj = Linear(embedDim, embedDim, bias: bias)
        resid_dropout = Dropout(p: dropout)
        super.init()
    }

    /// `x` `[B, T, E]`; with a cache, `x` holds the positions after the cached ones, whose
    /// keys and values are read from and appended to `cache` at `layer`.
    public func forward(_ x: Tensor, cache: KVCache?, layer: Int) -> Tensor {
        precondition(x.rank == 3 && x.shape[2] == embedDim, "CausalSelfAttention: expected [B, T, \(embedDim)], got \(x.shape)")
        let b = x.shape[0], t = x.shape[1], h = numHeads, d = embedDim / numHeads
        let qkv = c_attn(x).chunk(3, dim: 2)
        func heads(_ m: Tensor) -> Tensor { m.reshape([b, t, h, d]).transpose(1, 2) }
        let q = heads(qkv[0])
        var k = heads(qkv[1]), v = heads(qkv[2])
        var past = 0
        if let cache {
            if let pk = cache.keys[layer], let pv = cache.values[layer] {
                past = pk.shape[2]
                k = Tensor.cat([pk, k], dim: 2)
                v = Tensor.cat([pv, v], dim: 2)
            }
            cache.keys[layer] = k
            cache.values[layer] = v
        }
        let p = isTraining ? dropoutP : 0
        let y: Tensor
        if past == 0 {
            y = scaledDotProductAttention(query: q, key: k, value: v, dropoutP: p, isCausal: true)
        } else if t == 1 {
            y = scaledDotProductAttention(query: q, key: k, value: v, dropoutP: p)
        } else {
            // Query i sits at absolute position past + i and sees keys 0 ... past + i.
            let s = past + t
            var keep = [Bool](repeating: false, count: t * s)
            for i in 0 ..< t { for j in 0 ... (past + i) { keep[i * s + j] = true } }
            let mask = Tensor(keep, shape: [t, s]).to(x.device)
            y = scaledDotProductAttention(query: q, key: k, value: v, attnMask: mask, dropoutP: p)
        }
        return resid_dropout(c_proj(y.transpose(1, 2).reshape([b, t, embedDim])))
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(input, cache: nil, layer: 0) }
}

/// The position-wise feed-forward part: `c_fc` (`E → 4E`), GELU, `c_proj` (`4E → E`), dropout.
public final class GPTMLP: Module {
    /// Expansion to 4× the width (GPT-2's name).
    public let c_fc: Linear
    /// The activation (exact GELU).
    public let gelu: GELU
    /// Output projection (GPT-2's name).
    public let c_proj: Linear
    /// Dropout on the MLP output.
    public let dropout: Dropout

    /// Creates the MLP for width `embedDim`.
    public init(embedDim: Int, dropout: Double = 0, bias: Bool = true) {
        c_fc = Linear(embedDim, 4 * embedDim, bias: bias)
        gelu = GELU()
        c_proj = Linear(4 * embedDim, embedDim, bias: bias)
        self.dropout = Dropout(p: dropout)
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        // The GELU is applied as c_fc writes its output when nothing is recorded.
        let hidden = c_fc.forward(input, activation: gelu.approximate == .tanh ? .geluTanh : .gelu)
        return dropout(c_proj(hidden))
    }
}

/// A pre-norm Transformer block: `x + attn(ln_1(x))`, then `x + mlp(ln_2(x))`.
public final class GPTBlock: Module {
    /// Norm before attention (pre-norm).
    public let ln_1: LayerNorm
    /// Causal self-attention.
    public let attn: CausalSelfAttention
    /// Norm before the MLP.
    public let ln_2: LayerNorm
    /// The feed-forward part.
    public let mlp: GPTMLP

    /// Creates a block from the model's configuration.
    public init(_ config: GPTConfig) {
        ln_1 = LayerNorm(config.embedDim, bias: config.bias)
        attn = CausalSelfAttention(embedDim: config.embedDim, numHeads: config.numHeads, dropout: config.dropout, bias: config.bias)
        ln_2 = LayerNorm(config.embedDim, bias: config.bias)
        mlp = GPTMLP(embedDim: config.embedDim, dropout: config.dropout, bias: config.bias)
        super.init()
    }

    /// Runs the block on `x` `[B, T, E]`, reading and extending `cache` at `layer` when given.
    public func forward(_ x: Tensor, cache: KVCache?, layer: Int) -> Tensor {
        let a = x + attn.forward(ln_1(x), cache: cache, layer: layer)
        return a + mlp(ln_2(a))
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(input, cache: nil, layer: 0) }
}

/// A GPT-style decoder-only language model (nanoGPT's `GPT`).
///
/// Parameter names follow nanoGPT without its `transformer.` prefix: `wte.weight`,
/// `wpe.weight`, `h.{i}.ln_1.{weight,bias}`, `h.{i}.attn.c_attn.*`, `h.{i}.attn.c_proj.*`,
/// `h.{i}.ln_2.*`, `h.{i}.mlp.c_fc.*`, `h.{i}.mlp.c_proj.*`, `ln_f.*`, `lm_head.weight`.
/// With `tieWeights` (the default) `lm_head.weight` *is* `wte.weight` (one tensor), so
/// `namedParameters()` and state dicts list it once, as `wte.weight`. `Module.to(dtype)`
/// replaces tensors one name at a time, so call `tieWeights()` again after converting.
///
/// Initialisation is GPT-2's: normal(0, 0.02) weights, zero biases, and residual
/// projections (`c_proj`) with std `0.02/√(2·numLayers)`.
///
/// ```swift
/// let gpt = GPT(GPTConfig(vocabSize: 65, contextLength: 64, numLayers: 2, numHeads: 2, embedDim: 32))
/// let logits = gpt(tokens)                         // [B, T] int64 → [B, T, 65]
/// let new = gpt.generate([0, 1, 2], maxNewTokens: 20, topK: 10) { print($0) }
/// ```
public final class GPT: Module {
    /// The hyperparameters.
    public let config: GPTConfig
    /// Token embeddings (tied to `lm_head` when `config.tieWeights`).
    public let wte: Embedding
    /// Learned position embeddings, one per context position.
    public let wpe: Embedding
    /// Dropout on the summed embeddings.
    public let drop: Dropout
    /// The Transformer blocks (`h.0`, `h.1`, … in the state dict).
    public let h: [GPTBlock]
    /// Final norm before the head.
    public let ln_f: LayerNorm
    /// Projection to vocabulary logits (no bias).
    public let lm_head: Linear

    /// Creates the model from `config`, with GPT-2's initialisation (normal 0.02; residual projections scaled by 1/√(2·layers)).
    public init(_ config: GPTConfig) {
        precondition(config.vocabSize > 0 && config.contextLength > 0 && config.numLayers >= 0,
                     "GPT: vocabSize and contextLength must be positive, got \(config.vocabSize) and \(config.contextLength)")
        self.config = config
        wte = Embedding(config.vocabSize, config.embedDim)
        wpe = Embedding(config.contextLength, config.embedDim)
        drop = Dropout(p: config.dropout)
        h = (0 ..< config.numLayers).map { _ in GPTBlock(config) }
        ln_f = LayerNorm(config.embedDim, bias: config.bias)
        lm_head = Linear(config.embedDim, config.vocabSize, bias: false)
        super.init()
        noGrad {
            for module in modules() {
                if let linear = module as? Linear {
                    _ = linear.weight.normal_(mean: 0, std: 0.02)
                    _ = linear.bias?.zero_()
                } else if let embedding = module as? Embedding {
                    _ = embedding.weight.normal_(mean: 0, std: 0.02)
                }
            }
            let residualStd = 0.02 / (2 * Double(max(config.numLayers, 1))).squareRoot()
            for block in h {
                _ = block.attn.c_proj.weight.normal_(mean: 0, std: residualStd)
                _ = block.mlp.c_proj.weight.normal_(mean: 0, std: residualStd)
            }
        }
        if config.tieWeights { tieWeights() }
    }

    /// Makes `lm_head.weight` the very tensor `wte.weight`.
    public func tieWeights() { lm_head.weight = wte.weight }

    /// Whether `lm_head.weight` and `wte.weight` are currently one tensor.
    public var weightsAreTied: Bool { lm_head.weight === wte.weight }

    /// Logits for `tokens` `[B, T]` (or `[T]`) → `[B, T, V]` (or `[T, V]`).
    ///
    /// With a `cache`, `tokens` are the positions after the `cache.length` cached ones;
    /// their keys and values are appended. `cache.length + T` may not exceed `contextLength`.
    public func forward(_ tokens: Tensor, cache: KVCache?) -> Tensor {
        forward(tokens, cache: cache, lastPositionOnly: false)
    }

    /// `forward`, optionally computing the logits of the last position only (what sampling
    /// needs: the final norm and the head then run on one row instead of `T`).
    func forward(_ tokens: Tensor, cache: KVCache?, lastPositionOnly: Bool) -> Tensor {
        let batched = tokens.rank == 2
        precondition(tokens.rank == 1 || tokens.rank == 2, "GPT: tokens must be [T] or [B, T], got \(tokens.shape)")
        let idx = batched ? tokens : tokens.unsqueeze(0)
        let t = idx.shape[1], past = cache?.length ?? 0
        precondition(t > 0, "GPT: empty token sequence")
        precondition(past + t <= config.contextLength,
                     "GPT: sequence of \(past + t) positions (\(past) cached + \(t) new) exceeds contextLength \(config.contextLength)")
        if let cache { precondition(cache.keys.count == h.count, "GPT: cache has \(cache.keys.count) layers, model has \(h.count)") }
        let pos = Tensor.arange(Double(past), Double(past + t), dtype: .int64, device: idx.device)
        var x = drop(wte(idx) + wpe(pos))
        for (i, block) in h.enumerated() { x = block.forward(x, cache: cache, layer: i) }
        if lastPositionOnly { x = x.narrow(dim: 1, start: t - 1, length: 1) }
        let logits = lm_head(ln_f(x))
        return batched ? logits : logits.squeeze(dim: 0)
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(input, cache: nil) }

    /// A fresh, empty cache for this model.
    public func makeCache() -> KVCache { KVCache(numLayers: h.count) }

    /// Samples `maxNewTokens` tokens after `prompt`, calling `onToken` with each as it is
    /// drawn, and returns the new tokens.
    ///
    /// Runs without gradients in evaluation mode (restoring the previous mode). With
    /// `useCache` only the new token passes through the model at each step; without it the
    /// whole context is recomputed (nanoGPT's loop). Once the context exceeds
    /// `contextLength`, the model sees its last `contextLength` tokens in both modes
    /// (the cache is refilled from that window, so the results stay identical).
    public func generate(_ prompt: [Int], maxNewTokens: Int, temperature: Double = 1, topK: Int? = nil,
                         generator: Generator = .default, useCache: Bool = true,
                         onToken: ((Int) -> Void)? = nil) -> [Int] {
        precondition(!prompt.isEmpty, "GPT.generate: the prompt must hold at least one token")
        precondition(maxNewTokens >= 0, "GPT.generate: maxNewTokens must be non-negative, got \(maxNewTokens)")
        let wasTraining = isTraining
        eval()
        defer { train(wasTraining) }
        return noGrad {
            var context = prompt
            var produced: [Int] = []
            let cache = makeCache()
            let n = config.contextLength
            for _ in 0 ..< maxNewTokens {
                let logits: Tensor
                if useCache && cache.length > 0 && cache.length < n {
                    logits = forward(Self.tokenTensor([context.last!]), cache: cache, lastPositionOnly: true)
                } else {
                    let window = Array(context.suffix(n))
                    if useCache { cache.reset() }
                    logits = forward(Self.tokenTensor(window), cache: useCache ? cache : nil, lastPositionOnly: true)
                }
                let next = sampleToken(logits: logits.select(dim: 0, index: logits.shape[0] - 1),
                                       temperature: temperature, topK: topK, generator: generator)
                context.append(next)
                produced.append(next)
                onToken?(next)
            }
            return produced
        }
    }

    static func tokenTensor(_ ids: [Int]) -> Tensor {
        Tensor(ids.map(Int64.init), shape: [ids.count], dtype: .int64)
    }
}

/// Mean cross-entropy of next-token logits `[..., V]` against int64 targets `[...]`.
public func languageModelLoss(_ logits: Tensor, _ targets: Tensor) -> Tensor {
    let v = logits.shape[logits.rank - 1]
    precondition(Array(logits.shape.dropLast()) == targets.shape,
                 "languageModelLoss: logits \(logits.shape) and targets \(targets.shape) disagree")
    return crossEntropy(logits.reshape([-1, v]), targets.reshape([-1]))
}
