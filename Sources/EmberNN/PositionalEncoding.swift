// Position information for sequence models: fixed sinusoidal encodings, learned position
// embeddings, and rotary position embeddings (RoPE).
import Foundation
import Ember

/// The `[maxLen, dModel]` sinusoidal table of "Attention Is All You Need":
/// `pe[p, 2i] = sin(p / 10000^(2i/d))`, `pe[p, 2i+1] = cos(p / 10000^(2i/d))`.
public func sinusoidalPositionTable(maxLen: Int, dModel: Int, base: Double = 10000, dtype: DType = .defaultFloat) -> Tensor {
    precondition(maxLen > 0 && dModel > 0, "sinusoidalPositionTable: maxLen and dModel must be positive, got \(maxLen), \(dModel)")
    var values = [Double](repeating: 0, count: maxLen * dModel)
    for p in 0..<maxLen {
        for i in stride(from: 0, to: dModel, by: 2) {
            let angle = Double(p) * Foundation.exp(-Foundation.log(base) * Double(i) / Double(dModel))
            values[p * dModel + i] = Foundation.sin(angle)
            if i + 1 < dModel { values[p * dModel + i + 1] = Foundation.cos(angle) }
        }
    }
    return Tensor(values, shape: [maxLen, dModel]).to(dtype)
}

/// Adds the fixed sinusoidal position encoding to a sequence, then applies dropout (as the
/// PyTorch transformer tutorial's `PositionalEncoding`). The table is a non-persistent
/// buffer `pe`, so it is not part of state dicts.
///
/// ```swift
/// let pos = SinusoidalPositionalEncoding(dModel: 32, batchFirst: true)
/// let y = pos(Tensor.randn([2, 10, 32]))
/// ```
public final class SinusoidalPositionalEncoding: Module {
    /// Embedding width.
    public let dModel: Int
    /// The longest sequence supported.
    public let maxLen: Int
    /// Inputs are `[N, L, E]` when true, `[L, N, E]` otherwise.
    public let batchFirst: Bool
    /// Dropout applied after adding the encoding.
    public let dropout: Dropout
    @Buffer(persistent: false, name: "pe") public var pe = Tensor.zeros([0])

    public init(dModel: Int, dropout: Double = 0.1, maxLen: Int = 5000, batchFirst: Bool = false) {
        self.dModel = dModel
        self.maxLen = maxLen
        self.batchFirst = batchFirst
        self.dropout = Dropout(p: dropout)
        super.init()
        pe = sinusoidalPositionTable(maxLen: maxLen, dModel: dModel)
    }

    /// `input` is `[L, N, E]` (`[N, L, E]` with `batchFirst`) or `[L, E]`.
    public override func forward(_ input: Tensor) -> Tensor {
        let seqDim = input.rank == 3 && batchFirst ? 1 : 0
        let l = input.shape[seqDim]
        precondition(l <= maxLen, "SinusoidalPositionalEncoding: sequence length \(l) exceeds maxLen \(maxLen)")
        var table = pe.narrow(dim: 0, start: 0, length: l).to(input.dtype)
        if input.rank == 3 && !batchFirst { table = table.unsqueeze(1) }
        return dropout(input + table)
    }

    public override var extraDescription: String { "d_model=\(dModel), max_len=\(maxLen)" }
}

/// A learned absolute position embedding added to a sequence (as GPT-2's `wpe`): parameter
/// `weight` `[maxLen, dModel]`, initialised from 𝒩(0, 1) as `nn.Embedding`.
///
/// ```swift
/// let pos = LearnedPositionalEmbedding(maxLen: 512, dModel: 32)
/// let y = pos(Tensor.randn([2, 10, 32]))   // batch-first input
/// ```
public final class LearnedPositionalEmbedding: Module {
    /// The longest sequence supported.
    public let maxLen: Int
    /// Embedding width.
    public let dModel: Int
    /// Inputs are `[N, L, E]` when true, `[L, N, E]` otherwise.
    public let batchFirst: Bool
    /// The learned table, `[maxLen, dModel]`.
    public var weight: Tensor

