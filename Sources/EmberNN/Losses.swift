// Loss functions (torch.nn.functional's losses), written on Ember's differentiable tensor
// ops so that their gradients come from autograd. Each follows PyTorch's definition,
// including its weighting and normalisation rules; the modules in LossModules.swift call
// these.
import Ember

/// How a loss turns its per-element values into the result (PyTorch's `reduction`).
///
/// ```swift
/// mseLoss(prediction, target, reduction: .sum)   // Σ (x - y)²
/// mseLoss(prediction, target, reduction: .none)  // (x - y)², one value per element
/// ```
public enum Reduction: String, Sendable, CaseIterable {
    /// No reduction: the per-element losses, in the shape the loss documents.
    case none
    /// The mean of the per-element losses (the default). Losses with class weights divide
    /// by the sum of the weights that were used instead of the element count.
    case mean
    /// The sum of the per-element losses.
    case sum
    /// The sum divided by the batch size (the input's first dimension); only `klDiv`
    /// allows it, since that is the mathematically correct KL divergence per sample.
    case batchMean = "batchmean"
}

// MARK: - Checks and helpers

/// Stops unless `reduction` is allowed for a loss other than KL divergence.
func checkLossReduction(_ reduction: Reduction, _ op: String) {
    precondition(reduction != .batchMean,
                 "\(op): reduction .batchMean is only supported by klDiv (KLDivLoss); use .mean, .sum or .none")
}

/// Applies `.none`, `.mean` or `.sum` to per-element losses.
private func applyReduction(_ loss: Tensor, _ reduction: Reduction) -> Tensor {
    switch reduction {
    case .none: return loss
    case .mean: return loss.mean()
    case .sum: return loss.sum()
    case .batchMean: return loss.rank == 0 ? loss.sum() : loss.sum() / Double(loss.shape[0])
    }
}

/// Stops unless `tensor` has a floating-point dtype.
private func checkFloat(_ tensor: Tensor, _ role: String, _ op: String) {
    precondition(tensor.dtype.isFloatingPoint,
                 "\(op): \(role) must have a floating-point dtype, got \(tensor.dtype) (shape \(tensor.shape))")
}

/// Stops unless `input` and `target` have the same shape and the same floating dtype.
private func checkSameShapeAndDtype(_ input: Tensor, _ target: Tensor, _ op: String,
                            names: (String, String) = ("input", "target")) {
    precondition(input.shape == target.shape,
                 "\(op): \(names.0) of shape \(input.shape) and \(names.1) of shape \(target.shape) must have the same shape")
    checkFloat(input, names.0, op)
    precondition(input.dtype == target.dtype,
                 "\(op): \(names.0) (shape \(input.shape), \(input.dtype)) and \(names.1) (shape \(target.shape), \(target.dtype)) must have the same dtype")
}

/// The broadcast of two shapes, or nil when they do not broadcast.
private func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = Swift.max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let x = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let y = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        guard x == y || x == 1 || y == 1 else { return nil }
        result[i] = x == 1 ? y : x
    }
    return result
}

/// Stops unless `weight` broadcasts to `input`'s shape without enlarging it and shares its dtype.
private func checkElementWeight(_ weight: Tensor, _ input: Tensor, _ role: String, _ op: String) {
    precondition(broadcastShape(weight.shape, input.shape) == input.shape,
                 "\(op): \(role) of shape \(weight.shape) cannot be broadcast to the input's shape \(input.shape)")
    precondition(weight.dtype == input.dtype,
                 "\(op): \(role) (shape \(weight.shape), \(weight.dtype)) and input (shape \(input.shape), \(input.dtype)) must have the same dtype")
}

/// Stops unless `weight` is a 1-D tensor of one weight per class, in the input's dtype.
private func checkClassWeight(_ weight: Tensor, classes: Int, _ input: Tensor, _ op: String) {
    precondition(weight.shape == [classes],
                 "\(op): weight must have shape [\(classes)] (one weight per class) for input of shape \(input.shape), got \(weight.shape)")
    precondition(weight.dtype == input.dtype,
                 "\(op): weight (shape \(weight.shape), \(weight.dtype)) and input (shape \(input.shape), \(input.dtype)) must have the same dtype")
}

