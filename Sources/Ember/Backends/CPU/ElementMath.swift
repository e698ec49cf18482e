// Scalar math on the CPU's element types: the per-element formulas every kernel uses.
import Foundation

/// Floating-point element types the CPU computes in (`Float`, `Double`), with the
/// transcendental functions kernels need.
protocol FloatElement: BinaryFloatingPoint, TensorScalar {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func log1p(_ x: Self) -> Self
    static func expm1(_ x: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    static func tan(_ x: Self) -> Self
    static func asin(_ x: Self) -> Self
    static func acos(_ x: Self) -> Self
    static func atan(_ x: Self) -> Self
    static func sinh(_ x: Self) -> Self
    static func cosh(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func erf(_ x: Self) -> Self
    static func pow(_ x: Self, _ y: Self) -> Self
    static func atan2(_ y: Self, _ x: Self) -> Self
}

extension Float: FloatElement {
    @inline(__always) static func exp(_ x: Float) -> Float { Foundation.expf(x) }
    @inline(__always) static func log(_ x: Float) -> Float { Foundation.logf(x) }
    @inline(__always) static func log1p(_ x: Float) -> Float { Foundation.log1pf(x) }
    @inline(__always) static func expm1(_ x: Float) -> Float { Foundation.expm1f(x) }
    @inline(__always) static func sin(_ x: Float) -> Float { Foundation.sinf(x) }
    @inline(__always) static func cos(_ x: Float) -> Float { Foundation.cosf(x) }
    @inline(__always) static func tan(_ x: Float) -> Float { Foundation.tanf(x) }
    @inline(__always) static func asin(_ x: Float) -> Float { Foundation.asinf(x) }
    @inline(__always) static func acos(_ x: Float) -> Float { Foundation.acosf(x) }
    @inline(__always) static func atan(_ x: Float) -> Float { Foundation.atanf(x) }
    @inline(__always) static func sinh(_ x: Float) -> Float { Foundation.sinhf(x) }
    @inline(__always) static func cosh(_ x: Float) -> Float { Foundation.coshf(x) }
    @inline(__always) static func tanh(_ x: Float) -> Float { Foundation.tanhf(x) }
    @inline(__always) static func erf(_ x: Float) -> Float { Foundation.erff(x) }
    @inline(__always) static func pow(_ x: Float, _ y: Float) -> Float { Foundation.powf(x, y) }
    @inline(__always) static func atan2(_ y: Float, _ x: Float) -> Float { Foundation.atan2f(y, x) }
}

extension Double: FloatElement {
    @inline(__always) static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) static func log1p(_ x: Double) -> Double { Foundation.log1p(x) }
    @inline(__always) static func expm1(_ x: Double) -> Double { Foundation.expm1(x) }
    @inline(__always) static func sin(_ x: Double) -> Double { Foundation.sin(x) }
    @inline(__always) static func cos(_ x: Double) -> Double { Foundation.cos(x) }
    @inline(__always) static func tan(_ x: Double) -> Double { Foundation.tan(x) }
    @inline(__always) static func asin(_ x: Double) -> Double { Foundation.asin(x) }
    @inline(__always) static func acos(_ x: Double) -> Double { Foundation.acos(x) }
    @inline(__always) static func atan(_ x: Double) -> Double { Foundation.atan(x) }
    @inline(__always) static func sinh(_ x: Double) -> Double { Foundation.sinh(x) }
    @inline(__always) static func cosh(_ x: Double) -> Double { Foundation.cosh(x) }
    @inline(__always) static func tanh(_ x: Double) -> Double { Foundation.tanh(x) }
    @inline(__always) static func erf(_ x: Double) -> Double { Foundation.erf(x) }
    @inline(__always) static func pow(_ x: Double, _ y: Double) -> Double { Foundation.pow(x, y) }
    @inline(__always) static func atan2(_ y: Double, _ x: Double) -> Double { Foundation.atan2(y, x) }
}

/// Integer element types the CPU computes in.
protocol IntegerElement: FixedWidthInteger, TensorScalar {}
extension Int64: IntegerElement {}
extension Int32: IntegerElement {}
extension UInt8: IntegerElement {}

/// Python-style floor division and modulo for integers (the result of `%` takes the
/// divisor's sign), as PyTorch's `floor_divide` and `remainder`.
@inline(__always) func floorDivide<T: IntegerElement>(_ a: T, _ b: T) -> T {
    precondition(b != 0, "floor_divide: integer division by zero")
    let q = a / b
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q
}

@inline(__always) func floorRemainder<T: IntegerElement>(_ a: T, _ b: T) -> T {
    precondition(b != 0, "remainder: integer division by zero")
    let r = a % b
    return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r
}

@inline(__always) func integerPower<T: IntegerElement>(_ base: T, _ exponent: T) -> T {
    if exponent < 0 { return base == 1 ? 1 : 0 }
    var result: T = 1, b = base, e = exponent
    while e > 0 {
        if e & 1 == 1 { result = result &* b }
        b = b &* b
        e >>= 1
    }
    return result
}

/// PyTorch's formulas for the float unary ops.
@inline(__always) func sigmoidElement<T: FloatElement>(_ x: T) -> T { 1 / (1 + T.exp(-x)) }
@inline(__always) func geluElement<T: FloatElement>(_ x: T) -> T {
    x * 0.5 * (1 + T.erf(x * T(0.70710678118654752440)))
}
/// d/dx of exact GELU: Φ(x) + x·φ(x).
@inline(__always) func geluDerivativeElement<T: FloatElement>(_ x: T) -> T {
    let cdf = (1 + T.erf(x * T(0.70710678118654752440))) * 0.5
    let pdf = T.exp(x * x * -0.5) * T(0.39894228040143267794)
    return cdf + x * pdf
}
@inline(__always) func geluTanhElement<T: FloatElement>(_ x: T) -> T {
    let inner = T(0.79788456080286535588) * (x + T(0.044715) * x * x * x)
    return 0.5 * x * (1 + T.tanh(inner))
}
