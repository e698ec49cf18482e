// Views that share storage: reshape, permute, transpose, expand, narrow, select, slices,
// squeeze/unsqueeze, and splitting into views (chunk, split, unbind).

extension Tensor {
    /// Resolves one `-1` in a requested shape against this tensor's element count.
    private func inferShape(_ requested: [Int], op: String) -> [Int] {
        var shape = requested
        let unknown = shape.indices.filter { shape[$0] == -1 }
        precondition(unknown.count <= 1, "\(op): only one dimension can be inferred, got \(requested)")
        precondition(shape.allSatisfy { $0 >= -1 }, "\(op): invalid shape \(requested)")
        let known = shape.filter { $0 != -1 }.reduce(1, *)
        if let i = unknown.first {
            precondition(known != 0 && count % known == 0, "\(op): shape \(requested) is invalid for input of size \(count)")
            shape[i] = count / known
        }
        precondition(shape.reduce(1, *) == count, "\(op): shape \(requested) is invalid for input of size \(count)")
        return shape
    }

    /// The same elements with a new shape (one dimension may be `-1`). A view when the
    /// layout allows, otherwise a copy — as `torch.reshape`.
    ///
    /// ```swift
    /// Tensor.arange(0, 6).reshape([2, -1])   // shape [2, 3]
    /// ```
    public func reshape(_ shape: [Int]) -> Tensor {
        let target = inferShape(shape, op: "reshape")
        if target == self.shape { return self }
        let source = isContiguous ? self : contiguous()
        let out = source.makeView(shape: target, strides: contiguousStrides(target), offset: source.offset)
        if shouldRecord(source) { record(out, .reshape, inputs: [source]) }
        return out
    }

    /// `reshape` with the shape spelled as arguments.
    public func reshape(_ shape: Int...) -> Tensor { reshape(shape) }

    /// A view with a new shape; the tensor must be contiguous (`torch.view`).
    ///
    /// ```swift
    /// x.view([-1, 784])
    /// ```
    public func view(_ shape: [Int]) -> Tensor {
        precondition(isContiguous, "view: size is not compatible with the input's strides \(strides) (shape \(self.shape)); use reshape(...) instead")
        return reshape(shape)
    }

    /// `view` with the shape spelled as arguments.
    public func view(_ shape: Int...) -> Tensor { view(shape) }

    /// Merges dimensions `startDim...endDim` into one.
    ///
    /// ```swift
    /// images.flatten(startDim: 1)   // [N, C*H*W]
    /// ```
    public func flatten(startDim: Int = 0, endDim: Int = -1) -> Tensor {
        if rank == 0 { return reshape([1]) }
        let s = normalizeDim(startDim, rank, op: "flatten"), e = normalizeDim(endDim, rank, op: "flatten")
        precondition(s <= e, "flatten: startDim \(startDim) comes after endDim \(endDim)")
        let merged = shape[s...e].reduce(1, *)
        return reshape(Array(shape[..<s]) + [merged] + Array(shape[(e + 1)...]))
    }

    /// Splits dimension `dim` into `sizes` (one may be -1).
    ///
    /// ```swift
    /// x.unflatten(dim: 1, sizes: [2, -1])
    /// ```
    public func unflatten(dim: Int, sizes: [Int]) -> Tensor {
        let d = normalizeDim(dim, rank, op: "unflatten")
        var sizes = sizes
        if let i = sizes.firstIndex(of: -1) { sizes[i] = shape[d] / sizes.filter { $0 != -1 }.reduce(1, *) }
        precondition(sizes.reduce(1, *) == shape[d], "unflatten: sizes \(sizes) do not multiply to dimension \(d) of size \(shape[d])")
        return reshape(Array(shape[..<d]) + sizes + Array(shape[(d + 1)...]))
    }

    /// Removes all size-1 dimensions, or only `dim` when given (and of size 1).
    public func squeeze(dim: Int? = nil) -> Tensor {
        if let dim {
            let d = normalizeDim(dim, rank, op: "squeeze")
            if rank == 0 || shape[d] != 1 { return self }
            var s = shape
            s.remove(at: d)
            return reshape(s)
        }
        return reshape(shape.filter { $0 != 1 })
    }

