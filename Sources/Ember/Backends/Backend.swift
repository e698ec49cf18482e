// The backend seam: the small set of primitives every device implements.

/// Elementwise functions of one tensor. Parameters travel with the case.
public enum UnaryOp: Hashable {
    case neg, abs, sign, exp, log, log1p, expm1, sqrt, rsqrt, reciprocal, square
    case sin, cos, tan, asin, acos, atan, sinh, cosh, tanh, erf
    case sigmoid, relu, gelu, geluTanh, silu, softplus(beta: Double, threshold: Double)
    case floor, ceil, round, trunc
    case isNaN, isFinite, isInf, logicalNot
    case leakyRelu(slope: Double), elu(alpha: Double)
    case clamp(min: Double?, max: Double?)
    case pow(Double)

    /// True when the result is a bool tensor.
    var producesBool: Bool {
        switch self {
        case .isNaN, .isFinite, .isInf, .logicalNot: return true
        default: return false
        }
    }

    /// True when integer inputs keep their dtype (otherwise they are computed in float).
    var keepsIntegers: Bool {
        switch self {
        case .neg, .abs, .sign, .square, .relu, .floor, .ceil, .round, .trunc, .clamp,
             .isNaN, .isFinite, .isInf, .logicalNot:
            return true
        default: return false
        }
    }
}

/// Elementwise functions of two tensors (already broadcast to one shape).
public enum BinaryOp: Hashable {
    case add, sub, mul, div, pow, maximum, minimum, atan2, remainder, floorDivide
    case eq, ne, lt, le, gt, ge
    case logicalAnd, logicalOr, logicalXor
    /// The gradient of exact GELU for autograd: `b · (Φ(a) + a·φ(a))`, `a` the GELU input
    /// and `b` the incoming gradient (floating point only).
    case geluBackward

    /// True for comparisons and logical ops, whose result is a bool tensor.
    var producesBool: Bool {
        switch self {
        case .eq, .ne, .lt, .le, .gt, .ge, .logicalAnd, .logicalOr, .logicalXor: return true
        default: return false
        }
    }
}

/// A batch of equally shaped matrices inside a tensor's storage, described by sizes and
/// strides (in elements) so that vectors, transposes and broadcast batches need no copy.
public struct MatrixBatch {
    /// The tensor whose storage holds the matrices (its offset is the first element).
    public let tensor: Tensor
    /// Number of matrices, `batchStride` elements apart (0 for a broadcast matrix).
    public var count: Int, batchStride: Int
    /// Rows and columns of each matrix, and the steps between them.
    public var rows: Int, rowStride: Int, columns: Int, columnStride: Int
}

/// Reductions over a set of dimensions.
public enum ReduceOp: Hashable {
    case sum, prod, max, min, argmax, argmin
}

/// Running reductions along one dimension.
public enum CumulativeOp: Hashable {
    case sum, prod
}

/// The geometry of a 1-D or 2-D convolution, one entry per spatial dimension (outermost
/// first). Tensors are `(N, C, W)` or `(N, C, H, W)`; weights `(outC, inC / groups, [kH,] kW)`.
///
/// ```swift
/// // 3×3 kernel, stride 2, one pixel of zero padding on every side
/// let g = ConvolutionGeometry(stride: [2, 2], paddingBefore: [1, 1], paddingAfter: [1, 1],
///                             dilation: [1, 1], groups: 1)
/// ```
public struct ConvolutionGeometry: Hashable {
    /// Step between neighbouring output positions, per spatial dim.
    public var stride: [Int]
    /// Zeros added before (top/left) and after (bottom/right) each spatial dim.
    public var paddingBefore: [Int], paddingAfter: [Int]
    /// Spacing between kernel taps (1 = dense), per spatial dim.
    public var dilation: [Int]
    /// Channel groups: input and output channels split into `groups` independent blocks.
    public var groups: Int

