// Visits indices in a random order (a new one each epoch), with or without replacement.
import Ember

/// Yields indices of a dataset of `dataCount` samples in random order
/// (`torch.utils.data.RandomSampler`).
///
/// Without replacement each epoch is a fresh permutation (several, back to back, when
/// `numSamples` exceeds the dataset); with replacement indices are drawn independently and
/// uniformly. The order depends only on the seed and the epoch.
///
/// ```swift
/// let shuffled = RandomSampler(count: 5, seed: 1)
/// shuffled.indices(epoch: 0)                       // e.g. [3, 0, 4, 1, 2]
/// let bootstrap = RandomSampler(count: 5, replacement: true, numSamples: 8, seed: 1)
/// ```
public struct RandomSampler: Sampler {
    /// The number of samples in the dataset.
    public let dataCount: Int
    /// Whether an index may appear more than once in an epoch.
    public let replacement: Bool
    /// The number of indices per epoch.
    public let count: Int
    /// The seed the epochs' orders derive from.
    public let seed: UInt64

    /// A random sampler seeded with `seed`.
    ///
    /// ```swift
    /// let sampler = RandomSampler(count: dataset.count, seed: 42)
    /// ```
    public init(count dataCount: Int, replacement: Bool = false, numSamples: Int? = nil, seed: UInt64) {
        precondition(dataCount >= 0, "RandomSampler: count must be non-negative, got \(dataCount)")
        precondition((numSamples ?? 0) >= 0, "RandomSampler: numSamples must be non-negative, got \(numSamples!)")
        precondition(dataCount > 0 || (numSamples ?? 0) == 0, "RandomSampler: cannot draw samples from an empty dataset")
        self.dataCount = dataCount
        self.replacement = replacement
        self.count = numSamples ?? dataCount
        self.seed = seed
    }

    /// A random sampler whose seed is drawn from `generator` (by default Ember's default
    /// generator, so `manualSeed` makes it reproducible).
    ///
    /// ```swift
    /// manualSeed(0)
    /// let sampler = RandomSampler(count: 100)
    /// ```
    public init(count dataCount: Int, replacement: Bool = false, numSamples: Int? = nil, generator: Generator = .default) {
        self.init(count: dataCount, replacement: replacement, numSamples: numSamples, seed: generator.next())
    }

    /// The indices for `epoch`.
    public func indices(epoch: Int) -> [Int] {
        let g = Generator(seed: Randomness.derive(seed, epoch))
        if replacement {
            return (0..<count).map { _ in Randomness.below(dataCount, g) }
        }
        var result: [Int] = []
        result.reserveCapacity(count)
        while result.count < count {
            let permutation = Randomness.permutation(dataCount, g)
            result.append(contentsOf: permutation.prefix(count - result.count))
        }
        return result
    }
}
