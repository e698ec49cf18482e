// The Dataset protocol: a random-access collection of samples.
import Ember

/// A random-access collection of samples, the counterpart of `torch.utils.data.Dataset`.
///
/// A dataset knows how many samples it has and returns the sample at an index. The
/// `Element` is whatever one sample is: a `Tensor`, a `(Tensor, Tensor)` pair of features
/// and target, or `(Tensor, Int)` for an image and its class.
///
/// ``DataLoader`` reads samples from worker threads at the same time, so `subscript`
/// must be safe to call concurrently (reading immutable tensors is).
///
/// ```swift
/// struct Squares: Dataset {
///     var count: Int { 100 }
///     subscript(index: Int) -> (Tensor, Tensor) {
///         (Tensor([Float(index)]), Tensor([Float(index * index)]))
///     }
/// }
/// let (x, y) = Squares()[3]   // [3.0], [9.0]
/// ```
public protocol Dataset {
    /// One sample.
    associatedtype Element
    /// The number of samples.
    var count: Int { get }
    /// The sample at `index` (`0 ..< count`).
    subscript(index: Int) -> Element { get }
}

extension Dataset {
    /// True when the dataset has no samples.
    ///
    /// ```swift
    /// TensorDataset(Tensor.zeros([0, 3])).isEmpty   // true
    /// ```
    public var isEmpty: Bool { count == 0 }

    /// Wraps the dataset in a type-erased ``AnyDataset``.
    ///
    /// ```swift
    /// let all = ConcatDataset([train.eraseToAnyDataset(), extra.eraseToAnyDataset()])
    /// ```
    public func eraseToAnyDataset() -> AnyDataset<Element> { AnyDataset(self) }
}

/// A dataset that can hand out a whole batch of samples at once, already stacked, much
/// faster than fetching and stacking one sample at a time (in-memory datasets slice one
/// big tensor).
///
/// ``DataLoader``'s default collation uses it when the dataset conforms; the result must
/// equal what collating the samples one by one would give.
///
/// ```swift
/// let (x, y) = try FashionMNIST(split: .test).batchTensors(at: [0, 1, 2])!.pair
/// ```
public protocol BatchTensorSource {
    /// The samples at `indices`, each field stacked along a new first dimension (labels
    /// as an int64 vector), or nil when the dataset cannot (a transform must run per sample).
    func batchTensors(at indices: [Int]) -> [Tensor]?
}

extension Array where Element == Tensor {
    /// The first two tensors as a pair (for `batchTensors(at:)` results).
    ///
    /// ```swift
    /// let (images, labels) = fields.pair
    /// ```
    public var pair: (Tensor, Tensor) {
        precondition(count >= 2, "pair: expected at least 2 tensors, got \(count)")
        return (self[0], self[1])
    }
}
