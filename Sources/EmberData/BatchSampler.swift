// Groups a sampler's indices into batches.
import Ember

/// Groups the indices of a sampler into lists of `batchSize`
/// (`torch.utils.data.BatchSampler`); the last, smaller batch is kept unless `dropLast`.
///
/// ```swift
/// let batches = BatchSampler(SequentialSampler(count: 5), batchSize: 2, dropLast: false)
/// batches.batches(epoch: 0)   // [[0, 1], [2, 3], [4]]
/// batches.count               // 3
/// ```
public struct BatchSampler {
    /// The sampler whose indices are grouped.
    public let sampler: any Sampler
    /// The number of indices per batch.
    public let batchSize: Int
    /// Whether to drop a last batch smaller than `batchSize`.
    public let dropLast: Bool

    /// Groups `sampler`'s indices by `batchSize`.
    ///
    /// ```swift
    /// let batches = BatchSampler(RandomSampler(count: 100, seed: 0), batchSize: 32, dropLast: true)
    /// ```
    public init(_ sampler: any Sampler, batchSize: Int, dropLast: Bool = false) {
        precondition(batchSize > 0, "BatchSampler: batchSize should be a positive integer value, but got batchSize=\(batchSize)")
        self.sampler = sampler
        self.batchSize = batchSize
        self.dropLast = dropLast
    }

    /// The number of batches per epoch.
    public var count: Int {
        dropLast ? sampler.count / batchSize : (sampler.count + batchSize - 1) / batchSize
    }

    /// The batches of `epoch`.
    public func batches(epoch: Int) -> [[Int]] {
        let indices = sampler.indices(epoch: epoch)
        var result: [[Int]] = []
        result.reserveCapacity(count)
        var start = 0
        while start < indices.count {
            let end = min(start + batchSize, indices.count)
            if end - start < batchSize && dropLast { break }
            result.append(Array(indices[start..<end]))
            start = end
        }
        return result
    }
}
