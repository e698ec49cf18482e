// Dropout layers (Dropout, Dropout2d) and their functional forms, drawing masks from
// Ember's random generators so `manualSeed` makes them reproducible.
import Ember

/// Zeroes each element with probability `p` and scales the rest by `1 / (1 - p)` in
/// training mode; the identity otherwise (`torch.nn.functional.dropout`).
///
/// The mask is drawn with `Tensor.bernoulli` from `generator`, so `manualSeed` makes it
/// reproducible; the gradient flows through the kept elements, scaled likewise.
///
/// - Parameters:
///   - input: any shape.
///   - p: the probability of zeroing an element, in [0, 1].
///   - training: apply dropout when true (the default); return `input` unchanged otherwise.
///   - generator: the random source.
/// - Returns: a tensor of the input's shape.
///
/// ```swift
/// manualSeed(0)
/// let y = dropout(Tensor.ones([4, 4]), p: 0.5)   // entries are 0 or 2
/// ```
public func dropout(_ input: Tensor, p: Double = 0.5, training: Bool = true, generator: Generator = .default) -> Tensor {
    precondition(p >= 0 && p <= 1, "dropout: probability has to be between 0 and 1, but got \(p)")
    return dropoutWithMask(input, p: p, training: training, maskShape: input.shape, generator: generator)
}

/// Zeroes whole channels (`[H, W]` planes) with probability `p` and scales the rest by
/// `1 / (1 - p)` in training mode; the identity otherwise (`torch.nn.functional.dropout2d`).
///
/// - Parameters:
///   - input: `[N, C, H, W]`, or `[C, H, W]` for one unbatched sample.
///   - p: the probability of zeroing a channel, in [0, 1].
///   - training: apply dropout when true (the default).
///   - generator: the random source.
/// - Returns: a tensor of the input's shape.
///
/// ```swift
/// let features = Tensor.randn([8, 16, 10, 10])
/// let y = dropout2d(features, p: 0.2)   // some [10, 10] planes are all zero
/// ```
public func dropout2d(_ input: Tensor, p: Double = 0.5, training: Bool = true, generator: Generator = .default) -> Tensor {
    precondition(p >= 0 && p <= 1, "dropout2d: probability has to be between 0 and 1, but got \(p)")
    precondition(input.rank == 3 || input.rank == 4,
                 "dropout2d: expected a 4-D input [N, C, H, W] or a 3-D input [C, H, W], got shape \(input.shape)")
    let planes = Array(input.shape.dropLast(2)) + [1, 1]
    return dropoutWithMask(input, p: p, training: training, maskShape: planes, generator: generator)
}

/// Dropout with a mask of `maskShape`, broadcast over the input.
private func dropoutWithMask(_ input: Tensor, p: Double, training: Bool, maskShape: [Int], generator: Generator) -> Tensor {
    guard training, p > 0 else { return input }
    if p == 1 { return input * 0 }
    let dtype = input.dtype.isFloatingPoint ? input.dtype : .defaultFloat
    let mask = Tensor.bernoulli(1 - p, maskShape, dtype: dtype, device: input.device, generator: generator)
    return input * (mask / (1 - p))
}

/// Randomly zeroes elements during training (`torch.nn.Dropout`); see `dropout`.
/// In evaluation mode (`eval()`) it is the identity.
///
/// ```swift
/// let layer = Dropout(p: 0.1)
/// let y = layer(x)        // training: elements zeroed, the rest scaled by 1/0.9
/// layer.eval()            // now layer(x) is x
/// ```
public final class Dropout: Module {
    /// The probability of zeroing an element.
    public let p: Double

    /// Creates the layer.
    /// - Parameter p: the probability of zeroing an element, in [0, 1] (0.5 by default).
    public init(p: Double = 0.5) {
        precondition(p >= 0 && p <= 1, "Dropout: probability has to be between 0 and 1, but got \(p)")
        self.p = p
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { dropout(input, p: p, training: isTraining) }
    public override var extraDescription: String { "p=\(PythonRepr.float(p)), inplace=False" }
}

/// Randomly zeroes whole channels during training (`torch.nn.Dropout2d`); see
/// `dropout2d`. In evaluation mode it is the identity.
///
/// ```swift
/// let layer = Dropout2d(p: 0.2)
/// let y = layer(Tensor.randn([8, 16, 10, 10]))
/// ```
public final class Dropout2d: Module {
    /// The probability of zeroing a channel.
    public let p: Double

    /// Creates the layer.
    /// - Parameter p: the probability of zeroing a channel, in [0, 1] (0.5 by default).
    public init(p: Double = 0.5) {
        precondition(p >= 0 && p <= 1, "Dropout2d: probability has to be between 0 and 1, but got \(p)")
        self.p = p
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { dropout2d(input, p: p, training: isTraining) }
    public override var extraDescription: String { "p=\(PythonRepr.float(p)), inplace=False" }
}
