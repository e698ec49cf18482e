// Transformer blocks with PyTorch's structure and state-dict names: TransformerEncoderLayer,
// TransformerDecoderLayer, TransformerEncoder, TransformerDecoder, and RMSNorm.
//
// Submodule properties are snake_case (`self_attn`, `multihead_attn`, `linear1`, `norm1`)
// on purpose: `Module` names state-dict entries after property labels, and these are
// PyTorch's names, so checkpoints load by name.
import Ember

/// The feed-forward activation of a transformer layer (PyTorch's `activation="relu"|"gelu"`
/// or a callable).
public enum TransformerActivation {
    case relu
    case gelu
    case custom((Tensor) -> Tensor)

    func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: return Ember.relu(x)
        case .gelu: return Ember.gelu(x)
        case .custom(let f): return f(x)
        }
    }
}

/// One encoder block: self-attention and a feed-forward network, each with a residual
/// connection and layer norm (`torch.nn.TransformerEncoderLayer`).
///
/// Post-norm by default (`x = norm1(x + sa(x)); x = norm2(x + ff(x))`); `normFirst`
/// gives pre-norm (`x = x + sa(norm1(x)); x = x + ff(norm2(x))`).
///
/// ```swift
/// let layer = TransformerEncoderLayer(dModel: 32, nhead: 4, dimFeedforward: 64, batchFirst: true)
/// let y = layer(Tensor.randn([2, 10, 32]))   // [2, 10, 32]
/// ```
public final class TransformerEncoderLayer: Module {
    /// Self-attention (PyTorch's name).
    public let self_attn: MultiheadAttention
    /// Feed-forward expansion, `Linear(dModel, dimFeedforward)`.
    public let linear1: Linear
    /// Dropout inside the feed-forward part.
    public let dropout: Dropout
    /// Feed-forward projection back to `dModel`.
    public let linear2: Linear
    /// Norm of the self-attention sub-block.
    public let norm1: LayerNorm
    /// Norm of the second sub-block.
    public let norm2: LayerNorm
    /// Dropout on the first residual branch.
    public let dropout1: Dropout
    /// Dropout on the second residual branch.
    public let dropout2: Dropout
    /// Pre-norm when true.
    public let normFirst: Bool
    /// The feed-forward activation.
    public let activation: TransformerActivation
    let config: (dModel: Int, nhead: Int, dimFeedforward: Int, dropout: Double, layerNormEps: Double, batchFirst: Bool, bias: Bool)

    /// Creates the layer with PyTorch's defaults and initialisation.
    public init(dModel: Int, nhead: Int, dimFeedforward: Int = 2048, dropout: Double = 0.1,
                activation: TransformerActivation = .relu, layerNormEps: Double = 1e-5, batchFirst: Bool = false,
                normFirst: Bool = false, bias: Bool = true) {
        config = (dModel, nhead, dimFeedforward, dropout, layerNormEps, batchFirst, bias)
        self_attn = MultiheadAttention(embedDim: dModel, numHeads: nhead, dropout: dropout, bias: bias, batchFirst: batchFirst)
        linear1 = Linear(dModel, dimFeedforward, bias: bias)
        self.dropout = Dropout(p: dropout)
        linear2 = Linear(dimFeedforward, dModel, bias: bias)
        norm1 = LayerNorm(dModel, eps: layerNormEps, bias: bias)
        norm2 = LayerNorm(dModel, eps: layerNormEps, bias: bias)
        dropout1 = Dropout(p: dropout)
        dropout2 = Dropout(p: dropout)
        self.normFirst = normFirst
        self.activation = activation
        super.init()
    }

    /// A new layer with the same configuration and a copy of this one's parameters
    /// (PyTorch's `copy.deepcopy`, used by `TransformerEncoder`).
    public func clone() -> TransformerEncoderLayer {
        let c = config
        let copy = TransformerEncoderLayer(dModel: c.dModel, nhead: c.nhead, dimFeedforward: c.dimFeedforward, dropout: c.dropout,
                                           activation: activation, layerNormEps: c.layerNormEps, batchFirst: c.batchFirst,
                                           normFirst: normFirst, bias: c.bias)
        copy.to(self_attn.out_proj.weight.dtype)
        try! copy.loadStateDict(stateDict())
        copy.train(isTraining)
        return copy
    }

