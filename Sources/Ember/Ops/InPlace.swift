// In-place ops: += -= *= /= and the trailing-underscore methods (`zero_()`, `fill_()`,
// `copy_()`, ...) that PyTorch users know. They write through every view of the storage
// and bump its version counter.

extension Tensor {
    /// Checks that writing into this tensor in place is allowed under autograd.
    func checkInPlace(op: String) {
        guard GradMode.isEnabled else { return }
        precondition(!(isLeaf && requiresGradFlag),
                     "\(op): a leaf tensor that requires grad is being used in an in-place operation; wrap it in noGrad { } (as optimizers do) or use an out-of-place op")
        precondition(!(viewBase?.requiresGradFlag ?? false) || !requiresGradFlag || isLeaf,
                     "\(op): in-place operation on a view of a tensor that requires grad is not supported; use an out-of-place op")
    }

    /// Writes `result` (same shape) into this tensor's memory and, when recording,
    /// makes this tensor the output of `result`'s graph node.
    func assign(_ result: Tensor) {
        device.backend.copy(result, into: self)
        bumpVersion()
        if result.requiresGradFlag && GradMode.isEnabled {
            gradNode = result.gradNode
            requiresGradFlag = true
        }
    }

    /// A handle to this tensor's current value and graph position, used as the input of
    /// an in-place op's node (the tensor itself is about to become the output).
    private func snapshotHandle() -> Tensor {
        let handle = Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
        handle.gradNode = gradNode
        handle.requiresGradFlag = requiresGradFlag
        handle.viewBase = viewBase
        return handle
    }

    /// Applies `op(self, other)` and stores the result in place.
    private func applyInPlace(_ op: (Tensor, Tensor) -> Tensor, _ other: Tensor, name: String,
                              primitive: BinaryOp? = nil, scale: Double = 1) {
        checkInPlace(op: name)
        var promoted = resultType(self, other)
        // True division of integers gives a float, which an integer tensor cannot hold.
        if name == "div_" && !promoted.isFloatingPoint { promoted = .defaultFloat }
        precondition(promoted.category <= dtype.category,
                     "\(name): result type \(promoted) can't be cast to the desired output type \(dtype)")
        let shape = broadcastShapes(self.shape, other.shape, op: name)
        precondition(shape == self.shape, "\(name): output with shape \(self.shape) doesn't match the broadcast shape \(shape)")
        let recording = GradMode.isEnabled && (requiresGradFlag || other.requiresGradFlag)
        if !recording, let primitive, canComputeInPlace(with: other) {
            // One pass: the backend writes the result straight into this tensor's memory.
            noGrad {
                var operand = other.dtype == dtype ? other : other.to(dtype)
                if scale != 1 { operand = operand * scale }
                device.backend.binary(primitive, self, operand.broadcastView(to: shape), into: self)
            }
            bumpVersion()
            return
        }
        if !recording {
            let result = noGrad { op(self, other) }
            device.backend.copy(result, into: self)
            bumpVersion()
            return
        }
        // mul_ and div_ save their first operand for backward, but this tensor's memory is
        // about to be overwritten: they get a copy of the old value (PyTorch saves a clone too).
        let input = name == "mul_" || name == "div_" ? snapshotHandle().clone() : snapshotHandle()
        let result = op(input, other)
        assign(result)
    }

    /// True when `self op= other` can be computed by the backend directly into this tensor:
    /// a dtype the kernels compute in, on one device, and no partial overlap with `other`
    /// (an exact alias, as in `x += x`, is fine).
    private func canComputeInPlace(with other: Tensor) -> Bool {
        guard dtype.computeType == dtype, other.device == device || other.isWrappedNumber, count > 0 else { return false }
        if other.storage === storage {
            return other.offset == offset && other.strides == strides && other.shape == shape
        }
        return true
    }

