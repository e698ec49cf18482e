// Activation functions and softmax.

/// `max(x, 0)` elementwise.
///
/// ```swift
/// relu(Tensor([-1, 2] as [Float]))   // [0, 2]
/// ```
public func relu(_ x: Tensor) -> Tensor { x.unaryOp(.relu, rule: .relu, savesOutput: true) }

/// The logistic function `1 / (1 + e⁻ˣ)`.
public func sigmoid(_ x: Tensor) -> Tensor { x.unaryOp(.sigmoid, rule: .sigmoid, savesOutput: true) }

/// Gaussian error linear unit: `x·Φ(x)` exactly, or with the tanh approximation
/// `0.5x(1 + tanh(√(2/π)(x + 0.044715x³)))` when `approximate` is `.tanh`.
///
/// ```swift
/// gelu(x)                      // exact (erf)
/// gelu(x, approximate: .tanh)  // GPT-2 style
/// ```
public func gelu(_ x: Tensor, approximate: GELUApproximation = .none) -> Tensor {
    switch approximate {
    case .none: return x.unaryOp(.gelu, rule: .gelu, savesInput: true)
    case .tanh: return x.unaryOp(.geluTanh, rule: .geluTanh, savesInput: true)
    }
}

/// How `gelu` evaluates the Gaussian CDF.
public enum GELUApproximation: Sendable {
    /// The exact form with `erf`.
    case none
    /// The tanh approximation.
    case tanh
}

/// `x · sigmoid(x)` (also called swish).
public func silu(_ x: Tensor) -> Tensor { x.unaryOp(.silu, rule: .silu, savesInput: true) }

/// `log(1 + e^(βx)) / β`, linear above `threshold` (in units of βx) for stability.
public func softplus(_ x: Tensor, beta: Double = 1, threshold: Double = 20) -> Tensor {
    x.unaryOp(.softplus(beta: beta, threshold: threshold), rule: .softplus(beta: beta, threshold: threshold), savesInput: true)
}

/// `x` where positive, `negativeSlope · x` elsewhere.
public func leakyRelu(_ x: Tensor, negativeSlope: Double = 0.01) -> Tensor {
    x.unaryOp(.leakyRelu(slope: negativeSlope), rule: .leakyRelu(negativeSlope), savesInput: true)
}

/// `x` where positive, `α(eˣ - 1)` elsewhere.
public func elu(_ x: Tensor, alpha: Double = 1) -> Tensor {
    x.unaryOp(.elu(alpha: alpha), rule: .elu(alpha), savesInput: true, savesOutput: true)
}

/// Softmax along `dim`: `exp(x - max) / sum(exp(x - max))`, numerically stable.
///
/// ```swift
/// let p = softmax(logits, dim: -1)   // rows sum to 1
/// ```
public func softmax(_ x: Tensor, dim: Int) -> Tensor { x.softmaxFamily(dim: dim, log: false) }

/// Softmax along the last dimension under a causal mask, in one pass: row `i` of each
/// trailing `[L, S]` matrix is taken over its columns `j ≤ i + offset` and is 0 past them —
/// `softmax(x.maskedFill(j > i + offset, -inf), dim: -1)` without writing the mask or the
/// filled copy. Differentiable (the gradient of the masked entries is 0).
///
/// - Parameters:
///   - x: `[…, L, S]`, floating point.
///   - offset: how many columns past the diagonal each row sees (0: `j ≤ i`).
///
/// ```swift
/// let weights = causalSoftmax(scores)   // scores [B, heads, T, T]: row i sees keys 0...i
/// ```
public func causalSoftmax(_ x: Tensor, offset: Int = 0) -> Tensor {
    precondition(x.rank >= 2, "causal_softmax: expects at least 2 dimensions [..., L, S], got shape \(x.shape)")
    if OperationTrace.current != nil {
        // While a trace is taken (ONNX export): the mask as a constant, then the usual ops.
        let (length, width) = (x.shape[x.rank - 2], x.shape[x.rank - 1])
        var blocked = [Bool](repeating: false, count: length * width)
        for i in 0..<length { for j in 0..<width where j > i + offset { blocked[i * width + j] = true } }
        return softmax(x.maskedFill(Tensor(blocked, shape: [length, width]).to(x.device), -.infinity), dim: -1)
    }
    let original = x.dtype.isFloatingPoint ? x.dtype : .defaultFloat
    let input = noGrad { (x.dtype == original && original.computeType == original ? x : x.to(original.computeType)).contiguous() }
    var out = Tensor(uninitializedShape: input.shape, dtype: input.dtype, device: input.device)
    if out.count > 0 { x.device.backend.causalSoftmax(input, offset: offset, into: out) }
    if out.dtype != original { out = noGrad { out.to(original) } }
    // Softmax's rule reads only the output, where masked entries are 0 and get no gradient.
    if shouldRecord(x) { record(out, .softmax(dim: x.rank - 1), inputs: [x], savesOutput: true) }
    return out
}

/// `log(softmax(x))` along `dim`, computed stably as `x - max - log(sum(exp(x - max)))`.
public func logSoftmax(_ x: Tensor, dim: Int) -> Tensor { x.softmaxFamily(dim: dim, log: true) }

extension Tensor {
    /// Softmax along `dim`.
    public func softmax(dim: Int) -> Tensor { softmaxFamily(dim: dim, log: false) }
    /// Log-softmax along `dim`.
    public func logSoftmax(dim: Int) -> Tensor { softmaxFamily(dim: dim, log: true) }

    /// Softmax or log-softmax through the backend's fused row kernel (moving `dim` last).
    func softmaxFamily(dim: Int, log: Bool) -> Tensor {
        let d = normalizeDim(dim, rank, op: log ? "log_softmax" : "softmax")
        var input = dtype.isFloatingPoint ? self : noGrad { self.to(.defaultFloat) }
        let original = input.dtype
        if original.computeType != original { input = noGrad { input.to(.float32) } }
        let last = rank == 0 ? 0 : rank - 1
        let moved = noGrad { (d == last ? input : input.transpose(d, last)).contiguous() }
        var out = Tensor(uninitializedShape: moved.shape, dtype: moved.dtype, device: device)
        device.backend.softmax(moved, log: log, into: out)
        out = noGrad {
            let back = d == last ? out : out.transpose(d, last).contiguous()
            return back.dtype == original ? back : back.to(original)
        }
        if shouldRecord(self) {
            record(out, log ? .logSoftmax(dim: d) : .softmax(dim: d), inputs: [self], savesOutput: true)
        }
        return out
    }
}
