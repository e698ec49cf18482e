// Normalisation layers (BatchNorm1d/2d/3d, LayerNorm, GroupNorm) and their functional
// forms, built from Tensor ops so autograd differentiates them.
import Ember

/// Shape `[1, C, 1, ...]` that broadcasts a per-channel vector against a `[N, C, ...]` input.
private func channelShape(_ channels: Int, rank: Int) -> [Int] {
    var shape = [Int](repeating: 1, count: rank)
    shape[1] = channels
    return shape
}

/// Batch normalisation over the channel dimension 1 (`torch.nn.functional.batch_norm`):
/// `y = (x - μ) / √(σ² + ε) · γ + β`.
///
/// In training mode (or without running statistics) μ and σ² are the batch's mean and
/// biased variance over every dimension but 1, and the running statistics, when given,
/// are updated in place: `running = (1 - momentum) · running + momentum · batch`, with the
/// *unbiased* batch variance, as PyTorch. In evaluation mode the running statistics are used.
///
/// - Parameters:
///   - input: `[N, C]` or `[N, C, ...]`.
///   - runningMean: `[C]` running mean, updated in training mode; may be nil in training mode.
///   - runningVar: `[C]` running variance, updated in training mode; may be nil in training mode.
///   - weight: `[C]` scale γ, or nil.
///   - bias: `[C]` shift β, or nil.
///   - training: whether to normalise with the batch's statistics.
///   - momentum: the weight of the new batch in the running-statistics update.
///   - eps: added to the variance for numerical stability.
/// - Returns: the normalised input, same shape.
///
/// ```swift
/// let mean = Tensor.zeros([3]), variance = Tensor.ones([3])
/// let y = batchNorm(Tensor.randn([8, 3, 4, 4]), runningMean: mean, runningVar: variance, training: true)
/// ```
public func batchNorm(_ input: Tensor, runningMean: Tensor?, runningVar: Tensor?, weight: Tensor? = nil,
                      bias: Tensor? = nil, training: Bool = false, momentum: Double = 0.1, eps: Double = 1e-5) -> Tensor {
    precondition(input.rank >= 2, "batch_norm: input must have at least 2 dimensions [N, C, ...], got shape \(input.shape)")
    let channels = input.shape[1]
    for (name, tensor) in [("running_mean", runningMean), ("running_var", runningVar), ("weight", weight), ("bias", bias)] {
        if let tensor {
            precondition(tensor.shape == [channels], "batch_norm: \(name) has shape \(tensor.shape), input has \(channels) channels")
        }
    }
    let shape = channelShape(channels, rank: input.rank)
    let normalized: Tensor
    if training {
        let dims = [0] + Array(2..<input.rank)
        let perChannel = input.count / Swift.max(channels, 1)
        precondition(perChannel > 1, "batch_norm: expected more than 1 value per channel when training, got input of shape \(input.shape)")
        let mean = input.mean(dims: dims, keepDim: true)
        let centered = input - mean
        let variance = (centered * centered).mean(dims: dims, keepDim: true)
        normalized = centered * rsqrt(variance + eps)
        noGrad {
            if let runningMean {
                _ = runningMean.mul_(1 - momentum).add_(mean.reshape([channels]).to(runningMean.dtype), alpha: momentum)
            }
            if let runningVar {
                let unbiased = variance.reshape([channels]) * (Double(perChannel) / Double(perChannel - 1))
                _ = runningVar.mul_(1 - momentum).add_(unbiased.to(runningVar.dtype), alpha: momentum)
            }
        }
    } else {
        guard let runningMean, let runningVar else {
            preconditionFailure("batch_norm: evaluation mode needs running_mean and running_var")
        }
        let mean = runningMean.to(input.dtype).reshape(shape), variance = runningVar.to(input.dtype).reshape(shape)
        normalized = (input - mean) * rsqrt(variance + eps)
    }
    return affine(normalized, weight: weight?.reshape(shape), bias: bias?.reshape(shape))
}

/// `x · weight + bias`, skipping whichever is nil.
private func affine(_ x: Tensor, weight: Tensor?, bias: Tensor?) -> Tensor {
    var y = x
    if let weight { y = y * weight }
    if let bias { y = y + bias }
    return y
}

