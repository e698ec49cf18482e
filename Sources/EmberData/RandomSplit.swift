// Splitting a dataset at random into non-overlapping parts.
import Ember

/// Splits `dataset` at random into non-overlapping subsets of the given sizes
/// (`torch.utils.data.random_split`). The sizes must add up to `dataset.count`.
///
/// ```swift
/// let parts = randomSplit(data, lengths: [50000, 10000], generator: Generator(seed: 42))
/// let (train, validation) = (parts[0], parts[1])
/// ```
public func randomSplit<D: Dataset>(_ dataset: D, lengths: [Int], generator: Generator = .default) -> [Subset<D>] {
    precondition(lengths.allSatisfy { $0 >= 0 }, "randomSplit: lengths must be non-negative, got \(lengths)")
    precondition(lengths.reduce(0, +) == dataset.count,
                 "randomSplit: sum of input lengths \(lengths.reduce(0, +)) does not equal the length of the input dataset \(dataset.count)")
    let order = Tensor.randperm(dataset.count, generator: generator).asArray(Int.self)
    var start = 0
    return lengths.map { length in
        defer { start += length }
        return Subset(dataset, indices: Array(order[start ..< start + length]))
    }
}

/// Splits `dataset` at random by fractions that add up to 1: each part gets
/// `floor(count × fraction)` samples and the remainder goes one by one to the first parts,
/// as PyTorch does.
///
/// ```swift
/// let parts = randomSplit(data, fractions: [0.8, 0.2], generator: Generator(seed: 0))
/// ```
public func randomSplit<D: Dataset>(_ dataset: D, fractions: [Double], generator: Generator = .default) -> [Subset<D>] {
    precondition(fractions.allSatisfy { $0 >= 0 && $0 <= 1 }, "randomSplit: fractions must be in [0, 1], got \(fractions)")
    precondition(abs(fractions.reduce(0, +) - 1) < 1e-6, "randomSplit: fractions must add up to 1, got \(fractions)")
    let n = dataset.count
    var lengths = fractions.map { Int((Double(n) * $0).rounded(.down)) }
    var remainder = n - lengths.reduce(0, +)
    var i = 0
    while remainder > 0 && !lengths.isEmpty {
        lengths[i % lengths.count] += 1
        remainder -= 1
        i += 1
    }
    return randomSplit(dataset, lengths: lengths, generator: generator)
}
