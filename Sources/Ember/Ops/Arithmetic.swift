// Elementwise binary ops with broadcasting and type promotion: + - * /, pow, maximum,
// comparisons, logical ops and where.

/// Fills a saved-tensor slot that the backward rule will not read.
let unusedSlot = Tensor(uninitializedShape: [], dtype: .bool)

extension Tensor {
    /// Runs `op` on two tensors after promoting their dtypes and broadcasting their
    /// shapes; records nothing (the public ops below add autograd).
    static func elementwise(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, name: String) -> Tensor {
        var a = a, b = b
        if a.device != b.device {
            if a.isWrappedNumber { a = a.to(b.device) } else if b.isWrappedNumber { b = b.to(a.device) }
            precondition(a.device == b.device, "\(name): expected all tensors on the same device, got \(a.device) and \(b.device)")
        }
        let resultDType = (a.dtype == b.dtype && !a.isWrappedNumber && !b.isWrappedNumber) ? a.dtype : resultType(a, b)
        var computeDType = resultDType.computeType
        if (op == .div || op == .atan2) && !computeDType.isFloatingPoint { computeDType = .defaultFloat }
        let shape = a.shape == b.shape ? a.shape : broadcastShapes(a.shape, b.shape, op: name)
        if a.dtype != computeDType { a = noGrad { a.to(computeDType) } }
        if b.dtype != computeDType { b = noGrad { b.to(computeDType) } }
        if a.shape != shape { a = a.broadcastView(to: shape) }
        if b.shape != shape { b = b.broadcastView(to: shape) }
        let out = Tensor(uninitializedShape: shape, dtype: op.producesBool ? .bool : computeDType, device: a.device)
        a.device.backend.binary(op, a, b, into: out)
        if !op.producesBool && computeDType != resultDType && !resultDType.isInteger && resultDType != .bool {
            return noGrad { out.to(resultDType) }
        }
        return out
    }

    /// Wraps a Swift scalar for use as an operand next to this tensor.
    @inline(__always) func scalar(_ value: Double) -> Tensor { .wrapping(value, isInteger: false, device: device) }
    @inline(__always) func scalar(_ value: Int) -> Tensor { .wrapping(Double(value), isInteger: true, device: device) }

    /// Elementwise sum with broadcasting.
    public static func + (a: Tensor, b: Tensor) -> Tensor {
        let out = elementwise(.add, a, b, name: "add")
        if shouldRecord(a, b) { record(out, .add, inputs: [a, b]) }
        return out
    }
    /// Elementwise difference with broadcasting.
    public static func - (a: Tensor, b: Tensor) -> Tensor {
        let out = elementwise(.sub, a, b, name: "sub")
        if shouldRecord(a, b) { record(out, .sub, inputs: [a, b]) }
        return out
    }
    /// Elementwise product with broadcasting.
    public static func * (a: Tensor, b: Tensor) -> Tensor {
        let out = elementwise(.mul, a, b, name: "mul")
        // Save only what the rule reads: b for a's gradient, a for b's.
        if shouldRecord(a, b) {
            record(out, .mul, inputs: [a, b], saved: [b.requiresGradFlag ? a : unusedSlot, a.requiresGradFlag ? b : unusedSlot])
        }
        return out
    }
    /// Elementwise true division with broadcasting (integers divide as floats).
    public static func / (a: Tensor, b: Tensor) -> Tensor {
        let out = elementwise(.div, a, b, name: "div")
        if shouldRecord(a, b) { record(out, .div, inputs: [a, b], saved: [b.requiresGradFlag ? a : unusedSlot, b]) }
        return out
    }
    /// Negation.
    public static prefix func - (x: Tensor) -> Tensor { x.unaryOp(.neg, rule: .neg) }

    /// `+` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func + (a: Tensor, b: Double) -> Tensor { a + a.scalar(b) }
    /// `+` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func + (a: Double, b: Tensor) -> Tensor { b.scalar(a) + b }
    /// `+` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func + (a: Tensor, b: Int) -> Tensor { a + a.scalar(b) }
    /// `+` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func + (a: Int, b: Tensor) -> Tensor { b.scalar(a) + b }
    /// `-` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func - (a: Tensor, b: Double) -> Tensor { a - a.scalar(b) }
    /// `-` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func - (a: Double, b: Tensor) -> Tensor { b.scalar(a) - b }
    /// `-` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func - (a: Tensor, b: Int) -> Tensor { a - a.scalar(b) }
    /// `-` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func - (a: Int, b: Tensor) -> Tensor { b.scalar(a) - b }
    /// `*` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func * (a: Tensor, b: Double) -> Tensor { a * a.scalar(b) }
    /// `*` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func * (a: Double, b: Tensor) -> Tensor { b.scalar(a) * b }
    /// `*` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func * (a: Tensor, b: Int) -> Tensor { a * a.scalar(b) }
    /// `*` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func * (a: Int, b: Tensor) -> Tensor { b.scalar(a) * b }
    /// `/` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func / (a: Tensor, b: Double) -> Tensor { a / a.scalar(b) }
    /// `/` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func / (a: Double, b: Tensor) -> Tensor { b.scalar(a) / b }
    /// `/` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func / (a: Tensor, b: Int) -> Tensor { a / a.scalar(b) }
    /// `/` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func / (a: Int, b: Tensor) -> Tensor { b.scalar(a) / b }

