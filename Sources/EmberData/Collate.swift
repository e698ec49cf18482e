// Turning a list of samples into one batch.
import Ember

/// The standard ways to merge samples into a batch (`default_collate`): tensors are
/// stacked along a new first dimension, Swift integers become an int64 vector.
///
/// ```swift
/// let batch = Collate.pairs([(x0, y0), (x1, y1)])   // (stack([x0, x1]), stack([y0, y1]))
/// let loader = DataLoader(data, batchSize: 4, collate: Collate.pairs)
/// ```
public enum Collate {
    /// Stacks tensor samples: `n` tensors of shape `s` give one of shape `[n] + s`.
    ///
    /// ```swift
    /// Collate.stack([Tensor([1, 2]), Tensor([3, 4])])   // [[1, 2], [3, 4]]
    /// ```
    public static func stack(_ samples: [Tensor]) -> Tensor {
        noGrad { Tensor.stack(samples, dim: 0) }
    }

    /// Stacks each half of (input, target) pairs.
    ///
    /// ```swift
    /// let (x, y) = Collate.pairs(samples)
    /// ```
    public static func pairs(_ samples: [(Tensor, Tensor)]) -> (Tensor, Tensor) {
        (stack(samples.map(\.0)), stack(samples.map(\.1)))
    }

    /// Stacks the inputs of (input, class) samples; the classes become an int64 vector.
    ///
    /// ```swift
    /// let (images, labels) = Collate.labeled([(image0, 3), (image1, 7)])   // labels: [3, 7]
    /// ```
    public static func labeled(_ samples: [(Tensor, Int)]) -> (Tensor, Tensor) {
        (stack(samples.map(\.0)), Tensor(samples.map { Int64($0.1) }, shape: [samples.count]))
    }

    /// Stacks each field of samples that are lists of tensors.
    ///
    /// ```swift
    /// let fields = Collate.fields([[a0, b0], [a1, b1]])   // [stack([a0, a1]), stack([b0, b1])]
    /// ```
    public static func fields(_ samples: [[Tensor]]) -> [Tensor] {
        guard let first = samples.first else { return [] }
        for (i, s) in samples.enumerated() {
            precondition(s.count == first.count, "collate: sample \(i) has \(s.count) fields, sample 0 has \(first.count)")
        }
        return (0..<first.count).map { f in stack(samples.map { $0[f] }) }
    }
}
