// Python-style subscripts: integers, ranges, strides, ellipsis, new axes, and advanced
// indexing with integer or boolean tensors; reads are views where possible, writes copy in.

/// One component of a tensor subscript.
///
/// ```swift
/// x[0]                          // select
/// x[1..<3, .all, 2...]          // slices
/// x[stride(from: 0, to: 10, by: 2)]
/// x[.ellipsis, 0]               // last dim
/// x[.newAxis]                   // unsqueeze(0)
/// x[mask]                       // boolean mask (1-D result)
/// x[Tensor([2, 0])]             // integer tensor (gather rows)
/// ```
public enum TensorIndex: TensorIndexExpression {
    /// One position (negative counts from the end); removes the dimension.
    case position(Int)
    /// Every `step`-th position of `start ..< end` (nil bounds mean the ends).
    case range(start: Int?, end: Int?, step: Int)
    /// As many full slices as needed to cover the remaining dimensions (`...`).
    case remainingDims
    /// Inserts a dimension of size 1 (`None`).
    case insertAxis
    /// An integer tensor of positions, or a bool mask, for this and following dims.
    case tensor(Tensor)

    public var tensorIndex: TensorIndex { self }
}

/// Types usable inside a tensor subscript: `Int`, Swift ranges, `StrideTo<Int>`,
/// `Tensor` and `TensorIndex`.
public protocol TensorIndexExpression {
    /// The index component this value stands for.
    var tensorIndex: TensorIndex { get }
}

extension TensorIndexExpression where Self == TensorIndex {
    /// `...` in Python: covers the remaining dimensions.
    public static var ellipsis: TensorIndex { .remainingDims }
    /// `None` in Python: a new size-1 dimension.
    public static var newAxis: TensorIndex { .insertAxis }
    /// `:` in Python.
    public static var all: TensorIndex { .range(start: nil, end: nil, step: 1) }
    /// `start:end:step` in Python.
    public static func slice(_ start: Int? = nil, _ end: Int? = nil, step: Int = 1) -> TensorIndex {
        .range(start: start, end: end, step: step)
    }
}

extension Int: TensorIndexExpression { public var tensorIndex: TensorIndex { .position(self) } }
extension Range: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound, step: 1) }
}
extension ClosedRange: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: upperBound == -1 ? nil : upperBound + 1, step: 1) }
}
extension PartialRangeFrom: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: lowerBound, end: nil, step: 1) }
}
extension PartialRangeUpTo: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound, step: 1) }
}
extension PartialRangeThrough: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(start: nil, end: upperBound == -1 ? nil : upperBound + 1, step: 1) }
}
extension StrideTo: TensorIndexExpression where Element == Int {
    public var tensorIndex: TensorIndex {
        // StrideTo does not expose its bounds; recover them from its first element and count.
        let values = Array(self)
        guard let first = values.first else { return .range(start: 0, end: 0, step: 1) }
        let step = values.count > 1 ? values[1] - values[0] : 1
        return .range(start: first, end: values.last! + 1, step: step)
    }
}
extension Tensor: TensorIndexExpression { public var tensorIndex: TensorIndex { .tensor(self) } }

extension Tensor {
    /// Reads or writes the elements named by a subscript, as in PyTorch.
    /// Integer, range, stride, ellipsis and new-axis components give a view; tensor
    /// components (integer positions or bool masks) give a copy. Assigning copies the
    /// new value (broadcast) into the selected elements.
    ///
    /// ```swift
    /// let row = x[0]                 // view of the first row
    /// x[0, 1..<3] = Tensor([7, 8] as [Float])
    /// x[x .< 0] = Tensor(Float(0))   // zero the negatives
    /// ```
    public subscript(_ indices: TensorIndexExpression...) -> Tensor {
        get { indexed(indices.map(\.tensorIndex)) }
        set { assignIndexed(indices.map(\.tensorIndex), newValue) }
    }

