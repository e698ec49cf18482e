// Reductions: sum, mean, prod, max/min, argmax/argmin, var/std, logsumexp, norm,
// all/any, and running sums.

extension Tensor {
    /// Normalises reduction dims (empty means all), sorted and unique.
    func reductionDims(_ dims: [Int], op: String) -> [Int] {
        if dims.isEmpty { return Array(0..<rank) }
        let normalized = dims.map { normalizeDim($0, rank, op: op) }
        precondition(Set(normalized).count == normalized.count, "\(op): dim appears multiple times in \(dims)")
        return normalized.sorted()
    }

    /// The shape after reducing `dims`, with or without the reduced dims kept as 1.
    func reducedShape(_ dims: [Int], keepDim: Bool) -> [Int] {
        var s: [Int] = []
        for i in 0..<rank {
            if dims.contains(i) { if keepDim { s.append(1) } } else { s.append(shape[i]) }
        }
        return s
    }

    /// Runs a reduction primitive (no autograd). `sum`/`prod` accumulate integers in int64.
    func reduceRaw(_ op: ReduceOp, dims: [Int], keepDim: Bool) -> Tensor {
        var input = self
        if (op == .sum || op == .prod) && !dtype.isFloatingPoint { input = noGrad { self.to(.int64) } }
        let resultDType = input.dtype
        if input.dtype.computeType != input.dtype { input = noGrad { input.to(.float32) } }
        let out = Tensor(uninitializedShape: reducedShape(dims, keepDim: true), dtype: input.dtype, device: device)
        device.backend.reduce(op, input, dims: dims, into: out)
        var result = out
        if !keepDim { result = Tensor(adopting: out, shape: reducedShape(dims, keepDim: false)) }
        if result.dtype != resultDType { result = noGrad { result.to(resultDType) } }
        return result
    }

    /// Sum of all elements (a 0-d tensor).
    ///
    /// ```swift
    /// Tensor([1, 2, 3] as [Float]).sum()   // 6
    /// ```
    public func sum() -> Tensor { sum(dims: [], keepDim: false) }

    /// Sum over one dimension.
    ///
    /// ```swift
    /// x.sum(dim: 1, keepDim: true)
    /// ```
    public func sum(dim: Int, keepDim: Bool = false) -> Tensor { sum(dims: [dim], keepDim: keepDim) }

    /// Sum over several dimensions (all when `dims` is empty).
    public func sum(dims: [Int], keepDim: Bool = false) -> Tensor {
        let d = reductionDims(dims, op: "sum")
        let out = reduceRaw(.sum, dims: d, keepDim: keepDim)
        // A full reduction records no dims, so the node is named SumBackward0 as in PyTorch.
        if shouldRecord(self) { record(out, .sum(dims: dims.isEmpty ? [] : d, keepDim: keepDim), inputs: [self]) }
        return out
    }

    /// Mean of all elements.
    public func mean() -> Tensor { mean(dims: [], keepDim: false) }
    /// Mean over one dimension.
    public func mean(dim: Int, keepDim: Bool = false) -> Tensor { mean(dims: [dim], keepDim: keepDim) }
    /// Mean over several dimensions (all when empty); floating-point tensors only.
    ///
    /// ```swift
    /// images.mean(dims: [0, 2, 3])   // per-channel mean
    /// ```
    public func mean(dims: [Int], keepDim: Bool = false) -> Tensor {
        precondition(dtype.isFloatingPoint, "mean: could not infer output dtype; input dtype must be floating point, got \(dtype)")
        let d = reductionDims(dims, op: "mean")
        let n = d.reduce(1) { $0 * shape[$1] }
        return sum(dims: d, keepDim: keepDim) / Double(n)
    }

    /// Product of all elements.
    public func prod() -> Tensor { prod(dims: [], keepDim: false) }
    /// Product over one dimension.
    public func prod(dim: Int, keepDim: Bool = false) -> Tensor { prod(dims: [dim], keepDim: keepDim) }
    func prod(dims: [Int], keepDim: Bool) -> Tensor {
        let d = reductionDims(dims, op: "prod")
        let out = reduceRaw(.prod, dims: d, keepDim: keepDim)
        if shouldRecord(self) { record(out, .prod(dims: d, keepDim: keepDim), inputs: [self], saved: [self], savesOutput: true) }
        return out
    }

    /// Largest element (NaN propagates); the gradient is shared evenly among ties.
    public func max() -> Tensor { amax(dims: [], keepDim: false) }
    /// Smallest element.
    public func min() -> Tensor { amin(dims: [], keepDim: false) }

