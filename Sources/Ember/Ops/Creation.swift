// Creating tensors: from Swift arrays and scalars, and zeros, ones, full, arange, linspace, eye.

extension Tensor {
    /// Creates a tensor holding `values` (row-major) with the given shape.
    ///
    /// - Parameters:
    ///   - values: the elements; their Swift type picks the dtype (`Float` → float32,
    ///     `Double` → float64, `Int` → int64, `Bool` → bool, ...) unless `dtype` is given.
    ///   - shape: the shape; defaults to `[values.count]`.
    ///   - dtype: converts the values to this dtype.
    ///   - device: where the tensor lives.
    ///   - requiresGrad: whether to record gradients for it.
    ///
    /// ```swift
    /// let x = Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
    /// let i = Tensor([0, 2, 1])               // int64, shape [3]
    /// ```
    public convenience init<T: TensorScalar>(_ values: [T], shape: [Int]? = nil, dtype: DType? = nil,
                                             device: Device = .cpu, requiresGrad: Bool = false) {
        let shape = shape ?? [values.count]
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative size in shape \(shape)")
        let expected = shape.reduce(1, *)
        precondition(expected == values.count, "Tensor: shape \(shape) needs \(expected) values, got \(values.count)")
        let target = dtype ?? T.dtype
        if target == T.dtype && device == .cpu {
            self.init(uninitializedShape: shape, dtype: target)
            values.withUnsafeBytes { bytes in
                if let base = bytes.baseAddress { rawPointer.copyMemory(from: base, byteCount: bytes.count) }
            }
        } else {
            let source = Tensor(values, shape: shape)
            self.init(uninitializedShape: shape, dtype: target, device: device)
            device.backend.copy(source, into: self)
        }
        if requiresGrad { self.requiresGrad = true }
    }

    /// Creates a 0-d tensor holding one value (dtype from the Swift type unless given).
    ///
    /// ```swift
    /// let t = Tensor(3.5)            // float64, shape []
    /// let f = Tensor(Float(2))       // float32
    /// ```
    public convenience init<T: TensorScalar>(_ value: T, dtype: DType? = nil, device: Device = .cpu,
                                             requiresGrad: Bool = false) {
        self.init([value], shape: [], dtype: dtype, device: device, requiresGrad: requiresGrad)
    }

    /// A 0-d tensor standing for a Swift scalar inside an expression (`x * 2`): it adopts
    /// the other operand's dtype within its category, as PyTorch's wrapped numbers do.
    static func wrapping(_ value: Double, isInteger: Bool, device: Device) -> Tensor {
        let t = Tensor(uninitializedShape: [], dtype: isInteger ? .int64 : .float64)
        if isInteger {
            t.pointer(Int64.self).pointee = clampedInt64(value)
        } else {
            t.pointer(Double.self).pointee = value
        }
        t.isWrappedNumber = true
        return device == .cpu ? t : t.to(device)
    }

