// SGD: stochastic gradient descent with optional momentum, dampening, Nesterov momentum and weight decay.
import Ember

/// Stochastic gradient descent, as `torch.optim.SGD` (its single-tensor update, step by step).
///
/// For each parameter θ with gradient g at step t, with learning rate γ, weight decay λ,
/// momentum μ and dampening τ:
///
/// ```
/// g ← −g                           if maximize
/// g ← g + λ·θ                      if λ ≠ 0
/// if μ ≠ 0:
///     b ← g                        at the parameter's first step
///     b ← μ·b + (1 − τ)·g          afterwards
///     g ← g + μ·b  if nesterov,  else  g ← b
/// θ ← θ − γ·g
/// ```
///
/// State: `"momentum_buffer"` (b), when μ ≠ 0. Nesterov momentum needs μ > 0 and τ = 0.
///
/// ```swift
/// let optimizer = SGD(model.parameters(), lr: 0.1, momentum: 0.9, dampening: 0,
///                     weightDecay: 0.01, nesterov: true)
/// loss.backward()
/// optimizer.step()
/// ```
///
/// ### See Also
/// - ``Optimizer``, ``Adam``
public final class SGD: Optimizer {
    /// Creates SGD over one group of parameters.
    ///
    /// - Parameters:
    ///   - params: the tensors to optimize.
    ///   - lr: learning rate γ (≥ 0).
    ///   - momentum: momentum factor μ (≥ 0).
    ///   - dampening: dampening τ of the momentum.
    ///   - weightDecay: L2 penalty λ (≥ 0).
    ///   - nesterov: use Nesterov momentum.
    ///   - maximize: maximize the objective instead of minimizing it.
    public convenience init(_ params: [Tensor], lr: Double, momentum: Double = 0, dampening: Double = 0,
                            weightDecay: Double = 0, nesterov: Bool = false, maximize: Bool = false) {
        self.init(groups: [ParamGroup(params)], lr: lr, momentum: momentum, dampening: dampening,
                  weightDecay: weightDecay, nesterov: nesterov, maximize: maximize)
    }

    /// Creates SGD over parameter groups; the arguments are the defaults for options a
    /// group does not set (keys `"lr"`, `"momentum"`, `"dampening"`, `"weight_decay"`,
    /// `"nesterov"`, `"maximize"`).
    ///
    /// - Parameters:
    ///   - groups: the parameter groups.
    ///   - lr: default learning rate γ.
    ///   - momentum: default momentum μ.
    ///   - dampening: default dampening τ.
    ///   - weightDecay: default L2 penalty λ.
    ///   - nesterov: default for Nesterov momentum.
    ///   - maximize: default for maximizing.
    public init(groups: [ParamGroup], lr: Double, momentum: Double = 0, dampening: Double = 0,
                weightDecay: Double = 0, nesterov: Bool = false, maximize: Bool = false) {
        super.init(groups: groups, defaults: [
            "lr": lr, "momentum": momentum, "dampening": dampening, "weight_decay": weightDecay,
            "nesterov": nesterov ? 1 : 0, "maximize": maximize ? 1 : 0,
        ])
    }

    /// PyTorch's argument checks for this optimizer (see ``Optimizer/argumentError(in:)``).
    override public class func argumentError(in options: [String: Double]) -> String? {
        if let message = super.argumentError(in: options) { return message }
        if !isNonNegative(options["momentum"]) { return "Invalid momentum value: \(options["momentum"]!)" }
        if !isNonNegative(options["weight_decay"]) { return "Invalid weight_decay value: \(options["weight_decay"]!)" }
        if (options["nesterov"] ?? 0) != 0 && ((options["momentum"] ?? 0) <= 0 || (options["dampening"] ?? 0) != 0) {
            return "Nesterov momentum requires a momentum and zero dampening"
        }
        return nil
    }

    /// One SGD step for `param` (see the type's description).
    override public func update(_ param: Tensor, grad: Tensor, state: inout ParamState, group: ParamGroup) {
        let momentum = group.value("momentum"), weightDecay = group.value("weight_decay")
        var grad = group.flag("maximize") ? -grad : grad
        if weightDecay != 0 { grad = grad.add(param, alpha: weightDecay) }
        if momentum != 0 {
            if let buffer = state["momentum_buffer"] {
                buffer.mul_(momentum).add_(grad, alpha: 1 - group.value("dampening"))
                grad = group.flag("nesterov") ? grad.add(buffer, alpha: momentum) : buffer
            } else {
                let buffer = grad.detach().clone()
                state["momentum_buffer"] = buffer
                grad = group.flag("nesterov") ? grad.add(buffer, alpha: momentum) : buffer
            }
        }
        param.add_(grad, alpha: -group.lr)
    }
}
