// Activation layers (ReLU, GELU, SiLU, Tanh, Sigmoid, Softmax, LogSoftmax, LeakyReLU, ELU,
// Softplus) wrapping Ember's activation functions, and the Python-style formatting that
// every layer's `extraDescription` shares.
import Ember

/// Applies `max(x, 0)` elementwise (`torch.nn.ReLU`).
///
/// ```swift
/// let layer = ReLU()
/// layer(Tensor([-1, 2] as [Float]))   // [0, 2]
/// ```
public final class ReLU: Module {
    /// Creates the layer; it has no parameters.
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { relu(input) }
}

/// Applies the Gaussian error linear unit `x·Φ(x)`, exactly or with the tanh approximation
/// (`torch.nn.GELU`).
///
/// ```swift
/// let exact = GELU()
/// let gpt2 = GELU(approximate: .tanh)
/// let y = gpt2(x)
/// ```
public final class GELU: Module {
    /// How the Gaussian CDF is evaluated.
    public let approximate: GELUApproximation

    /// Creates the layer.
    /// - Parameter approximate: `.none` (erf, the default) or `.tanh`.
    public init(approximate: GELUApproximation = .none) {
        self.approximate = approximate
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { gelu(input, approximate: approximate) }

    public override var extraDescription: String {
        "approximate=\(PythonRepr.string(approximate == .none ? "none" : "tanh"))"
    }
}

/// Applies `x·sigmoid(x)` elementwise (`torch.nn.SiLU`, also called swish).
///
/// ```swift
/// let layer = SiLU()
/// let y = layer(x)
/// ```
public final class SiLU: Module {
    /// Creates the layer; it has no parameters.
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { silu(input) }
}

/// Applies the hyperbolic tangent elementwise (`torch.nn.Tanh`).
///
/// ```swift
/// let layer = Tanh()
/// let y = layer(x)   // values in (-1, 1)
/// ```
public final class Tanh: Module {
    /// Creates the layer; it has no parameters.
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { tanh(input) }
}

/// Applies the logistic function `1 / (1 + e⁻ˣ)` elementwise (`torch.nn.Sigmoid`).
///
/// ```swift
/// let layer = Sigmoid()
/// let probabilities = layer(logits)
/// ```
public final class Sigmoid: Module {
    /// Creates the layer; it has no parameters.
    public override init() { super.init() }
    public override func forward(_ input: Tensor) -> Tensor { sigmoid(input) }
}

/// Applies `softmax` along `dim` (`torch.nn.Softmax`): `exp(xᵢ) / Σⱼ exp(xⱼ)`.
///
/// ```swift
/// let layer = Softmax(dim: -1)
/// let p = layer(logits)   // rows sum to 1
/// ```
public final class Softmax: Module {
    /// The dimension the probabilities sum to 1 along.
    public let dim: Int

    /// Creates the layer.
    /// - Parameter dim: the dimension to normalise (negative counts from the end).
    public init(dim: Int) {
        self.dim = dim
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { softmax(input, dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

/// Applies `log(softmax(x))` along `dim`, computed stably (`torch.nn.LogSoftmax`).
///
/// ```swift
/// let layer = LogSoftmax(dim: 1)
/// let logProbabilities = layer(logits)
/// ```
public final class LogSoftmax: Module {
    /// The dimension normalised over.
    public let dim: Int

    /// Creates the layer.
    /// - Parameter dim: the dimension to normalise (negative counts from the end).
    public init(dim: Int) {
        self.dim = dim
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { logSoftmax(input, dim: dim) }
    public override var extraDescription: String { "dim=\(dim)" }
}

/// Applies `x` where positive and `negativeSlope · x` elsewhere (`torch.nn.LeakyReLU`).
///
/// ```swift
/// let layer = LeakyReLU(negativeSlope: 0.2)
/// layer(Tensor([-1, 2] as [Float]))   // [-0.2, 2]
/// ```
public final class LeakyReLU: Module {
    /// The slope for negative inputs.
    public let negativeSlope: Double

    /// Creates the layer.
    /// - Parameter negativeSlope: the slope for negative inputs (0.01 by default).
    public init(negativeSlope: Double = 0.01) {
        self.negativeSlope = negativeSlope
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { leakyRelu(input, negativeSlope: negativeSlope) }
    public override var extraDescription: String { "negative_slope=\(PythonRepr.float(negativeSlope))" }
}

/// Applies `x` where positive and `α(eˣ - 1)` elsewhere (`torch.nn.ELU`).
///
/// ```swift
/// let layer = ELU(alpha: 1)
/// let y = layer(x)
/// ```
public final class ELU: Module {
    /// The saturation value `α` for large negative inputs (the output tends to `-α`).
    public let alpha: Double

    /// Creates the layer.
    /// - Parameter alpha: the negative saturation (1 by default).
    public init(alpha: Double = 1) {
        self.alpha = alpha
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { elu(input, alpha: alpha) }
    public override var extraDescription: String { "alpha=\(PythonRepr.float(alpha))" }
}

/// Applies `log(1 + e^(βx)) / β`, and `x` itself where `βx > threshold`
/// (`torch.nn.Softplus`).
///
/// ```swift
/// let layer = Softplus(beta: 2)
/// let positive = layer(x)
/// ```
public final class Softplus: Module {
    /// The sharpness `β`.
    public let beta: Double
    /// Above this value of `βx` the layer is linear, for numerical stability.
    public let threshold: Double

    /// Creates the layer.
    /// - Parameters:
    ///   - beta: the sharpness (1 by default).
    ///   - threshold: where the function becomes linear (20 by default).
    public init(beta: Double = 1, threshold: Double = 20) {
        self.beta = beta
        self.threshold = threshold
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { softplus(input, beta: beta, threshold: threshold) }

    public override var extraDescription: String {
        "beta=\(PythonRepr.float(beta)), threshold=\(PythonRepr.float(threshold))"
    }
}

/// Formats values as Python's `repr` does, so `extraDescription` matches PyTorch's
/// printed module tree (`eps=1e-05`, `bias=True`, `(2, 3)`).
enum PythonRepr {
    /// A float as Python prints it: `1.0`, `0.01`, `1e-05`, `inf`.
    static func float(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        return value.description   // Swift and Python both print the shortest round-trip form
    }

    /// `True` or `False`.
    static func bool(_ value: Bool) -> String { value ? "True" : "False" }

    /// A quoted string: `'none'`.
    static func string(_ value: String) -> String { "'\(value)'" }

    /// A tuple: `(4,)`, `(2, 3)`.
    static func tuple(_ values: [Int]) -> String {
        values.count == 1 ? "(\(values[0]),)" : "(" + values.map(String.init).joined(separator: ", ") + ")"
    }

    /// An optional float, `None` when nil.
    static func optionalFloat(_ value: Double?) -> String { value.map(float) ?? "None" }
}
