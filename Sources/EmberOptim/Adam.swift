// Adam and AdamW: adaptive moment estimation, with L2 or decoupled weight decay and the AMSGrad variant.
import Ember
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Adam, as `torch.optim.Adam` (its single-tensor update, step by step).
///
/// For each parameter θ with gradient g at its step t (counted from 1), with learning
/// rate γ, betas β₁ and β₂, weight decay λ and ε:
///
/// ```
/// g ← −g                                   if maximize
/// θ ← θ·(1 − γλ)                           if λ ≠ 0 and decoupled (AdamW)
/// g ← g + λ·θ                              if λ ≠ 0 and not decoupled
/// m ← m + (1 − β₁)·(g − m)                 (lerp; m starts at 0)
/// v ← β₂·v + (1 − β₂)·g²                   (v starts at 0)
/// v̂ ← max(v̂, v)                            if amsgrad; then v is replaced by v̂ below
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// State: `"exp_avg"` (m), `"exp_avg_sq"` (v), `"max_exp_avg_sq"` (v̂, with amsgrad) and
/// the step count.
///
/// ```swift
/// let optimizer = Adam(model.parameters(), lr: 1e-3)
/// loss.backward()
/// optimizer.step()
/// ```
///
/// ### See Also
/// - ``AdamW``, ``SGD``, ``Optimizer``
public class Adam: Optimizer {
    /// Creates Adam over one group of parameters.
    ///
    /// - Parameters:
    ///   - params: the tensors to optimize.
    ///   - lr: learning rate γ (≥ 0).
    ///   - betas: decay rates (β₁, β₂) of the first and second moments, each in [0, 1).
    ///   - eps: ε added to the denominator (≥ 0).
    ///   - weightDecay: weight decay λ (≥ 0).
    ///   - amsgrad: use the maximum of past second moments (AMSGrad).
    ///   - maximize: maximize the objective instead of minimizing it.
    ///   - decoupledWeightDecay: decay the weights directly (AdamW) instead of adding λθ to g.
    public convenience init(_ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false,
                            maximize: Bool = false, decoupledWeightDecay: Bool = false) {
        self.init(groups: [ParamGroup(params)], lr: lr, betas: betas, eps: eps, weightDecay: weightDecay,
                  amsgrad: amsgrad, maximize: maximize, decoupledWeightDecay: decoupledWeightDecay)
    }

    /// Creates Adam over parameter groups; the arguments are the defaults for options a
    /// group does not set (keys `"lr"`, `"beta1"`, `"beta2"`, `"eps"`, `"weight_decay"`,
    /// `"amsgrad"`, `"maximize"`, `"decoupled_weight_decay"`).
    ///
    /// - Parameters:
    ///   - groups: the parameter groups.
    ///   - lr: default learning rate γ.
    ///   - betas: default (β₁, β₂).
    ///   - eps: default ε.
    ///   - weightDecay: default weight decay λ.
    ///   - amsgrad: default for AMSGrad.
    ///   - maximize: default for maximizing.
    ///   - decoupledWeightDecay: default for decoupled (AdamW) weight decay.
    public init(groups: [ParamGroup], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 0, amsgrad: Bool = false,
                maximize: Bool = false, decoupledWeightDecay: Bool = false) {
        super.init(groups: groups, defaults: [
            "lr": lr, "beta1": betas.0, "beta2": betas.1, "eps": eps, "weight_decay": weightDecay,
            "amsgrad": amsgrad ? 1 : 0, "maximize": maximize ? 1 : 0,
            "decoupled_weight_decay": decoupledWeightDecay ? 1 : 0,
        ])
    }

    /// PyTorch's argument checks for this optimizer (see ``Optimizer/argumentError(in:)``).
    override public class func argumentError(in options: [String: Double]) -> String? {
        if let message = super.argumentError(in: options) { return message }
        if !isNonNegative(options["eps"]) { return "Invalid epsilon value: \(options["eps"]!)" }
        for (index, key) in ["beta1", "beta2"].enumerated() {
            if let beta = options[key], !(beta >= 0 && beta < 1) { return "Invalid beta parameter at index \(index): \(beta)" }
        }
        if !isNonNegative(options["weight_decay"]) { return "Invalid weight_decay value: \(options["weight_decay"]!)" }
        return nil
    }

    /// Zero moments (and the AMSGrad maximum) at step 0.
    override public func initialState(for param: Tensor, group: ParamGroup, eager: Bool) -> ParamState? {
        if eager { return nil }
        var state = ParamState(step: 0, buffers: ["exp_avg": Tensor.zerosLike(param), "exp_avg_sq": Tensor.zerosLike(param)])
        if group.flag("amsgrad") { state["max_exp_avg_sq"] = Tensor.zerosLike(param) }
        return state
    }