    /// Inserts a size-1 dimension at `dim`.
    ///
    /// ```swift
    /// Tensor.zeros([3]).unsqueeze(0)   // shape [1, 3]
    /// ```
    public func unsqueeze(_ dim: Int) -> Tensor {
        let d = normalizeDim(dim, rank + 1, op: "unsqueeze")
        var newShape = shape, newStrides = strides
        newShape.insert(1, at: d)
        newStrides.insert(d < rank ? strides[d] * shape[d] : 1, at: d)
        let out = makeView(shape: newShape, strides: newStrides, offset: offset)
        if shouldRecord(self) { record(out, .reshape, inputs: [self]) }
        return out
    }

    /// Reorders dimensions (a view).
    ///
    /// ```swift
    /// x.permute(0, 2, 1)
    /// ```
    public func permute(_ dims: [Int]) -> Tensor {
        precondition(dims.count == rank, "permute: number of dims \(dims.count) does not match the tensor's rank \(rank)")
        let order = dims.map { normalizeDim($0, rank, op: "permute") }
        precondition(Set(order).count == rank, "permute: repeated dim in \(dims)")
        let out = makeView(shape: order.map { shape[$0] }, strides: order.map { strides[$0] }, offset: offset)
        if shouldRecord(self) { record(out, .permute(order), inputs: [self]) }
        return out
    }

    /// `permute` with the order spelled as arguments.
    public func permute(_ dims: Int...) -> Tensor { permute(dims) }

    /// Swaps two dimensions (a view).
    ///
    /// ```swift
    /// x.transpose(0, 1)
    /// ```
    public func transpose(_ dim0: Int, _ dim1: Int) -> Tensor {
        if rank == 0 { return self }
        let a = normalizeDim(dim0, rank, op: "transpose"), b = normalizeDim(dim1, rank, op: "transpose")
        var order = Array(0..<rank)
        order.swapAt(a, b)
        return permute(order)
    }

    /// Transpose of a matrix (rank ≤ 2).
    public func t() -> Tensor {
        precondition(rank <= 2, "t: expects a tensor with at most 2 dimensions, got \(rank)")
        return rank < 2 ? self : transpose(0, 1)
    }

    /// The transposed matrix (`x.T` for rank 2; reverses all dims otherwise).
    public var T: Tensor { permute(Array((0..<rank).reversed())) }

    /// Broadcasts size-1 dimensions to `shape` without copying (-1 keeps a size).
    ///
    /// ```swift
    /// Tensor.ones([3, 1]).expand([3, 4])
    /// ```
    public func expand(_ shape: [Int]) -> Tensor {
        let lead = shape.count - rank
        precondition(lead >= 0, "expand: the number of sizes provided (\(shape.count)) must be at least the number of dimensions (\(rank))")
        let target = shape.enumerated().map { i, s in s == -1 && i >= lead ? self.shape[i - lead] : s }
        if target == self.shape { return self }
        let view = broadcastView(to: target)
        let out = makeView(shape: view.shape, strides: view.strides, offset: offset)
        if shouldRecord(self) { record(out, .expand, inputs: [self]) }
        return out
    }

    /// `expand` with the shape spelled as arguments.
    public func expand(_ shape: Int...) -> Tensor { expand(shape) }

    /// Expands to `other`'s shape.
    public func expandAs(_ other: Tensor) -> Tensor { expand(other.shape) }

