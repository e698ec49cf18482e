// The element types a tensor can hold, their sizes, and PyTorch's type promotion rules.

/// The element type of a tensor, chosen at run time as in PyTorch.
///
/// `float16` and `bfloat16` are stored at half width and computed through `float32` on the CPU.
///
/// ```swift
/// let x = Tensor.zeros([2, 3], dtype: .float64)
/// x.dtype == .float64          // true
/// DType.float32.itemSize       // 4
/// ```
public enum DType: String, CaseIterable, Sendable, CustomStringConvertible {
    case float32, float64, float16, bfloat16, int64, int32, uint8, bool

    /// Bytes per element.
    public var itemSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16: return 2
        case .uint8, .bool: return 1
        }
    }

    /// True for `float32`, `float64`, `float16` and `bfloat16`.
    public var isFloatingPoint: Bool {
        switch self {
        case .float32, .float64, .float16, .bfloat16: return true
        default: return false
        }
    }

    /// True for the integer types (`int64`, `int32`, `uint8`); false for `bool`.
    public var isInteger: Bool { self == .int64 || self == .int32 || self == .uint8 }

    /// The dtype used for arithmetic on the CPU: half types compute through `float32`.
    public var computeType: DType { (self == .float16 || self == .bfloat16) ? .float32 : self }

    /// PyTorch's name, e.g. `torch.float32`.
    public var description: String { "torch.\(rawValue)" }

    /// The dtype of floating-point tensors created without an explicit dtype.
    public static var defaultFloat: DType { .float32 }

    /// Category used by promotion: bool < integer < floating point.
    var category: Int { self == .bool ? 0 : (isFloatingPoint ? 2 : 1) }

    /// Promotes two dtypes as `torch.promote_types` does.
    ///
    /// ```swift
    /// DType.promote(.int64, .float32)    // .float32
    /// DType.promote(.float16, .bfloat16) // .float32
    /// ```
    public static func promote(_ a: DType, _ b: DType) -> DType {
        if a == b { return a }
        if a.category != b.category { return a.category > b.category ? a : b }
        switch a.category {
        case 2:
            let rank: [DType: Int] = [.float16: 1, .bfloat16: 1, .float32: 2, .float64: 3]
            if rank[a]! == rank[b]! { return .float32 }  // float16 with bfloat16
            return rank[a]! > rank[b]! ? a : b
        default:
            let rank: [DType: Int] = [.uint8: 1, .int32: 2, .int64: 3]
            return rank[a]! > rank[b]! ? a : b
        }
    }
}

/// The result dtype of an operation, following PyTorch's rules: tensors with dimensions
/// decide, unless a 0-d tensor or a Swift scalar belongs to a higher category
/// (bool < integer < float). A Swift floating-point scalar counts as the default float dtype.
///
/// ```swift
/// resultType(Tensor([1, 2] as [Int], shape: [2]), Tensor(2.5))  // .float32
/// ```
func resultType(_ operands: Tensor...) -> DType {
    var dimensioned: DType? = nil
    var zeroDim: DType? = nil
    var wrapped: DType? = nil
    for t in operands {
        let dtype = t.isWrappedNumber && t.dtype.isFloatingPoint ? DType.defaultFloat
            : (t.isWrappedNumber && t.dtype.isInteger ? .int64 : t.dtype)
        if t.isWrappedNumber {
            wrapped = wrapped.map { DType.promote($0, dtype) } ?? dtype
        } else if t.rank == 0 {
            zeroDim = zeroDim.map { DType.promote($0, dtype) } ?? dtype
        } else {
            dimensioned = dimensioned.map { DType.promote($0, dtype) } ?? dtype
        }
    }
    func combine(_ higher: DType?, _ lower: DType?) -> DType? {
        guard let higher else { return lower }
        guard let lower else { return higher }
        return lower.category > higher.category ? DType.promote(higher, lower) : higher
    }
    return combine(dimensioned, combine(zeroDim, wrapped))!
}