/// The per-element negative log-likelihood `-w[t]·x[t]` (0 where the target is ignored) and
/// the per-element weights `w[t]` (0 where ignored), both of the target's shape.
private func nllElements(_ input: Tensor, _ target: Tensor, weight: Tensor?, ignoreIndex: Int,
                 op: String) -> (loss: Tensor, weights: Tensor) {
    precondition(input.rank >= 1, "\(op): input must have at least 1 dimension (classes), got shape \(input.shape)")
    checkFloat(input, "input", op)
    precondition(target.dtype == .int64 || target.dtype == .int32,
                 "\(op): target of class indices must be int64 (or int32), got \(target.dtype) (input shape \(input.shape), target shape \(target.shape))")
    let classDim = input.rank == 1 ? 0 : 1
    let classes = input.shape[classDim]
    var expected = input.shape
    expected.remove(at: classDim)
    precondition(target.shape == expected,
                 "\(op): input of shape \(input.shape) needs a target of shape \(expected), got \(target.shape)")
    if let weight { checkClassWeight(weight, classes: classes, input, op) }
    let indices = target.to(.int64)
    for value in indices.asArray(Int64.self) where value != Int64(ignoreIndex) {
        precondition(value >= 0 && value < Int64(classes),
                     "\(op): target \(value) is out of bounds for \(classes) classes (input shape \(input.shape), target shape \(target.shape))")
    }
    let x = input.rank == 1 ? input.unsqueeze(0) : input
    let t = input.rank == 1 ? indices.unsqueeze(0) : indices
    let ignored = t.eq(Tensor(Int64(ignoreIndex), device: t.device))
    let safe = t.maskedFill(ignored, 0)
    let picked = x.gather(dim: 1, index: safe.unsqueeze(1)).squeeze(dim: 1)
    let perClass = weight.map { $0.indexSelect(dim: 0, index: safe.flatten()).reshape(t.shape) }
        ?? Tensor.onesLike(picked)
    let weights = perClass.maskedFill(ignored, 0)
    // Masking (rather than multiplying by a zero weight) keeps the gradient of ignored
    // elements at exactly 0 even when the mean divides by a zero total weight.
    let loss = (-(picked * perClass)).maskedFill(ignored, 0)
    return (loss.reshape(target.shape), weights.reshape(target.shape))
}

/// Reduces `nllElements`' result as PyTorch's `nll_loss`: the mean divides by the summed weights.
private func reduceNLL(_ parts: (loss: Tensor, weights: Tensor), _ reduction: Reduction) -> Tensor {
    switch reduction {
    case .none: return parts.loss
    case .sum: return parts.loss.sum()
    case .mean, .batchMean: return parts.loss.sum() / parts.weights.sum()
    }
}

/// A view shape that puts a per-class vector along the class dimension of `input`.
private func classVectorShape(_ input: Tensor, classDim: Int) -> [Int] {
    var shape = [Int](repeating: 1, count: input.rank)
    shape[classDim] = input.shape[classDim]
    return shape
}

// MARK: - Classification