    /// The basic-indexing view and, if present, the advanced component with its dim.
    private func basicView(_ indices: [TensorIndex]) -> (view: Tensor, advanced: (dim: Int, index: Tensor)?) {
        let consumed = indices.reduce(0) { n, i in
            switch i {
            case .position, .range: return n + 1
            case .tensor(let t): return n + (t.dtype == .bool ? Swift.max(t.rank, 1) : 1)
            case .remainingDims, .insertAxis: return n
            }
        }
        precondition(consumed <= rank, "index: too many indices for a tensor of rank \(rank) (got \(consumed))")
        precondition(indices.filter { if case .remainingDims = $0 { return true } else { return false } }.count <= 1,
                     "index: an index can only have a single ellipsis")
        var view = self
        var dim = 0
        var advanced: (dim: Int, index: Tensor)? = nil
        for component in indices {
            switch component {
            case .position(let i):
                view = view.select(dim: dim, index: i)
            case .range(let start, let end, let step):
                view = view.slice(dim: dim, start: start, end: end, step: step)
                dim += 1
            case .remainingDims:
                dim += rank - consumed
            case .insertAxis:
                view = view.unsqueeze(dim)
                dim += 1
            case .tensor(let t):
                precondition(advanced == nil, "index: only one tensor index per subscript is supported")
                let span = t.dtype == .bool ? Swift.max(t.rank, 1) : 1
                advanced = (dim, t)
                dim += span
            }
        }
        return (view, advanced)
    }

    /// Flattens the dims an advanced index covers and returns flat positions along them.
    private func advancedPositions(_ view: Tensor, dim: Int, index: Tensor) -> (Tensor, Tensor, [Int]) {
        if index.dtype == .bool {
            let span = Swift.max(index.rank, 1)
            precondition(Array(view.shape[dim..<(dim + span)]) == (index.rank == 0 ? [1] : index.shape),
                         "index: mask of shape \(index.shape) does not match the indexed shape \(Array(view.shape[dim..<(dim + span)]))")
            let merged = view.flatten(startDim: dim, endDim: dim + span - 1)
            let positions = index.reshape([-1]).nonzeroFlat()
            return (merged, positions, [positions.count])
        }
        precondition(!index.dtype.isFloatingPoint, "index: tensors used as indices must be integer or bool, got \(index.dtype)")
        return (view, index.reshape([-1]).to(.int64), index.shape)
    }

    private func indexed(_ indices: [TensorIndex]) -> Tensor {
        let (view, advanced) = basicView(indices)
        guard let advanced else { return view }
        let (base, positions, indexShape) = advancedPositions(view, dim: advanced.dim, index: advanced.index)
        let picked = base.indexSelect(dim: advanced.dim, index: positions)
        return picked.reshape(Array(base.shape[..<advanced.dim]) + indexShape + Array(base.shape[(advanced.dim + 1)...]))
    }

    private func assignIndexed(_ indices: [TensorIndex], _ value: Tensor) {
        if GradMode.isEnabled && (requiresGradFlag || value.requiresGradFlag) {
            assignIndexedRecording(indices, value)
            return
        }
        let (view, advanced) = basicView(indices)
        guard let advanced else {
            noGrad { _ = view.copy_(value) }
            return
        }
        let (base, positions, _) = advancedPositions(view, dim: advanced.dim, index: advanced.index)
        var target = base.shape
        target[advanced.dim] = positions.count
        var indexShape = [Int](repeating: 1, count: base.rank)
        indexShape[advanced.dim] = positions.count
        let source = noGrad { value.to(dtype).reshape(Swift.min(value.count, 1) == value.count ? [] : value.shape) }
        let expandedSource = source.broadcastView(to: broadcastShapes(target, source.shape, op: "index_put_"))
        precondition(expandedSource.shape == target, "index_put_: value of shape \(value.shape) cannot be broadcast to \(target)")
        precondition(base.storage === storage, "index_put_: cannot assign through indices that required a copy of a non-contiguous tensor")
        device.backend.scatter(expandedSource, dim: advanced.dim,
                               index: positions.reshape(indexShape).broadcastView(to: target), into: base, accumulate: false)
        bumpVersion()
    }

    /// Subscript assignment under autograd: the selected positions are found by indexing a
    /// tensor of flat positions the same way, and the write becomes a differentiable
    /// scatter (gradient to `value` through the written positions, to the old content
    /// everywhere else), onto which this tensor is rebased.
    private func assignIndexedRecording(_ indices: [TensorIndex], _ value: Tensor) {
        checkInPlace(op: "index_put_")
        precondition(isContiguous, "index_put_: assigning through a subscript under autograd needs a contiguous tensor")
        let positions = Tensor.arange(0, Double(count), device: device).reshape(shape).indexed(indices)
        let source = value.to(dtype).expand(positions.shape).reshape([-1])
        let updated = reshape([-1]).scatter(dim: 0, index: positions.reshape([-1]), source: source).reshape(shape)
        assign(updated)
    }
}