    /// Creates a geometry; all arrays have one entry per spatial dim.
    public init(stride: [Int], paddingBefore: [Int], paddingAfter: [Int], dilation: [Int], groups: Int) {
        self.stride = stride
        self.paddingBefore = paddingBefore
        self.paddingAfter = paddingAfter
        self.dilation = dilation
        self.groups = groups
    }

    /// Number of spatial dims (1 or 2).
    public var spatialRank: Int { stride.count }

    /// Output length along spatial dim `d` for an input of length `input` and a kernel of
    /// `kernel` taps: `⌊(input + before + after − dilation·(kernel − 1) − 1) / stride⌋ + 1`.
    public func outputSize(_ d: Int, input: Int, kernel: Int) -> Int {
        (input + paddingBefore[d] + paddingAfter[d] - dilation[d] * (kernel - 1) - 1) / stride[d] + 1
    }
}

/// The geometry of a 1-D or 2-D pooling window over `(N, C, [H,] W)` tensors, one entry
/// per spatial dimension. The output size comes from the output tensor's shape, so
/// PyTorch's `ceilMode` needs no field here (see `avgPool` for how windows are clipped).
///
/// ```swift
/// let g = PoolingGeometry(kernel: [2, 2], stride: [2, 2], padding: [0, 0], dilation: [1, 1])
/// ```
public struct PoolingGeometry: Hashable {
    /// Window size, step, implicit padding on both sides, and tap spacing per spatial dim.
    public var kernel: [Int], stride: [Int], padding: [Int], dilation: [Int]
    /// For average pooling: divide by the window size including padding (PyTorch's
    /// `count_include_pad`) rather than by the number of input elements it covers.
    public var countIncludePad: Bool

    /// Creates a geometry; all arrays have one entry per spatial dim.
    public init(kernel: [Int], stride: [Int], padding: [Int], dilation: [Int], countIncludePad: Bool = true) {
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.countIncludePad = countIncludePad
    }

    /// Number of spatial dims (1 or 2).
    public var spatialRank: Int { kernel.count }
}

