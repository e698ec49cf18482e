// Elementwise functions of one tensor: exp, log, sqrt, trigonometry, rounding, tests.

extension Tensor {
    /// Runs a unary primitive, computing integers in float where the op requires it and
    /// half types through float32, then records `rule` for autograd.
    ///
    /// - Parameters:
    ///   - rule: the backward rule, or nil for ops without a gradient.
    ///   - savesInput: save the input for backward.
    ///   - savesOutput: save the result for backward.
    func unaryOp(_ op: UnaryOp, rule: BackwardRule?, savesInput: Bool = false, savesOutput: Bool = false) -> Tensor {
        var input = self
        if !dtype.isFloatingPoint && !op.keepsIntegers { input = noGrad { self.to(.defaultFloat) } }
        let computed = input.dtype.computeType == input.dtype ? input : noGrad { input.to(.float32) }
        let out = Tensor(uninitializedShape: shape, dtype: op.producesBool ? .bool : computed.dtype, device: device)
        device.backend.unary(op, computed, into: out)
        let result = (!op.producesBool && computed.dtype != input.dtype) ? noGrad { out.to(input.dtype) } : out
        if let rule, shouldRecord(self) {
            record(result, rule, inputs: [self], saved: savesInput ? [self] : [], savesOutput: savesOutput)
        }
        return result
    }

    /// Absolute value.
    public func abs() -> Tensor { unaryOp(.abs, rule: .abs, savesInput: true) }
    /// Square root.
    public func sqrt() -> Tensor { unaryOp(.sqrt, rule: .sqrt, savesOutput: true) }
    /// Exponential.
    public func exp() -> Tensor { unaryOp(.exp, rule: .exp, savesOutput: true) }
    /// Natural logarithm.
    public func log() -> Tensor { unaryOp(.log, rule: .log, savesInput: true) }
    /// Square.
    public func square() -> Tensor { unaryOp(.square, rule: .square, savesInput: true) }
    /// Clamps values into `[min, max]` (either bound optional); the gradient passes
    /// where the value was inside the range.
    ///
    /// ```swift
    /// x.clamp(min: 0, max: 6)   // relu6
    /// ```
    public func clamp(min: Double? = nil, max: Double? = nil) -> Tensor {
        precondition(min != nil || max != nil, "clamp: at least one of min and max must be given")
        // A fractional bound on an integer tensor promotes to float, as PyTorch's clamp(x, 0.5).
        if !dtype.isFloatingPoint, [min, max].contains(where: { $0.map { $0.rounded() != $0 } ?? false }) {
            return noGrad { self.to(.defaultFloat) }.clamp(min: min, max: max)
        }
        return unaryOp(.clamp(min: min, max: max), rule: .clamp(min: min, max: max), savesInput: true)
    }
}

/// `|x|` elementwise.
public func abs(_ x: Tensor) -> Tensor { x.abs() }
/// The sign of each element: -1, 0 or 1 (zero gradient).
public func sign(_ x: Tensor) -> Tensor { x.unaryOp(.sign, rule: .zeroGradient("SignBackward0")) }
/// `eˣ` elementwise.
///
/// ```swift
/// exp(Tensor([0, 1] as [Float]))   // [1, 2.7183]
/// ```
public func exp(_ x: Tensor) -> Tensor { x.exp() }
/// Natural logarithm elementwise.
public func log(_ x: Tensor) -> Tensor { x.log() }
/// `log(1 + x)`, accurate for small x.
public func log1p(_ x: Tensor) -> Tensor { x.unaryOp(.log1p, rule: .log1p, savesInput: true) }
/// `eˣ - 1`, accurate for small x.
public func expm1(_ x: Tensor) -> Tensor { x.unaryOp(.expm1, rule: .expm1, savesOutput: true) }
/// Square root elementwise.
public func sqrt(_ x: Tensor) -> Tensor { x.sqrt() }
/// `1 / √x` elementwise.
public func rsqrt(_ x: Tensor) -> Tensor { x.unaryOp(.rsqrt, rule: .rsqrt, savesOutput: true) }
/// `1 / x` elementwise.
public func reciprocal(_ x: Tensor) -> Tensor { x.unaryOp(.reciprocal, rule: .reciprocal, savesOutput: true) }
/// `x²` elementwise.
public func square(_ x: Tensor) -> Tensor { x.square() }
/// Sine.
public func sin(_ x: Tensor) -> Tensor { x.unaryOp(.sin, rule: .sin, savesInput: true) }
/// Cosine.
public func cos(_ x: Tensor) -> Tensor { x.unaryOp(.cos, rule: .cos, savesInput: true) }
/// Tangent.
public func tan(_ x: Tensor) -> Tensor { x.unaryOp(.tan, rule: .tan, savesOutput: true) }
/// Inverse sine.
public func asin(_ x: Tensor) -> Tensor { x.unaryOp(.asin, rule: .asin, savesInput: true) }
/// Inverse cosine.
public func acos(_ x: Tensor) -> Tensor { x.unaryOp(.acos, rule: .acos, savesInput: true) }
/// Inverse tangent.
public func atan(_ x: Tensor) -> Tensor { x.unaryOp(.atan, rule: .atan, savesInput: true) }
/// Hyperbolic sine.
public func sinh(_ x: Tensor) -> Tensor { x.unaryOp(.sinh, rule: .sinh, savesInput: true) }
/// Hyperbolic cosine.
public func cosh(_ x: Tensor) -> Tensor { x.unaryOp(.cosh, rule: .cosh, savesInput: true) }
/// Hyperbolic tangent.
///
/// ```swift
/// let y = tanh(x.matmul(w))
/// ```
public func tanh(_ x: Tensor) -> Tensor { x.unaryOp(.tanh, rule: .tanh, savesOutput: true) }
/// The Gauss error function.
public func erf(_ x: Tensor) -> Tensor { x.unaryOp(.erf, rule: .erf, savesInput: true) }
/// Rounds down (zero gradient).
public func floor(_ x: Tensor) -> Tensor { x.unaryOp(.floor, rule: .zeroGradient("FloorBackward0")) }
/// Rounds up (zero gradient).
public func ceil(_ x: Tensor) -> Tensor { x.unaryOp(.ceil, rule: .zeroGradient("CeilBackward0")) }
/// Rounds to the nearest integer, halves to even, as `torch.round` (zero gradient).
public func round(_ x: Tensor) -> Tensor { x.unaryOp(.round, rule: .zeroGradient("RoundBackward0")) }
/// Rounds toward zero (zero gradient).
public func trunc(_ x: Tensor) -> Tensor { x.unaryOp(.trunc, rule: .zeroGradient("TruncBackward0")) }
/// True where an element is NaN.
public func isNaN(_ x: Tensor) -> Tensor { x.unaryOp(.isNaN, rule: nil) }
/// True where an element is finite (not NaN, not infinite).
public func isFinite(_ x: Tensor) -> Tensor { x.unaryOp(.isFinite, rule: nil) }
/// True where an element is positive or negative infinity.
public func isInf(_ x: Tensor) -> Tensor { x.unaryOp(.isInf, rule: nil) }
/// Clamps into `[min, max]`.
public func clamp(_ x: Tensor, min: Double? = nil, max: Double? = nil) -> Tensor { x.clamp(min: min, max: max) }