    /// Creates the table of `maxLen` learned position vectors, normally initialised.
    public init(maxLen: Int, dModel: Int, batchFirst: Bool = true) {
        self.maxLen = maxLen
        self.dModel = dModel
        self.batchFirst = batchFirst
        weight = Tensor.randn([maxLen, dModel])
        super.init()
        weight.requiresGrad = true
    }

    /// Adds positions `offset ..< offset + L` to `input` (`[N, L, E]`, `[L, N, E]` without
    /// `batchFirst`, or `[L, E]`).
    public func forward(_ input: Tensor, offset: Int) -> Tensor {
        let seqDim = input.rank == 3 && batchFirst ? 1 : 0
        let l = input.shape[seqDim]
        precondition(offset >= 0 && offset + l <= maxLen, "LearnedPositionalEmbedding: positions \(offset)..<\(offset + l) exceed maxLen \(maxLen)")
        var table = weight.narrow(dim: 0, start: offset, length: l)
        if input.rank == 3 && !batchFirst { table = table.unsqueeze(1) }
        return input + table
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(input, offset: 0) }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        if name == "weight" { weight = tensor } else { super.replaceParameter(name, with: tensor) }
    }

    public override var extraDescription: String { "\(maxLen), \(dModel)" }
}

/// The rotary embedding tables `(cos, sin)`, each `[seqLen, headDim]`, with frequencies
/// `base^(-2i/headDim)` repeated over both halves (the LLaMA / Hugging Face layout).
public func rotaryEmbeddingTables(seqLen: Int, headDim: Int, base: Double = 10000, offset: Int = 0,
                                  dtype: DType = .defaultFloat) -> (cos: Tensor, sin: Tensor) {
    precondition(headDim > 0 && headDim % 2 == 0, "rotaryEmbeddingTables: headDim must be even, got \(headDim)")
    let half = headDim / 2
    var c = [Double](repeating: 0, count: seqLen * headDim), s = c
    for p in 0..<seqLen {
        for i in 0..<half {
            let angle = Double(p + offset) * Foundation.pow(base, -2 * Double(i) / Double(headDim))
            c[p * headDim + i] = Foundation.cos(angle); c[p * headDim + i + half] = Foundation.cos(angle)
            s[p * headDim + i] = Foundation.sin(angle); s[p * headDim + i + half] = Foundation.sin(angle)
        }
    }
    return (Tensor(c, shape: [seqLen, headDim]).to(dtype), Tensor(s, shape: [seqLen, headDim]).to(dtype))
}

/// Rotary position embedding (RoPE): `x·cos + rotateHalf(x)·sin`, where `rotateHalf`
/// maps halves `(x₁, x₂)` to `(−x₂, x₁)` (the LLaMA / Hugging Face convention).
///
/// - Parameters:
///   - x: `[..., L, D]` (e.g. `[N, heads, L, D]`).
///   - cos: `[L, D]` (broadcastable), from `rotaryEmbeddingTables`.
///   - sin: `[L, D]` (broadcastable).
///
/// ```swift
/// let (c, s) = rotaryEmbeddingTables(seqLen: 10, headDim: 16)
/// let q = applyRotaryEmbedding(Tensor.randn([2, 4, 10, 16]), cos: c, sin: s)
/// ```
public func applyRotaryEmbedding(_ x: Tensor, cos: Tensor, sin: Tensor) -> Tensor {
    let d = x.shape[x.rank - 1]
    precondition(d % 2 == 0, "applyRotaryEmbedding: the last dimension must be even, got \(x.shape)")
    let halves = x.chunk(2, dim: -1)
    let rotated = Tensor.cat([-halves[1], halves[0]], dim: -1)
    return x * cos.to(x.dtype) + rotated * sin.to(x.dtype)
}