    /// Every `step`-th element of `start ..< end` along `dim` (a view); bounds are clamped.
    ///
    /// ```swift
    /// x.slice(dim: 1, start: 0, end: 10, step: 2)
    /// ```
    public func slice(dim: Int, start: Int? = nil, end: Int? = nil, step: Int = 1) -> Tensor {
        let d = normalizeDim(dim, rank, op: "slice")
        precondition(step > 0, "slice: step must be positive, got \(step)")
        let size = shape[d]
        func clampIndex(_ i: Int) -> Int { Swift.min(Swift.max(i < 0 ? i + size : i, 0), size) }
        let s = clampIndex(start ?? 0), e = Swift.max(clampIndex(end ?? size), clampIndex(start ?? 0))
        let length = (e - s + step - 1) / step
        if s == 0 && length == size && step == 1 { return self }
        var newShape = shape, newStrides = strides
        newShape[d] = length
        newStrides[d] = strides[d] * step
        let out = makeView(shape: newShape, strides: newStrides, offset: offset + s * strides[d])
        if shouldRecord(self) { record(out, .slice(dim: d, start: s, step: step), inputs: [self]) }
        return out
    }

    /// `length` elements of `dim` starting at `start` (a view).
    ///
    /// ```swift
    /// x.narrow(dim: 0, start: 1, length: 2)
    /// ```
    public func narrow(dim: Int, start: Int, length: Int) -> Tensor {
        let d = normalizeDim(dim, rank, op: "narrow")
        let s = start < 0 ? start + shape[d] : start
        precondition(s >= 0 && length >= 0 && s + length <= shape[d],
                     "narrow: start \(start) + length \(length) exceeds dimension \(d) of size \(shape[d])")
        return slice(dim: d, start: s, end: s + length)
    }

    /// The slice at `index` along `dim`, with that dimension removed (a view).
    ///
    /// ```swift
    /// x.select(dim: 0, index: -1)   // last row
    /// ```
    public func select(dim: Int, index: Int) -> Tensor {
        let d = normalizeDim(dim, rank, op: "select")
        let size = shape[d]
        let i = index < 0 ? index + size : index
        precondition(i >= 0 && i < size, "select: index \(index) out of range for dimension \(d) of size \(size)")
        var newShape = shape, newStrides = strides
        newShape.remove(at: d)
        newStrides.remove(at: d)
        let out = makeView(shape: newShape, strides: newStrides, offset: offset + i * strides[d])
        if shouldRecord(self) { record(out, .select(dim: d, index: i), inputs: [self]) }
        return out
    }

    /// Splits into pieces of `splitSize` along `dim` (the last may be smaller); views.
    ///
    /// ```swift
    /// let parts = Tensor.arange(0, 5).split(2)   // [0, 1], [2, 3], [4]
    /// ```
    public func split(_ splitSize: Int, dim: Int = 0) -> [Tensor] {
        precondition(splitSize > 0, "split: split size must be positive, got \(splitSize)")
        let d = normalizeDim(dim, rank, op: "split")
        return stride(from: 0, to: Swift.max(shape[d], 1), by: splitSize).map {
            narrow(dim: d, start: $0, length: Swift.min(splitSize, shape[d] - $0))
        }
    }

    /// Splits into pieces with the given sizes along `dim` (they must add up); views.
    public func split(sizes: [Int], dim: Int = 0) -> [Tensor] {
        let d = normalizeDim(dim, rank, op: "split")
        precondition(sizes.reduce(0, +) == shape[d], "split: sizes \(sizes) do not add up to dimension \(d) of size \(shape[d])")
        var start = 0
        return sizes.map { size in
            defer { start += size }
            return narrow(dim: d, start: start, length: size)
        }
    }

    /// Splits into `chunks` nearly equal pieces along `dim` (`torch.chunk`); views.
    public func chunk(_ chunks: Int, dim: Int = 0) -> [Tensor] {
        precondition(chunks > 0, "chunk: number of chunks must be positive, got \(chunks)")
        let d = normalizeDim(dim, rank, op: "chunk")
        return split(Swift.max(1, (shape[d] + chunks - 1) / chunks), dim: d)
    }

    /// The slices along `dim`, each with that dimension removed (`torch.unbind`); views.
    public func unbind(dim: Int = 0) -> [Tensor] {
        let d = normalizeDim(dim, rank, op: "unbind")
        return (0..<shape[d]).map { select(dim: d, index: $0) }
    }
}
