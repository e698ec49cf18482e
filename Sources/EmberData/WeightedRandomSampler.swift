// Draws indices with probabilities proportional to weights.
import Foundation
import Ember

/// Draws `numSamples` indices, index `i` with probability proportional to `weights[i]`
/// (`torch.utils.data.WeightedRandomSampler`) — for example to balance classes.
///
/// With replacement each draw is independent; without, an index is drawn at most once
/// (sequential weighted sampling, by the Efraimidis–Spirakis keys).
///
/// ```swift
/// // Class 1 is rare: weight its samples up.
/// let weights = labels.map { $0 == 1 ? 10.0 : 1.0 }
/// let sampler = WeightedRandomSampler(weights: weights, numSamples: labels.count, seed: 0)
/// ```
public struct WeightedRandomSampler: Sampler {
    /// The (unnormalised, non-negative) weight of each index.
    public let weights: [Double]
    /// The number of indices per epoch.
    public let count: Int
    /// Whether an index may appear more than once in an epoch.
    public let replacement: Bool
    /// The seed the epochs' draws derive from.
    public let seed: UInt64
    private let cumulative: [Double]

    /// A weighted sampler seeded with `seed`.
    ///
    /// ```swift
    /// let sampler = WeightedRandomSampler(weights: [0.1, 0.9], numSamples: 100, seed: 3)
    /// ```
    public init(weights: [Double], numSamples: Int, replacement: Bool = true, seed: UInt64) {
        precondition(weights.allSatisfy { $0.isFinite && $0 >= 0 }, "WeightedRandomSampler: weights must be finite and non-negative")
        precondition(numSamples >= 0, "WeightedRandomSampler: numSamples must be non-negative, got \(numSamples)")
        let positive = weights.filter { $0 > 0 }.count
        precondition(numSamples == 0 || positive > 0, "WeightedRandomSampler: all weights are zero")
        precondition(replacement || numSamples <= positive,
                     "WeightedRandomSampler: cannot draw \(numSamples) samples without replacement from \(positive) indices with positive weight")
        self.weights = weights
        self.count = numSamples
        self.replacement = replacement
        self.seed = seed
        var total = 0.0
        cumulative = weights.map { total += $0; return total }
    }

    /// A weighted sampler whose seed is drawn from `generator`.
    ///
    /// ```swift
    /// let sampler = WeightedRandomSampler(weights: w, numSamples: 1000, generator: Generator(seed: 1))
    /// ```
    public init(weights: [Double], numSamples: Int, replacement: Bool = true, generator: Generator = .default) {
        self.init(weights: weights, numSamples: numSamples, replacement: replacement, seed: generator.next())
    }

    /// The indices for `epoch`.
    public func indices(epoch: Int) -> [Int] {
        let g = Generator(seed: Randomness.derive(seed, epoch))
        if replacement {
            let total = cumulative.last ?? 0
            return (0..<count).map { _ in
                let target = Randomness.unit(g) * total
                // First index whose running total exceeds target (skips zero weights).
                var lo = 0, hi = cumulative.count - 1
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if cumulative[mid] > target { hi = mid } else { lo = mid + 1 }
                }
                return lo
            }
        }
        // Without replacement: key_i = log(u_i) / w_i; the largest keys win, in order.
        var keys: [(key: Double, index: Int)] = []
        keys.reserveCapacity(weights.count)
        for (i, w) in weights.enumerated() {
            let u = Randomness.unit(g)
            if w > 0 { keys.append((Foundation.log(1 - u) / w, i)) }
        }
        keys.sort { $0.key != $1.key ? $0.key > $1.key : $0.index < $1.index }
        return keys.prefix(count).map(\.index)
    }
}
