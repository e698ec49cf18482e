// Which part of a dataset to load.

/// The part of a dataset with a fixed train/test split.
///
/// ```swift
/// let test = try FashionMNIST(split: .test)
/// ```
public enum DatasetSplit: String, Sendable, CaseIterable {
    /// The training samples.
    case train
    /// The held-out test samples.
    case test
}