    /// Adds in place: `x += y` writes through every view of `x`'s storage.
    ///
    /// ```swift
    /// let x = Tensor.zeros([2, 2])
    /// var row = x[0]
    /// row += Tensor.ones([2])     // x is now [[1, 1], [0, 0]]
    /// ```
    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs.applyInPlace(+, rhs, name: "add_", primitive: .add) }
    /// Subtracts in place.
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs.applyInPlace(-, rhs, name: "sub_", primitive: .sub) }
    /// Multiplies in place.
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs.applyInPlace(*, rhs, name: "mul_", primitive: .mul) }
    /// Divides in place (floating-point tensors).
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs.applyInPlace(/, rhs, name: "div_", primitive: .div) }
    /// `+=` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func += (lhs: inout Tensor, rhs: Double) { lhs += lhs.scalar(rhs) }
    /// `-=` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func -= (lhs: inout Tensor, rhs: Double) { lhs -= lhs.scalar(rhs) }
    /// `*=` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func *= (lhs: inout Tensor, rhs: Double) { lhs *= lhs.scalar(rhs) }
    /// `/=` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func /= (lhs: inout Tensor, rhs: Double) { lhs /= lhs.scalar(rhs) }
    // Integer scalars stay integer (`intTensor += 1` keeps int64), as Python ints do in PyTorch.
    /// `+=` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func += (lhs: inout Tensor, rhs: Int) { lhs += lhs.scalar(rhs) }
    /// `-=` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func -= (lhs: inout Tensor, rhs: Int) { lhs -= lhs.scalar(rhs) }
    /// `*=` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func *= (lhs: inout Tensor, rhs: Int) { lhs *= lhs.scalar(rhs) }
    /// `/=` with a Swift scalar, which takes the tensor's dtype within its category (as a Python scalar in PyTorch).
    public static func /= (lhs: inout Tensor, rhs: Int) { lhs /= lhs.scalar(rhs) }

    /// `self += alpha * other`, in place; returns self.
    @discardableResult
    public func add_(_ other: Tensor, alpha: Double = 1) -> Tensor {
        applyInPlace({ $0.add($1, alpha: alpha) }, other, name: "add_", primitive: .add, scale: alpha)
        return self
    }
    /// `self -= alpha * other`, in place; returns self.
    @discardableResult
    public func sub_(_ other: Tensor, alpha: Double = 1) -> Tensor {
        applyInPlace({ $0.sub($1, alpha: alpha) }, other, name: "sub_", primitive: .sub, scale: alpha)
        return self
    }
    /// `self *= other`, in place; returns self.
    @discardableResult
    public func mul_(_ other: Tensor) -> Tensor { applyInPlace(*, other, name: "mul_", primitive: .mul); return self }
    /// `self *= value`, in place; returns self.
    @discardableResult
    public func mul_(_ value: Double) -> Tensor { applyInPlace(*, scalar(value), name: "mul_", primitive: .mul); return self }
    /// `self /= other`, in place; returns self.
    @discardableResult
    public func div_(_ other: Tensor) -> Tensor { applyInPlace(/, other, name: "div_", primitive: .div); return self }

    /// Sets every element to zero; returns self.
    ///
    /// ```swift
    /// buffer.zero_()
    /// ```
    @discardableResult
    public func zero_() -> Tensor { fill_(0) }

    /// Sets every element to `value`; returns self (not differentiable).
    @discardableResult
    public func fill_(_ value: Double) -> Tensor {
        checkInPlace(op: "fill_")
        device.backend.fill(self, with: value)
        bumpVersion()
        if GradMode.isEnabled && requiresGradFlag && !isLeaf { gradNode = nil; requiresGradFlag = false }
        return self
    }

    /// Copies `source` (broadcastable, any dtype/device) into this tensor; returns self.
    ///
    /// ```swift
    /// target.copy_(source)
    /// ```
    @discardableResult
    public func copy_(_ source: Tensor) -> Tensor {
        checkInPlace(op: "copy_")
        let src = source.broadcastView(to: broadcastShapes(shape, source.shape, op: "copy_"))
        precondition(src.shape == shape, "copy_: source of shape \(source.shape) cannot be broadcast to \(shape)")
        if src.storage === storage && src.offset == offset && src.strides == strides && src.dtype == dtype { return self }
        let backend = device == .cpu ? source.device.backend : device.backend
        let staged = source.device == device ? src : noGrad { src.contiguousRaw().to(device) }
        backend.copy(staged, into: self)
        bumpVersion()
        if GradMode.isEnabled && source.requiresGradFlag {
            let out = noGrad { self.detach() }
            record(out, .identity("CopyBackwards"), inputs: [source.expand(shape)])
            gradNode = out.gradNode
            requiresGradFlag = true
        }
        return self
    }

    /// Clamps in place; returns self.
    @discardableResult
    public func clamp_(min: Double? = nil, max: Double? = nil) -> Tensor {
        checkInPlace(op: "clamp_")
        precondition(min != nil || max != nil, "clamp_: at least one of min and max must be given")
        let fractionalBound = [min, max].contains { $0.map { $0.rounded() != $0 } ?? false }
        if !(requiresGradFlag && GradMode.isEnabled) && dtype.computeType == dtype && count > 0
            && (dtype.isFloatingPoint || !fractionalBound) {
            // One pass: the backend clamps the elements where they lie (ReLU6 in inference).
            noGrad { device.backend.unary(.clamp(min: min, max: max), self, into: self) }
            bumpVersion()
            return self
        }
        // clamp saves its input for backward: give it a copy of the value about to be overwritten.
        let result = requiresGradFlag && GradMode.isEnabled ? snapshotHandle().clone().clamp(min: min, max: max)
            : noGrad { self.clamp(min: min, max: max) }
        assign(result)
        return self
    }

    /// Fills with uniform samples in [low, high); returns self.
    @discardableResult
    public func uniform_(_ low: Double = 0, _ high: Double = 1, generator: Generator = .default) -> Tensor {
        let sample = Tensor.rand(shape, dtype: .float64, generator: generator) * (high - low) + low
        return noGrad { self.copy_(sample) }
    }

    /// Fills with normal samples of the given mean and standard deviation; returns self.
    @discardableResult
    public func normal_(mean: Double = 0, std: Double = 1, generator: Generator = .default) -> Tensor {
        let sample = Tensor.randn(shape, dtype: .float64, generator: generator) * std + mean
        return noGrad { self.copy_(sample) }
    }
}
