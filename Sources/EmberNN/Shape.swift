// Shape layers: Flatten, Unflatten and Identity.
import Ember

/// Flattens dimensions `startDim...endDim` into one (`torch.nn.Flatten`); by default every
/// dimension but the batch dimension.
///
/// ```swift
/// let layer = Flatten()
/// layer(Tensor.zeros([32, 1, 28, 28])).shape   // [32, 784]
/// ```
public final class Flatten: Module {
    /// The first dimension flattened.
    public let startDim: Int
    /// The last dimension flattened (negative counts from the end).
    public let endDim: Int

    /// Creates the layer.
    /// - Parameters:
    ///   - startDim: the first dimension to flatten (1 by default, keeping the batch).
    ///   - endDim: the last dimension to flatten (-1 by default, the last one).
    public init(startDim: Int = 1, endDim: Int = -1) {
        self.startDim = startDim
        self.endDim = endDim
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { input.flatten(startDim: startDim, endDim: endDim) }
    public override var extraDescription: String { "start_dim=\(startDim), end_dim=\(endDim)" }
}

/// Splits dimension `dim` into `sizes` (`torch.nn.Unflatten`), the inverse of `Flatten`.
///
/// ```swift
/// let layer = Unflatten(dim: 1, sizes: [1, 28, 28])
/// layer(Tensor.zeros([32, 784])).shape   // [32, 1, 28, 28]
/// ```
public final class Unflatten: Module {
    /// The dimension split.
    public let dim: Int
    /// The sizes it is split into (one may be -1, inferred).
    public let sizes: [Int]

    /// Creates the layer.
    /// - Parameters:
    ///   - dim: the dimension to split.
    ///   - sizes: the new sizes; their product must equal the dimension's size.
    public init(dim: Int, sizes: [Int]) {
        precondition(!sizes.isEmpty, "Unflatten: sizes must not be empty")
        self.dim = dim
        self.sizes = sizes
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { input.unflatten(dim: dim, sizes: sizes) }
    public override var extraDescription: String { "dim=\(dim), unflattened_size=\(PythonRepr.tuple(sizes))" }
}

/// Returns its input unchanged (`torch.nn.Identity`): a placeholder where an architecture
/// optionally has a layer.
///
/// ```swift
/// let downsample: Module = needsProjection ? Linear(64, 128) : Identity()
/// let y = downsample(x)
/// ```
public final class Identity: Module {
    /// Creates the layer; it has no parameters.
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { input }
}
