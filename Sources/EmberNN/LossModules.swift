// Loss modules (torch.nn's CrossEntropyLoss, MSELoss, ...): Modules that hold a loss's
// options and call the functions in Losses.swift. Class weights are buffers, as PyTorch's
// register_buffer, so they move with `to(_:)` and appear in state dicts as `weight` and
// `pos_weight`.
import Ember

/// The base class of the loss modules (PyTorch's `_Loss`): holds the reduction and is called
/// with an input and a target, `loss(input, target)`.
///
/// The printed form lists the options that differ from their defaults, so a loss with
/// default options prints as PyTorch does: `CrossEntropyLoss()`.
///
/// ```swift
/// let criterion: Loss = MSELoss(reduction: .sum)
/// let value = criterion(prediction, target)
/// print(criterion)   // MSELoss(reduction='sum')
/// ```
open class Loss: Module {
    /// How per-element losses are combined.
    public var reduction: Reduction

    /// A loss with `reduction` (`.batchMean` is only for `KLDivLoss`).
    public init(reduction: Reduction = .mean) {
        checkLossReduction(reduction, "\(Self.self)")
        self.reduction = reduction
        super.init()
    }

    /// A loss that also accepts `.batchMean`.
    init(reduction: Reduction, allowsBatchMean: Bool) {
        if !allowsBatchMean { checkLossReduction(reduction, "\(Self.self)") }
        self.reduction = reduction
        super.init()
    }

    /// Computes the loss of `input` against `target`. Subclasses override this.
    open func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        fatalError("\(type(of: self)): override forward(_:_:) to call this loss")
    }

    /// Loss modules take two tensors: `loss(input, target)`.
    override open func forward(_ input: Tensor) -> Tensor {
        fatalError("\(type(of: self)) takes an input and a target: call it as loss(input, target)")
    }

    /// Calls `forward(input, target)`: `let value = criterion(output, labels)`.
    public func callAsFunction(_ input: Tensor, _ target: Tensor) -> Tensor { forward(input, target) }

    /// The options that differ from their defaults, in PyTorch's spelling.
    var options: [String] { reduction == .mean ? [] : ["reduction='\(reduction.rawValue)'"] }

    /// `reduction='sum'` and any other non-default options, comma separated.
    override open var extraDescription: String { options.joined(separator: ", ") }
}

/// The base class of the losses that compare three tensors (cosine embedding, margin
/// ranking, triplet margin), called as `loss(a, b, c)`.
///
/// ```swift
/// let criterion: TripleInputLoss = TripletMarginLoss(margin: 0.5)
/// let value = criterion(anchor, positive, negative)
/// ```
open class TripleInputLoss: Loss {
    /// Computes the loss of three tensors. Subclasses override this.
    open func forward(_ input1: Tensor, _ input2: Tensor, _ input3: Tensor) -> Tensor {
        fatalError("\(type(of: self)): override forward(_:_:_:) to call this loss")
    }

    /// These losses take three tensors.
    override open func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        fatalError("\(type(of: self)) takes three tensors: call it as loss(a, b, c)")
    }

    /// Calls `forward(input1, input2, input3)`.
    public func callAsFunction(_ input1: Tensor, _ input2: Tensor, _ input3: Tensor) -> Tensor {
        forward(input1, input2, input3)
    }
}

/// Formats a Double as Python prints a float (`1.0`, `0.1`).
private func pythonFloat(_ value: Double) -> String { "\(value)" }

// MARK: - Classification

/// Cross-entropy between logits and class targets (`torch.nn.CrossEntropyLoss`); see
/// `crossEntropy(_:_:weight:ignoreIndex:reduction:labelSmoothing:)` for the formula:
/// `ℓᵢ = -w[yᵢ] · log softmax(xᵢ)[yᵢ]`, mean normalised by `Σ w[yᵢ]`.
///
/// ```swift
/// let criterion = CrossEntropyLoss(weight: Tensor([1, 2, 1] as [Float]), labelSmoothing: 0.1)
/// let loss = criterion(model(x), labels)
/// loss.backward()
/// ```
public final class CrossEntropyLoss: Loss {
    /// Per-class weights (a buffer, `weight` in state dicts), or nil.
    private var weightBuffer: Buffer?
    /// A target index that is skipped.
    public var ignoreIndex: Int
    /// Label smoothing ε in `[0, 1]`.
    public var labelSmoothing: Double

    /// Per-class weights of shape `[C]`, or nil.
    public var weight: Tensor? {
        get { weightBuffer?.value }
        set { weightBuffer = newValue.map { Buffer(wrappedValue: $0, name: "weight") } }
    }