/// Cross-entropy between logits and class targets (`torch.nn.functional.cross_entropy`):
/// `logSoftmax` over the class dimension followed by the negative log-likelihood.
///
/// The input holds unnormalised scores of shape `(C)`, `(N, C)` or `(N, C, d₁, …, d_k)`
/// (class dimension 1, or 0 for a 1-D input). The target is either
/// - **class indices** (int64), of the input's shape without the class dimension, where
///   `ℓᵢ = -w[yᵢ] · log softmax(xᵢ)[yᵢ]`, 0 for targets equal to `ignoreIndex`; `.mean`
///   divides `Σ ℓᵢ` by `Σ w[yᵢ]` over the targets that are not ignored (the count when there are
///   no weights), so an all-ignored batch gives NaN, as PyTorch; or
/// - **class probabilities** (floating point, the input's shape), where
///   `ℓᵢ = -Σ_c w_c · y_ic · log softmax(xᵢ)_c`, and `.mean` divides by the number of
///   samples `N · d₁ ⋯ d_k` (weights do not renormalise); `ignoreIndex` must stay negative.
///
/// With `labelSmoothing` ε, index targets give `(1 - ε) · nll + ε/C · smooth`, where
/// `smooth = -Σ_c w_c · log softmax(x)_c` per element (0 where ignored), reduced like the
/// nll term (its `.mean` divides by the same `Σ w[yᵢ]`); probability targets become
/// `y · (1 - ε) + ε/C`.
///
/// - Parameters:
///   - input: logits, floating point.
///   - target: class indices (int64) or probabilities (same shape and dtype as `input`).
///   - weight: optional per-class weights of shape `[C]` in the input's dtype.
///   - ignoreIndex: a target index that contributes neither loss nor weight.
///   - reduction: `.none` (the target's shape, or the batch shape for probabilities),
///     `.mean` (default) or `.sum`.
///   - labelSmoothing: ε in `[0, 1]`.
///
/// ```swift
/// let logits = Tensor.randn([4, 10], requiresGrad: true)
/// let labels = Tensor([1, 0, 9, 3] as [Int64])
/// let loss = crossEntropy(logits, labels, labelSmoothing: 0.1)
/// loss.backward()
/// ```
public func crossEntropy(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                         reduction: Reduction = .mean, labelSmoothing: Double = 0) -> Tensor {
    let op = "crossEntropy"
    checkLossReduction(reduction, op)
    precondition(input.rank >= 1, "\(op): input must have at least 1 dimension (classes), got shape \(input.shape)")
    checkFloat(input, "input", op)
    precondition(labelSmoothing >= 0 && labelSmoothing <= 1,
                 "\(op): labelSmoothing must be between 0 and 1, got \(labelSmoothing)")
    let classDim = input.rank == 1 ? 0 : 1
    let classes = input.shape[classDim]
    if let weight { checkClassWeight(weight, classes: classes, input, op) }
    let logProbs = logSoftmax(input, dim: classDim)

    if target.shape == input.shape {
        // Class probabilities.
        precondition(target.dtype.isFloatingPoint,
                     "\(op): a target of the input's shape \(input.shape) holds class probabilities and must be floating point, got \(target.dtype)")
        checkSameShapeAndDtype(input, target, op)
        precondition(ignoreIndex < 0, "\(op): ignoreIndex (\(ignoreIndex)) is not supported for probability targets")
        var probabilities = target
        if labelSmoothing > 0 { probabilities = target * (1 - labelSmoothing) + labelSmoothing / Double(classes) }
        var terms = logProbs * probabilities
        if let weight { terms = terms * weight.reshape(classVectorShape(input, classDim: classDim)) }
        switch reduction {
        case .none: return -terms.sum(dim: classDim)
        case .sum: return -terms.sum()
        case .mean, .batchMean:
            let samples = input.count / Swift.max(classes, 1)
            return samples == 0 ? -terms.sum() / Double.nan : -terms.sum() / Double(samples)
        }
    }

    // Class indices.
    let parts = nllElements(logProbs, target, weight: weight, ignoreIndex: ignoreIndex, op: op)
    let nll = reduceNLL(parts, reduction)
    guard labelSmoothing > 0 else { return nll }
    var smooth = weight.map { -(logProbs * $0.reshape(classVectorShape(input, classDim: classDim))).sum(dim: classDim) }
        ?? -logProbs.sum(dim: classDim)
    let ignored = target.to(.int64).eq(Tensor(Int64(ignoreIndex), device: target.device))
    smooth = smooth.maskedFill(ignored, 0)
    let smoothed: Tensor
    switch reduction {
    case .none: smoothed = smooth
    case .sum: smoothed = smooth.sum()
    case .mean, .batchMean:
        // Normalised by the weights of the targets used (the count without weights), as nll.
        smoothed = smooth.sum() / parts.weights.sum()
    }
    return nll * (1 - labelSmoothing) + smoothed * (labelSmoothing / Double(classes))
}

