// A type-erased dataset, for mixing dataset types with the same element.
import Ember

/// A dataset of any underlying type with a given `Element`.
///
/// ```swift
/// let parts: [AnyDataset<(Tensor, Int)>] = [mnist.eraseToAnyDataset(), Subset(extra, indices: [0, 1]).eraseToAnyDataset()]
/// ```
public struct AnyDataset<Element>: Dataset {
    private let countValue: Int
    private let fetch: (Int) -> Element
    private let batchSource: BatchTensorSource?

    /// Wraps `base`.
    ///
    /// ```swift
    /// let any = AnyDataset(TensorDataset(x, y))
    /// ```
    public init<D: Dataset>(_ base: D) where D.Element == Element {
        countValue = base.count
        fetch = { base[$0] }
        batchSource = base as? BatchTensorSource
    }

    /// The number of samples of the wrapped dataset.
    public var count: Int { countValue }

    /// The wrapped dataset's sample at `index`.
    public subscript(index: Int) -> Element { fetch(index) }
}

extension AnyDataset: BatchTensorSource {
    /// The wrapped dataset's batch fast path, when it has one.
    ///
    /// ```swift
    /// AnyDataset(TensorDataset(x, y)).batchTensors(at: [0, 1])
    /// ```
    public func batchTensors(at indices: [Int]) -> [Tensor]? { batchSource?.batchTensors(at: indices) }
}