/// Layer normalisation over the last dimensions (`torch.nn.functional.layer_norm`):
/// `y = (x - E[x]) / √(Var[x] + ε) · γ + β`, with mean and biased variance taken over the
/// trailing `normalizedShape.count` dimensions of each sample.
///
/// - Parameters:
///   - input: `[..., *normalizedShape]`.
///   - normalizedShape: the trailing shape to normalise over.
///   - weight: scale γ of shape `normalizedShape`, or nil.
///   - bias: shift β of shape `normalizedShape`, or nil.
///   - eps: added to the variance for numerical stability.
/// - Returns: the normalised input, same shape.
///
/// ```swift
/// let x = Tensor.randn([2, 5, 16])
/// let y = layerNorm(x, normalizedShape: [16])   // each [16] row: mean 0, variance 1
/// ```
public func layerNorm(_ input: Tensor, normalizedShape: [Int], weight: Tensor? = nil, bias: Tensor? = nil,
                      eps: Double = 1e-5) -> Tensor {
    let k = normalizedShape.count
    precondition(k >= 1 && input.rank >= k && Array(input.shape.suffix(k)) == normalizedShape,
                 "layer_norm: input of shape \(input.shape) does not end with the normalized shape \(normalizedShape)")
    for (name, tensor) in [("weight", weight), ("bias", bias)] {
        if let tensor {
            precondition(tensor.shape == normalizedShape, "layer_norm: \(name) has shape \(tensor.shape), expected \(normalizedShape)")
        }
    }
    return affine(input.normalizeLastDims(k, eps: eps), weight: weight, bias: bias)
}

/// Group normalisation (`torch.nn.functional.group_norm`): the channels of each sample are
/// split into `numGroups` groups, each normalised by its own mean and biased variance, then
/// scaled and shifted per channel.
///
/// - Parameters:
///   - input: `[N, C, ...]` with `C` divisible by `numGroups`.
///   - numGroups: the number of groups.
///   - weight: `[C]` scale γ, or nil.
///   - bias: `[C]` shift β, or nil.
///   - eps: added to the variance for numerical stability.
/// - Returns: the normalised input, same shape.
///
/// ```swift
/// let x = Tensor.randn([2, 6, 8, 8])
/// let y = groupNorm(x, numGroups: 3)
/// ```
public func groupNorm(_ input: Tensor, numGroups: Int, weight: Tensor? = nil, bias: Tensor? = nil,
                      eps: Double = 1e-5) -> Tensor {
    precondition(input.rank >= 2, "group_norm: input must have at least 2 dimensions [N, C, ...], got shape \(input.shape)")
    let channels = input.shape[1]
    precondition(numGroups > 0 && channels % numGroups == 0,
                 "group_norm: \(channels) channels cannot be split into \(numGroups) groups")
    for (name, tensor) in [("weight", weight), ("bias", bias)] {
        if let tensor {
            precondition(tensor.shape == [channels], "group_norm: \(name) has shape \(tensor.shape), input has \(channels) channels")
        }
    }
    let grouped = input.reshape([input.shape[0], numGroups, -1])
    let centered = grouped - grouped.mean(dim: 2, keepDim: true)
    let variance = (centered * centered).mean(dim: 2, keepDim: true)
    let normalized = (centered * rsqrt(variance + eps)).reshape(input.shape)
    let shape = channelShape(channels, rank: input.rank)
    return affine(normalized, weight: weight?.reshape(shape), bias: bias?.reshape(shape))
}