/// Negative log-likelihood of class targets given log-probabilities
/// (`torch.nn.functional.nll_loss`): `ℓᵢ = -w[yᵢ] · x[i, yᵢ]`.
///
/// `input` has shape `(C)`, `(N, C)` or `(N, C, d₁, …, d_k)` and usually comes from
/// `logSoftmax(_, dim: 1)`; `target` holds int64 class indices of the input's shape without
/// the class dimension. Targets equal to `ignoreIndex` contribute 0 and no weight. `.mean`
/// gives `Σ ℓᵢ / Σ w[yᵢ]` over the targets that are not ignored (NaN when all are ignored).
///
/// - Parameters:
///   - input: log-probabilities, floating point.
///   - target: class indices in `0..<C` (or `ignoreIndex`).
///   - weight: optional per-class weights of shape `[C]` in the input's dtype.
///   - ignoreIndex: a target index to skip.
///   - reduction: `.none` (the target's shape), `.mean` (default) or `.sum`.
///
/// ```swift
/// let logProbs = logSoftmax(model(x), dim: 1)
/// let loss = nllLoss(logProbs, labels)
/// loss.backward()
/// ```
public func nllLoss(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil, ignoreIndex: Int = -100,
                    reduction: Reduction = .mean) -> Tensor {
    checkLossReduction(reduction, "nllLoss")
    return reduceNLL(nllElements(input, target, weight: weight, ignoreIndex: ignoreIndex, op: "nllLoss"), reduction)
}

// MARK: - Regression

/// Mean squared error (`torch.nn.functional.mse_loss`): `ℓᵢ = (xᵢ - yᵢ)²`.
///
/// `input` and `target` must have the same shape and dtype (PyTorch broadcasts with a
/// warning; Ember stops, since a silent broadcast is almost always a bug).
///
/// - Parameters:
///   - input: predictions.
///   - target: values of the same shape.
///   - reduction: `.none` (the input's shape), `.mean` (default) or `.sum`.
///
/// ```swift
/// let prediction = model(x)
/// let loss = mseLoss(prediction, y)
/// loss.backward()
/// ```
public func mseLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkLossReduction(reduction, "mseLoss")
    checkSameShapeAndDtype(input, target, "mseLoss")
    return applyReduction((input - target).square(), reduction)
}

/// Mean absolute error (`torch.nn.functional.l1_loss`): `ℓᵢ = |xᵢ - yᵢ|`; the gradient
/// where `xᵢ = yᵢ` is 0.
///
/// - Parameters:
///   - input: predictions.
///   - target: values of the same shape and dtype.
///   - reduction: `.none` (the input's shape), `.mean` (default) or `.sum`.
///
/// ```swift
/// let loss = l1Loss(prediction, target)
/// loss.backward()
/// ```
public func l1Loss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
    checkLossReduction(reduction, "l1Loss")
    checkSameShapeAndDtype(input, target, "l1Loss")
    return applyReduction((input - target).abs(), reduction)
}

/// Smooth L1 loss (`torch.nn.functional.smooth_l1_loss`): with `z = |xᵢ - yᵢ|`,
/// `ℓᵢ = 0.5 z² / β` where `z < β`, and `z - 0.5 β` elsewhere. `β = 0` gives `l1Loss`.
///
/// - Parameters:
///   - input: predictions.
///   - target: values of the same shape and dtype.
///   - reduction: `.none` (the input's shape), `.mean` (default) or `.sum`.
///   - beta: where the loss turns from quadratic to linear; not negative.
///
/// ```swift
/// let boxes = detector(images)
/// let loss = smoothL1Loss(boxes, targetBoxes, beta: 1.0 / 9)
/// loss.backward()
/// ```
public func smoothL1Loss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean, beta: Double = 1) -> Tensor {
    checkLossReduction(reduction, "smoothL1Loss")
    checkSameShapeAndDtype(input, target, "smoothL1Loss")
    precondition(beta >= 0, "smoothL1Loss: beta must not be negative, got \(beta)")
    if beta == 0 { return l1Loss(input, target, reduction: reduction) }
    let difference = input - target
    let distance = difference.abs()
    let loss = Tensor.where(distance.lt(beta), difference * difference * 0.5 / beta, distance - 0.5 * beta)
    return applyReduction(loss, reduction)
}