    /// `self + alpha * other` (`torch.add` with `alpha`).
    ///
    /// ```swift
    /// let y = x.add(z, alpha: 0.5)
    /// ```
    public func add(_ other: Tensor, alpha: Double = 1) -> Tensor { alpha == 1 ? self + other : self + other * alpha }
    /// `self - alpha * other`.
    public func sub(_ other: Tensor, alpha: Double = 1) -> Tensor { alpha == 1 ? self - other : self - other * alpha }
    /// Elementwise product (`torch.mul`).
    public func mul(_ other: Tensor) -> Tensor { self * other }
    /// Elementwise true division (`torch.div`).
    public func div(_ other: Tensor) -> Tensor { self / other }

    /// Elementwise power with a tensor exponent.
    ///
    /// ```swift
    /// let y = x.pow(Tensor([2, 3] as [Float]))
    /// ```
    public func pow(_ exponent: Tensor) -> Tensor {
        let out = Tensor.elementwise(.pow, self, exponent, name: "pow")
        if shouldRecord(self, exponent) { record(out, .pow, inputs: [self, exponent], saved: [self, exponent], savesOutput: true) }
        return out
    }

    /// Elementwise power with a scalar exponent.
    ///
    /// ```swift
    /// let y = x.pow(2)    // x²
    /// ```
    public func pow(_ exponent: Double) -> Tensor {
        if !dtype.isFloatingPoint && exponent.rounded() == exponent && exponent >= 0 {
            return Tensor.elementwise(.pow, self, scalar(Int(exponent)), name: "pow")
        }
        return unaryOp(.pow(exponent), rule: .powScalar(exponent), savesInput: true)
    }

    /// Python-style remainder (the result takes the divisor's sign), as `torch.remainder`.
    public func remainder(_ other: Tensor) -> Tensor {
        let out = Tensor.elementwise(.remainder, self, other, name: "remainder")
        if shouldRecord(self, other) { record(out, .remainder, inputs: [self, other], saved: [self, other]) }
        return out
    }

    /// Rounds the quotient down (`torch.floor_divide`); not differentiable.
    public func floorDivide(_ other: Tensor) -> Tensor { Tensor.elementwise(.floorDivide, self, other, name: "floor_divide") }

    // Comparisons: bool results, no gradient.
    /// `self == other` elementwise.
    public func eq(_ other: Tensor) -> Tensor { Tensor.elementwise(.eq, self, other, name: "eq") }
    /// `self != other` elementwise.
    public func ne(_ other: Tensor) -> Tensor { Tensor.elementwise(.ne, self, other, name: "ne") }
    /// `self < other` elementwise.
    public func lt(_ other: Tensor) -> Tensor { Tensor.elementwise(.lt, self, other, name: "lt") }
    /// `self <= other` elementwise.
    public func le(_ other: Tensor) -> Tensor { Tensor.elementwise(.le, self, other, name: "le") }
    /// `self > other` elementwise.
    public func gt(_ other: Tensor) -> Tensor { Tensor.elementwise(.gt, self, other, name: "gt") }
    /// `self >= other` elementwise.
    public func ge(_ other: Tensor) -> Tensor { Tensor.elementwise(.ge, self, other, name: "ge") }
    /// `self == value` elementwise.
    public func eq(_ value: Double) -> Tensor { eq(scalar(value)) }
    /// `self != value` elementwise.
    public func ne(_ value: Double) -> Tensor { ne(scalar(value)) }
    /// `self < value` elementwise.
    public func lt(_ value: Double) -> Tensor { lt(scalar(value)) }
    /// `self <= value` elementwise.
    public func le(_ value: Double) -> Tensor { le(scalar(value)) }
    /// `self > value` elementwise.
    public func gt(_ value: Double) -> Tensor { gt(scalar(value)) }
    /// `self >= value` elementwise.
    public func ge(_ value: Double) -> Tensor { ge(scalar(value)) }