    /// A cross-entropy loss with optional class `weight`, `ignoreIndex`, `reduction` and
    /// `labelSmoothing`, as `nn.CrossEntropyLoss(weight, ignore_index=..., reduction=..., label_smoothing=...)`.
    public init(weight: Tensor? = nil, ignoreIndex: Int = -100, reduction: Reduction = .mean,
                labelSmoothing: Double = 0) {
        precondition(labelSmoothing >= 0 && labelSmoothing <= 1,
                     "CrossEntropyLoss: labelSmoothing must be between 0 and 1, got \(labelSmoothing)")
        self.weightBuffer = weight.map { Buffer(wrappedValue: $0, name: "weight") }
        self.ignoreIndex = ignoreIndex
        self.labelSmoothing = labelSmoothing
        super.init(reduction: reduction)
    }

    /// `crossEntropy(input, target, ...)` with this module's options.
    override public func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        crossEntropy(input, target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction,
                     labelSmoothing: labelSmoothing)
    }

    override var options: [String] {
        super.options + (ignoreIndex == -100 ? [] : ["ignore_index=\(ignoreIndex)"])
            + (labelSmoothing == 0 ? [] : ["label_smoothing=\(pythonFloat(labelSmoothing))"])
    }
}

/// Negative log-likelihood of class targets given log-probabilities (`torch.nn.NLLLoss`):
/// `ℓᵢ = -w[yᵢ] · x[i, yᵢ]`; see `nllLoss(_:_:weight:ignoreIndex:reduction:)`.
///
/// ```swift
/// let criterion = NLLLoss(ignoreIndex: 0)
/// let loss = criterion(logSoftmax(model(x), dim: 1), labels)
/// loss.backward()
/// ```
public final class NLLLoss: Loss {
    private var weightBuffer: Buffer?
    /// A target index that is skipped.
    public var ignoreIndex: Int

    /// Per-class weights of shape `[C]` (a buffer), or nil.
    public var weight: Tensor? {
        get { weightBuffer?.value }
        set { weightBuffer = newValue.map { Buffer(wrappedValue: $0, name: "weight") } }
    }

    /// An NLL loss with optional class `weight`, `ignoreIndex` and `reduction`.
    public init(weight: Tensor? = nil, ignoreIndex: Int = -100, reduction: Reduction = .mean) {
        self.weightBuffer = weight.map { Buffer(wrappedValue: $0, name: "weight") }
        self.ignoreIndex = ignoreIndex
        super.init(reduction: reduction)
    }

    /// `nllLoss(input, target, ...)` with this module's options.
    override public func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        nllLoss(input, target, weight: weight, ignoreIndex: ignoreIndex, reduction: reduction)
    }

    override var options: [String] { super.options + (ignoreIndex == -100 ? [] : ["ignore_index=\(ignoreIndex)"]) }
}

// MARK: - Regression

/// Mean squared error (`torch.nn.MSELoss`): `ℓᵢ = (xᵢ - yᵢ)²`.
///
/// ```swift
/// let criterion = MSELoss()
/// let loss = criterion(model(x), y)
/// loss.backward()
/// ```
public final class MSELoss: Loss {
    /// `mseLoss(input, target, reduction:)`.
    override public func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        mseLoss(input, target, reduction: reduction)
    }
}

/// Mean absolute error (`torch.nn.L1Loss`): `ℓᵢ = |xᵢ - yᵢ|`.
///
/// ```swift
/// let criterion = L1Loss(reduction: .sum)
/// let loss = criterion(model(x), y)
/// loss.backward()
/// ```
public final class L1Loss: Loss {
    /// `l1Loss(input, target, reduction:)`.
    override public func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        l1Loss(input, target, reduction: reduction)
    }
}

/// Smooth L1 loss (`torch.nn.SmoothL1Loss`): `0.5 z²/β` for `z = |x - y| < β`, else `z - 0.5β`.
///
/// ```swift
/// let criterion = SmoothL1Loss(beta: 0.5)
/// let loss = criterion(predictedBoxes, boxes)
/// loss.backward()
/// ```
public final class SmoothL1Loss: Loss {
    /// Where the loss turns from quadratic to linear.
    public var beta: Double

    /// A smooth L1 loss with `reduction` and `beta` (not negative).
    public init(reduction: Reduction = .mean, beta: Double = 1) {
        precondition(beta >= 0, "SmoothL1Loss: beta must not be negative, got \(beta)")
        self.beta = beta
        super.init(reduction: reduction)
    }

    /// `smoothL1Loss(input, target, reduction:, beta:)`.
    override public func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        smoothL1Loss(input, target, reduction: reduction, beta: beta)
    }

    override var options: [String] { super.options + (beta == 1 ? [] : ["beta=\(pythonFloat(beta))"]) }
}