/// Huber loss (`torch.nn.functional.huber_loss`): with `z = |xᵢ - yᵢ|`,
/// `ℓᵢ = 0.5 z²` where `z < δ`, and `δ (z - 0.5 δ)` elsewhere. Equals `δ · smoothL1Loss(β: δ)`.
///
/// - Parameters:
///   - input: predictions.
///   - target: values of the same shape and dtype.
///   - reduction: `.none` (the input's shape), `.mean` (default) or `.sum`.
///   - delta: where the loss turns from quadratic to linear; positive.
///
/// ```swift
/// let q = critic(states)
/// let loss = huberLoss(q, returns, delta: 1.0)
/// loss.backward()
/// ```
public func huberLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean, delta: Double = 1) -> Tensor {
    checkLossReduction(reduction, "huberLoss")
    checkSameShapeAndDtype(input, target, "huberLoss")
    precondition(delta > 0, "huberLoss: delta must be positive, got \(delta)")
    let difference = input - target
    let distance = difference.abs()
    let loss = Tensor.where(distance.lt(delta), difference * difference * 0.5, (distance - 0.5 * delta) * delta)
    return applyReduction(loss, reduction)
}

// MARK: - Binary classification

/// Elementwise binary cross-entropy with PyTorch's forward (logs clamped at -100) and
/// backward (`(x - y) / max(x(1 - x), 1e-12)`), so saturated probabilities of exactly 0 or 1
/// give finite losses and gradients. Its backward is written in tensor ops, so it has
/// higher-order derivatives.
private enum BinaryCrossEntropyFunction: CustomFunction {
    static var name: String { "BinaryCrossEntropyBackward0" }

    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
        let (x, y) = (inputs[0], inputs[1])
        ctx.saveForBackward(x, y)
        // (y - 1) · max(log(1 - x), -100) - y · max(log x, -100)
        return (y - 1) * log1p(-x).clamp(min: -100) - y * x.log().clamp(min: -100)
    }

    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        let (x, y) = (ctx.savedTensors[0], ctx.savedTensors[1])
        // PyTorch's EPSILON is the float 1e-12 (9.9999998e-13), in every dtype.
        let gradInput = gradOutput * (x - y) / ((1 - x) * x).clamp(min: Double(Float(1e-12)))
        let gradTarget = -gradOutput * (x / (1 - x)).log()   // -logit(x), as PyTorch
        return [gradInput, gradTarget]
    }
}

/// Binary cross-entropy between probabilities and targets
/// (`torch.nn.functional.binary_cross_entropy`):
/// `ℓᵢ = -wᵢ · (yᵢ · log xᵢ + (1 - yᵢ) · log(1 - xᵢ))`, each log clamped at -100 as PyTorch
/// does, so `x = 0` or `x = 1` gives a finite loss; the input gradient is
/// `wᵢ (xᵢ - yᵢ) / max(xᵢ(1 - xᵢ), 1e-12)`. Prefer `binaryCrossEntropyWithLogits` on logits.
///
/// - Parameters:
///   - input: probabilities in `[0, 1]`.
///   - target: values in `[0, 1]` of the input's shape and dtype.
///   - weight: optional weights that broadcast to the input's shape (e.g. one per class).
///   - reduction: `.none` (the input's shape), `.mean` (default) or `.sum`.
///
/// ```swift
/// let probabilities = sigmoid(model(x))
/// let loss = binaryCrossEntropy(probabilities, labels)
/// loss.backward()
/// ```
public func binaryCrossEntropy(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil,
                               reduction: Reduction = .mean) -> Tensor {
    let op = "binaryCrossEntropy"
    checkLossReduction(reduction, op)
    checkSameShapeAndDtype(input, target, op)
    if let weight { checkElementWeight(weight, input, "weight", op) }
    let inRange: (Tensor) -> Bool = { t in noGrad { (t.ge(0) .& t.le(1)).all().item(Bool.self) } }
    precondition(inRange(input), "\(op): all elements of input (shape \(input.shape)) must be between 0 and 1")
    precondition(inRange(target), "\(op): all elements of target (shape \(target.shape)) must be between 0 and 1")
    var loss = BinaryCrossEntropyFunction.apply(input, target)
    if let weight { loss = loss * weight }
    return applyReduction(loss, reduction)
}

