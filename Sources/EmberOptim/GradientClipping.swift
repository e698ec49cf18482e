// Gradient clipping: scale gradients to a maximum total norm, or clamp them elementwise.
import Ember

/// Scales the gradients of `params` in place so that their total norm is at most
/// `maxNorm`, and returns the total norm before clipping (a 0-d tensor), as
/// `torch.nn.utils.clip_grad_norm_`.
///
/// With gᵢ the gradients (parameters without one are skipped) and p = `normType`:
///
/// ```
/// N = ‖(‖g₁‖ₚ, ‖g₂‖ₚ, …)‖ₚ            (for p = ∞: the largest |element|)
/// gᵢ ← gᵢ · min(1, maxNorm / (N + 1e-6))
/// ```
///
/// - Parameters:
///   - params: the parameters whose `grad` to clip.
///   - maxNorm: the largest total norm allowed.
///   - normType: the order p of the norm (`.infinity` for the max norm).
///   - errorIfNonfinite: stop when the total norm is NaN or infinite instead of scaling by it.
/// - Returns: the total norm N of the gradients before clipping.
///
/// ```swift
/// loss.backward()
/// let norm = clipGradNorm(model.parameters(), maxNorm: 1.0)
/// optimizer.step()
/// ```
@discardableResult
public func clipGradNorm(_ params: [Tensor], maxNorm: Double, normType: Double = 2,
                         errorIfNonfinite: Bool = false) -> Tensor {
    noGrad {
        let grads = params.compactMap(\.grad)
        guard !grads.isEmpty else { return Tensor(Float(0)) }
        var norms = grads.map { $0.norm(p: normType) }
        if let mixed = norms.first(where: { $0.dtype != norms[0].dtype }) {
            let common: DType = norms.contains { $0.dtype == .float64 } ? .float64 : mixed.dtype == .float32 ? .float32 : norms[0].dtype
            norms = norms.map { $0.to(common) }
        }
        let total = Tensor.stack(norms).norm(p: normType)
        if errorIfNonfinite {
            let value = total.item(Double.self)
            precondition(value.isFinite,
                         "clipGradNorm: The total norm of order \(normType) for gradients from `parameters` is non-finite, so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm anyway, set `errorIfNonfinite: false`")
        }
        let coefficient = (maxNorm / (total + 1e-6)).clamp(max: 1)
        for grad in grads { grad.mul_(coefficient) }
        return total
    }
}

/// Clamps every gradient element of `params` into [−clipValue, clipValue] in place, as
/// `torch.nn.utils.clip_grad_value_`.
///
/// ```
/// g ← min(max(g, −clipValue), clipValue)
/// ```
///
/// - Parameters:
///   - params: the parameters whose `grad` to clip (those without one are skipped).
///   - clipValue: the largest magnitude allowed.
///
/// ```swift
/// loss.backward()
/// clipGradValue(model.parameters(), clipValue: 0.5)
/// ```
public func clipGradValue(_ params: [Tensor], clipValue: Double) {
    noGrad {
        for grad in params.compactMap(\.grad) { grad.clamp_(min: -clipValue, max: clipValue) }
    }
}