/// The primitives a device implements; everything else in Ember is written on `Tensor`
/// in terms of these. Arguments are tensors on this backend's device. Unless a method
/// says otherwise, `out` is a fresh contiguous tensor of the result shape, and inputs
/// may have any strides (broadcast inputs have stride 0).
public protocol Backend: AnyObject {
    /// Allocates `byteCount` bytes of uninitialised memory on `device`.
    func allocate(byteCount: Int, device: Device) -> Storage
    /// Copies `source` into `destination` (same shape, any strides), converting dtype.
    /// One of the two may be on the CPU when this backend is not the CPU's.
    func copy(_ source: Tensor, into destination: Tensor)
    /// Sets every element of `tensor` (any strides) to `value`.
    func fill(_ tensor: Tensor, with value: Double)
    /// `out = op(x)`; `out` may be `x` itself (in-place).
    func unary(_ op: UnaryOp, _ x: Tensor, into out: Tensor)
    /// `out = op(a, b)`; `a` and `b` have `out`'s shape; `out` may alias `a` (in-place).
    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor)
    /// `out = condition ? a : b`, all of `out`'s shape; condition is bool.
    func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor)
    /// Reduces `x` over `dims`; `out` has `x`'s rank with size 1 in the reduced dims.
    /// `argmax`/`argmin` take one dim and write int64.
    func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], into out: Tensor)
    /// Batched matrix product `out[i] = a[i] · b[i]`; `out` is contiguous and holds
    /// `a.count` matrices of `a.rows × b.columns` (whatever its shape).
    func matmul(_ a: MatrixBatch, _ b: MatrixBatch, into out: Tensor)
    /// `matmul`, then `bias` (`[b.columns]`, any strides) added to every row and `activation`
    /// (nil, `.relu`, `.gelu` or `.geluTanh`) applied, in one pass where the device can (a
    /// linear layer's forward).
    func linear(_ a: MatrixBatch, _ b: MatrixBatch, bias: Tensor?, activation: UnaryOp?, into out: Tensor)
    /// `out += a · b` for one matrix each (`out` contiguous, `a.rows × b.columns`): a product
    /// added to what `out` holds, without a temporary where the device can.
    func matmulAdd(_ a: MatrixBatch, _ b: MatrixBatch, into out: Tensor)
    /// Running sum or product along `dim`.
    func cumulative(_ op: CumulativeOp, _ x: Tensor, dim: Int, into out: Tensor)
    /// Sorts along `dim` (stable), writing values and int64 indices.
    func sort(_ x: Tensor, dim: Int, descending: Bool, values: Tensor, indices: Tensor)
    /// `out[i][j] = x[index[i][j]][j]` along `dim` (index int64, out has index's shape).
    func gather(_ x: Tensor, dim: Int, index: Tensor, into out: Tensor)
    /// Writes (or adds, when `accumulate`) `source` into `destination` at `index` along
    /// `dim` — the inverse of gather. `destination` is modified in place.
    func scatter(_ source: Tensor, dim: Int, index: Tensor, into destination: Tensor, accumulate: Bool)
    /// Softmax (or log-softmax) along the last dimension of a contiguous floating tensor.
    func softmax(_ x: Tensor, log: Bool, into out: Tensor)
    /// Softmax along the last dimension of a contiguous floating tensor `[…, L, S]` under a
    /// causal mask: row `i` of each `L × S` matrix is taken over its columns `j ≤ i + offset`
    /// and is 0 past them (NaN throughout when it keeps none, as a fully masked softmax).
    func causalSoftmax(_ x: Tensor, offset: Int, into out: Tensor)
    /// Standardises each row of `columns` elements of a contiguous floating tensor,
    /// `(x − mean)·rstd` with `rstd = 1/√(biased variance + eps)`, writing each row's mean
    /// and rstd (contiguous, one per row).
    func normalizeRows(_ x: Tensor, columns: Int, eps: Double, into out: Tensor, mean: Tensor, rstd: Tensor)
    /// The fused LSTM cell update over the rows of `cell` [B, H]: the pre-activations
    /// `gates` [B, 4H] (+ `bias` [4H]), in the order i, f, g, o, give `out` [B, 2H] =
    /// [h' | c']; `activations` [B, 5H] receives σ(i), σ(f), tanh(g), σ(o), tanh(c') for the
    /// backward pass. One floating dtype; every matrix has contiguous rows (any row stride).
    func lstmCell(gates: Tensor, bias: Tensor?, cell: Tensor, into out: Tensor, activations: Tensor)
    /// The gradient of `lstmCell`: from `grad` [B, 2H] (of [h' | c']) plus, when given, the
    /// `carried` gradients of h' and c' ([B, H] each, one row stride) to the gates'
    /// pre-activations [B, 4H] and the previous cell [B, H]. `cellGradient` may be
    /// `carried.cell` itself. When `biasGradient` [4H] (contiguous) is given, the gates'
    /// gradient summed over the rows is added into it. Rows as in `lstmCell`.
    func lstmCellBackward(_ grad: Tensor, carried: (hidden: Tensor, cell: Tensor)?, activations: Tensor, cell: Tensor,
                          gatesGradient: Tensor, cellGradient: Tensor, biasGradient: Tensor?)
    /// The gradient of `normalizeRows` for output gradient `g` (all contiguous, one dtype):
    /// `rstd·(g − mean(g) − x̂·mean(g·x̂))` per row.
    func normalizeRowsBackward(_ x: Tensor, _ g: Tensor, mean: Tensor, rstd: Tensor, columns: Int, into out: Tensor)

    // Convolution and pooling. All tensors here are contiguous and of one floating dtype
    // (float32 or float64); spatial rank 1 or 2, as `geometry` says.

    /// `out = conv(input, weight) + bias`: input `(N, C, [H,] W)`, weight
    /// `(O, C / groups, [kH,] kW)`, optional bias `(O)`, out `(N, O, [oH,] oW)` sized by
    /// `ConvolutionGeometry.outputSize` (cross-correlation, as PyTorch).
    func convolution(_ input: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry, into out: Tensor)
    /// The gradient of `convolution` with respect to its input (a transposed convolution):
    /// `gradInput` has the input's shape and is overwritten.
    func convolutionBackwardInput(_ gradOutput: Tensor, weight: Tensor, geometry: ConvolutionGeometry, into gradInput: Tensor)
    /// The gradient of `convolution` with respect to its weight: `gradWeight` has the
    /// weight's shape and is overwritten.
    func convolutionBackwardWeight(_ gradOutput: Tensor, input: Tensor, geometry: ConvolutionGeometry, into gradWeight: Tensor)
    /// Max pooling: writes each window's maximum to `out` and, to `indices` (int64, `out`'s
    /// shape), its flat position within the input plane (`h · W + w`), as PyTorch's
    /// `return_indices`. Padding never wins; NaN does.
    func maxPool(_ input: Tensor, geometry: PoolingGeometry, into out: Tensor, indices: Tensor)
    /// The gradient of `maxPool`: `gradInput` (the input's shape) is overwritten with
    /// zeros plus, at every recorded index, the sum of the output gradients that chose it.
    func maxPoolBackward(_ gradOutput: Tensor, indices: Tensor, into gradInput: Tensor)
    /// Average pooling. A window starts at `o·stride − padding`, ends `kernel` later but
    /// no further than `input + padding`; its divisor is that span (`countIncludePad`) or
    /// the part of it inside the input.
    func avgPool(_ input: Tensor, geometry: PoolingGeometry, into out: Tensor)
    /// The gradient of `avgPool`: `gradInput` (the input's shape) is overwritten.
    func avgPoolBackward(_ gradOutput: Tensor, geometry: PoolingGeometry, into gradInput: Tensor)
}

