// A dataset from two .npy files: features and labels.
import Foundation
import Ember

/// Samples from a features `.npy` file and a labels `.npy` file with the same first
/// dimension (read with Ember's `Tensor.load(npy:)`).
///
/// Errors: a missing or corrupt file throws Ember's `TensorIOError` naming it; files with
/// different numbers of samples throw a ``DatasetError``.
///
/// ```swift
/// // python: np.save("x.npy", X.astype(np.float32)); np.save("y.npy", y.astype(np.int64))
/// let data = try NpyPairDataset(features: URL(fileURLWithPath: "x.npy"), labels: URL(fileURLWithPath: "y.npy"))
/// let loader = DataLoader(data, batchSize: 32, shuffle: true, seed: 0)
/// ```
public struct NpyPairDataset: Dataset, BatchTensorSource {
    /// All features (`[N, ...]`, the file's dtype).
    public let features: Tensor
    /// All labels (`[N, ...]`, the file's dtype).
    public let labels: Tensor

    /// Loads both files and checks that they hold the same number of samples.
    ///
    /// ```swift
    /// let data = try NpyPairDataset(features: dir.appendingPathComponent("x.npy"),
    ///                               labels: dir.appendingPathComponent("y.npy"))
    /// ```
    public init(features: URL, labels: URL) throws {
        let x = try Tensor.load(npy: features)
        let y = try Tensor.load(npy: labels)
        guard x.rank >= 1 else {
            throw DatasetError(.unsupportedContent, path: features.path, "holds a 0-d array; features need a first (sample) dimension")
        }
        guard y.rank >= 1 else {
            throw DatasetError(.unsupportedContent, path: labels.path, "holds a 0-d array; labels need a first (sample) dimension")
        }
        guard x.shape[0] == y.shape[0] else {
            throw DatasetError(.sizeMismatch, path: labels.path,
                               "holds \(y.shape[0]) labels but \(features.path) holds \(x.shape[0]) samples")
        }
        self.features = x
        self.labels = y
    }

    /// The number of samples.
    public var count: Int { features.shape[0] }

    /// Sample `index`: a view of its features and of its label.
    public subscript(index: Int) -> (Tensor, Tensor) {
        (features.select(dim: 0, index: index), labels.select(dim: 0, index: index))
    }

    /// Samples `indices` at once.
    public func batchTensors(at indices: [Int]) -> [Tensor]? {
        [selectRows(features, indices), selectRows(labels, indices)]
    }
}
