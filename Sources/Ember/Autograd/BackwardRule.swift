// The catalogue of backward rules: one case per differentiable primitive, carrying the
// non-tensor facts its derivative needs (saved tensors live on the node).

/// Which derivative a `GradNode` applies, one case per differentiable primitive with the
/// op's non-tensor facts. The formulas are in `Derivatives.swift`. Public so that tools
/// reading a trace (`traceOperations`) can tell which primitive produced each tensor.
public enum BackwardRule {
    // Arithmetic
    /// Elementwise binary arithmetic; `powScalar` raises to a constant exponent.
    case add, sub, mul, div, neg, pow, powScalar(Double), remainder, `where`, maximum, minimum, atan2
    // Unary math
    /// Elementwise unary math; `clamp` keeps its bounds, `zeroGradient` names an op whose gradient is zero.
    case abs, sqrt, exp, log, square, clamp(min: Double?, max: Double?), zeroGradient(String)
    /// More elementwise unary math.
    case log1p, expm1, rsqrt, reciprocal, sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, erf
    // Activations
    /// Elementwise activations with their parameters.
    case relu, sigmoid, gelu, geluTanh, silu, softplus(beta: Double, threshold: Double), leakyRelu(Double), elu(Double)
    /// Softmax and log-softmax along `dim`.
    case softmax(dim: Int), logSoftmax(dim: Int)
    /// The fused LSTM cell update (`lstmCellUpdate`): gates and previous cell to [h' | c'].
    case lstmCell
    /// A whole LSTM layer over a sequence (`lstmLayer`), run backward in time when `reverse`;
    /// the flags say which biases are among its inputs.
    case lstmLayer(reverse: Bool, biasIH: Bool, biasHH: Bool)
    /// Standardisation over the last `count` dimensions (`normalizeLastDims`, the core of layer norm).
    case normalizeLastDims(count: Int, eps: Double)
    // Copies and views
    /// Copies and views: dtype or device moves, identities, reshapes, permutations, broadcasts, slices.
    case toDType, toDevice(Device), identity(String), reshape, permute([Int]), expand
    /// A strided slice (`narrow`, subscripts) or one index along `dim`.
    case slice(dim: Int, start: Int, step: Int), select(dim: Int, index: Int)
    /// Writing a source into a strided slice of a copy.
    case sliceScatter(dim: Int, start: Int, step: Int)
    /// Concatenation, flips, rolls, triangles and constant padding.
    case cat(dim: Int, sizes: [Int]), flip([Int]), roll(shifts: [Int], dims: [Int])
    /// Triangular masks and constant padding (`[before, after]` per dim, last dim first).
    case tril(Int), triu(Int), padConstant([Int])
    // Reductions
    /// Sum and product over `dims` (all when empty).
    case sum(dims: [Int], keepDim: Bool), prod(dims: [Int], keepDim: Bool)
    /// Maximum or minimum, Euclidean norm and running sum over dims.
    case extremum(dims: [Int], keepDim: Bool), norm2(dims: [Int], keepDim: Bool), cumsum(dim: Int)
    /// Running product along `dim`.
    case cumprod(dim: Int)
    // Linear algebra and indexing
    /// Matrix products; `linear` is `input · weightᵀ (+ bias)`.
    case matmul, linear
    /// Index ops (the index or mask is the op's saved tensor).
    case gather(dim: Int), scatter(dim: Int), scatterAdd(dim: Int), maskedFill
    // Convolution and pooling (each gradient is itself a differentiable op)
    /// A convolution (`[x, w, bias?]`) and its input gradient, which is a transposed convolution.
    case convolution(ConvolutionGeometry), convolutionBackwardInput(ConvolutionGeometry)
    /// The weight gradient of a convolution.
    case convolutionBackwardWeight(ConvolutionGeometry)
    /// Max pooling (indices saved) and its gradient.
    case maxPool(PoolingGeometry), maxPoolBackward(spatialRank: Int)
    /// Average pooling and its gradient.
    case avgPool(PoolingGeometry), avgPoolBackward(PoolingGeometry)
    // User-defined
    /// A `CustomFunction` call.
    case custom(CustomFunctionRecord)

