// Row standardisation over the last dimensions: the fused core of layer normalisation.

extension Tensor {
    /// `(x − mean) / √(var + eps)` over the last `count` dimensions (biased variance), in one
    /// fused pass — the core of `layerNorm` (PyTorch's `native_layer_norm` without the affine
    /// part). Differentiable, to any order.
    ///
    /// - Parameters:
    ///   - count: how many trailing dimensions form one normalised group (at least 1).
    ///   - eps: added to the variance.
    ///
    /// ```swift
    /// let x = Tensor.randn([4, 10])
    /// let y = x.normalizeLastDims(1, eps: 1e-5)   // each row: mean 0, variance ≈ 1
    /// ```
    public func normalizeLastDims(_ count: Int, eps: Double) -> Tensor {
        precondition(count >= 1 && count <= rank, "normalizeLastDims: count \(count) must lie in 1...\(rank) for shape \(shape)")
        precondition(dtype.isFloatingPoint, "normalizeLastDims: expected a floating-point tensor, got \(dtype)")
        let columns = shape.suffix(count).reduce(1, *)
        let rows = columns == 0 ? 0 : self.count / columns
        let computeType: DType = dtype == .float64 ? .float64 : .float32
        let input = noGrad { (dtype == computeType ? self : self.to(computeType)).contiguous() }
        let out = Tensor(uninitializedShape: shape, dtype: computeType, device: device)
        let mean = Tensor(uninitializedShape: [rows], dtype: computeType, device: device)
        let rstd = Tensor(uninitializedShape: [rows], dtype: computeType, device: device)
        if rows > 0 {
            device.backend.normalizeRows(input, columns: columns, eps: eps, into: out, mean: mean, rstd: rstd)
        }
        let result = dtype == computeType ? out : noGrad { out.to(dtype) }
        if shouldRecord(self) {
            record(result, .normalizeLastDims(count: count, eps: eps), inputs: [self], saved: [self, mean, rstd])
        }
        return result
    }
}