    /// Runs the block.
    ///
    /// - Parameters:
    ///   - src: `[S, N, E]` (`[N, S, E]` with `batchFirst`) or `[S, E]`.
    ///   - srcMask: `[S, S]` or `[N·nhead, S, S]` attention mask (bool true = forbidden, float added).
    ///   - srcKeyPaddingMask: `[N, S]` (bool true = padding).
    ///   - isCausal: apply a causal mask when `srcMask` is nil.
    public func forward(_ src: Tensor, srcMask: Tensor? = nil, srcKeyPaddingMask: Tensor? = nil, isCausal: Bool = false) -> Tensor {
        func sa(_ x: Tensor) -> Tensor {
            dropout1(self_attn(x, x, x, keyPaddingMask: srcKeyPaddingMask, needWeights: false, attnMask: srcMask, isCausal: isCausal).0)
        }
        func ff(_ x: Tensor) -> Tensor { dropout2(linear2(dropout(activation(linear1(x))))) }
        var x = src
        if normFirst {
            x = x + sa(norm1(x))
            x = x + ff(norm2(x))
        } else {
            x = norm1(x + sa(x))
            x = norm2(x + ff(x))
        }
        return x
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(input, srcMask: nil) }
}

/// One decoder block: self-attention, cross-attention over `memory`, and a feed-forward
/// network, each with a residual connection and layer norm (`torch.nn.TransformerDecoderLayer`).
///
/// ```swift
/// let layer = TransformerDecoderLayer(dModel: 32, nhead: 4, dimFeedforward: 64, batchFirst: true)
/// let y = layer(Tensor.randn([2, 7, 32]), memory: Tensor.randn([2, 10, 32]))
/// ```
public final class TransformerDecoderLayer: Module {
    /// Self-attention (PyTorch's name).
    public let self_attn: MultiheadAttention
    /// Attention over the encoder memory (PyTorch's name).
    public let multihead_attn: MultiheadAttention
    /// Feed-forward expansion, `Linear(dModel, dimFeedforward)`.
    public let linear1: Linear
    /// Dropout inside the feed-forward part.
    public let dropout: Dropout
    /// Feed-forward projection back to `dModel`.
    public let linear2: Linear
    /// Norm of the self-attention sub-block.
    public let norm1: LayerNorm
    /// Norm of the second sub-block.
    public let norm2: LayerNorm
    /// Norm of the feed-forward sub-block.
    public let norm3: LayerNorm
    /// Dropout on the first residual branch.
    public let dropout1: Dropout
    /// Dropout on the second residual branch.
    public let dropout2: Dropout
    /// Dropout on the third residual branch.
    public let dropout3: Dropout
    /// Pre-norm when true.
    public let normFirst: Bool
    /// The feed-forward activation.
    public let activation: TransformerActivation
    let config: (dModel: Int, nhead: Int, dimFeedforward: Int, dropout: Double, layerNormEps: Double, batchFirst: Bool, bias: Bool)

    /// Creates the layer with PyTorch's defaults and initialisation.
    public init(dModel: Int, nhead: Int, dimFeedforward: Int = 2048, dropout: Double = 0.1,
                activation: TransformerActivation = .relu, layerNormEps: Double = 1e-5, batchFirst: Bool = false,
                normFirst: Bool = false, bias: Bool = true) {
        config = (dModel, nhead, dimFeedforward, dropout, layerNormEps, batchFirst, bias)
        self_attn = MultiheadAttention(embedDim: dModel, numHeads: nhead, dropout: dropout, bias: bias, batchFirst: batchFirst)
        multihead_attn = MultiheadAttention(embedDim: dModel, numHeads: nhead, dropout: dropout, bias: bias, batchFirst: batchFirst)
        linear1 = Linear(dModel, dimFeedforward, bias: bias)
        self.dropout = Dropout(p: dropout)
        linear2 = Linear(dimFeedforward, dModel, bias: bias)
        norm1 = LayerNorm(dModel, eps: layerNormEps, bias: bias)
        norm2 = LayerNorm(dModel, eps: layerNormEps, bias: bias)
        norm3 = LayerNorm(dModel, eps: layerNormEps, bias: bias)
        dropout1 = Dropout(p: dropout)
        dropout2 = Dropout(p: dropout)
        dropout3 = Dropout(p: dropout)
        self.normFirst = normFirst
        self.activation = activation
        super.init()
    }

    /// A new layer with the same configuration and a copy of this one's parameters.
    public func clone() -> TransformerDecoderLayer {
        let c = config
        let copy = TransformerDecoderLayer(dModel: c.dModel, nhead: c.nhead, dimFeedforward: c.dimFeedforward, dropout: c.dropout,
                                           activation: activation, layerNormEps: c.layerNormEps, batchFirst: c.batchFirst,
                                           normFirst: normFirst, bias: c.bias)
        copy.to(self_attn.out_proj.weight.dtype)
        try! copy.loadStateDict(stateDict())
        copy.train(isTraining)
        return copy
    }

