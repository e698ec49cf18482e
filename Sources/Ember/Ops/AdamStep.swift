// The Adam/AdamW parameter update in one pass over the parameter, its gradient and its two
// moments (what `torch.optim.Adam(fused=True)` does), for EmberOptim's Adam: the same
// float32 arithmetic as its op-by-op form, without eleven passes and five temporaries.
import CEmberRuntime
import Foundation

/// The settings of one Adam step (see `EmberOptim.Adam` for the formula).
public struct AdamStepSettings: Sendable {
    /// Learning rate γ, betas β₁ β₂, ε and the weight decay λ.
    public var lr, beta1, beta2, eps, weightDecay: Double
    /// Decay the weights directly (AdamW) instead of through the gradient.
    public var decoupledWeightDecay: Bool
    /// Ascend the gradient instead of descending it.
    public var maximize: Bool
    /// The step number, counted from 1.
    public var step: Int

    /// Creates the settings.
    public init(lr: Double, beta1: Double, beta2: Double, eps: Double, weightDecay: Double,
                decoupledWeightDecay: Bool, maximize: Bool, step: Int) {
        (self.lr, self.beta1, self.beta2, self.eps, self.weightDecay) = (lr, beta1, beta2, eps, weightDecay)
        self.decoupledWeightDecay = decoupledWeightDecay
        self.maximize = maximize
        self.step = step
    }
}

/// One Adam (or AdamW) update of `param`, `expAvg` and `expAvgSq` in place, in one pass:
/// decay, `m ← lerp(m, g, 1 − β₁)`, `v ← β₂·v + (1 − β₂)·g²`, then
/// `θ ← θ + m / (√v / (√c₂·(−s)) + ε/(−s))` with `s = γ / c₁` (PyTorch's capturable form;
/// `c₁, c₂` the bias corrections). Without AMSGrad; the learning rate must be positive.
///
/// - Returns: false, changing nothing, unless the four tensors are contiguous float32 CPU
///   tensors of one shape (the caller then uses separate ops).
///
/// ```swift
/// let settings = AdamStepSettings(lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01,
///                                 decoupledWeightDecay: true, maximize: false, step: 1)
/// _ = fusedAdamStep(param: w, grad: w.grad!, expAvg: m, expAvgSq: v, settings: settings)
/// ```
public func fusedAdamStep(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, settings: AdamStepSettings) -> Bool {
    let tensors = [param, grad, expAvg, expAvgSq]
    guard settings.lr > 0, tensors.allSatisfy({ $0.dtype == .float32 && $0.device == .cpu && $0.isContiguous && $0.shape == param.shape })
    else { return false }
    let s = settings
    let correction1 = 1 - Foundation.pow(s.beta1, Double(s.step)), correction2 = 1 - Foundation.pow(s.beta2, Double(s.step))
    let stepSizeNeg = -(s.lr / correction1)
    // The scalars exactly as the op-by-op form rounds them to float32.
    let decay = Float(1 - s.lr * s.weightDecay), coupledDecay = Float(s.weightDecay)
    let mixWeight = 1 - s.beta1, mixSmall = mixWeight < 0.5
    let mix = Float(mixWeight), keep = Float(1 - mixWeight)
    let beta2 = Float(s.beta2), gradWeight = Float(1 - s.beta2)
    let denominatorScale = Float(correction2.squareRoot() * stepSizeNeg), epsilonTerm = Float(s.eps / stepSizeNeg)
    let decays = s.weightDecay != 0, decoupled = s.decoupledWeightDecay, maximize = s.maximize
    let p = param.pointer(Float.self), g = grad.pointer(Float.self)
    let m = expAvg.pointer(Float.self), v = expAvgSq.pointer(Float.self)
    parallelChunks(param.count) { range in
        let i = range.lowerBound
        var args = ember_adam_args(count: range.count, param: p + i, grad: g + i, exp_avg: m + i, exp_avg_sq: v + i,
                                   decay: decay, coupled_decay: coupledDecay, mix: mix, keep: keep,
                                   beta2: beta2, grad_weight: gradWeight,
                                   denominator_scale: denominatorScale, epsilon_term: epsilonTerm,
                                   decays: decays ? 1 : 0, decoupled: decoupled ? 1 : 0, maximize: maximize ? 1 : 0,
                                   mix_small: mixSmall ? 1 : 0)
        ember_adam_step_f32(&args)
    }
    for tensor in [param, expAvg, expAvgSq] { tensor.bumpVersion() }
    return true
}
