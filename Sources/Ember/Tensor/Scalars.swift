// Swift scalar types that map to tensor dtypes, including a storage-only BFloat16.

/// A Swift type whose values can fill a tensor or be read back from one.
///
/// Conforming types: `Float`, `Double`, `Float16`, `BFloat16`, `Int`, `Int64`, `Int32`,
/// `UInt8`, `Bool`. Their memory layout matches the dtype they map to.
///
/// ```swift
/// let x = Tensor([1, 2, 3] as [Int32], shape: [3])   // dtype .int32
/// x.asArray(Double.self)                            // [1.0, 2.0, 3.0]
/// ```
public protocol TensorScalar {
    /// The dtype a tensor of this type has.
    static var dtype: DType { get }
    /// Converts from a double (truncating toward zero for integers; NaN becomes 0).
    init(emberDouble value: Double)
    /// Converts from a 64-bit integer (wrapping for narrower integers).
    init(emberInt64 value: Int64)
    /// The value as a double.
    var emberDouble: Double { get }
    /// The value as a 64-bit integer (truncated toward zero for floats; NaN becomes 0).
    var emberInt64: Int64 { get }
}

@inline(__always) func clampedInt64(_ value: Double) -> Int64 {
    if value.isNaN { return 0 }
    if value >= 9.223372036854775e18 { return Int64.max }
    if value <= -9.223372036854775e18 { return Int64.min }
    return Int64(value)
}

extension Float: TensorScalar {
    public static var dtype: DType { .float32 }
    @inline(__always) public init(emberDouble value: Double) { self = Float(value) }
    @inline(__always) public init(emberInt64 value: Int64) { self = Float(value) }
    @inline(__always) public var emberDouble: Double { Double(self) }
    @inline(__always) public var emberInt64: Int64 { clampedInt64(Double(self)) }
}

extension Double: TensorScalar {
    public static var dtype: DType { .float64 }
    @inline(__always) public init(emberDouble value: Double) { self = value }
    @inline(__always) public init(emberInt64 value: Int64) { self = Double(value) }
    @inline(__always) public var emberDouble: Double { self }
    @inline(__always) public var emberInt64: Int64 { clampedInt64(self) }
}

extension Float16: TensorScalar {
    public static var dtype: DType { .float16 }
    @inline(__always) public init(emberDouble value: Double) { self = Float16(Float(value)) }
    @inline(__always) public init(emberInt64 value: Int64) { self = Float16(Float(value)) }
    @inline(__always) public var emberDouble: Double { Double(Float(self)) }
    @inline(__always) public var emberInt64: Int64 { clampedInt64(Double(Float(self))) }
}

extension Int: TensorScalar {
    public static var dtype: DType { .int64 }
    @inline(__always) public init(emberDouble value: Double) { self = Int(clampedInt64(value)) }
    @inline(__always) public init(emberInt64 value: Int64) { self = Int(value) }
    @inline(__always) public var emberDouble: Double { Double(self) }
    @inline(__always) public var emberInt64: Int64 { Int64(self) }
}

extension Int64: TensorScalar {
    public static var dtype: DType { .int64 }
    @inline(__always) public init(emberDouble value: Double) { self = clampedInt64(value) }
    @inline(__always) public init(emberInt64 value: Int64) { self = value }
    @inline(__always) public var emberDouble: Double { Double(self) }
    @inline(__always) public var emberInt64: Int64 { self }
}

extension Int32: TensorScalar {
    public static var dtype: DType { .int32 }
    @inline(__always) public init(emberDouble value: Double) { self = Int32(truncatingIfNeeded: clampedInt64(value)) }
    @inline(__always) public init(emberInt64 value: Int64) { self = Int32(truncatingIfNeeded: value) }
    @inline(__always) public var emberDouble: Double { Double(self) }
    @inline(__always) public var emberInt64: Int64 { Int64(self) }
}

extension UInt8: TensorScalar {
    public static var dtype: DType { .uint8 }
    @inline(__always) public init(emberDouble value: Double) { self = UInt8(truncatingIfNeeded: clampedInt64(value)) }
    @inline(__always) public init(emberInt64 value: Int64) { self = UInt8(truncatingIfNeeded: value) }
    @inline(__always) public var emberDouble: Double { Double(self) }
    @inline(__always) public var emberInt64: Int64 { Int64(self) }
}

extension Bool: TensorScalar {
    public static var dtype: DType { .bool }
    @inline(__always) public init(emberDouble value: Double) { self = value != 0 }
    @inline(__always) public init(emberInt64 value: Int64) { self = value != 0 }
    @inline(__always) public var emberDouble: Double { self ? 1 : 0 }
    @inline(__always) public var emberInt64: Int64 { self ? 1 : 0 }
}

/// Brain floating point: the top 16 bits of an IEEE `Float` (8 exponent bits, 7 mantissa
/// bits). Storage and conversion only; arithmetic goes through `Float`.
///
/// ```swift
/// let b = BFloat16(3.14159)   // stored as 0x4049
/// Float(b)                    // 3.140625
/// ```
public struct BFloat16: TensorScalar, Hashable, CustomStringConvertible {
    /// The raw 16 bits.
    public var bitPattern: UInt16

    /// Rounds a `Float` to the nearest bfloat16 (ties to even; NaN stays NaN).
    @inline(__always) public init(_ value: Float) {
        let bits = value.bitPattern
        if value.isNaN { bitPattern = UInt16(truncatingIfNeeded: bits >> 16) | 0x40; return }
        let rounding = UInt32(0x7FFF) + ((bits >> 16) & 1)
        bitPattern = UInt16(truncatingIfNeeded: (bits &+ rounding) >> 16)
    }

    /// Wraps raw bits.
    public init(bitPattern: UInt16) { self.bitPattern = bitPattern }

    /// The value widened to `Float` (exact).
    @inline(__always) public var floatValue: Float { Float(bitPattern: UInt32(bitPattern) << 16) }

    public static var dtype: DType { .bfloat16 }
    @inline(__always) public init(emberDouble value: Double) { self.init(Float(value)) }
    @inline(__always) public init(emberInt64 value: Int64) { self.init(Float(value)) }
    @inline(__always) public var emberDouble: Double { Double(floatValue) }
    @inline(__always) public var emberInt64: Int64 { clampedInt64(Double(floatValue)) }
    public var description: String { floatValue.description }
}

extension Float {
    /// Widens a bfloat16 value exactly.
    public init(_ value: BFloat16) { self = value.floatValue }
}
