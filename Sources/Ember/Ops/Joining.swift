// Ops that build a new tensor from pieces: cat, stack, flip, roll, repeat, tril/triu,
// pad, and the slice-scatter used by slicing's gradient.

extension Tensor {
    /// Concatenates tensors along an existing dimension (`torch.cat`).
    ///
    /// ```swift
    /// Tensor.cat([a, b], dim: 0)
    /// ```
    public static func cat(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "cat: expected a non-empty list of tensors")
        let first = tensors[0]
        let d = normalizeDim(dim, first.rank, op: "cat")
        var dtype = first.dtype
        for t in tensors.dropFirst() { dtype = DType.promote(dtype, t.dtype) }
        for (i, t) in tensors.enumerated() {
            precondition(t.rank == first.rank, "cat: tensor \(i) has rank \(t.rank), expected \(first.rank)")
            precondition(t.device == first.device, "cat: tensor \(i) is on \(t.device), expected \(first.device)")
            for k in 0..<first.rank where k != d {
                precondition(t.shape[k] == first.shape[k],
                             "cat: sizes of tensors must match except in dimension \(d); tensor \(i) has shape \(t.shape), tensor 0 has \(first.shape)")
            }
        }
        var shape = first.shape
        shape[d] = tensors.reduce(0) { $0 + $1.shape[d] }
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: first.device)
        var start = 0
        for t in tensors {
            let size = t.shape[d]
            if size > 0 {
                let target = out.rawView(t.shape, out.strides).offsetBy(start * out.strides[d])
                first.device.backend.copy(t, into: target)
            }
            start += size
        }
        if shouldRecord(tensors) { record(out, .cat(dim: d, sizes: tensors.map { $0.shape[d] }), inputs: tensors) }
        return out
    }

    /// A raw view moved `elements` further into storage.
    func offsetBy(_ elements: Int) -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset + elements, dtype: dtype)
    }

    /// Stacks tensors of equal shape along a new dimension (`torch.stack`).
    ///
    /// ```swift
    /// Tensor.stack([a, b], dim: 0)   // shape [2] + a.shape
    /// ```
    public static func stack(_ tensors: [Tensor], dim: Int = 0) -> Tensor {
        precondition(!tensors.isEmpty, "stack: expected a non-empty list of tensors")
        for (i, t) in tensors.enumerated() {
            precondition(t.shape == tensors[0].shape, "stack: expects each tensor to be equal size, but got \(tensors[0].shape) at entry 0 and \(t.shape) at entry \(i)")
        }
        let d = normalizeDim(dim, tensors[0].rank + 1, op: "stack")
        return cat(tensors.map { $0.unsqueeze(d) }, dim: d)
    }

    /// Reverses the order of elements along `dims` (a copy).
    ///
    /// ```swift
    /// Tensor([1, 2, 3]).flip([0])   // [3, 2, 1]
    /// ```
    public func flip(_ dims: [Int]) -> Tensor {
        let ds = dims.map { normalizeDim($0, rank, op: "flip") }
        // Walk each flipped dim backwards through gather-free index arithmetic: build the
        // reversed view by copying slices in reverse order along each dim.
        var result = noGrad { self.contiguousRaw() }
        for d in ds where shape[d] > 1 {
            let index = Tensor((0..<shape[d]).reversed().map { Int64($0) }, shape: [shape[d]], device: device)
            result = noGrad { result.indexSelect(dim: d, index: index) }
        }
        if result === self { result = noGrad { self.clone() } }
        if shouldRecord(self) { record(result, .flip(ds), inputs: [self]) }
        return result
    }

    /// Shifts elements along `dims` by `shifts`, wrapping around (`torch.roll`).
    /// With no dims the flattened tensor is rolled and the shape restored.
    ///
    /// ```swift
    /// Tensor([1, 2, 3, 4]).roll([1], dims: [0])   // [4, 1, 2, 3]
    /// ```
    public func roll(_ shifts: [Int], dims: [Int] = []) -> Tensor {
        if dims.isEmpty {
            precondition(shifts.count == 1, "roll: without dims, expects exactly one shift")
            return flatten().roll(shifts, dims: [0]).reshape(shape)
        }
        precondition(shifts.count == dims.count, "roll: shifts (\(shifts.count)) and dims (\(dims.count)) must have the same length")
        var result = noGrad { self.contiguousRaw() }
        for (shift, dim) in zip(shifts, dims) {
            let d = normalizeDim(dim, rank, op: "roll")
            let n = shape[d]
            guard n > 0 else { continue }
            let index = Tensor((0..<n).map { Int64((($0 - shift) % n + n) % n) }, shape: [n], device: device)
            result = noGrad { result.indexSelect(dim: d, index: index) }
        }
        if result === self { result = noGrad { self.clone() } }
        if shouldRecord(self) { record(result, .roll(shifts: shifts, dims: dims.map { normalizeDim($0, rank, op: "roll") }), inputs: [self]) }
        return result
    }

    /// Tiles the tensor `repeats[i]` times along each dimension (`torch.Tensor.repeat`);
    /// extra leading repeats add dimensions.
    ///
    /// ```swift
    /// Tensor([1, 2]).repeat([2, 2])   // [[1, 2, 1, 2], [1, 2, 1, 2]]
    /// ```
    public func `repeat`(_ repeats: [Int]) -> Tensor {
        precondition(repeats.count >= rank, "repeat: number of repeat dims (\(repeats.count)) cannot be smaller than the tensor's rank (\(rank))")
        let padded = [Int](repeating: 1, count: repeats.count - rank) + shape
        // [a, b] repeated [r, s] = view as [1, a, 1, b], expand to [r, a, s, b], merge pairs.
        var interleaved: [Int] = [], expanded: [Int] = []
        for (r, size) in zip(repeats, padded) {
            interleaved += [1, size]
            expanded += [r, size]
        }
        return reshape(interleaved).expand(expanded).contiguous().reshape(zip(repeats, padded).map { $0 * $1 })
    }

    /// The lower triangle of the last two dims (elements with `col - row <= diagonal`).
    ///
    /// ```swift
    /// Tensor.ones([3, 3]).tril()    // causal mask
    /// ```
    public func tril(_ diagonal: Int = 0) -> Tensor { triangle(lower: true, diagonal) }

    /// The upper triangle of the last two dims (elements with `col - row >= diagonal`).
    public func triu(_ diagonal: Int = 0) -> Tensor { triangle(lower: false, diagonal) }

    private func triangle(lower: Bool, _ diagonal: Int) -> Tensor {
        precondition(rank >= 2, "\(lower ? "tril" : "triu"): input tensor must have at least 2 dimensions, got \(shape)")
        let rows = shape[rank - 2], columns = shape[rank - 1]
        var keep = [Bool](repeating: false, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<columns { keep[r * columns + c] = lower ? c - r <= diagonal : c - r >= diagonal }
        }
        let mask = Tensor(keep, shape: [rows, columns], device: device)
        let out = noGrad { Tensor.where(mask, self, Tensor.zeros([], dtype: self.dtype, device: self.device)) }
        if shouldRecord(self) { record(out, lower ? .tril(diagonal) : .triu(diagonal), inputs: [self]) }
        return out
    }

    /// Pads the last dimensions: `padding` lists (before, after) pairs starting from the
    /// last dimension, as `torch.nn.functional.pad`. Modes: constant (with `value`),
    /// reflect (mirror without repeating the edge), replicate (repeat the edge).
    ///
    /// ```swift
    /// images.pad([1, 1, 1, 1])                     // zero-pad H and W by 1
    /// signal.pad([2, 2], mode: .reflect)
    /// ```
    public func pad(_ padding: [Int], mode: PaddingMode = .constant, value: Double = 0) -> Tensor {
        precondition(padding.count % 2 == 0 && padding.count / 2 <= rank,
                     "pad: padding length \(padding.count) must be even and at most twice the rank \(rank)")
        switch mode {
        case .constant:
            var shape = self.shape
            var offset = 0
            for pair in 0..<(padding.count / 2) {
                let d = rank - 1 - pair
                shape[d] += padding[2 * pair] + padding[2 * pair + 1]
                precondition(shape[d] >= 0, "pad: padding \(padding) makes dimension \(d) negative")
                offset += padding[2 * pair] * contiguousStrides(shape)[d]
            }
            precondition(padding.allSatisfy { $0 >= 0 }, "pad: negative constant padding is not supported, got \(padding)")
            let out = Tensor.full(shape, value, dtype: dtype, device: device)
            let strides = contiguousStrides(shape)
            var start = 0
            for pair in 0..<(padding.count / 2) { start += padding[2 * pair] * strides[rank - 1 - pair] }
            device.backend.copy(self, into: out.rawView(self.shape, strides).offsetBy(start))
            if shouldRecord(self) { record(out, .padConstant(padding), inputs: [self]) }
            return out
        case .reflect, .replicate:
            var result = self
            for pair in 0..<(padding.count / 2) {
                let d = rank - 1 - pair
                let n = shape[d], before = padding[2 * pair], after = padding[2 * pair + 1]
                if mode == .reflect {
                    precondition(before < n && after < n, "pad: reflect padding (\(before), \(after)) must be smaller than dimension \(d) of size \(n)")
                }
                let positions = (-before..<(n + after)).map { i -> Int64 in
                    if mode == .replicate { return Int64(Swift.min(Swift.max(i, 0), n - 1)) }
                    var j = i
                    if j < 0 { j = -j }
                    if j >= n { j = 2 * (n - 1) - j }
                    return Int64(j)
                }
                result = result.indexSelect(dim: d, index: Tensor(positions, shape: [positions.count], device: device))
            }
            return result
        }
    }

    /// Zeros of `shape` with this tensor written into the slice `start::step` of `dim`
    /// (the gradient of slicing; differentiable).
    func sliceScatter(into shape: [Int], dim: Int, start: Int, step: Int) -> Tensor {
        let out = Tensor.zeros(shape, dtype: dtype, device: device)
        var strides = out.strides
        strides[dim] *= step
        device.backend.copy(self, into: out.rawView(self.shape, strides).offsetBy(start * out.strides[dim]))
        if shouldRecord(self) { record(out, .sliceScatter(dim: dim, start: start, step: step), inputs: [self]) }
        return out
    }
}

/// How `pad` fills the new border.
public enum PaddingMode: Sendable {
    /// A constant value.
    case constant
    /// Mirror the input without repeating the edge element.
    case reflect
    /// Repeat the edge element.
    case replicate
}