/// Binary cross-entropy on logits (`torch.nn.functional.binary_cross_entropy_with_logits`),
/// sigmoid and loss in one numerically stable expression:
/// `ℓᵢ = wᵢ · ((1 - yᵢ) xᵢ - (1 + (p - 1) yᵢ) · log σ(xᵢ))`, with
/// `log σ(x) = min(x, 0) - log(1 + e^-|x|)`, so large logits of either sign never overflow.
///
/// - Parameters:
///   - input: logits.
///   - target: values in `[0, 1]` of the input's shape and dtype.
///   - weight: optional weights that broadcast to the input's shape.
///   - posWeight: optional weight `p` of positive examples, broadcast along the last
///     dimension (one per class, shape `[C]`); `p > 1` raises recall.
///   - reduction: `.none` (the input's shape), `.mean` (default) or `.sum`.
///
/// ```swift
/// let logits = model(x)                                 // (N, 3)
/// let loss = binaryCrossEntropyWithLogits(logits, labels, posWeight: Tensor([1, 2, 4] as [Float]))
/// loss.backward()
/// ```
public func binaryCrossEntropyWithLogits(_ input: Tensor, _ target: Tensor, weight: Tensor? = nil,
                                         posWeight: Tensor? = nil, reduction: Reduction = .mean) -> Tensor {
    let op = "binaryCrossEntropyWithLogits"
    checkLossReduction(reduction, op)
    checkSameShapeAndDtype(input, target, op)
    if let weight { checkElementWeight(weight, input, "weight", op) }
    if let posWeight { checkElementWeight(posWeight, input, "posWeight", op) }
    var logSigmoid = minimum(input, Tensor.zerosLike(input)) - log1p(exp(-input.abs()))
    if let posWeight { logSigmoid = logSigmoid * ((posWeight - 1) * target + 1) }
    var loss = (1 - target) * input - logSigmoid
    if let weight { loss = loss * weight }
    return applyReduction(loss, reduction)
}

// MARK: - Distributions

/// Kullback-Leibler divergence `KL(target ‖ input)` with `input` given as log-probabilities
/// (`torch.nn.functional.kl_div`): `ℓᵢ = yᵢ · (log yᵢ - xᵢ)` (0 where `yᵢ = 0`), or
/// `ℓᵢ = e^{yᵢ} · (yᵢ - xᵢ)` when `logTarget` is true and `y` holds log-probabilities too.
///
/// Use `reduction: .batchMean` for the true divergence per sample (`Σ ℓᵢ / N`, N the first
/// dimension); `.mean` divides by the element count, as PyTorch's default does.
///
/// - Parameters:
///   - input: log-probabilities.
///   - target: probabilities (or log-probabilities with `logTarget`) of the same shape and dtype.
///   - reduction: `.none` (the input's shape), `.mean` (default), `.sum` or `.batchMean`.
///   - logTarget: whether `target` holds log-probabilities.
///
/// ```swift
/// let studentLogProbs = logSoftmax(student(x), dim: 1)
/// let teacherProbs = softmax(teacher(x), dim: 1)
/// let loss = klDiv(studentLogProbs, teacherProbs, reduction: .batchMean)
/// ```
public func klDiv(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean, logTarget: Bool = false) -> Tensor {
    checkSameShapeAndDtype(input, target, "klDiv")
    let loss: Tensor
    if logTarget {
        loss = target.exp() * (target - input)
    } else {
        // xlogy(y, y) - y·x, where xlogy is 0 at y = 0 (with a finite gradient there).
        let logTarget = Tensor.where(target.ne(0), target, 1.0).log()
        loss = target * logTarget - target * input
    }
    return applyReduction(loss, reduction)
}

