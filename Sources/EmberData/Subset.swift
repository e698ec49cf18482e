// A dataset restricted to some of its indices.
import Ember

/// The samples of `base` at the given indices, in that order (`torch.utils.data.Subset`).
///
/// ```swift
/// let firstTen = Subset(train, indices: Array(0..<10))
/// firstTen[3]   // train[3]
/// ```
public struct Subset<Base: Dataset>: Dataset {
    /// The underlying dataset.
    public let base: Base
    /// Positions in `base`, one per sample of the subset.
    public let indices: [Int]

    /// The samples of `base` at `indices`.
    ///
    /// ```swift
    /// let evens = Subset(data, indices: Array(stride(from: 0, to: data.count, by: 2)))
    /// ```
    public init(_ base: Base, indices: [Int]) {
        for i in indices {
            precondition(i >= 0 && i < base.count, "Subset: index \(i) out of range for a dataset of \(base.count) samples")
        }
        self.base = base
        self.indices = indices
    }

    /// The number of selected samples.
    public var count: Int { indices.count }

    /// `base[indices[index]]`.
    public subscript(index: Int) -> Base.Element { base[indices[index]] }
}

extension Subset: BatchTensorSource where Base: BatchTensorSource {
    /// The base dataset's fast path at the mapped indices.
    ///
    /// ```swift
    /// Subset(TensorDataset(x, y), indices: [5, 9]).batchTensors(at: [1])   // row 9 of x and y
    /// ```
    public func batchTensors(at indices: [Int]) -> [Tensor]? {
        base.batchTensors(at: indices.map { self.indices[$0] })
    }
}