    /// Runs the block on `tgt` attending to `memory` (masks as `MultiheadAttention`).
    public func forward(_ tgt: Tensor, memory: Tensor, tgtMask: Tensor? = nil, memoryMask: Tensor? = nil,
                        tgtKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
                        tgtIsCausal: Bool = false, memoryIsCausal: Bool = false) -> Tensor {
        func sa(_ x: Tensor) -> Tensor {
            dropout1(self_attn(x, x, x, keyPaddingMask: tgtKeyPaddingMask, needWeights: false, attnMask: tgtMask, isCausal: tgtIsCausal).0)
        }
        func mha(_ x: Tensor) -> Tensor {
            dropout2(multihead_attn(x, memory, memory, keyPaddingMask: memoryKeyPaddingMask, needWeights: false,
                                    attnMask: memoryMask, isCausal: memoryIsCausal).0)
        }
        func ff(_ x: Tensor) -> Tensor { dropout3(linear2(dropout(activation(linear1(x))))) }
        var x = tgt
        if normFirst {
            x = x + sa(norm1(x))
            x = x + mha(norm2(x))
            x = x + ff(norm3(x))
        } else {
            x = norm1(x + sa(x))
            x = norm2(x + mha(x))
            x = norm3(x + ff(x))
        }
        return x
    }

    /// Calls `forward(_:memory:...)`.
    public func callAsFunction(_ tgt: Tensor, memory: Tensor, tgtMask: Tensor? = nil, memoryMask: Tensor? = nil,
                               tgtKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
                               tgtIsCausal: Bool = false, memoryIsCausal: Bool = false) -> Tensor {
        forward(tgt, memory: memory, tgtMask: tgtMask, memoryMask: memoryMask, tgtKeyPaddingMask: tgtKeyPaddingMask,
                memoryKeyPaddingMask: memoryKeyPaddingMask, tgtIsCausal: tgtIsCausal, memoryIsCausal: memoryIsCausal)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        fatalError("TransformerDecoderLayer: takes a target and a memory; call layer(tgt, memory: memory)")
    }
}

/// A stack of `numLayers` copies of an encoder layer and an optional final norm
/// (`torch.nn.TransformerEncoder`); parameters are named `layers.0.self_attn.in_proj_weight`, …
///
/// ```swift
/// let layer = TransformerEncoderLayer(dModel: 32, nhead: 4, dimFeedforward: 64)
/// let encoder = TransformerEncoder(layer, numLayers: 6)
/// ```
public final class TransformerEncoder: Module {
    /// The layers (PyTorch's `layers` ModuleList).
    public let layers: ModuleList
    /// The final normalisation, or nil.
    public let norm: Module?
    /// Number of stacked layers.
    public let numLayers: Int

    /// Stacks `numLayers` independent copies of `encoderLayer` (same initial parameters).
    public init(_ encoderLayer: TransformerEncoderLayer, numLayers: Int, norm: Module? = nil) {
        layers = ModuleList((0..<numLayers).map { _ in encoderLayer.clone() })
        self.norm = norm
        self.numLayers = numLayers
        super.init()
    }

    /// Runs every layer in turn, then `norm`.
    public func forward(_ src: Tensor, mask: Tensor? = nil, srcKeyPaddingMask: Tensor? = nil, isCausal: Bool = false) -> Tensor {
        var x = src
        for case let layer as TransformerEncoderLayer in layers.modulesInOrder {
            x = layer.forward(x, srcMask: mask, srcKeyPaddingMask: srcKeyPaddingMask, isCausal: isCausal)
        }
        if let norm { x = norm(x) }
        return x
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(input, mask: nil) }
}

/// A stack of `numLayers` copies of a decoder layer and an optional final norm
/// (`torch.nn.TransformerDecoder`).
public final class TransformerDecoder: Module {
    /// The layers (PyTorch's `layers` ModuleList).
    public let layers: ModuleList
    /// The final normalisation, or nil.
    public let norm: Module?
    /// Number of stacked layers.
    public let numLayers: Int

    /// Stacks `numLayers` independent copies of `decoderLayer` (same initial parameters).
    public init(_ decoderLayer: TransformerDecoderLayer, numLayers: Int, norm: Module? = nil) {
        layers = ModuleList((0..<numLayers).map { _ in decoderLayer.clone() })
        self.norm = norm
        self.numLayers = numLayers
        super.init()
    }