    /// An uninitialised tensor (`torch.empty`).
    ///
    /// ```swift
    /// let buffer = Tensor.empty([64, 64])
    /// ```
    public static func empty(_ shape: [Int], dtype: DType = .defaultFloat, device: Device = .cpu) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "empty: negative size in shape \(shape)")
        return Tensor(uninitializedShape: shape, dtype: dtype, device: device)
    }

    /// A tensor filled with `value` (`torch.full`).
    ///
    /// ```swift
    /// Tensor.full([2, 2], 7)        // [[7, 7], [7, 7]] as float32
    /// ```
    public static func full(_ shape: [Int], _ value: Double, dtype: DType = .defaultFloat, device: Device = .cpu,
                            requiresGrad: Bool = false) -> Tensor {
        let t = empty(shape, dtype: dtype, device: device)
        device.backend.fill(t, with: value)
        if requiresGrad { t.requiresGrad = true }
        return t
    }

    /// A tensor of zeros.
    ///
    /// ```swift
    /// let z = Tensor.zeros([2, 3])
    /// ```
    public static func zeros(_ shape: [Int], dtype: DType = .defaultFloat, device: Device = .cpu,
                             requiresGrad: Bool = false) -> Tensor {
        full(shape, 0, dtype: dtype, device: device, requiresGrad: requiresGrad)
    }

    /// A tensor of ones.
    ///
    /// ```swift
    /// let o = Tensor.ones([3], dtype: .float64)
    /// ```
    public static func ones(_ shape: [Int], dtype: DType = .defaultFloat, device: Device = .cpu,
                            requiresGrad: Bool = false) -> Tensor {
        full(shape, 1, dtype: dtype, device: device, requiresGrad: requiresGrad)
    }

    /// Zeros with the shape, dtype and device of `other` (dtype overridable).
    public static func zerosLike(_ other: Tensor, dtype: DType? = nil) -> Tensor {
        zeros(other.shape, dtype: dtype ?? other.dtype, device: other.device)
    }

    /// Ones with the shape, dtype and device of `other` (dtype overridable).
    public static func onesLike(_ other: Tensor, dtype: DType? = nil) -> Tensor {
        ones(other.shape, dtype: dtype ?? other.dtype, device: other.device)
    }

    /// `value` everywhere, with the shape, dtype and device of `other`.
    public static func fullLike(_ other: Tensor, _ value: Double, dtype: DType? = nil) -> Tensor {
        full(other.shape, value, dtype: dtype ?? other.dtype, device: other.device)
    }

    /// An uninitialised tensor with the shape, dtype and device of `other`.
    public static func emptyLike(_ other: Tensor, dtype: DType? = nil) -> Tensor {
        empty(other.shape, dtype: dtype ?? other.dtype, device: other.device)
    }

    /// Values from `start` up to (not including) `end` in steps of `step` (`torch.arange`).
    /// The dtype defaults to int64 when all arguments are whole numbers, else float32.
    ///
    /// ```swift
    /// Tensor.arange(0, 6, dtype: .float32)    // [0, 1, 2, 3, 4, 5]
    /// Tensor.arange(0, 1, step: 0.25)         // [0, 0.25, 0.5, 0.75]
    /// ```
    public static func arange(_ start: Double, _ end: Double, step: Double = 1, dtype: DType? = nil,
                              device: Device = .cpu) -> Tensor {
        precondition(step != 0, "arange: step must be nonzero")
        precondition((end - start) * step >= 0, "arange: upper bound and step sign are inconsistent (start \(start), end \(end), step \(step))")
        let whole = [start, end, step].allSatisfy { $0.rounded() == $0 }
        let dtype = dtype ?? (whole ? .int64 : .defaultFloat)
        let count = Int(((end - start) / step).rounded(.up))
        let values = (0..<Swift.max(count, 0)).map { start + Double($0) * step }
        return Tensor(values, shape: [values.count], dtype: dtype, device: device)
    }

    /// `0 ..< end` (`torch.arange(end)`), int64 unless `dtype` says otherwise.
    public static func arange(_ end: Double, dtype: DType? = nil, device: Device = .cpu) -> Tensor {
        arange(0, end, dtype: dtype, device: device)
    }

    /// `steps` evenly spaced values from `start` to `end`, both included (`torch.linspace`).
    ///
    /// ```swift
    /// Tensor.linspace(0, 1, steps: 5)   // [0, 0.25, 0.5, 0.75, 1]
    /// ```
    public static func linspace(_ start: Double, _ end: Double, steps: Int, dtype: DType = .defaultFloat,
                                device: Device = .cpu) -> Tensor {
        precondition(steps >= 0, "linspace: number of steps must be non-negative, got \(steps)")
        let step = steps > 1 ? (end - start) / Double(steps - 1) : 0
        // Fill from both ends, as PyTorch does, so the last value is exactly `end`.
        // (one step gives `start`, as PyTorch does)
        let values = steps == 1 ? [start]
            : (0..<steps).map { i in i < steps / 2 ? start + step * Double(i) : end - step * Double(steps - 1 - i) }
        return Tensor(values, shape: [steps], dtype: dtype, device: device)
    }

    /// The identity matrix with `n` rows and `m` (default `n`) columns.
    ///
    /// ```swift
    /// Tensor.eye(3)
    /// ```
    public static func eye(_ n: Int, _ m: Int? = nil, dtype: DType = .defaultFloat, device: Device = .cpu) -> Tensor {
        let m = m ?? n
        var values = [Double](repeating: 0, count: n * m)
        for i in 0..<Swift.min(n, m) { values[i * m + i] = 1 }
        return Tensor(values, shape: [n, m], dtype: dtype, device: device)
    }
}