    /// One Adam step for `param` (see the type's description).
    override public func update(_ param: Tensor, grad: Tensor, state: inout ParamState, group: ParamGroup) {
        let lr = group.lr, beta1 = group.value("beta1"), beta2 = group.value("beta2")
        let weightDecay = group.value("weight_decay")
        guard let expAvg = state["exp_avg"], let expAvgSq = state["exp_avg_sq"] else {
            preconditionFailure("\(Self.self): state of a parameter lacks exp_avg / exp_avg_sq")
        }
        let step = (state.step ?? 0) + 1
        state.step = step
        // Float32 CPU tensors without AMSGrad: the whole update in one pass (same arithmetic).
        let settings = AdamStepSettings(lr: lr, beta1: beta1, beta2: beta2, eps: group.value("eps"), weightDecay: weightDecay,
                                        decoupledWeightDecay: group.flag("decoupled_weight_decay"),
                                        maximize: group.flag("maximize"), step: step)
        if !group.flag("amsgrad"),
           fusedAdamStep(param: param, grad: grad, expAvg: expAvg, expAvgSq: expAvgSq, settings: settings) {
            return
        }

        var grad = group.flag("maximize") ? -grad : grad
        if weightDecay != 0 {
            if group.flag("decoupled_weight_decay") {
                param.mul_(1 - lr * weightDecay)
            } else {
                grad = grad.add(param, alpha: weightDecay)
            }
        }
        lerpInPlace(expAvg, grad, weight: 1 - beta1)
        expAvgSq.mul_(beta2).add_(grad * grad, alpha: 1 - beta2)

        let biasCorrection1 = 1 - pow(beta1, Double(step))
        let biasCorrection2 = 1 - pow(beta2, Double(step))
        let stepSizeNeg = -(lr / biasCorrection1)
        let biasCorrection2Sqrt = biasCorrection2.squareRoot()

        var second = expAvgSq
        if group.flag("amsgrad") {
            let maxExpAvgSq = state["max_exp_avg_sq"] ?? Tensor.zerosLike(param)
            maxExpAvgSq.copy_(maximum(maxExpAvgSq, expAvgSq))
            state["max_exp_avg_sq"] = maxExpAvgSq
            second = maxExpAvgSq
        }
        // A zero learning rate leaves θ as it is (the folded form below would divide by zero).
        if stepSizeNeg == 0 { return }
        // PyTorch's capturable form of θ − s·m/(√v/√c₂ + ε): the step size −s is folded
        // into the denominator, which saves a pass over the parameter.
        let denom = second.sqrt() / (biasCorrection2Sqrt * stepSizeNeg) + group.value("eps") / stepSizeNeg
        param.add_(expAvg / denom)
    }
}

/// AdamW: Adam with decoupled weight decay, as `torch.optim.AdamW` — the weights are
/// decayed directly instead of through the gradient, so the decay does not enter the
/// moment estimates.
///
/// For each parameter θ with gradient g at its step t, with learning rate γ, betas β₁ and
/// β₂, weight decay λ and ε:
///
/// ```
/// g ← −g                                   if maximize
/// θ ← θ·(1 − γλ)
/// m ← m + (1 − β₁)·(g − m)
/// v ← β₂·v + (1 − β₂)·g²
/// v̂ ← max(v̂, v)                            if amsgrad; then v is replaced by v̂ below
/// θ ← θ − (γ / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
/// ```
///
/// ```swift
/// let optimizer = AdamW(model.parameters(), lr: 1e-3, weightDecay: 0.05)
/// optimizer.step()
/// ```
///
/// ### See Also
/// - ``Adam``
public final class AdamW: Adam {
    /// Creates AdamW over one group of parameters.
    ///
    /// - Parameters:
    ///   - params: the tensors to optimize.
    ///   - lr: learning rate γ (≥ 0).
    ///   - betas: decay rates (β₁, β₂), each in [0, 1).
    ///   - eps: ε added to the denominator (≥ 0).
    ///   - weightDecay: decoupled weight decay λ (≥ 0; 1e-2 by default, as PyTorch).
    ///   - amsgrad: use the maximum of past second moments (AMSGrad).
    ///   - maximize: maximize the objective instead of minimizing it.
    public convenience init(_ params: [Tensor], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                            eps: Double = 1e-8, weightDecay: Double = 1e-2, amsgrad: Bool = false,
                            maximize: Bool = false) {
        self.init(groups: [ParamGroup(params)], lr: lr, betas: betas, eps: eps, weightDecay: weightDecay,
                  amsgrad: amsgrad, maximize: maximize)
    }

    /// Creates AdamW over parameter groups; the arguments are the defaults for options a
    /// group does not set (keys as ``Adam``'s).
    ///
    /// - Parameters:
    ///   - groups: the parameter groups.
    ///   - lr: default learning rate γ.
    ///   - betas: default (β₁, β₂).
    ///   - eps: default ε.
    ///   - weightDecay: default decoupled weight decay λ.
    ///   - amsgrad: default for AMSGrad.
    ///   - maximize: default for maximizing.
    public init(groups: [ParamGroup], lr: Double = 1e-3, betas: (Double, Double) = (0.9, 0.999),
                eps: Double = 1e-8, weightDecay: Double = 1e-2, amsgrad: Bool = false, maximize: Bool = false) {
        super.init(groups: groups, lr: lr, betas: betas, eps: eps, weightDecay: weightDecay,
                   amsgrad: amsgrad, maximize: maximize, decoupledWeightDecay: true)
    }
}

/// `x ← x + w·(end − x)` in place, computed as PyTorch's `lerp_` does: from `end` when
/// `w ≥ 0.5`, for accuracy near `w = 1`.
func lerpInPlace(_ x: Tensor, _ end: Tensor, weight: Double) {
    if weight < 0.5 {
        x.add_(end - x, alpha: weight)
    } else {
        x.copy_(end - (end - x) * (1 - weight))
    }
}