    /// Largest values over `dims` (all when empty), without indices.
    public func amax(dims: [Int] = [], keepDim: Bool = false) -> Tensor { extremum(.max, dims: dims, keepDim: keepDim) }
    /// Smallest values over `dims` (all when empty), without indices.
    public func amin(dims: [Int] = [], keepDim: Bool = false) -> Tensor { extremum(.min, dims: dims, keepDim: keepDim) }

    private func extremum(_ op: ReduceOp, dims: [Int], keepDim: Bool) -> Tensor {
        precondition(count > 0, "\(op == .max ? "max" : "min"): expected a non-empty tensor")
        let d = reductionDims(dims, op: op == .max ? "amax" : "amin")
        let out = reduceRaw(op, dims: d, keepDim: keepDim)
        if shouldRecord(self) { record(out, .extremum(dims: d, keepDim: keepDim), inputs: [self], saved: [self], savesOutput: true) }
        return out
    }

    /// Largest values along `dim` and their indices (first index among ties).
    ///
    /// ```swift
    /// let (values, indices) = scores.max(dim: 1)
    /// ```
    public func max(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
        let indices = argmax(dim: dim, keepDim: true)
        let values = gather(dim: dim, index: indices)
        return keepDim ? (values, indices) : (values.squeeze(dim: dim), indices.squeeze(dim: dim))
    }

    /// Smallest values along `dim` and their indices.
    public func min(dim: Int, keepDim: Bool = false) -> (values: Tensor, indices: Tensor) {
        let indices = argmin(dim: dim, keepDim: true)
        let values = gather(dim: dim, index: indices)
        return keepDim ? (values, indices) : (values.squeeze(dim: dim), indices.squeeze(dim: dim))
    }

    /// Index of the largest element along `dim` (of the flattened tensor when nil).
    ///
    /// ```swift
    /// let predicted = logits.argmax(dim: 1)
    /// ```
    public func argmax(dim: Int? = nil, keepDim: Bool = false) -> Tensor { argReduce(.argmax, dim: dim, keepDim: keepDim) }
    /// Index of the smallest element along `dim` (of the flattened tensor when nil).
    public func argmin(dim: Int? = nil, keepDim: Bool = false) -> Tensor { argReduce(.argmin, dim: dim, keepDim: keepDim) }

    private func argReduce(_ op: ReduceOp, dim: Int?, keepDim: Bool) -> Tensor {
        guard let dim else { return noGrad { self.reshape([-1]) }.argReduce(op, dim: 0, keepDim: false) }
        let d = normalizeDim(dim, rank, op: op == .argmax ? "argmax" : "argmin")
        let input = computable
        let out = Tensor(uninitializedShape: reducedShape([d], keepDim: true), dtype: .int64, device: device)
        device.backend.reduce(op, input, dims: [d], into: out)
        return keepDim ? out : Tensor(adopting: out, shape: reducedShape([d], keepDim: false))
    }

    /// Variance over `dims` (all when empty) with Bessel's `correction` (1: unbiased).
    ///
    /// ```swift
    /// x.variance(dims: [1], correction: 0)   // population variance per row
    /// ```
    public func variance(dims: [Int] = [], correction: Int = 1, keepDim: Bool = false) -> Tensor {
        let d = reductionDims(dims, op: "var")
        let n = d.reduce(1) { $0 * shape[$1] }
        let centered = self - mean(dims: d, keepDim: true)
        return (centered * centered).sum(dims: d, keepDim: keepDim) / Double(Swift.max(n - correction, 0))
    }

    /// Variance (PyTorch spelling `var`).
    public func `var`(dims: [Int] = [], correction: Int = 1, keepDim: Bool = false) -> Tensor {
        variance(dims: dims, correction: correction, keepDim: keepDim)
    }

    /// Variance along one dimension.
    public func `var`(dim: Int, correction: Int = 1, keepDim: Bool = false) -> Tensor {
        variance(dims: [dim], correction: correction, keepDim: keepDim)
    }

    /// Standard deviation over `dims` (all when empty) with Bessel's `correction`.
    public func std(dims: [Int] = [], correction: Int = 1, keepDim: Bool = false) -> Tensor {
        variance(dims: dims, correction: correction, keepDim: keepDim).sqrt()
    }

    /// Standard deviation along one dimension.
    public func std(dim: Int, correction: Int = 1, keepDim: Bool = false) -> Tensor {
        std(dims: [dim], correction: correction, keepDim: keepDim)
    }