// MARK: - Embeddings and ranking

/// Cosine embedding loss (`torch.nn.functional.cosine_embedding_loss`): with
/// `cos = x₁·x₂ / sqrt((|x₁|² + ε)(|x₂|² + ε))`, ε = 1e-12, `ℓᵢ = 1 - cos` where `yᵢ = 1`,
/// `max(0, cos - margin)` where `yᵢ = -1`, and 0 for any other target.
///
/// - Parameters:
///   - input1: embeddings of shape `(N, D)` (or `(D)` with a 0-d target).
///   - input2: embeddings of the same shape and dtype.
///   - target: `(N)` (or 0-d) tensor of 1 (similar) and -1 (dissimilar).
///   - margin: for dissimilar pairs, in `[-1, 1]`; 0 to 0.5 is typical.
///   - reduction: `.none` (shape `(N)`), `.mean` (default) or `.sum`.
///
/// ```swift
/// let a = encoder(left), b = encoder(right)          // (N, 128)
/// let loss = cosineEmbeddingLoss(a, b, same, margin: 0.2)
/// loss.backward()
/// ```
public func cosineEmbeddingLoss(_ input1: Tensor, _ input2: Tensor, _ target: Tensor, margin: Double = 0,
                                reduction: Reduction = .mean) -> Tensor {
    let op = "cosineEmbeddingLoss"
    checkLossReduction(reduction, op)
    checkSameShapeAndDtype(input1, input2, op, names: ("input1", "input2"))
    precondition(target.rank <= 1,
                 "\(op): target must be 0-d or 1-d (multi-target is not supported), got shape \(target.shape)")
    if target.rank == 1 {
        precondition(input1.rank == 2 && input1.shape[0] == target.shape[0],
                     "\(op): a target of shape \(target.shape) needs inputs of shape [\(target.shape[0]), D], got \(input1.shape) and \(input2.shape)")
    } else {
        precondition(input1.rank == 1,
                     "\(op): a 0-d target needs 1-d inputs, got \(input1.shape) and \(input2.shape)")
    }
    let dim = target.rank
    let epsilon = 1e-12
    let product = (input1 * input2).sum(dim: dim)
    let squared1 = (input1 * input1).sum(dim: dim) + epsilon
    let squared2 = (input2 * input2).sum(dim: dim) + epsilon
    let cosine = product / (squared1 * squared2).sqrt()
    let zeros = Tensor.zerosLike(cosine)
    let positive = Tensor.where(target.eq(1), 1 - cosine, zeros)
    let negative = Tensor.where(target.eq(-1), (cosine - margin).clamp(min: 0), zeros)
    return applyReduction(positive + negative, reduction)
}

/// Margin ranking loss (`torch.nn.functional.margin_ranking_loss`):
/// `ℓᵢ = max(0, -yᵢ · (x₁ᵢ - x₂ᵢ) + margin)`, where `yᵢ = 1` means `x₁ᵢ` should rank higher.
///
/// The three tensors must have the same rank and broadcast together, as PyTorch requires.
///
/// - Parameters:
///   - input1: scores.
///   - input2: scores to compare against.
///   - target: 1 or -1 per pair, same dtype as the inputs.
///   - margin: the required gap.
///   - reduction: `.none` (the broadcast shape), `.mean` (default) or `.sum`.
///
/// ```swift
/// let better = scorer(a), worse = scorer(b)
/// let loss = marginRankingLoss(better, worse, Tensor.onesLike(better), margin: 0.1)
/// loss.backward()
/// ```
public func marginRankingLoss(_ input1: Tensor, _ input2: Tensor, _ target: Tensor, margin: Double = 0,
                              reduction: Reduction = .mean) -> Tensor {
    let op = "marginRankingLoss"
    checkLossReduction(reduction, op)
    precondition(input1.rank == input2.rank && input1.rank == target.rank,
                 "\(op): input1, input2 and target must have the same number of dimensions, got shapes \(input1.shape), \(input2.shape) and \(target.shape)")
    precondition(broadcastShape(input1.shape, input2.shape).flatMap { broadcastShape($0, target.shape) } != nil,
                 "\(op): shapes \(input1.shape), \(input2.shape) and \(target.shape) do not broadcast together")
    checkFloat(input1, "input1", op)
    precondition(input1.dtype == input2.dtype && input1.dtype == target.dtype,
                 "\(op): input1 (\(input1.dtype)), input2 (\(input2.dtype)) and target (\(target.dtype)) must have the same dtype (shapes \(input1.shape), \(input2.shape), \(target.shape))")
    let loss = (-target * (input1 - input2) + margin).clamp(min: 0)
    return applyReduction(loss, reduction)
}

