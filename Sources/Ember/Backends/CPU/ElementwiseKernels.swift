// Elementwise CPU kernels: one typed inner loop per (op, dtype), run over strided operands.

/// Processes `count` elements: input pointer and stride, output pointer and stride.
typealias UnaryRun = (UnsafeRawPointer, Int, UnsafeMutableRawPointer, Int, Int) -> Void
/// Processes `count` elements of two inputs into one output, each with its own stride.
typealias BinaryRun = (UnsafeRawPointer, Int, UnsafeRawPointer, Int, UnsafeMutableRawPointer, Int, Int) -> Void

/// Wraps a per-element function into a loop with a contiguous fast path.
@inline(__always)
func unaryRun<X, O>(_ f: @escaping (X) -> O) -> UnaryRun {
    return { x, sx, o, so, n in
        let x = x.assumingMemoryBound(to: X.self)
        let o = o.assumingMemoryBound(to: O.self)
        if sx == 1 && so == 1 {
            for i in 0..<n { o[i] = f(x[i]) }
        } else {
            for i in 0..<n { o[i &* so] = f(x[i &* sx]) }
        }
    }
}

/// Wraps a per-element function of two inputs into a loop with fast paths for contiguous
/// operands and for a broadcast scalar on either side.
@inline(__always)
func binaryRun<A, B, O>(_ f: @escaping (A, B) -> O) -> BinaryRun {
    return { a, sa, b, sb, o, so, n in
        let a = a.assumingMemoryBound(to: A.self)
        let b = b.assumingMemoryBound(to: B.self)
        let o = o.assumingMemoryBound(to: O.self)
        if so == 1 && sa == 1 && sb == 1 {
            for i in 0..<n { o[i] = f(a[i], b[i]) }
        } else if so == 1 && sa == 1 && sb == 0 {
            let bv = b[0]
            for i in 0..<n { o[i] = f(a[i], bv) }
        } else if so == 1 && sa == 0 && sb == 1 {
            let av = a[0]
            for i in 0..<n { o[i] = f(av, b[i]) }
        } else {
            for i in 0..<n { o[i &* so] = f(a[i &* sa], b[i &* sb]) }
        }
    }
}

/// The loop for a unary op on a floating-point dtype.
func floatUnaryRun<T: FloatElement>(_ op: UnaryOp, _: T.Type) -> UnaryRun {
    switch op {
    case .neg: return unaryRun { (x: T) in -x }
    case .abs: return unaryRun { (x: T) in Swift.abs(x) }
    case .sign: return unaryRun { (x: T) in x > 0 ? 1 : (x < 0 ? -1 : x) }
    case .exp: return unaryRun { (x: T) in T.exp(x) }
    case .log: return unaryRun { (x: T) in T.log(x) }
    case .log1p: return unaryRun { (x: T) in T.log1p(x) }
    case .expm1: return unaryRun { (x: T) in T.expm1(x) }
    case .sqrt: return unaryRun { (x: T) in x.squareRoot() }
    case .rsqrt: return unaryRun { (x: T) in 1 / x.squareRoot() }
    case .reciprocal: return unaryRun { (x: T) in 1 / x }
    case .square: return unaryRun { (x: T) in x * x }
    case .sin: return unaryRun { (x: T) in T.sin(x) }
    case .cos: return unaryRun { (x: T) in T.cos(x) }
    case .tan: return unaryRun { (x: T) in T.tan(x) }
    case .asin: return unaryRun { (x: T) in T.asin(x) }
    case .acos: return unaryRun { (x: T) in T.acos(x) }
    case .atan: return unaryRun { (x: T) in T.atan(x) }
    case .sinh: return unaryRun { (x: T) in T.sinh(x) }
    case .cosh: return unaryRun { (x: T) in T.cosh(x) }
    case .tanh: return unaryRun { (x: T) in T.tanh(x) }
    case .erf: return unaryRun { (x: T) in T.erf(x) }
    case .sigmoid: return unaryRun { (x: T) in sigmoidElement(x) }
    case .relu: return unaryRun { (x: T) in x > 0 || x.isNaN ? x : 0 }
    case .gelu: return unaryRun { (x: T) in geluElement(x) }
    case .geluTanh: return unaryRun { (x: T) in geluTanhElement(x) }
    case .silu: return unaryRun { (x: T) in x * sigmoidElement(x) }
    case .softplus(let beta, let threshold):
        let b = T(beta), limit = T(threshold)
        return unaryRun { (x: T) in x * b > limit ? x : T.log1p(T.exp(x * b)) / b }
    case .floor: return unaryRun { (x: T) in x.rounded(.down) }
    case .ceil: return unaryRun { (x: T) in x.rounded(.up) }
    case .round: return unaryRun { (x: T) in x.rounded(.toNearestOrEven) }
    case .trunc: return unaryRun { (x: T) in x.rounded(.towardZero) }
    case .isNaN: return unaryRun { (x: T) -> Bool in x.isNaN }
    case .isFinite: return unaryRun { (x: T) -> Bool in x.isFinite }
    case .isInf: return unaryRun { (x: T) -> Bool in x.isInfinite }
    case .logicalNot: return unaryRun { (x: T) -> Bool in x == 0 }
    case .leakyRelu(let slope):
        let s = T(slope)
        return unaryRun { (x: T) in x > 0 ? x : x * s }
    case .elu(let alpha):
        let a = T(alpha)
        return unaryRun { (x: T) in x > 0 ? x : a * T.expm1(x) }
    case .clamp(let low, let high):
        let lo = low.map { T($0) } ?? -T.infinity, hi = high.map { T($0) } ?? T.infinity
        return unaryRun { (x: T) in x.isNaN ? x : Swift.min(Swift.max(x, lo), hi) }
    case .pow(let exponent):
        let e = T(exponent)
        if exponent == 2 { return unaryRun { (x: T) in x * x } }
        if exponent == 0.5 { return unaryRun { (x: T) in x.squareRoot() } }
        return unaryRun { (x: T) in T.pow(x, e) }
    }
}

