// RMSprop: gradient steps scaled by a running root mean square, optionally centered and with momentum.
import Ember

/// RMSprop, as `torch.optim.RMSprop` (its single-tensor update, step by step).
///
/// For each parameter θ with gradient g, with learning rate γ, smoothing constant α,
/// weight decay λ, momentum μ and ε:
///
/// ```
/// g ← −g                              if maximize
/// g ← g + λ·θ                         if λ ≠ 0
/// v ← α·v + (1 − α)·g²                (v starts at 0)
/// if centered:
///     ḡ ← ḡ + (1 − α)·(g − ḡ)         (lerp; ḡ starts at 0)
///     d ← √(v − ḡ²) + ε
/// else:
///     d ← √v + ε
/// if μ > 0:
///     b ← μ·b + g / d                 (b starts at 0)
///     θ ← θ − γ·b
/// else:
///     θ ← θ − γ·g / d
/// ```
///
/// State: `"square_avg"` (v), `"grad_avg"` (ḡ, when centered), `"momentum_buffer"` (b,
/// when μ > 0) and the step count.
///
/// ```swift
/// let optimizer = RMSprop(model.parameters(), lr: 0.01, alpha: 0.9, centered: true)
/// optimizer.step()
/// ```
///
/// ### See Also
/// - ``Adagrad``, ``Adam``
public final class RMSprop: Optimizer {
    /// Creates RMSprop over one group of parameters.
    ///
    /// - Parameters:
    ///   - params: the tensors to optimize.
    ///   - lr: learning rate γ (≥ 0).
    ///   - alpha: smoothing constant α of the squared-gradient average (≥ 0).
    ///   - eps: ε added to the denominator (≥ 0).
    ///   - weightDecay: L2 penalty λ (≥ 0).
    ///   - momentum: momentum factor μ (≥ 0).
    ///   - centered: normalize by an estimate of the gradient's variance instead of its second moment.
    ///   - maximize: maximize the objective instead of minimizing it.
    public convenience init(_ params: [Tensor], lr: Double = 1e-2, alpha: Double = 0.99, eps: Double = 1e-8,
                            weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false,
                            maximize: Bool = false) {
        self.init(groups: [ParamGroup(params)], lr: lr, alpha: alpha, eps: eps, weightDecay: weightDecay,
                  momentum: momentum, centered: centered, maximize: maximize)
    }

    /// Creates RMSprop over parameter groups; the arguments are the defaults for options a
    /// group does not set (keys `"lr"`, `"alpha"`, `"eps"`, `"weight_decay"`, `"momentum"`,
    /// `"centered"`, `"maximize"`).
    ///
    /// - Parameters:
    ///   - groups: the parameter groups.
    ///   - lr: default learning rate γ.
    ///   - alpha: default smoothing constant α.
    ///   - eps: default ε.
    ///   - weightDecay: default L2 penalty λ.
    ///   - momentum: default momentum μ.
    ///   - centered: default for the centered variant.
    ///   - maximize: default for maximizing.
    public init(groups: [ParamGroup], lr: Double = 1e-2, alpha: Double = 0.99, eps: Double = 1e-8,
                weightDecay: Double = 0, momentum: Double = 0, centered: Bool = false, maximize: Bool = false) {
        super.init(groups: groups, defaults: [
            "lr": lr, "alpha": alpha, "eps": eps, "weight_decay": weightDecay, "momentum": momentum,
            "centered": centered ? 1 : 0, "maximize": maximize ? 1 : 0,
        ])
    }

    /// PyTorch's argument checks for this optimizer (see ``Optimizer/argumentError(in:)``).
    override public class func argumentError(in options: [String: Double]) -> String? {
        if let message = super.argumentError(in: options) { return message }
        if !isNonNegative(options["eps"]) { return "Invalid epsilon value: \(options["eps"]!)" }
        if !isNonNegative(options["momentum"]) { return "Invalid momentum value: \(options["momentum"]!)" }
        if !isNonNegative(options["weight_decay"]) { return "Invalid weight_decay value: \(options["weight_decay"]!)" }
        if !isNonNegative(options["alpha"]) { return "Invalid alpha value: \(options["alpha"]!)" }
        return nil
    }

    /// Zero averages (and momentum buffer) at step 0.
    override public func initialState(for param: Tensor, group: ParamGroup, eager: Bool) -> ParamState? {
        if eager { return nil }
        var state = ParamState(step: 0, buffers: ["square_avg": Tensor.zerosLike(param)])
        if group.value("momentum") > 0 { state["momentum_buffer"] = Tensor.zerosLike(param) }
        if group.flag("centered") { state["grad_avg"] = Tensor.zerosLike(param) }
        return state
    }

    /// One RMSprop step for `param` (see the type's description).
    override public func update(_ param: Tensor, grad: Tensor, state: inout ParamState, group: ParamGroup) {
        let alpha = group.value("alpha"), weightDecay = group.value("weight_decay"), momentum = group.value("momentum")
        guard let squareAvg = state["square_avg"] else { preconditionFailure("RMSprop: state of a parameter lacks square_avg") }
        state.step = (state.step ?? 0) + 1

        var grad = group.flag("maximize") ? -grad : grad
        if weightDecay != 0 { grad = grad.add(param, alpha: weightDecay) }
        squareAvg.mul_(alpha).add_(grad * grad, alpha: 1 - alpha)

        var avg: Tensor
        if group.flag("centered") {
            let gradAvg = state["grad_avg"] ?? Tensor.zerosLike(param)
            state["grad_avg"] = gradAvg
            lerpInPlace(gradAvg, grad, weight: 1 - alpha)
            avg = squareAvg.sub(gradAvg * gradAvg).sqrt()
        } else {
            avg = squareAvg.sqrt()
        }
        avg += group.value("eps")

        if momentum > 0 {
            let buffer = state["momentum_buffer"] ?? Tensor.zerosLike(param)
            state["momentum_buffer"] = buffer
            buffer.mul_(momentum).add_(grad / avg)
            param.add_(buffer, alpha: -group.lr)
        } else {
            param.add_(grad / avg, alpha: -group.lr)
        }
    }
}