    /// Runs every layer on `tgt` with `memory`, then `norm`.
    public func forward(_ tgt: Tensor, memory: Tensor, tgtMask: Tensor? = nil, memoryMask: Tensor? = nil,
                        tgtKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil,
                        tgtIsCausal: Bool = false, memoryIsCausal: Bool = false) -> Tensor {
        var x = tgt
        for case let layer as TransformerDecoderLayer in layers.modulesInOrder {
            x = layer.forward(x, memory: memory, tgtMask: tgtMask, memoryMask: memoryMask, tgtKeyPaddingMask: tgtKeyPaddingMask,
                              memoryKeyPaddingMask: memoryKeyPaddingMask, tgtIsCausal: tgtIsCausal, memoryIsCausal: memoryIsCausal)
        }
        if let norm { x = norm(x) }
        return x
    }

    /// Calls `forward(_:memory:...)`.
    public func callAsFunction(_ tgt: Tensor, memory: Tensor, tgtMask: Tensor? = nil, memoryMask: Tensor? = nil,
                               tgtKeyPaddingMask: Tensor? = nil, memoryKeyPaddingMask: Tensor? = nil) -> Tensor {
        forward(tgt, memory: memory, tgtMask: tgtMask, memoryMask: memoryMask, tgtKeyPaddingMask: tgtKeyPaddingMask,
                memoryKeyPaddingMask: memoryKeyPaddingMask)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        fatalError("TransformerDecoder: takes a target and a memory; call decoder(tgt, memory: memory)")
    }
}

/// Root-mean-square normalisation `x / √(mean(x²) + ε) · γ` over the trailing
/// `normalizedShape` (`torch.nn.RMSNorm`). Parameter `weight` (ones), as PyTorch; `eps`
/// nil uses the machine epsilon of the input's dtype.
///
/// ```swift
/// let norm = RMSNorm(normalizedShape: [64])
/// print(norm)   // RMSNorm((64,), eps=None, elementwise_affine=True)
/// ```
public final class RMSNorm: Module {
    /// The trailing shape normalised over.
    public let normalizedShape: [Int]
    /// Added to the mean square; nil uses the dtype's machine epsilon (as PyTorch).
    public let eps: Double?
    /// Whether the layer learns a per-element scale.
    public let elementwiseAffine: Bool
    /// The learnable scale γ of shape `normalizedShape`, or nil.
    public var weight: Tensor?

    /// Creates the layer; the scale starts at ones.
    public init(normalizedShape: [Int], eps: Double? = nil, elementwiseAffine: Bool = true) {
        precondition(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 },
                     "RMSNorm: normalizedShape must be non-empty and positive, got \(normalizedShape)")
        self.normalizedShape = normalizedShape
        self.eps = eps
        self.elementwiseAffine = elementwiseAffine
        weight = elementwiseAffine ? Tensor.ones(normalizedShape, requiresGrad: true) : nil
        super.init()
    }

    /// Creates the layer over one trailing dimension of size `normalizedShape`.
    public convenience init(_ normalizedShape: Int, eps: Double? = nil, elementwiseAffine: Bool = true) {
        self.init(normalizedShape: [normalizedShape], eps: eps, elementwiseAffine: elementwiseAffine)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        rmsNorm(input, normalizedShape: normalizedShape, weight: weight, eps: eps)
    }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        if name == "weight" { weight = tensor } else { super.replaceParameter(name, with: tensor) }
    }

    public override var extraDescription: String {
        "\(PythonRepr.tuple(normalizedShape)), eps=\(PythonRepr.optionalFloat(eps)), elementwise_affine=\(PythonRepr.bool(elementwiseAffine))"
    }
}

/// `torch.nn.functional.rms_norm`: `x / √(mean(x²) + ε) · weight` over the trailing
/// `normalizedShape`; `eps` nil uses the dtype's machine epsilon.
public func rmsNorm(_ input: Tensor, normalizedShape: [Int], weight: Tensor? = nil, eps: Double? = nil) -> Tensor {
    let k = normalizedShape.count
    precondition(k >= 1 && input.rank >= k && Array(input.shape.suffix(k)) == normalizedShape,
                 "rms_norm: input of shape \(input.shape) does not end with the normalized shape \(normalizedShape)")
    let epsilon = eps ?? (input.dtype == .float64 ? Double.ulpOfOne : Double(Float.ulpOfOne))
    let dims = Array((input.rank - k)..<input.rank)
    let y = input * rsqrt((input * input).mean(dims: dims, keepDim: true) + epsilon)
    if let weight { return y * weight }
    return y
}