/// The loop for a unary op on an integer dtype (ops that keep integers only).
func integerUnaryRun<T: IntegerElement>(_ op: UnaryOp, _: T.Type) -> UnaryRun {
    switch op {
    case .neg: return unaryRun { (x: T) in 0 &- x }
    case .abs: return unaryRun { (x: T) in x < 0 ? 0 &- x : x }
    case .sign: return unaryRun { (x: T) in x > 0 ? 1 : (x < 0 ? 0 &- 1 : 0) }
    case .square: return unaryRun { (x: T) in x &* x }
    case .relu: return unaryRun { (x: T) in x > 0 ? x : 0 }
    case .floor, .ceil, .round, .trunc: return unaryRun { (x: T) in x }
    case .clamp(let low, let high):
        let lo = low.map { T(emberDouble: $0.rounded(.up)) } ?? T.min
        let hi = high.map { T(emberDouble: $0.rounded(.down)) } ?? T.max
        return unaryRun { (x: T) in Swift.min(Swift.max(x, lo), hi) }
    case .isNaN, .isInf: return unaryRun { (_: T) -> Bool in false }
    case .isFinite: return unaryRun { (_: T) -> Bool in true }
    case .logicalNot: return unaryRun { (x: T) -> Bool in x == 0 }
    default: preconditionFailure("\(op): not defined for integer tensors")
    }
}

/// The loop for a unary op on a bool tensor.
func boolUnaryRun(_ op: UnaryOp) -> UnaryRun {
    switch op {
    case .logicalNot: return unaryRun { (x: Bool) in !x }
    case .isNaN, .isInf: return unaryRun { (_: Bool) in false }
    case .isFinite: return unaryRun { (_: Bool) in true }
    case .abs, .relu, .floor, .ceil, .round, .trunc, .square: return unaryRun { (x: Bool) in x }
    default: preconditionFailure("\(op): not defined for bool tensors")
    }
}

/// The loop for a binary op on a floating-point dtype.
func floatBinaryRun<T: FloatElement>(_ op: BinaryOp, _: T.Type) -> BinaryRun {
    switch op {
    case .add: return binaryRun { (a: T, b: T) in a + b }
    case .sub: return binaryRun { (a: T, b: T) in a - b }
    case .mul: return binaryRun { (a: T, b: T) in a * b }
    case .div: return binaryRun { (a: T, b: T) in a / b }
    case .pow: return binaryRun { (a: T, b: T) in T.pow(a, b) }
    case .maximum: return binaryRun { (a: T, b: T) in (a > b || a.isNaN) ? a : b }
    case .minimum: return binaryRun { (a: T, b: T) in (a < b || a.isNaN) ? a : b }
    case .atan2: return binaryRun { (a: T, b: T) in T.atan2(a, b) }
    case .remainder:
        return binaryRun { (a: T, b: T) in
            let r = a.truncatingRemainder(dividingBy: b)
            return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
        }
    case .floorDivide: return binaryRun { (a: T, b: T) in (a / b).rounded(.down) }
    case .eq: return binaryRun { (a: T, b: T) -> Bool in a == b }
    case .ne: return binaryRun { (a: T, b: T) -> Bool in a != b }
    case .lt: return binaryRun { (a: T, b: T) -> Bool in a < b }
    case .le: return binaryRun { (a: T, b: T) -> Bool in a <= b }
    case .gt: return binaryRun { (a: T, b: T) -> Bool in a > b }
    case .ge: return binaryRun { (a: T, b: T) -> Bool in a >= b }
    case .logicalAnd: return binaryRun { (a: T, b: T) -> Bool in a != 0 && b != 0 }
    case .logicalOr: return binaryRun { (a: T, b: T) -> Bool in a != 0 || b != 0 }
    case .logicalXor: return binaryRun { (a: T, b: T) -> Bool in (a != 0) != (b != 0) }
    case .geluBackward: return binaryRun { (x: T, g: T) in g * geluDerivativeElement(x) }
    }
}