/// Batch normalisation over the channels of `[N, C, ...]` inputs; the shared implementation
/// of `BatchNorm1d`, `BatchNorm2d` and `BatchNorm3d` (PyTorch's `_BatchNorm`), usable
/// directly for any input rank ≥ 2.
///
/// Parameters and buffers, named as PyTorch: `weight` (ones) and `bias` (zeros) of shape
/// `[numFeatures]` when `affine`; `running_mean` (zeros), `running_var` (ones) and
/// `num_batches_tracked` (int64 scalar 0) when `trackRunningStats`. In training mode it
/// normalises with the batch's statistics and updates the running ones (unbiased variance);
/// in evaluation mode it uses the running statistics.
///
/// ```swift
/// let norm = BatchNorm2d(16)
/// let y = norm(Tensor.randn([8, 16, 32, 32]))
/// norm.eval()   // now uses running_mean / running_var
/// ```
public class BatchNorm: Module {
    /// The number of channels `C`.
    public let numFeatures: Int
    /// Added to the variance for numerical stability.
    public let eps: Double
    /// The weight of each new batch in the running statistics; nil for a cumulative
    /// (equal-weight) average over all batches seen.
    public let momentum: Double?
    /// Whether the layer has a learnable `weight` (and `bias`, unless created with `bias: false`).
    public let affine: Bool
    /// Whether the layer keeps running statistics for evaluation mode.
    public let trackRunningStats: Bool
    /// The learnable scale γ, `[numFeatures]`, or nil.
    public var weight: Tensor?
    /// The learnable shift β, `[numFeatures]`, or nil.
    public var bias: Tensor?
    private var runningMeanBuffer: Buffer?
    private var runningVarBuffer: Buffer?
    private var numBatchesTrackedBuffer: Buffer?

    /// Creates the layer.
    ///
    /// - Parameters:
    ///   - numFeatures: the number of channels `C`.
    ///   - eps: added to the variance for numerical stability.
    ///   - momentum: the weight of each new batch in the running statistics (0.1); nil for a
    ///     cumulative average.
    ///   - affine: whether to learn a per-channel scale and shift.
    ///   - trackRunningStats: whether to keep running statistics; without them the batch's
    ///     statistics are used in evaluation mode too.
    ///   - bias: whether an affine layer also learns the shift β.
    public init(_ numFeatures: Int, eps: Double = 1e-5, momentum: Double? = 0.1, affine: Bool = true,
                trackRunningStats: Bool = true, bias: Bool = true) {
        precondition(numFeatures > 0, "\(Self.self): numFeatures must be positive, got \(numFeatures)")
        self.numFeatures = numFeatures
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.trackRunningStats = trackRunningStats
        weight = affine ? Tensor.ones([numFeatures], requiresGrad: true) : nil
        self.bias = affine && bias ? Tensor.zeros([numFeatures], requiresGrad: true) : nil
        if trackRunningStats {
            runningMeanBuffer = Buffer(wrappedValue: Tensor.zeros([numFeatures]), name: "running_mean")
            runningVarBuffer = Buffer(wrappedValue: Tensor.ones([numFeatures]), name: "running_var")
            numBatchesTrackedBuffer = Buffer(wrappedValue: Tensor.zeros([], dtype: .int64), name: "num_batches_tracked")
        }
        super.init()
    }

    /// The running mean (`running_mean`), `[numFeatures]`; nil without `trackRunningStats`.
    public var runningMean: Tensor? {
        get { runningMeanBuffer?.value }
        set { if let newValue { runningMeanBuffer?.value = newValue } }
    }

    /// The running variance (`running_var`), `[numFeatures]`; nil without `trackRunningStats`.
    public var runningVar: Tensor? {
        get { runningVarBuffer?.value }
        set { if let newValue { runningVarBuffer?.value = newValue } }
    }

    /// How many training batches updated the running statistics (`num_batches_tracked`,
    /// an int64 scalar); nil without `trackRunningStats`.
    public var numBatchesTracked: Tensor? { numBatchesTrackedBuffer?.value }

    /// Resets the running statistics to mean 0, variance 1 and no batches tracked.
    public func resetRunningStats() {
        noGrad {
            _ = runningMean?.zero_()
            _ = runningVar?.fill_(1)
            _ = numBatchesTracked?.zero_()
        }
    }

    /// Checks the input's rank; subclasses name the rank they accept.
    func checkInput(_ input: Tensor) {
        precondition(input.rank >= 2, "\(type(of: self)): expected an input [N, C, ...], got shape \(input.shape)")
    }

