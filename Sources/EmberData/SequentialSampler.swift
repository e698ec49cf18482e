// Visits every index in order.
import Ember

/// Yields `0 ..< count` in order every epoch (`torch.utils.data.SequentialSampler`).
///
/// ```swift
/// SequentialSampler(count: 4).indices(epoch: 0)   // [0, 1, 2, 3]
/// ```
public struct SequentialSampler: Sampler {
    /// The number of indices.
    public let count: Int

    /// A sampler over `0 ..< count`.
    ///
    /// ```swift
    /// let sampler = SequentialSampler(count: dataset.count)
    /// ```
    public init(count: Int) {
        precondition(count >= 0, "SequentialSampler: count must be non-negative, got \(count)")
        self.count = count
    }

    /// `0 ..< count`, whatever the epoch.
    public func indices(epoch: Int) -> [Int] { Array(0..<count) }
}