/// The loop for a binary op on an integer dtype (`div` truncates; Tensor's `/` never
/// sends integers here, it computes true division in float).
func integerBinaryRun<T: IntegerElement>(_ op: BinaryOp, _: T.Type) -> BinaryRun {
    switch op {
    case .add: return binaryRun { (a: T, b: T) in a &+ b }
    case .sub: return binaryRun { (a: T, b: T) in a &- b }
    case .mul: return binaryRun { (a: T, b: T) in a &* b }
    case .div:
        return binaryRun { (a: T, b: T) -> T in
            precondition(b != 0, "div: integer division by zero")
            return a / b
        }
    case .pow: return binaryRun { (a: T, b: T) in integerPower(a, b) }
    case .maximum: return binaryRun { (a: T, b: T) in Swift.max(a, b) }
    case .minimum: return binaryRun { (a: T, b: T) in Swift.min(a, b) }
    case .remainder: return binaryRun { (a: T, b: T) in floorRemainder(a, b) }
    case .floorDivide: return binaryRun { (a: T, b: T) in floorDivide(a, b) }
    case .atan2: preconditionFailure("atan2: not defined for integer tensors")
    case .geluBackward: preconditionFailure("gelu backward: not defined for integer tensors")
    case .eq: return binaryRun { (a: T, b: T) -> Bool in a == b }
    case .ne: return binaryRun { (a: T, b: T) -> Bool in a != b }
    case .lt: return binaryRun { (a: T, b: T) -> Bool in a < b }
    case .le: return binaryRun { (a: T, b: T) -> Bool in a <= b }
    case .gt: return binaryRun { (a: T, b: T) -> Bool in a > b }
    case .ge: return binaryRun { (a: T, b: T) -> Bool in a >= b }
    case .logicalAnd: return binaryRun { (a: T, b: T) -> Bool in a != 0 && b != 0 }
    case .logicalOr: return binaryRun { (a: T, b: T) -> Bool in a != 0 || b != 0 }
    case .logicalXor: return binaryRun { (a: T, b: T) -> Bool in (a != 0) != (b != 0) }
    }
}

/// The loop for a binary op on bool tensors (`+` is or, `*` is and, as in PyTorch).
func boolBinaryRun(_ op: BinaryOp) -> BinaryRun {
    switch op {
    case .add, .maximum, .logicalOr: return binaryRun { (a: Bool, b: Bool) in a || b }
    case .mul, .minimum, .logicalAnd: return binaryRun { (a: Bool, b: Bool) in a && b }
    case .logicalXor, .ne: return binaryRun { (a: Bool, b: Bool) in a != b }
    case .eq: return binaryRun { (a: Bool, b: Bool) in a == b }
    case .lt: return binaryRun { (a: Bool, b: Bool) in !a && b }
    case .le: return binaryRun { (a: Bool, b: Bool) in !a || b }
    case .gt: return binaryRun { (a: Bool, b: Bool) in a && !b }
    case .ge: return binaryRun { (a: Bool, b: Bool) in a || !b }
    default: preconditionFailure("\(op): not defined for bool tensors")
    }
}

/// The loop converting elements of type `S` to type `D`.
func castRun<S: TensorScalar, D: TensorScalar>(_: S.Type, _: D.Type) -> UnaryRun {
    if S.dtype.isFloatingPoint || D.dtype.isFloatingPoint {
        return unaryRun { (x: S) in D(emberDouble: x.emberDouble) }
    }
    return unaryRun { (x: S) in D(emberInt64: x.emberInt64) }
}

/// Calls `body` with the Swift type that stores `dtype`.
@inline(__always)
func withScalarType<R>(_ dtype: DType, _ body: (any TensorScalar.Type) -> R) -> R {
    switch dtype {
    case .float32: return body(Float.self)
    case .float64: return body(Double.self)
    case .float16: return body(Float16.self)
    case .bfloat16: return body(BFloat16.self)
    case .int64: return body(Int64.self)
    case .int32: return body(Int32.self)
    case .uint8: return body(UInt8.self)
    case .bool: return body(Bool.self)
    }
}

/// The conversion loop between two dtypes.
func castRun(from source: DType, to destination: DType) -> UnaryRun {
    func to<S: TensorScalar>(_ s: S.Type) -> UnaryRun {
        func pair<D: TensorScalar>(_ d: D.Type) -> UnaryRun { castRun(S.self, D.self) }
        return withScalarType(destination) { pair($0) }
    }
    return withScalarType(source) { to($0) }
}

/// A loop that copies elements of `byteSize` bytes unchanged.
func bitCopyRun(byteSize: Int) -> UnaryRun {
    switch byteSize {
    case 1: return unaryRun { (x: UInt8) in x }
    case 2: return unaryRun { (x: UInt16) in x }
    case 4: return unaryRun { (x: UInt32) in x }
    default: return unaryRun { (x: UInt64) in x }
    }
}
