// A dataset over tensors that share their first dimension.
import Ember

/// Samples are slices along the first dimension of one or more tensors
/// (`torch.utils.data.TensorDataset`).
///
/// The element type follows the initialiser: one tensor gives `Tensor` samples, two give
/// `(Tensor, Tensor)` pairs (features and targets), three or more give `[Tensor]`
/// (as does ``init(tensors:)`` for any number).
/// Samples are views (no copy).
///
/// ```swift
/// let x = Tensor.randn([100, 4]), y = Tensor.randint(0, 3, [100])
/// let data = TensorDataset(x, y)
/// let (features, label) = data[0]   // shapes [4] and []
/// ```
public struct TensorDataset<Element>: Dataset {
    /// The tensors, all with the same first dimension.
    public let tensors: [Tensor]
    private let make: ([Tensor], Int) -> Element

    init(tensors: [Tensor], make: @escaping ([Tensor], Int) -> Element) {
        precondition(!tensors.isEmpty, "TensorDataset: expected at least one tensor")
        for (i, t) in tensors.enumerated() {
            precondition(t.rank >= 1, "TensorDataset: tensor \(i) is 0-d; every tensor needs a first (sample) dimension")
            precondition(t.shape[0] == tensors[0].shape[0],
                         "TensorDataset: size mismatch between tensors: tensor 0 has \(tensors[0].shape[0]) samples, tensor \(i) has \(t.shape[0])")
        }
        self.tensors = tensors
        self.make = make
    }

    /// The number of samples (the tensors' first dimension).
    public var count: Int { tensors[0].shape[0] }

    /// The sample at `index`: a view into each tensor.
    public subscript(index: Int) -> Element {
        precondition(index >= 0 && index < count, "TensorDataset: index \(index) out of range for \(count) samples")
        return make(tensors, index)
    }
}

extension TensorDataset where Element == Tensor {
    /// A dataset of slices of one tensor.
    ///
    /// ```swift
    /// let data = TensorDataset(Tensor.arange(0, 10))   // data[3] is a 0-d tensor holding 3
    /// ```
    public init(_ tensor: Tensor) {
        self.init(tensors: [tensor]) { $0[0].select(dim: 0, index: $1) }
    }
}

extension TensorDataset where Element == (Tensor, Tensor) {
    /// A dataset of (features, target) pairs.
    ///
    /// ```swift
    /// let data = TensorDataset(Tensor.randn([8, 3]), Tensor.zeros([8]))
    /// let (x, y) = data[7]
    /// ```
    public init(_ features: Tensor, _ targets: Tensor) {
        self.init(tensors: [features, targets]) { ($0[0].select(dim: 0, index: $1), $0[1].select(dim: 0, index: $1)) }
    }
}

extension TensorDataset where Element == [Tensor] {
    /// A dataset whose samples hold one slice of each of three or more tensors (one or two
    /// tensors give `Tensor` or `(Tensor, Tensor)` samples instead).
    ///
    /// ```swift
    /// let data = TensorDataset(a, b, c)
    /// let fields = data[0]   // [a[0], b[0], c[0]]
    /// ```
    public init(_ first: Tensor, _ second: Tensor, _ third: Tensor, _ more: Tensor...) {
        self.init(tensors: [first, second, third] + more)
    }

    /// A dataset whose samples hold one slice of each tensor in `tensors`.
    ///
    /// ```swift
    /// let data = TensorDataset(tensors: [a, b, c])
    /// ```
    public init(tensors: [Tensor]) {
        self.init(tensors: tensors) { ts, i in ts.map { $0.select(dim: 0, index: i) } }
    }
}

extension TensorDataset: BatchTensorSource {
    /// Selects all `indices` from each tensor at once.
    ///
    /// ```swift
    /// let fields = TensorDataset(x, y).batchTensors(at: [4, 2])!   // [x[[4, 2]], y[[4, 2]]]
    /// ```
    public func batchTensors(at indices: [Int]) -> [Tensor]? {
        tensors.map { selectRows($0, indices) }
    }
}

/// Rows `indices` of `tensor` along its first dimension, as a new contiguous tensor.
/// Consecutive indices are copied as one block; measured on Fashion-MNIST batches this
/// concatenation of views is several times faster than an index-select (a gather).
func selectRows(_ tensor: Tensor, _ indices: [Int]) -> Tensor {
    noGrad {
        let n = tensor.shape[0]
        var runs: [Tensor] = []
        var k = 0
        while k < indices.count {
            let start = indices[k]
            precondition(start >= 0 && start < n, "dataset: index \(start) out of range for \(n) samples")
            var length = 1
            while k + length < indices.count && indices[k + length] == start + length { length += 1 }
            runs.append(tensor.narrow(dim: 0, start: start, length: length))
            k += length
        }
        if runs.isEmpty { return tensor.narrow(dim: 0, start: 0, length: 0).clone() }
        return Tensor.cat(runs, dim: 0)
    }
}