/// Huber loss (`torch.nn.HuberLoss`): `0.5 z²` for `z = |x - y| < δ`, else `δ(z - 0.5δ)`.
///
/// ```swift
/// let criterion = HuberLoss(delta: 2)
/// let loss = criterion(q, returns)
/// loss.backward()
/// ```
public final class HuberLoss: Loss {
    /// Where the loss turns from quadratic to linear.
    public var delta: Double

    /// A Huber loss with `reduction` and a positive `delta`.
    public init(reduction: Reduction = .mean, delta: Double = 1) {
        precondition(delta > 0, "HuberLoss: delta must be positive, got \(delta)")
        self.delta = delta
        super.init(reduction: reduction)
    }

    /// `huberLoss(input, target, reduction:, delta:)`.
    override public func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        huberLoss(input, target, reduction: reduction, delta: delta)
    }

    override var options: [String] { super.options + (delta == 1 ? [] : ["delta=\(pythonFloat(delta))"]) }
}

// MARK: - Binary classification

/// Binary cross-entropy on probabilities (`torch.nn.BCELoss`):
/// `ℓᵢ = -wᵢ (yᵢ log xᵢ + (1 - yᵢ) log(1 - xᵢ))`, logs clamped at -100.
///
/// ```swift
/// let criterion = BCELoss()
/// let loss = criterion(sigmoid(model(x)), labels)
/// loss.backward()
/// ```
public final class BCELoss: Loss {
    private var weightBuffer: Buffer?

    /// Weights that broadcast to the input (a buffer), or nil.
    public var weight: Tensor? {
        get { weightBuffer?.value }
        set { weightBuffer = newValue.map { Buffer(wrappedValue: $0, name: "weight") } }
    }

    /// A BCE loss with optional `weight` and `reduction`.
    public init(weight: Tensor? = nil, reduction: Reduction = .mean) {
        self.weightBuffer = weight.map { Buffer(wrappedValue: $0, name: "weight") }
        super.init(reduction: reduction)
    }

    /// `binaryCrossEntropy(input, target, weight:, reduction:)`.
    override public func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        binaryCrossEntropy(input, target, weight: weight, reduction: reduction)
    }
}

/// Binary cross-entropy on logits, numerically stable (`torch.nn.BCEWithLogitsLoss`):
/// `ℓᵢ = wᵢ ((1 - yᵢ) xᵢ - (1 + (p - 1) yᵢ) log σ(xᵢ))`.
///
/// ```swift
/// let criterion = BCEWithLogitsLoss(posWeight: Tensor([3] as [Float]))
/// let loss = criterion(model(x), labels)
/// loss.backward()
/// ```
public final class BCEWithLogitsLoss: Loss {
    private var weightBuffer: Buffer?
    private var posWeightBuffer: Buffer?

    /// Weights that broadcast to the input (a buffer, `weight`), or nil.
    public var weight: Tensor? {
        get { weightBuffer?.value }
        set { weightBuffer = newValue.map { Buffer(wrappedValue: $0, name: "weight") } }
    }

    /// Weights of positive examples, broadcast along the last dimension (a buffer,
    /// `pos_weight`), or nil.
    public var posWeight: Tensor? {
        get { posWeightBuffer?.value }
        set { posWeightBuffer = newValue.map { Buffer(wrappedValue: $0, name: "pos_weight") } }
    }

    /// A BCE-with-logits loss with optional `weight`, `reduction` and `posWeight`.
    public init(weight: Tensor? = nil, reduction: Reduction = .mean, posWeight: Tensor? = nil) {
        self.weightBuffer = weight.map { Buffer(wrappedValue: $0, name: "weight") }
        self.posWeightBuffer = posWeight.map { Buffer(wrappedValue: $0, name: "pos_weight") }
        super.init(reduction: reduction)
    }

    /// `binaryCrossEntropyWithLogits(input, target, weight:, posWeight:, reduction:)`.
    override public func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        binaryCrossEntropyWithLogits(input, target, weight: weight, posWeight: posWeight, reduction: reduction)
    }
}

// MARK: - Distributions

/// Kullback-Leibler divergence loss (`torch.nn.KLDivLoss`): `ℓᵢ = yᵢ (log yᵢ - xᵢ)` with
/// `x` log-probabilities, or `e^{yᵢ}(yᵢ - xᵢ)` with `logTarget`. Use `.batchMean` for the
/// divergence per sample.
///
/// ```swift
/// let criterion = KLDivLoss(reduction: .batchMean)
/// let loss = criterion(logSoftmax(student(x), dim: 1), softmax(teacher(x), dim: 1))
/// loss.backward()
/// ```
public final class KLDivLoss: Loss {
    /// Whether the target holds log-probabilities.
    public var logTarget: Bool