extension Backend {
    /// The mask written out (`-inf` where blocked), then the plain softmax (for devices
    /// without a fused form).
    public func causalSoftmax(_ x: Tensor, offset: Int, into out: Tensor) {
        let (length, width) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
        var keep = [Bool](repeating: false, count: length * width)
        for i in 0..<length { for j in 0..<min(width, max(0, i + offset + 1)) { keep[i * width + j] = true } }
        let mask = Tensor(keep, shape: [length, width]).to(x.device)
        let blocked = Tensor.full([], -Double.infinity, dtype: x.dtype).to(x.device)
        let masked = Tensor(uninitializedShape: x.shape, dtype: x.dtype, device: x.device)
        select(mask.broadcastView(to: x.shape), x, blocked.broadcastView(to: x.shape), into: masked)
        softmax(masked, log: false, into: out)
    }

    /// The product into a temporary, then added (for devices without an accumulating product).
    public func matmulAdd(_ a: MatrixBatch, _ b: MatrixBatch, into out: Tensor) {
        addProductThroughTemporary(a, b, into: out)
    }

    /// `out += a · b` as a product into a temporary and an add (what `matmulAdd` falls back to).
    func addProductThroughTemporary(_ a: MatrixBatch, _ b: MatrixBatch, into out: Tensor) {
        let product = Tensor(uninitializedShape: out.shape, dtype: out.dtype, device: out.device)
        matmul(a, b, into: product)
        binary(.add, out, product, into: out)
    }

    /// The product, then the bias and the activation in passes of their own (for devices
    /// without a fused form).
    public func linear(_ a: MatrixBatch, _ b: MatrixBatch, bias: Tensor?, activation: UnaryOp?, into out: Tensor) {
        matmul(a, b, into: out)
        if let bias { binary(.add, out, bias.broadcastView(to: out.shape), into: out) }
        if let activation { unary(activation, out, into: out) }
    }
}