    /// `log(sum(exp(x)))` over `dim`, computed stably by shifting by the maximum.
    ///
    /// ```swift
    /// x.logsumexp(dim: 0)
    /// ```
    public func logsumexp(dim: Int, keepDim: Bool = false) -> Tensor { logsumexp(dims: [dim], keepDim: keepDim) }

    /// `log(sum(exp(x)))` over several dims.
    public func logsumexp(dims: [Int], keepDim: Bool = false) -> Tensor {
        let d = reductionDims(dims, op: "logsumexp")
        let peak = noGrad { () -> Tensor in
            let m = self.amax(dims: d, keepDim: true)
            return Tensor.where(isInf(m), Tensor.zerosLike(m), m)
        }
        let result = (self - peak).exp().sum(dims: d, keepDim: true).log() + peak
        return keepDim ? result : result.reshape(reducedShape(d, keepDim: false))
    }

    /// The p-norm over `dims` (all when empty): `(Σ|x|ᵖ)^(1/p)`; p = 2 by default, and
    /// `.infinity` gives the largest magnitude. The 2-norm's gradient at zero is zero.
    ///
    /// ```swift
    /// v.norm()           // Euclidean length
    /// m.norm(p: 1, dims: [1])
    /// ```
    public func norm(p: Double = 2, dims: [Int] = [], keepDim: Bool = false) -> Tensor {
        let d = reductionDims(dims, op: "norm")
        if p == 2 {
            let out = noGrad { (self * self).sum(dims: d, keepDim: keepDim).sqrt() }
            if shouldRecord(self) { record(out, .norm2(dims: d, keepDim: keepDim), inputs: [self], saved: [self], savesOutput: true) }
            return out
        }
        if p == .infinity { return self.abs().amax(dims: d, keepDim: keepDim) }
        if p == 1 { return self.abs().sum(dims: d, keepDim: keepDim) }
        return self.abs().pow(p).sum(dims: d, keepDim: keepDim).pow(1 / p)
    }

    /// True when every element is nonzero (a 0-d bool tensor).
    public func all() -> Tensor { noGrad { self.to(.bool).reduceRaw(.min, dims: Array(0..<rank), keepDim: false) } }
    /// True when any element is nonzero.
    public func any() -> Tensor { noGrad { self.to(.bool).reduceRaw(.max, dims: Array(0..<rank), keepDim: false) } }
    /// Whether all elements along `dim` are nonzero.
    public func all(dim: Int, keepDim: Bool = false) -> Tensor {
        noGrad { self.to(.bool).reduceRaw(.min, dims: [normalizeDim(dim, rank, op: "all")], keepDim: keepDim) }
    }
    /// Whether any element along `dim` is nonzero.
    public func any(dim: Int, keepDim: Bool = false) -> Tensor {
        noGrad { self.to(.bool).reduceRaw(.max, dims: [normalizeDim(dim, rank, op: "any")], keepDim: keepDim) }
    }

    /// Running sum along `dim` (integers accumulate in int64).
    ///
    /// ```swift
    /// Tensor([1, 2, 3]).cumsum(dim: 0)   // [1, 3, 6]
    /// ```
    public func cumsum(dim: Int) -> Tensor {
        let d = normalizeDim(dim, rank, op: "cumsum")
        var input = dtype.isFloatingPoint ? computable : noGrad { self.to(.int64) }
        if rank == 0 { input = noGrad { input.reshape([1]) } }
        let out = Tensor(uninitializedShape: input.shape, dtype: input.dtype, device: device)
        device.backend.cumulative(.sum, input, dim: d, into: out)
        var result = rank == 0 ? Tensor(adopting: out, shape: []) : out
        if dtype.isFloatingPoint && result.dtype != dtype { result = noGrad { result.to(dtype) } }
        if shouldRecord(self) { record(result, .cumsum(dim: d), inputs: [self]) }
        return result
    }

    /// Running product along `dim` (differentiable; twice differentiable when the input
    /// holds no zeros).
    public func cumprod(dim: Int) -> Tensor {
        let d = normalizeDim(dim, rank, op: "cumprod")
        let input = dtype.isFloatingPoint ? computable : noGrad { self.to(.int64) }
        let out = Tensor(uninitializedShape: input.shape, dtype: input.dtype, device: device)
        device.backend.cumulative(.prod, input, dim: d, into: out)
        let result = out.dtype == dtype || !dtype.isFloatingPoint ? out : noGrad { out.to(dtype) }
        if shouldRecord(self) { record(result, .cumprod(dim: d), inputs: [self], saved: [self], savesOutput: true) }
        return result
    }
}