    /// PyTorch's name for the node (`grad_fn`).
    public var name: String {
        switch self {
        case .add: return "AddBackward0"
        case .sub: return "SubBackward0"
        case .mul: return "MulBackward0"
        case .div: return "DivBackward0"
        case .neg: return "NegBackward0"
        case .pow: return "PowBackward1"
        case .powScalar: return "PowBackward0"
        case .remainder: return "RemainderBackward0"
        case .where: return "WhereBackward0"
        case .maximum: return "MaximumBackward0"
        case .minimum: return "MinimumBackward0"
        case .atan2: return "Atan2Backward0"
        case .abs: return "AbsBackward0"
        case .sqrt: return "SqrtBackward0"
        case .exp: return "ExpBackward0"
        case .log: return "LogBackward0"
        case .square: return "PowBackward0"
        case .clamp: return "ClampBackward1"
        case .zeroGradient(let name): return name
        case .log1p: return "Log1PBackward0"
        case .expm1: return "Expm1Backward0"
        case .rsqrt: return "RsqrtBackward0"
        case .reciprocal: return "ReciprocalBackward0"
        case .sin: return "SinBackward0"
        case .cos: return "CosBackward0"
        case .tan: return "TanBackward0"
        case .asin: return "AsinBackward0"
        case .acos: return "AcosBackward0"
        case .atan: return "AtanBackward0"
        case .sinh: return "SinhBackward0"
        case .cosh: return "CoshBackward0"
        case .tanh: return "TanhBackward0"
        case .erf: return "ErfBackward0"
        case .relu: return "ReluBackward0"
        case .sigmoid: return "SigmoidBackward0"
        case .gelu, .geluTanh: return "GeluBackward0"
        case .silu: return "SiluBackward0"
        case .softplus: return "SoftplusBackward0"
        case .leakyRelu: return "LeakyReluBackward0"
        case .elu: return "EluBackward0"
        case .softmax: return "SoftmaxBackward0"
        case .logSoftmax: return "LogSoftmaxBackward0"
        case .normalizeLastDims: return "NativeLayerNormBackward0"
        case .lstmCell: return "FusedLSTMCellBackward0"
        case .lstmLayer: return "FusedLSTMLayerBackward0"
        case .toDType: return "ToCopyBackward0"
        case .toDevice: return "ToCopyBackward0"
        case .identity(let name): return name
        case .reshape: return "ViewBackward0"
        case .permute: return "PermuteBackward0"
        case .expand: return "ExpandBackward0"
        case .slice: return "SliceBackward0"
        case .select: return "SelectBackward0"
        case .sliceScatter: return "SliceScatterBackward0"
        case .cat: return "CatBackward0"
        case .flip: return "FlipBackward0"
        case .roll: return "RollBackward0"
        case .tril: return "TrilBackward0"
        case .triu: return "TriuBackward0"
        case .padConstant: return "ConstantPadNdBackward0"
        case .sum(let dims, _): return dims.isEmpty ? "SumBackward0" : "SumBackward1"
        case .prod: return "ProdBackward0"
        case .extremum: return "AmaxBackward0"
        case .norm2: return "NormBackward1"
        case .cumsum: return "CumsumBackward0"
        case .cumprod: return "CumprodBackward0"
        case .matmul: return "MmBackward0"
        case .linear: return "AddmmBackward0"
        case .gather: return "GatherBackward0"
        case .scatter: return "ScatterBackward0"
        case .scatterAdd: return "ScatterAddBackward0"
        case .maskedFill: return "MaskedFillBackward0"
        case .convolution: return "ConvolutionBackward0"
        case .convolutionBackwardInput, .convolutionBackwardWeight: return "ConvolutionBackwardBackward0"
        case .maxPool(let g): return "MaxPool\(g.spatialRank)DWithIndicesBackward0"
        case .maxPoolBackward(let r): return "MaxPool\(r)DWithIndicesBackwardBackward0"
        case .avgPool(let g): return "AvgPool\(g.spatialRank)DBackward0"
        case .avgPoolBackward(let g): return "AvgPool\(g.spatialRank)DBackwardBackward0"
        case .custom(let record): return record.name
        }
    }
}
