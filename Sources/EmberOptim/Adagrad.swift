// Adagrad: per-element learning rates from the running sum of squared gradients.
import Ember

/// Adagrad, as `torch.optim.Adagrad` (its single-tensor update, step by step).
///
/// For each parameter θ with gradient g at its step t (counted from 1), with learning
/// rate γ, learning-rate decay η, weight decay λ, initial accumulator value s₀ and ε:
///
/// ```
/// g ← −g                          if maximize
/// g ← g + λ·θ                     if λ ≠ 0
/// γₜ ← γ / (1 + (t − 1)·η)
/// s ← s + g²                      (s starts at s₀)
/// θ ← θ − γₜ · g / (√s + ε)
/// ```
///
/// State: `"sum"` (s) and the step count, created when the parameter is added (as
/// PyTorch does), so a fresh optimizer's state dict already holds them.
///
/// ```swift
/// let optimizer = Adagrad(model.parameters(), lr: 0.1, lrDecay: 0.01)
/// optimizer.step()
/// ```
///
/// ### See Also
/// - ``RMSprop``, ``Adam``
public final class Adagrad: Optimizer {
    /// Creates Adagrad over one group of parameters.
    ///
    /// - Parameters:
    ///   - params: the tensors to optimize.
    ///   - lr: learning rate γ (≥ 0).
    ///   - lrDecay: learning-rate decay η (≥ 0).
    ///   - weightDecay: L2 penalty λ (≥ 0).
    ///   - initialAccumulatorValue: starting value s₀ of the squared-gradient sum (≥ 0).
    ///   - eps: ε added to the denominator (≥ 0).
    ///   - maximize: maximize the objective instead of minimizing it.
    public convenience init(_ params: [Tensor], lr: Double = 1e-2, lrDecay: Double = 0, weightDecay: Double = 0,
                            initialAccumulatorValue: Double = 0, eps: Double = 1e-10, maximize: Bool = false) {
        self.init(groups: [ParamGroup(params)], lr: lr, lrDecay: lrDecay, weightDecay: weightDecay,
                  initialAccumulatorValue: initialAccumulatorValue, eps: eps, maximize: maximize)
    }

    /// Creates Adagrad over parameter groups; the arguments are the defaults for options a
    /// group does not set (keys `"lr"`, `"lr_decay"`, `"weight_decay"`,
    /// `"initial_accumulator_value"`, `"eps"`, `"maximize"`).
    ///
    /// - Parameters:
    ///   - groups: the parameter groups.
    ///   - lr: default learning rate γ.
    ///   - lrDecay: default learning-rate decay η.
    ///   - weightDecay: default L2 penalty λ.
    ///   - initialAccumulatorValue: default s₀.
    ///   - eps: default ε.
    ///   - maximize: default for maximizing.
    public init(groups: [ParamGroup], lr: Double = 1e-2, lrDecay: Double = 0, weightDecay: Double = 0,
                initialAccumulatorValue: Double = 0, eps: Double = 1e-10, maximize: Bool = false) {
        super.init(groups: groups, defaults: [
            "lr": lr, "lr_decay": lrDecay, "weight_decay": weightDecay,
            "initial_accumulator_value": initialAccumulatorValue, "eps": eps, "maximize": maximize ? 1 : 0,
        ])
    }

    /// PyTorch's argument checks for this optimizer (see ``Optimizer/argumentError(in:)``).
    override public class func argumentError(in options: [String: Double]) -> String? {
        if let message = super.argumentError(in: options) { return message }
        if !isNonNegative(options["lr_decay"]) { return "Invalid lr_decay value: \(options["lr_decay"]!)" }
        if !isNonNegative(options["weight_decay"]) { return "Invalid weight_decay value: \(options["weight_decay"]!)" }
        if !isNonNegative(options["initial_accumulator_value"]) {
            return "Invalid initial_accumulator_value value: \(options["initial_accumulator_value"]!)"
        }
        if !isNonNegative(options["eps"]) { return "Invalid epsilon value: \(options["eps"]!)" }
        return nil
    }

    /// The sum filled with s₀ at step 0, created as soon as the parameter is added.
    override public func initialState(for param: Tensor, group: ParamGroup, eager: Bool) -> ParamState? {
        ParamState(step: 0, buffers: ["sum": Tensor.fullLike(param, group.value("initial_accumulator_value"))])
    }

    /// One Adagrad step for `param` (see the type's description).
    override public func update(_ param: Tensor, grad: Tensor, state: inout ParamState, group: ParamGroup) {
        guard let sum = state["sum"] else { preconditionFailure("Adagrad: state of a parameter lacks sum") }
        let step = (state.step ?? 0) + 1
        state.step = step
        var grad = group.flag("maximize") ? -grad : grad
        let weightDecay = group.value("weight_decay")
        if weightDecay != 0 { grad = grad.add(param, alpha: weightDecay) }
        let clr = group.lr / (1 + Double(step - 1) * group.value("lr_decay"))
        sum.add_(grad * grad)
        var std = sum.sqrt()
        std += group.value("eps")
        param.add_(grad / std, alpha: -clr)
    }
}