    /// A KL-divergence loss with `reduction` (`.batchMean` allowed) and `logTarget`.
    public init(reduction: Reduction = .mean, logTarget: Bool = false) {
        self.logTarget = logTarget
        super.init(reduction: reduction, allowsBatchMean: true)
    }

    /// `klDiv(input, target, reduction:, logTarget:)`.
    override public func forward(_ input: Tensor, _ target: Tensor) -> Tensor {
        klDiv(input, target, reduction: reduction, logTarget: logTarget)
    }

    override var options: [String] { super.options + (logTarget ? ["log_target=True"] : []) }
}

// MARK: - Embeddings and ranking

/// Cosine embedding loss (`torch.nn.CosineEmbeddingLoss`): `1 - cos(x₁, x₂)` for `y = 1`,
/// `max(0, cos(x₁, x₂) - margin)` for `y = -1`.
///
/// ```swift
/// let criterion = CosineEmbeddingLoss(margin: 0.5)
/// let loss = criterion(encoder(a), encoder(b), labels)   // labels: 1 or -1
/// loss.backward()
/// ```
public final class CosineEmbeddingLoss: TripleInputLoss {
    /// The margin for dissimilar pairs.
    public var margin: Double

    /// A cosine embedding loss with `margin` and `reduction`.
    public init(margin: Double = 0, reduction: Reduction = .mean) {
        self.margin = margin
        super.init(reduction: reduction)
    }

    /// `cosineEmbeddingLoss(input1, input2, target, margin:, reduction:)`.
    override public func forward(_ input1: Tensor, _ input2: Tensor, _ target: Tensor) -> Tensor {
        cosineEmbeddingLoss(input1, input2, target, margin: margin, reduction: reduction)
    }

    override var options: [String] { (margin == 0 ? [] : ["margin=\(pythonFloat(margin))"]) + super.options }
}

/// Margin ranking loss (`torch.nn.MarginRankingLoss`): `max(0, -y (x₁ - x₂) + margin)`.
///
/// ```swift
/// let criterion = MarginRankingLoss(margin: 0.1)
/// let loss = criterion(score(a), score(b), Tensor.onesLike(score(a)))
/// loss.backward()
/// ```
public final class MarginRankingLoss: TripleInputLoss {
    /// The required gap.
    public var margin: Double

    /// A margin ranking loss with `margin` and `reduction`.
    public init(margin: Double = 0, reduction: Reduction = .mean) {
        self.margin = margin
        super.init(reduction: reduction)
    }

    /// `marginRankingLoss(input1, input2, target, margin:, reduction:)`.
    override public func forward(_ input1: Tensor, _ input2: Tensor, _ target: Tensor) -> Tensor {
        marginRankingLoss(input1, input2, target, margin: margin, reduction: reduction)
    }

    override var options: [String] { (margin == 0 ? [] : ["margin=\(pythonFloat(margin))"]) + super.options }
}

/// Triplet margin loss (`torch.nn.TripletMarginLoss`):
/// `max(0, ‖a - p + ε‖_p - ‖a - n + ε‖_p + margin)`, optionally with the distance swap.
///
/// ```swift
/// let criterion = TripletMarginLoss(margin: 0.3, swap: true)
/// let loss = criterion(net(anchor), net(positive), net(negative))
/// loss.backward()
/// ```
public final class TripletMarginLoss: TripleInputLoss {
    /// The required gap between the distances.
    public var margin: Double
    /// The norm degree of the distance.
    public var p: Double
    /// Added to the differences for stability.
    public var eps: Double
    /// Whether to use the distance swap.
    public var swap: Bool

    /// A triplet margin loss with `margin`, norm degree `p`, `eps`, `swap` and `reduction`.
    public init(margin: Double = 1, p: Double = 2, eps: Double = 1e-6, swap: Bool = false,
                reduction: Reduction = .mean) {
        precondition(p > 0, "TripletMarginLoss: p must be positive, got \(p)")
        self.margin = margin
        self.p = p
        self.eps = eps
        self.swap = swap
        super.init(reduction: reduction)
    }

    /// `tripletMarginLoss(anchor, positive, negative, ...)` with this module's options.
    override public func forward(_ anchor: Tensor, _ positive: Tensor, _ negative: Tensor) -> Tensor {
        tripletMarginLoss(anchor, positive, negative, margin: margin, p: p, eps: eps, swap: swap, reduction: reduction)
    }

    override var options: [String] {
        (margin == 1 ? [] : ["margin=\(pythonFloat(margin))"]) + (p == 2 ? [] : ["p=\(pythonFloat(p))"])
            + (eps == 1e-6 ? [] : ["eps=\(eps)"]) + (swap ? ["swap=True"] : []) + super.options
    }
}