    /// Elementwise comparisons as operators, spelled like Swift's SIMD masks.
    ///
    /// ```swift
    /// let mask = x .> 0        // bool tensor
    /// ```
    public static func .== (a: Tensor, b: Tensor) -> Tensor { a.eq(b) }
    /// `.!=` elementwise on two tensors (broadcasting).
    public static func .!= (a: Tensor, b: Tensor) -> Tensor { a.ne(b) }
    /// `.<` elementwise on two tensors (broadcasting).
    public static func .< (a: Tensor, b: Tensor) -> Tensor { a.lt(b) }
    /// `.<=` elementwise on two tensors (broadcasting).
    public static func .<= (a: Tensor, b: Tensor) -> Tensor { a.le(b) }
    /// `.>` elementwise on two tensors (broadcasting).
    public static func .> (a: Tensor, b: Tensor) -> Tensor { a.gt(b) }
    /// `.>=` elementwise on two tensors (broadcasting).
    public static func .>= (a: Tensor, b: Tensor) -> Tensor { a.ge(b) }
    /// `.==` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func .== (a: Tensor, b: Double) -> Tensor { a.eq(b) }
    /// `.!=` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func .!= (a: Tensor, b: Double) -> Tensor { a.ne(b) }
    /// `.<` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func .< (a: Tensor, b: Double) -> Tensor { a.lt(b) }
    /// `.<=` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func .<= (a: Tensor, b: Double) -> Tensor { a.le(b) }
    /// `.>` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func .> (a: Tensor, b: Double) -> Tensor { a.gt(b) }
    /// `.>=` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func .>= (a: Tensor, b: Double) -> Tensor { a.ge(b) }

    /// Elementwise logical and (nonzero is true).
    public func logicalAnd(_ other: Tensor) -> Tensor { Tensor.elementwise(.logicalAnd, self, other, name: "logical_and") }
    /// Elementwise logical or.
    public func logicalOr(_ other: Tensor) -> Tensor { Tensor.elementwise(.logicalOr, self, other, name: "logical_or") }
    /// Elementwise logical exclusive or.
    public func logicalXor(_ other: Tensor) -> Tensor { Tensor.elementwise(.logicalXor, self, other, name: "logical_xor") }
    /// Elementwise logical not.
    public func logicalNot() -> Tensor { unaryOp(.logicalNot, rule: nil) }
    /// Logical and of bool masks.
    public static func .& (a: Tensor, b: Tensor) -> Tensor { a.logicalAnd(b) }
    /// Logical or of bool masks.
    public static func .| (a: Tensor, b: Tensor) -> Tensor { a.logicalOr(b) }
    /// Logical exclusive or of bool masks.
    public static func .^ (a: Tensor, b: Tensor) -> Tensor { a.logicalXor(b) }
    /// Logical not of a bool mask.
    public static prefix func .! (a: Tensor) -> Tensor { a.logicalNot() }

    /// Picks `a` where `condition` is true and `b` elsewhere, broadcasting all three
    /// (`torch.where`).
    ///
    /// ```swift
    /// let y = Tensor.where(x .> 0, x, Tensor.zerosLike(x))
    /// ```
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(condition.dtype == .bool, "where: condition must be a bool tensor, got \(condition.dtype)")
        let dtype = resultType(a, b)
        let shape = broadcastShapes(broadcastShapes(condition.shape, a.shape, op: "where"), b.shape, op: "where")
        let ca = noGrad { a.to(dtype) }.broadcastView(to: shape)
        let cb = noGrad { b.to(dtype) }.broadcastView(to: shape)
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: a.device)
        a.device.backend.select(condition.broadcastView(to: shape), ca, cb, into: out)
        if shouldRecord(a, b) { record(out, .where, inputs: [a, b], saved: [condition]) }
        return out
    }

    /// `where` with a scalar for the false branch.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Double) -> Tensor {
        Tensor.where(condition, a, a.scalar(b))
    }
}

/// Elementwise maximum (NaN propagates), with broadcasting.
///
/// ```swift
/// maximum(x, Tensor.zerosLike(x))   // relu
/// ```
public func maximum(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = Tensor.elementwise(.maximum, a, b, name: "maximum")
    if shouldRecord(a, b) { record(out, .maximum, inputs: [a, b], saved: [a, b]) }
    return out
}

/// Elementwise minimum (NaN propagates), with broadcasting.
public func minimum(_ a: Tensor, _ b: Tensor) -> Tensor {
    let out = Tensor.elementwise(.minimum, a, b, name: "minimum")
    if shouldRecord(a, b) { record(out, .minimum, inputs: [a, b], saved: [a, b]) }
    return out
}

/// Elementwise `atan2(y, x)`, the angle of the point (x, y).
public func atan2(_ y: Tensor, _ x: Tensor) -> Tensor {
    let out = Tensor.elementwise(.atan2, y, x, name: "atan2")
    if shouldRecord(y, x) { record(out, .atan2, inputs: [y, x], saved: [y, x]) }
    return out
}

/// `base` raised to `exponent` elementwise.
public func pow(_ base: Tensor, _ exponent: Tensor) -> Tensor { base.pow(exponent) }
/// `base` raised to a scalar power elementwise.
public func pow(_ base: Tensor, _ exponent: Double) -> Tensor { base.pow(exponent) }
