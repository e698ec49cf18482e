// Moving tensors between dtypes and devices, copying, and reading values back into Swift.

extension Tensor {
    /// Converts to another dtype (a copy; returns `self` when the dtype already matches).
    /// Differentiable between floating-point dtypes.
    ///
    /// ```swift
    /// let d = x.to(.float64)
    /// ```
    public func to(_ dtype: DType) -> Tensor {
        if dtype == self.dtype { return self }
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        device.backend.copy(self, into: out)
        if requiresGradFlag && dtype.isFloatingPoint && GradMode.isEnabled {
            record(out, .toDType, inputs: [self])
        }
        return out
    }

    /// Moves to another device (a copy; returns `self` when already there).
    ///
    /// ```swift
    /// if Device.cudaIsAvailable { let g = x.to(.cuda(0)) }
    /// ```
    public func to(_ device: Device) -> Tensor {
        if device == self.device { return self }
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        let backend = device == .cpu ? self.device.backend : device.backend
        backend.copy(self, into: out)
        if requiresGradFlag && GradMode.isEnabled {
            record(out, .toDevice(self.device), inputs: [self])
        }
        return out
    }

    /// Moves to `device` and converts to `dtype`.
    public func to(_ device: Device, _ dtype: DType) -> Tensor { to(device).to(dtype) }

    /// A contiguous copy with its own memory (differentiable).
    ///
    /// ```swift
    /// let y = x.clone()
    /// ```
    public func clone() -> Tensor {
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        device.backend.copy(self, into: out)
        if requiresGradFlag && GradMode.isEnabled { record(out, .identity("CloneBackward0"), inputs: [self]) }
        return out
    }

    /// This tensor if already contiguous, otherwise a contiguous copy.
    ///
    /// ```swift
    /// let c = x.t().contiguous()
    /// ```
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        device.backend.copy(self, into: out)
        if requiresGradFlag && GradMode.isEnabled { record(out, .identity("CloneBackward0"), inputs: [self]) }
        return out
    }

    /// All elements in row-major order, converted to `T`.
    ///
    /// ```swift
    /// Tensor.arange(0, 3).asArray(Float.self)   // [0.0, 1.0, 2.0]
    /// ```
    public func asArray<T: TensorScalar>(_ type: T.Type = T.self) -> [T] {
        let host = noGrad { self.to(.cpu) }
        let typed: Tensor
        if host.dtype == T.dtype && host.isContiguous {
            typed = host
        } else {
            typed = Tensor(uninitializedShape: shape, dtype: T.dtype)
            CPUBackend.shared.copy(host, into: typed)
        }
        return Array(UnsafeBufferPointer(start: typed.pointer(T.self), count: count))
    }

    /// The value of a one-element tensor, converted to `T`.
    ///
    /// ```swift
    /// let loss = (x * x).sum().item(Double.self)
    /// ```
    public func item<T: TensorScalar>(_ type: T.Type = T.self) -> T {
        precondition(count == 1, "item: a tensor with \(count) elements cannot be converted to a scalar")
        return asArray(T.self)[0]
    }

    /// Casts to float32 if this is a half type (CPU kernels compute half types in float32).
    var computable: Tensor { dtype == .float16 || dtype == .bfloat16 ? to(.float32) : self }
}
