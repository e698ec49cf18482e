// Indexing by index tensors and masks: gather, scatter, indexSelect, indexAdd,
// maskedFill, maskedSelect, nonzero, oneHot, sort, argsort, topk.

extension Tensor {
    private func checkIndex(_ index: Tensor, op: String) {
        precondition(index.dtype == .int64 || index.dtype == .int32, "\(op): index must be an integer tensor, got \(index.dtype)")
        precondition(index.device == device, "\(op): index is on \(index.device), tensor on \(device)")
    }

    /// `out[i][j] = self[index[i][j]][j]` for `dim` 0 (and likewise for other dims).
    /// `index` has this tensor's rank and its shape.
    ///
    /// ```swift
    /// let picked = logProbs.gather(dim: 1, index: targets.unsqueeze(1))
    /// ```
    public func gather(dim: Int, index: Tensor) -> Tensor {
        let d = normalizeDim(dim, rank, op: "gather")
        checkIndex(index, op: "gather")
        precondition(index.rank == rank, "gather: index has rank \(index.rank), input has rank \(rank)")
        for k in 0..<rank where k != d {
            precondition(index.shape[k] <= shape[k], "gather: index shape \(index.shape) exceeds input shape \(shape) at dimension \(k)")
        }
        let idx = index.to(.int64)
        let out = Tensor(uninitializedShape: idx.shape, dtype: dtype, device: device)
        device.backend.gather(self, dim: d, index: idx, into: out)
        if shouldRecord(self) { record(out, .gather(dim: d), inputs: [self], saved: [idx]) }
        return out
    }

    /// A copy with `source` values written at `index` along `dim` (`torch.scatter`).
    ///
    /// ```swift
    /// Tensor.zeros([2, 4]).scatter(dim: 1, index: labels.unsqueeze(1), source: Tensor.ones([2, 1]))
    /// ```
    public func scatter(dim: Int, index: Tensor, source: Tensor) -> Tensor {
        let d = normalizeDim(dim, rank, op: "scatter")
        checkIndex(index, op: "scatter")
        let idx = index.to(.int64)
        let out = noGrad { self.clone() }
        device.backend.scatter(noGrad { source.to(self.dtype) }, dim: d, index: idx, into: out, accumulate: false)
        if shouldRecord(self, source) { record(out, .scatter(dim: d), inputs: [self, source], saved: [idx]) }
        return out
    }

    /// A copy with `value` written at `index` along `dim`.
    public func scatter(dim: Int, index: Tensor, value: Double) -> Tensor {
        let d = normalizeDim(dim, rank, op: "scatter")
        let idx = index.to(.int64)
        let out = noGrad { self.clone() }
        let source = Tensor.full([], value, dtype: dtype, device: device).broadcastView(to: idx.shape)
        device.backend.scatter(source, dim: d, index: idx, into: out, accumulate: false)
        if shouldRecord(self) {
            let mask = Tensor.zeros(shape, dtype: .bool, device: device)
            device.backend.scatter(Tensor.full([], 1, dtype: .bool, device: device).broadcastView(to: idx.shape),
                                   dim: d, index: idx, into: mask, accumulate: false)
            record(out, .maskedFill, inputs: [self], saved: [mask])
        }
        return out
    }

    /// A copy with `source` values added at `index` along `dim` (`torch.scatter_add`);
    /// repeated indices accumulate.
    ///
    /// ```swift
    /// Tensor.zeros([3]).scatterAdd(dim: 0, index: Tensor([0, 0, 2]), source: Tensor.ones([3]))  // [2, 0, 1]
    /// ```
    public func scatterAdd(dim: Int, index: Tensor, source: Tensor) -> Tensor {
        let d = normalizeDim(dim, rank, op: "scatter_add")
        checkIndex(index, op: "scatter_add")
        let idx = index.to(.int64)
        let out = noGrad { self.to(DType.promote(self.dtype, source.dtype)).clone() }
        device.backend.scatter(noGrad { source.to(out.dtype) }, dim: d, index: idx, into: out, accumulate: true)
        if shouldRecord(self, source) { record(out, .scatterAdd(dim: d), inputs: [self, source], saved: [idx]) }
        return out
    }

    /// The entries at the positions in the 1-D `index` along `dim`.
    ///
    /// ```swift
    /// embeddings.indexSelect(dim: 0, index: tokenIDs)
    /// ```
    public func indexSelect(dim: Int, index: Tensor) -> Tensor {
        let d = normalizeDim(dim, rank, op: "index_select")
        checkIndex(index, op: "index_select")
        precondition(index.rank <= 1, "index_select: index must be 1-D, got shape \(index.shape)")
        let flat = index.reshape([-1])
        var viewShape = [Int](repeating: 1, count: rank)
        viewShape[d] = flat.count
        var target = shape
        target[d] = flat.count
        return gather(dim: d, index: flat.reshape(viewShape).broadcastView(to: target))
    }