    public override func forward(_ input: Tensor) -> Tensor {
        checkInput(input)
        precondition(input.shape[1] == numFeatures,
                     "\(type(of: self)): input of shape \(input.shape) has \(input.shape[1]) channels, the layer expects \(numFeatures)")
        var factor = momentum ?? 0
        if isTraining, let tracked = numBatchesTracked {
            noGrad { _ = tracked.add_(Tensor(Int64(1))) }
            if momentum == nil { factor = 1 / Double(tracked.item(Int64.self)) }
        }
        // Batch statistics in training mode, and always without running statistics.
        return batchNorm(input, runningMean: runningMean, runningVar: runningVar, weight: weight, bias: bias,
                         training: isTraining || !trackRunningStats, momentum: factor, eps: eps)
    }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        switch name {
        case "weight": weight = tensor
        case "bias": bias = tensor
        default: super.replaceParameter(name, with: tensor)
        }
    }

    public override var extraDescription: String {
        "\(numFeatures), eps=\(PythonRepr.float(eps)), momentum=\(PythonRepr.optionalFloat(momentum)), "
            + "affine=\(PythonRepr.bool(affine)), bias=\(PythonRepr.bool(bias != nil)), "
            + "track_running_stats=\(PythonRepr.bool(trackRunningStats))"
    }
}

/// Batch normalisation of `[N, C]` or `[N, C, L]` inputs (`torch.nn.BatchNorm1d`); see
/// `BatchNorm` for the parameters, buffers and modes.
///
/// ```swift
/// let norm = BatchNorm1d(64)
/// let y = norm(Tensor.randn([32, 64]))
/// ```
public final class BatchNorm1d: BatchNorm {
    override func checkInput(_ input: Tensor) {
        precondition(input.rank == 2 || input.rank == 3,
                     "BatchNorm1d: expected a 2-D or 3-D input [N, C] or [N, C, L], got shape \(input.shape)")
    }
}

/// Batch normalisation of `[N, C, H, W]` inputs (`torch.nn.BatchNorm2d`); see `BatchNorm`
/// for the parameters, buffers and modes.
///
/// ```swift
/// let norm = BatchNorm2d(16)
/// let y = norm(Tensor.randn([8, 16, 32, 32]))
/// ```
public final class BatchNorm2d: BatchNorm {
    override func checkInput(_ input: Tensor) {
        precondition(input.rank == 4, "BatchNorm2d: expected a 4-D input [N, C, H, W], got shape \(input.shape)")
    }
}

/// Batch normalisation of `[N, C, D, H, W]` inputs (`torch.nn.BatchNorm3d`); see
/// `BatchNorm` for the parameters, buffers and modes.
///
/// ```swift
/// let norm = BatchNorm3d(4)
/// let y = norm(Tensor.randn([2, 4, 8, 8, 8]))
/// ```
public final class BatchNorm3d: BatchNorm {
    override func checkInput(_ input: Tensor) {
        precondition(input.rank == 5, "BatchNorm3d: expected a 5-D input [N, C, D, H, W], got shape \(input.shape)")
    }
}

/// Layer normalisation over the trailing `normalizedShape` of each sample
/// (`torch.nn.LayerNorm`); see `layerNorm` for the formula.
///
/// Parameters, named as PyTorch: `weight` (ones) and `bias` (zeros) of shape
/// `normalizedShape` when `elementwiseAffine`. The same computation in training and
/// evaluation modes.
///
/// ```swift
/// let norm = LayerNorm(512)
/// let y = norm(Tensor.randn([4, 10, 512]))
/// print(norm)   // LayerNorm((512,), eps=1e-05, elementwise_affine=True, bias=True)
/// ```
public final class LayerNorm: Module {
    /// The trailing shape normalised over.
    public let normalizedShape: [Int]
    /// Added to the variance for numerical stability.
    public let eps: Double
    /// Whether the layer learns a per-element scale (and shift).
    public let elementwiseAffine: Bool
    /// The learnable scale γ, of shape `normalizedShape`, or nil.
    public var weight: Tensor?
    /// The learnable shift β, of shape `normalizedShape`, or nil.
    public var bias: Tensor?