/// Triplet margin loss (`torch.nn.functional.triplet_margin_loss`):
/// `ℓᵢ = max(0, d(aᵢ, pᵢ) - d(aᵢ, nᵢ) + margin)` with the pairwise distance
/// `d(x, y) = ‖x - y + ε‖_p` over the last dimension. With `swap`, the negative distance is
/// `min(d(a, n), d(p, n))` (the distance swap of Balntas et al., 2016).
///
/// - Parameters:
///   - anchor: embeddings of shape `(N, D)` (or `(D)`).
///   - positive: embeddings of the same class, same rank (broadcasting).
///   - negative: embeddings of another class, same rank (broadcasting).
///   - margin: the required gap between the distances.
///   - p: the norm degree of the distance (2 by default; 1 for Manhattan).
///   - eps: added to the differences for stability at zero distance.
///   - swap: use the distance swap.
///   - reduction: `.none` (shape `(N)`), `.mean` (default) or `.sum`.
///
/// ```swift
/// let a = net(anchors), p = net(positives), n = net(negatives)
/// let loss = tripletMarginLoss(a, p, n, margin: 1, p: 2)
/// loss.backward()
/// ```
public func tripletMarginLoss(_ anchor: Tensor, _ positive: Tensor, _ negative: Tensor, margin: Double = 1,
                              p: Double = 2, eps: Double = 1e-6, swap: Bool = false,
                              reduction: Reduction = .mean) -> Tensor {
    let op = "tripletMarginLoss"
    checkLossReduction(reduction, op)
    precondition(anchor.rank == positive.rank && positive.rank == negative.rank,
                 "\(op): anchor, positive and negative must have the same number of dimensions, got shapes \(anchor.shape), \(positive.shape) and \(negative.shape)")
    precondition(anchor.rank >= 1, "\(op): inputs must have at least 1 dimension, got shapes \(anchor.shape), \(positive.shape) and \(negative.shape)")
    precondition(broadcastShape(anchor.shape, positive.shape) != nil && broadcastShape(anchor.shape, negative.shape) != nil
                 && broadcastShape(positive.shape, negative.shape) != nil,
                 "\(op): shapes \(anchor.shape), \(positive.shape) and \(negative.shape) do not broadcast together")
    checkFloat(anchor, "anchor", op)
    precondition(anchor.dtype == positive.dtype && anchor.dtype == negative.dtype,
                 "\(op): anchor (\(anchor.dtype)), positive (\(positive.dtype)) and negative (\(negative.dtype)) must have the same dtype (shapes \(anchor.shape), \(positive.shape), \(negative.shape))")
    precondition(p > 0, "\(op): p must be positive, got \(p)")
    func distance(_ x: Tensor, _ y: Tensor) -> Tensor {
        (x - y + eps).norm(p: p, dims: [Swift.max(x.rank, y.rank) - 1])
    }
    let positiveDistance = distance(anchor, positive)
    var negativeDistance = distance(anchor, negative)
    if swap { negativeDistance = minimum(negativeDistance, distance(positive, negative)) }
    let loss = (positiveDistance + margin - negativeDistance).clamp(min: 0)
    return applyReduction(loss, reduction)
}
