// The Tensor class: a strided view of a storage with a runtime dtype, device and autograd state.

/// An n-dimensional array with a runtime dtype and device, recorded by autograd when it
/// requires gradients — the counterpart of `torch.Tensor`.
///
/// `Tensor` is a class: an in-place op is seen through every handle, and views share
/// storage with their base.
///
/// ```swift
/// let x = Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
/// x.requiresGrad = true
/// let loss = tanh(x.matmul(x)).sum()
/// loss.backward()
/// print(x.grad!)
/// ```
public final class Tensor {
    /// The memory this tensor views.
    public let storage: Storage
    /// Size of each dimension, e.g. `[2, 3]`.
    public let shape: [Int]
    /// Elements to step in storage for one step along each dimension.
    public let strides: [Int]
    /// Index of the first element in storage, in elements.
    public let offset: Int
    /// The element type.
    public let dtype: DType
    /// Number of elements (the product of `shape`).
    public let count: Int
    /// True when elements are laid out row-major without gaps.
    public let isContiguous: Bool

    /// True for 0-d tensors made from a Swift scalar in an expression like `x * 2`; such
    /// operands do not promote the other operand's dtype within a category.
    var isWrappedNumber = false
    /// The tensor this one is a view of, if any (for autograd's in-place checks).
    var viewBase: Tensor?
    /// True when no other tensor shares this one's storage (fresh results of ops), so
    /// autograd may adopt it as a leaf's `.grad` without copying.
    var ownsStorage = false

    // Autograd state.
    var requiresGradFlag = false
    var gradStorage: Tensor?
    var gradNode: GradNode?
    var retainsGradFlag = false
    var hooks: [(id: Int, hook: (Tensor) -> Tensor?)] = []

    /// Creates a tensor viewing `storage`. Strides default to row-major.
    init(storage: Storage, shape: [Int], strides: [Int]? = nil, offset: Int = 0, dtype: DType) {
        self.storage = storage
        self.shape = shape
        let strides = strides ?? contiguousStrides(shape)
        self.strides = strides
        self.offset = offset
        self.dtype = dtype
        var count = 1
        for size in shape { count &*= size }
        self.count = count
        self.isContiguous = isRowMajor(shape: shape, strides: strides)
    }

    /// Allocates an uninitialised contiguous tensor.
    init(uninitializedShape shape: [Int], dtype: DType, device: Device = .cpu) {
        var count = 1
        for size in shape { count &*= size }
        self.storage = device == .cpu ? Storage.cpu(byteCount: count * dtype.itemSize)
            : device.backend.allocate(byteCount: count * dtype.itemSize, device: device)
        self.shape = shape
        self.strides = contiguousStrides(shape)
        self.offset = 0
        self.dtype = dtype
        self.count = count
        self.isContiguous = true
        self.ownsStorage = true
    }

    /// Re-shapes a tensor that the caller is about to discard, keeping its storage
    /// ownership (for ops that compute into a temporary layout).
    convenience init(adopting other: Tensor, shape: [Int]) {
        self.init(storage: other.storage, shape: shape, dtype: other.dtype)
        ownsStorage = other.ownsStorage
    }

    /// The device holding this tensor's memory.
    public var device: Device { storage.device }
    /// Number of dimensions (`ndim` in PyTorch).
    public var rank: Int { shape.count }
    /// Number of dimensions, as PyTorch's `dim()`.
    public var dim: Int { shape.count }

    /// Size of dimension `dim` (negative counts from the end).
    public func size(_ dim: Int) -> Int { shape[normalizeDim(dim, rank, op: "size")] }

    /// Pointer to the first element (CPU tensors), typed.
    @inline(__always) func pointer<T>(_ type: T.Type) -> UnsafeMutablePointer<T> {
        (storage.pointer + offset * dtype.itemSize).assumingMemoryBound(to: T.self)
    }

    /// Pointer to the first element as raw bytes.
    @inline(__always) var rawPointer: UnsafeMutableRawPointer { storage.pointer + offset * dtype.itemSize }

    /// A new tensor viewing the same storage with another shape and strides.
    func makeView(shape: [Int], strides: [Int], offset: Int) -> Tensor {
        let view = Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
        view.viewBase = viewBase ?? self
        return view
    }

    /// Marks that this tensor's memory was written in place (bumps the storage version).
    @inline(__always) func bumpVersion() { storage.version &+= 1 }

    /// The version counter of this tensor's storage (as PyTorch's `_version`).
    public var version: Int { storage.version }
}

/// The strides of every contiguous 1-D tensor, shared so small tensors skip an allocation.
private let vectorStrides = [1]

/// Row-major strides for a shape.
@inline(__always) func contiguousStrides(_ shape: [Int]) -> [Int] {
    if shape.count <= 1 { return shape.isEmpty ? [] : vectorStrides }
    var strides = [Int](repeating: 1, count: shape.count)
    var step = 1
    var index = shape.count - 1
    while index >= 0 {
        strides[index] = step
        step &*= max(shape[index], 1)
        index -= 1
    }
    return strides
}

/// True when `strides` describe a row-major layout of `shape` (size-1 dims may have any stride).
@inline(__always) func isRowMajor(shape: [Int], strides: [Int]) -> Bool {
    var expected = 1
    var index = shape.count - 1
    while index >= 0 {
        let size = shape[index]
        if size != 1 {
            if strides[index] != expected { return false }
            expected &*= size
        }
        index -= 1
    }
    return true
}

/// Resolves a possibly negative dimension index, stopping with a message naming `op`.
@inline(__always) func normalizeDim(_ dim: Int, _ rank: Int, op: String) -> Int {
    let r = max(rank, 1)
    let d = dim < 0 ? dim + r : dim
    precondition(d >= 0 && d < r, "\(op): dimension \(dim) out of range for a tensor of rank \(rank)")
    return d
}