    /// Creates the layer.
    ///
    /// - Parameters:
    ///   - normalizedShape: the trailing shape to normalise over.
    ///   - eps: added to the variance for numerical stability.
    ///   - elementwiseAffine: whether to learn a per-element scale and shift.
    ///   - bias: whether an affine layer also learns the shift β.
    public init(_ normalizedShape: [Int], eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        precondition(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 },
                     "LayerNorm: normalizedShape must be non-empty and positive, got \(normalizedShape)")
        self.normalizedShape = normalizedShape
        self.eps = eps
        self.elementwiseAffine = elementwiseAffine
        weight = elementwiseAffine ? Tensor.ones(normalizedShape, requiresGrad: true) : nil
        self.bias = elementwiseAffine && bias ? Tensor.zeros(normalizedShape, requiresGrad: true) : nil
        super.init()
    }

    /// Creates the layer normalising over the last dimension of size `normalizedShape`.
    ///
    /// - Parameters:
    ///   - normalizedShape: the size of the last dimension.
    ///   - eps: added to the variance for numerical stability.
    ///   - elementwiseAffine: whether to learn a per-element scale and shift.
    ///   - bias: whether an affine layer also learns the shift β.
    public convenience init(_ normalizedShape: Int, eps: Double = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
        self.init([normalizedShape], eps: eps, elementwiseAffine: elementwiseAffine, bias: bias)
    }

    public override func forward(_ input: Tensor) -> Tensor {
        layerNorm(input, normalizedShape: normalizedShape, weight: weight, bias: bias, eps: eps)
    }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        switch name {
        case "weight": weight = tensor
        case "bias": bias = tensor
        default: super.replaceParameter(name, with: tensor)
        }
    }

    public override var extraDescription: String {
        "\(PythonRepr.tuple(normalizedShape)), eps=\(PythonRepr.float(eps)), "
            + "elementwise_affine=\(PythonRepr.bool(elementwiseAffine)), bias=\(PythonRepr.bool(bias != nil))"
    }
}

/// Group normalisation (`torch.nn.GroupNorm`); see `groupNorm` for the formula.
///
/// Parameters, named as PyTorch: `weight` (ones) and `bias` (zeros) of shape
/// `[numChannels]` when `affine`. The same computation in training and evaluation modes.
///
/// ```swift
/// let norm = GroupNorm(numGroups: 4, numChannels: 32)
/// let y = norm(Tensor.randn([2, 32, 16, 16]))
/// ```
public final class GroupNorm: Module {
    /// The number of channel groups.
    public let numGroups: Int
    /// The number of channels `C`.
    public let numChannels: Int
    /// Added to the variance for numerical stability.
    public let eps: Double
    /// Whether the layer learns a per-channel scale (and shift).
    public let affine: Bool
    /// The learnable scale γ, `[numChannels]`, or nil.
    public var weight: Tensor?
    /// The learnable shift β, `[numChannels]`, or nil.
    public var bias: Tensor?

    /// Creates the layer.
    ///
    /// - Parameters:
    ///   - numGroups: the number of groups; must divide `numChannels`.
    ///   - numChannels: the number of channels `C`.
    ///   - eps: added to the variance for numerical stability.
    ///   - affine: whether to learn a per-channel scale and shift.
    ///   - bias: whether an affine layer also learns the shift β.
    public init(numGroups: Int, numChannels: Int, eps: Double = 1e-5, affine: Bool = true, bias: Bool = true) {
        precondition(numGroups > 0 && numChannels % numGroups == 0,
                     "GroupNorm: numChannels (\(numChannels)) must be divisible by numGroups (\(numGroups))")
        self.numGroups = numGroups
        self.numChannels = numChannels
        self.eps = eps
        self.affine = affine
        weight = affine ? Tensor.ones([numChannels], requiresGrad: true) : nil
        self.bias = affine && bias ? Tensor.zeros([numChannels], requiresGrad: true) : nil
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank >= 2 && input.shape[1] == numChannels,
                     "GroupNorm: input of shape \(input.shape) does not have \(numChannels) channels in dimension 1")
        return groupNorm(input, numGroups: numGroups, weight: weight, bias: bias, eps: eps)
    }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        switch name {
        case "weight": weight = tensor
        case "bias": bias = tensor
        default: super.replaceParameter(name, with: tensor)
        }
    }

    public override var extraDescription: String {
        "\(numGroups), \(numChannels), eps=\(PythonRepr.float(eps)), affine=\(PythonRepr.bool(affine)), bias=\(PythonRepr.bool(bias != nil))"
    }
}
