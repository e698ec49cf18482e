// Broadcasting shapes together, and expanding or summing a tensor to a broadcast shape.

/// The broadcast of two shapes by NumPy's rules, stopping with a message naming `op`.
///
/// ```swift
/// broadcastShapes([3, 1], [4], op: "add")   // [3, 4]
/// ```
func broadcastShapes(_ a: [Int], _ b: [Int], op: String) -> [Int] {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        precondition(da == db || da == 1 || db == 1,
                     "\(op): shapes \(a) and \(b) cannot be broadcast together: dimension \(i) is \(da) vs \(db)")
        result[i] = da == 1 ? db : da
    }
    return result
}

extension Tensor {
    /// A stride-0 view of this tensor broadcast to `target` (no autograd; see `expand`).
    func broadcastView(to target: [Int]) -> Tensor {
        if target == shape { return self }
        let lead = target.count - rank
        precondition(lead >= 0, "expand: cannot expand shape \(shape) to \(target)")
        var newStrides = [Int](repeating: 0, count: target.count)
        for i in 0..<rank {
            let size = shape[i]
            precondition(size == target[lead + i] || size == 1,
                         "expand: the expanded size of the tensor (\(target[lead + i])) must match the existing size (\(size)) at non-singleton dimension \(lead + i); target sizes \(target), tensor sizes \(shape)")
            newStrides[lead + i] = size == 1 && target[lead + i] != 1 ? 0 : strides[i]
        }
        let view = Tensor(storage: storage, shape: target, strides: newStrides, offset: offset, dtype: dtype)
        view.isWrappedNumber = isWrappedNumber
        return view
    }

    /// Sums this tensor down to `target`, a shape it was broadcast from (differentiable).
    ///
    /// ```swift
    /// Tensor.ones([4, 3]).sumToShape([1, 3], op: "grad")   // [[4, 4, 4]]
    /// ```
    func sumToShape(_ target: [Int], op: String) -> Tensor {
        if shape == target { return self }
        let lead = rank - target.count
        precondition(lead >= 0, "\(op): gradient of shape \(shape) cannot be reduced to input shape \(target)")
        var dims: [Int] = Array(0..<lead)
        for i in 0..<target.count where target[i] == 1 && shape[lead + i] != 1 { dims.append(lead + i) }
        for i in 0..<target.count {
            precondition(target[i] == shape[lead + i] || target[i] == 1,
                         "\(op): gradient of shape \(shape) cannot be reduced to input shape \(target)")
        }
        var result = dims.isEmpty ? self : sum(dims: dims, keepDim: true)
        if lead > 0 || result.shape != target { result = result.reshape(target) }
        return result
    }
}
