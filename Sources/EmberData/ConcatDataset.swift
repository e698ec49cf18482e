// Several datasets read one after another as one.
import Ember

/// The samples of several datasets one after another (`torch.utils.data.ConcatDataset`).
///
/// ```swift
/// let both = ConcatDataset([trainPart, extraPart])        // same dataset type
/// let mixed = ConcatDataset([a.eraseToAnyDataset(), b.eraseToAnyDataset()])
/// both.count   // trainPart.count + extraPart.count
/// ```
public struct ConcatDataset<Element>: Dataset {
    /// The datasets, in order.
    public let datasets: [AnyDataset<Element>]
    /// Running totals: `cumulativeSizes[i]` is the number of samples in datasets `0...i`.
    public let cumulativeSizes: [Int]

    /// Concatenates datasets of the same type.
    ///
    /// ```swift
    /// let data = ConcatDataset([TensorDataset(x1, y1), TensorDataset(x2, y2)])
    /// ```
    public init<D: Dataset>(_ datasets: [D]) where D.Element == Element {
        self.init(datasets.map { AnyDataset($0) })
    }

    /// Concatenates type-erased datasets.
    ///
    /// ```swift
    /// let data = ConcatDataset([a.eraseToAnyDataset(), b.eraseToAnyDataset()])
    /// ```
    public init(_ datasets: [AnyDataset<Element>]) {
        self.datasets = datasets
        var total = 0
        cumulativeSizes = datasets.map { total += $0.count; return total }
    }

    /// The total number of samples.
    public var count: Int { cumulativeSizes.last ?? 0 }

    /// The sample at a position counted across all datasets.
    public subscript(index: Int) -> Element {
        precondition(index >= 0 && index < count, "ConcatDataset: index \(index) out of range for \(count) samples")
        // Binary search for the first dataset whose running total exceeds index.
        var lo = 0, hi = cumulativeSizes.count - 1
        while lo < hi {
            let mid = (lo + hi) / 2
            if cumulativeSizes[mid] > index { hi = mid } else { lo = mid + 1 }
        }
        let start = lo == 0 ? 0 : cumulativeSizes[lo - 1]
        return datasets[lo][index - start]
    }
}
