// The Sampler protocol: which dataset indices an epoch visits, in which order.
import Ember

/// Chooses the dataset indices of one epoch (`torch.utils.data.Sampler`).
///
/// Samplers are deterministic: the indices depend only on the sampler's settings, its seed
/// and the epoch, so a run can be repeated (and resumed) exactly.
///
/// ```swift
/// let sampler = RandomSampler(count: 10, seed: 42)
/// sampler.indices(epoch: 0)   // a permutation of 0..<10
/// sampler.indices(epoch: 1)   // another one
/// ```
public protocol Sampler {
    /// The number of indices one epoch yields.
    var count: Int { get }
    /// The indices for `epoch`.
    func indices(epoch: Int) -> [Int]
}
