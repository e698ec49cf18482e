// Iterating several equally shaped strided operands as runs along their innermost dimension.

/// The layout of up to four operands of one shape, with dimensions merged wherever every
/// operand is contiguous across them, so loops run over as few, long runs as possible.
struct RunLayout {
    /// Merged shape (at least one dimension).
    private(set) var shape: [Int]
    /// Merged strides, one array per operand, in elements.
    private(set) var strides: [[Int]]

    /// Merges the dimensions of `shape` for operands with the given strides.
    init(shape: [Int], strides: [[Int]]) {
        var mergedShape: [Int] = []
        var mergedStrides = [[Int]](repeating: [], count: strides.count)
        for dim in 0..<shape.count where shape[dim] != 1 {
            if let last = mergedShape.last,
               (0..<strides.count).allSatisfy({ mergedStrides[$0].last! == strides[$0][dim] * shape[dim] }) {
                mergedShape[mergedShape.count - 1] = last * shape[dim]
                for k in 0..<strides.count { mergedStrides[k][mergedStrides[k].count - 1] = strides[k][dim] }
            } else {
                mergedShape.append(shape[dim])
                for k in 0..<strides.count { mergedStrides[k].append(strides[k][dim]) }
            }
        }
        if mergedShape.isEmpty {
            mergedShape = [1]
            for k in 0..<strides.count { mergedStrides[k] = [1] }
        }
        self.shape = mergedShape
        self.strides = mergedStrides
    }

    /// Length of the innermost runs.
    var runLength: Int { shape[shape.count - 1] }
    /// Stride of operand `k` along the innermost dimension.
    func innerStride(_ k: Int) -> Int { strides[k][strides[k].count - 1] }
    /// Total number of elements.
    var count: Int { shape.reduce(1, *) }

    /// Calls `body(offsets, length)` for every run piece inside the linear element range
    /// `range`; `offsets[k]` is operand k's element offset at the piece's start.
    func forEachRun(in range: Range<Int>, _ body: (UnsafePointer<Int>, Int) -> Void) {
        let operands = strides.count
        let rank = shape.count
        let inner = runLength
        withUnsafeTemporaryAllocation(of: Int.self, capacity: operands * 2 + rank) { scratch in
            let offsets = scratch.baseAddress!
            let index = offsets + operands * 2  // multi-index over the outer dims
            var position = range.lowerBound
            // Decompose the starting position into a multi-index.
            var rest = position / inner
            for d in stride(from: rank - 2, through: 0, by: -1) {
                index[d] = rest % shape[d]
                rest /= shape[d]
            }
            var innerStart = position % inner
            while position < range.upperBound {
                for k in 0..<operands {
                    var o = innerStart * strides[k][rank - 1]
                    for d in 0..<(rank - 1) { o += index[d] * strides[k][d] }
                    offsets[k] = o
                }
                let length = min(inner - innerStart, range.upperBound - position)
                body(offsets, length)
                position += length
                innerStart = 0
                // Advance the outer multi-index.
                var d = rank - 2
                while d >= 0 {
                    index[d] += 1
                    if index[d] < shape[d] { break }
                    index[d] = 0
                    d -= 1
                }
            }
        }
    }
}