    /// A copy with `source` slices added at the positions in the 1-D `index` along `dim`
    /// (`torch.index_add`); repeated positions accumulate.
    public func indexAdd(dim: Int, index: Tensor, source: Tensor) -> Tensor {
        let d = normalizeDim(dim, rank, op: "index_add")
        precondition(index.rank == 1, "index_add: index must be 1-D, got shape \(index.shape)")
        var viewShape = [Int](repeating: 1, count: rank)
        viewShape[d] = index.count
        return scatterAdd(dim: d, index: index.reshape(viewShape).broadcastView(to: source.shape), source: source)
    }

    /// A copy with `value` where `mask` (broadcastable, bool) is true.
    ///
    /// ```swift
    /// scores.maskedFill(causalMask.logicalNot(), -.infinity)
    /// ```
    public func maskedFill(_ mask: Tensor, _ value: Double) -> Tensor {
        precondition(mask.dtype == .bool, "masked_fill: mask must be a bool tensor, got \(mask.dtype)")
        let full = mask.broadcastView(to: broadcastShapes(shape, mask.shape, op: "masked_fill"))
        precondition(full.shape == shape, "masked_fill: mask of shape \(mask.shape) cannot be broadcast to \(shape)")
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        let fill = Tensor.full([], value, dtype: dtype, device: device).broadcastView(to: shape)
        device.backend.select(full, fill, self, into: out)
        if shouldRecord(self) { record(out, .maskedFill, inputs: [self], saved: [full]) }
        return out
    }

    /// The elements where `mask` (broadcastable, bool) is true, as a 1-D tensor.
    public func maskedSelect(_ mask: Tensor) -> Tensor {
        let shape = broadcastShapes(self.shape, mask.shape, op: "masked_select")
        let positions = mask.broadcastView(to: shape).contiguousRaw().nonzeroFlat()
        return expand(shape).reshape([-1]).indexSelect(dim: 0, index: positions)
    }

    /// Flat positions of the nonzero elements (row-major), as int64.
    func nonzeroFlat() -> Tensor {
        let values = noGrad { self.to(.bool) }.asArray(Bool.self)
        var positions: [Int64] = []
        for (i, v) in values.enumerated() where v { positions.append(Int64(i)) }
        return Tensor(positions, shape: [positions.count], device: device)
    }

    /// Indices of nonzero elements, one row per element: shape [n, rank] (`torch.nonzero`).
    public func nonzero() -> Tensor {
        let flat = nonzeroFlat().asArray(Int64.self)
        let steps = contiguousStrides(shape)
        var rows: [Int64] = []
        for p in flat {
            var rest = Int(p)
            for s in steps { rows.append(Int64(rest / Swift.max(s, 1))); rest %= Swift.max(s, 1) }
        }
        return Tensor(rows, shape: [flat.count, rank], device: device)
    }

    /// One-hot encoding of an integer tensor: a trailing dimension of size `numClasses`
    /// (inferred as max + 1 when nil), int64 like PyTorch.
    ///
    /// ```swift
    /// Tensor([0, 2]).oneHot(numClasses: 3)   // [[1, 0, 0], [0, 0, 1]]
    /// ```
    public func oneHot(numClasses: Int? = nil) -> Tensor {
        precondition(!dtype.isFloatingPoint && dtype != .bool, "one_hot: expects an integer tensor, got \(dtype)")
        let classes = numClasses ?? (count == 0 ? 0 : Int(amax().item(Int64.self)) + 1)
        let out = Tensor.zeros(shape + [classes], dtype: .int64, device: device)
        return out.scatter(dim: rank, index: unsqueeze(rank), value: 1)
    }

    /// Sorts along `dim` (stable), returning the values and their original indices.
    ///
    /// ```swift
    /// let (sorted, order) = x.sort(dim: -1, descending: true)
    /// ```
    public func sort(dim: Int = -1, descending: Bool = false) -> (values: Tensor, indices: Tensor) {
        let indices = argsort(dim: dim, descending: descending)
        return (gather(dim: normalizeDim(dim, rank, op: "sort"), index: indices), indices)
    }

    /// The indices that sort along `dim` (stable).
    public func argsort(dim: Int = -1, descending: Bool = false) -> Tensor {
        let d = normalizeDim(dim, rank, op: "argsort")
        let input = computable
        let values = Tensor(uninitializedShape: shape, dtype: input.dtype, device: device)
        let indices = Tensor(uninitializedShape: shape, dtype: .int64, device: device)
        device.backend.sort(input, dim: d, descending: descending, values: values, indices: indices)
        return indices
    }

    /// The `k` largest (or smallest) elements along `dim`, sorted, with their indices.
    ///
    /// ```swift
    /// let (top5, classes) = probabilities.topk(5, dim: 1)
    /// ```
    public func topk(_ k: Int, dim: Int = -1, largest: Bool = true) -> (values: Tensor, indices: Tensor) {
        let d = normalizeDim(dim, rank, op: "topk")
        precondition(k >= 0 && k <= (rank == 0 ? 1 : shape[d]), "topk: k (\(k)) is out of range for dimension \(d) of size \(rank == 0 ? 1 : shape[d])")
        let indices = argsort(dim: d, descending: largest).narrow(dim: d, start: 0, length: k).contiguous()
        return (gather(dim: d, index: indices), indices)
    }
}
