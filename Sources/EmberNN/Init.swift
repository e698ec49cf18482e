// Parameter initialisers (`torch.nn.init`): uniform, normal, constant, Xavier/Glorot,
// Kaiming/He and orthogonal, with the fan and gain calculations they share.
import Ember

/// Initialisers that fill a tensor in place, as `torch.nn.init` (`nn.init.kaiming_uniform_`
/// is `Init.kaimingUniform`).
///
/// Every function writes under `noGrad`, so it may be called on a parameter that requires
/// grad, returns the same tensor, and draws from `generator` (the default generator, seeded
/// by `manualSeed`, unless given).
///
/// ```swift
/// let layer = Linear(256, 128)
/// Init.xavierUniform(layer.weight, gain: Init.calculateGain(.tanh))
/// Init.zeros(layer.bias!)
/// ```
public enum Init {
    /// The non-linearity a layer feeds, for `calculateGain` and the Kaiming initialisers.
    public enum Nonlinearity: Sendable {
        case linear, conv1d, conv2d, conv3d, convTranspose1d, convTranspose2d, convTranspose3d
        case sigmoid, tanh, relu, leakyRelu, selu
    }

    /// Which fan the Kaiming initialisers preserve the variance of.
    public enum FanMode: Sendable {
        /// Preserves the variance of activations in the forward pass (the default).
        case fanIn
        /// Preserves the variance of gradients in the backward pass.
        case fanOut
    }

    /// The recommended gain for a non-linearity (`torch.nn.init.calculate_gain`): 1 for
    /// linear, convolution and sigmoid, 5/3 for tanh, √2 for ReLU, `√(2 / (1 + a²))` for
    /// leaky ReLU with negative slope `a` (0.01 when `param` is nil) and 3/4 for SELU.
    ///
    /// - Parameters:
    ///   - nonlinearity: the activation after the layer.
    ///   - param: the negative slope, for `.leakyRelu` only.
    /// - Returns: the gain.
    ///
    /// ```swift
    /// Init.calculateGain(.relu)                    // 1.414...
    /// Init.calculateGain(.leakyRelu, param: 0.2)   // 1.386...
    /// ```
    public static func calculateGain(_ nonlinearity: Nonlinearity, param: Double? = nil) -> Double {
        switch nonlinearity {
        case .linear, .conv1d, .conv2d, .conv3d, .convTranspose1d, .convTranspose2d, .convTranspose3d, .sigmoid:
            return 1
        case .tanh: return 5.0 / 3
        case .relu: return 2.0.squareRoot()
        case .leakyRelu:
            let slope = param ?? 0.01
            return (2 / (1 + slope * slope)).squareRoot()
        case .selu: return 3.0 / 4
        }
    }

    /// The fan-in and fan-out of a weight of at least two dimensions: for `[out, in, k...]`,
    /// `fanIn = in · Πk` and `fanOut = out · Πk` (`torch.nn.init._calculate_fan_in_and_fan_out`).
    ///
    /// - Parameter tensor: a weight with rank ≥ 2.
    /// - Returns: the two fans.
    ///
    /// ```swift
    /// Init.calculateFans(Tensor.empty([16, 3, 5, 5]))   // (fanIn: 75, fanOut: 400)
    /// ```
    public static func calculateFans(_ tensor: Tensor) -> (fanIn: Int, fanOut: Int) {
        precondition(tensor.rank >= 2,
                     "Init: fan in and fan out cannot be computed for a tensor of shape \(tensor.shape) (fewer than 2 dimensions)")
        let receptive = tensor.shape.dropFirst(2).reduce(1, *)
        return (tensor.shape[1] * receptive, tensor.shape[0] * receptive)
    }

    /// Fills `tensor` with samples of 𝒰(a, b) (`torch.nn.init.uniform_`).
    ///
    /// - Parameters:
    ///   - tensor: the tensor to fill in place.
    ///   - a: the lower bound.
    ///   - b: the upper bound.
    ///   - generator: the random source.
    /// - Returns: `tensor`.
    ///
    /// ```swift
    /// let w = Tensor.empty([3, 5])
    /// Init.uniform(w, a: -0.1, b: 0.1)
    /// ```
    @discardableResult
    public static func uniform(_ tensor: Tensor, a: Double = 0, b: Double = 1, generator: Generator = .default) -> Tensor {
        precondition(a <= b, "Init.uniform: a (\(a)) must not exceed b (\(b))")
        return noGrad { tensor.uniform_(a, b, generator: generator) }
    }

    /// Fills `tensor` with samples of 𝒩(mean, std²) (`torch.nn.init.normal_`).
    ///
    /// - Parameters:
    ///   - tensor: the tensor to fill in place.
    ///   - mean: the mean.
    ///   - std: the standard deviation.
    ///   - generator: the random source.
    /// - Returns: `tensor`.
    ///
    /// ```swift
    /// let embedding = Tensor.empty([1000, 64])
    /// Init.normal(embedding, std: 0.02)
    /// ```
    @discardableResult
    public static func normal(_ tensor: Tensor, mean: Double = 0, std: Double = 1, generator: Generator = .default) -> Tensor {
        precondition(std >= 0, "Init.normal: std must be non-negative, got \(std)")
        return noGrad { tensor.normal_(mean: mean, std: std, generator: generator) }
    }

    /// Fills `tensor` with `value` (`torch.nn.init.constant_`).
    ///
    /// - Parameters:
    ///   - tensor: the tensor to fill in place.
    ///   - value: the value.
    /// - Returns: `tensor`.
    ///
    /// ```swift
    /// Init.constant(layer.bias!, 0.1)
    /// ```
    @discardableResult
    public static func constant(_ tensor: Tensor, _ value: Double) -> Tensor {
        noGrad { tensor.fill_(value) }
    }

    /// Fills `tensor` with zeros (`torch.nn.init.zeros_`).
    ///
    /// - Parameter tensor: the tensor to fill in place.
    /// - Returns: `tensor`.
    ///
    /// ```swift
    /// Init.zeros(layer.bias!)
    /// ```
    @discardableResult
    public static func zeros(_ tensor: Tensor) -> Tensor { constant(tensor, 0) }

    /// Fills `tensor` with ones (`torch.nn.init.ones_`).
    ///
    /// - Parameter tensor: the tensor to fill in place.
    /// - Returns: `tensor`.
    ///
    /// ```swift
    /// Init.ones(norm.weight!)
    /// ```
    @discardableResult
    public static func ones(_ tensor: Tensor) -> Tensor { constant(tensor, 1) }

    /// Glorot/Xavier uniform initialisation (`torch.nn.init.xavier_uniform_`): samples of
    /// 𝒰(-a, a) with `a = gain · √(6 / (fanIn + fanOut))`.
    ///
    /// - Parameters:
    ///   - tensor: a weight of rank ≥ 2, filled in place.
    ///   - gain: a scaling factor (see `calculateGain`).
    ///   - generator: the random source.
    /// - Returns: `tensor`.
    ///
    /// ```swift
    /// let w = Tensor.empty([128, 64])
    /// Init.xavierUniform(w)   // bound √(6 / 192) = 0.177
    /// ```
    @discardableResult
    public static func xavierUniform(_ tensor: Tensor, gain: Double = 1, generator: Generator = .default) -> Tensor {
        let (fanIn, fanOut) = calculateFans(tensor)
        let std = gain * (2.0 / Double(fanIn + fanOut)).squareRoot()
        let bound = 3.0.squareRoot() * std
        return uniform(tensor, a: -bound, b: bound, generator: generator)
    }

    /// Glorot/Xavier normal initialisation (`torch.nn.init.xavier_normal_`): samples of
    /// 𝒩(0, std²) with `std = gain · √(2 / (fanIn + fanOut))`.
    ///
    /// - Parameters:
    ///   - tensor: a weight of rank ≥ 2, filled in place.
    ///   - gain: a scaling factor (see `calculateGain`).
    ///   - generator: the random source.
    /// - Returns: `tensor`.
    ///
    /// ```swift
    /// let w = Tensor.empty([128, 64])
    /// Init.xavierNormal(w)   // std √(2 / 192) = 0.102
    /// ```
    @discardableResult
    public static func xavierNormal(_ tensor: Tensor, gain: Double = 1, generator: Generator = .default) -> Tensor {
        let (fanIn, fanOut) = calculateFans(tensor)
        let std = gain * (2.0 / Double(fanIn + fanOut)).squareRoot()
        return normal(tensor, mean: 0, std: std, generator: generator)
    }

    /// The standard deviation `gain / √fan` shared by the Kaiming initialisers.
    private static func kaimingStd(_ tensor: Tensor, a: Double, mode: FanMode, nonlinearity: Nonlinearity) -> Double {
        let (fanIn, fanOut) = calculateFans(tensor)
        let fan = mode == .fanIn ? fanIn : fanOut
        precondition(fan > 0, "Init: cannot initialise a tensor of shape \(tensor.shape), its fan is 0")
        return calculateGain(nonlinearity, param: a) / Double(fan).squareRoot()
    }

    /// He/Kaiming uniform initialisation (`torch.nn.init.kaiming_uniform_`): samples of
    /// 𝒰(-bound, bound) with `bound = gain · √(3 / fan)`, `gain = calculateGain(nonlinearity, a)`.
    ///
    /// PyTorch's default for `Linear` and convolution weights is this with `a = √5`, which
    /// gives `bound = 1 / √fanIn`.
    ///
    /// - Parameters:
    ///   - tensor: a weight of rank ≥ 2, filled in place.
    ///   - a: the negative slope of the leaky ReLU that follows (used with `.leakyRelu`).
    ///   - mode: `.fanIn` (the default) or `.fanOut`.
    ///   - nonlinearity: the activation that follows; `.leakyRelu` by default, as PyTorch.
    ///   - generator: the random source.
    /// - Returns: `tensor`.
    ///
    /// ```swift
    /// let w = Tensor.empty([64, 32])
    /// Init.kaimingUniform(w, nonlinearity: .relu)   // bound √(6 / 32)
    /// ```
    @discardableResult
    public static func kaimingUniform(_ tensor: Tensor, a: Double = 0, mode: FanMode = .fanIn,
                                      nonlinearity: Nonlinearity = .leakyRelu, generator: Generator = .default) -> Tensor {
        let bound = 3.0.squareRoot() * kaimingStd(tensor, a: a, mode: mode, nonlinearity: nonlinearity)
        return uniform(tensor, a: -bound, b: bound, generator: generator)
    }

    /// He/Kaiming normal initialisation (`torch.nn.init.kaiming_normal_`): samples of
    /// 𝒩(0, std²) with `std = gain / √fan`, `gain = calculateGain(nonlinearity, a)`.
    ///
    /// - Parameters:
    ///   - tensor: a weight of rank ≥ 2, filled in place.
    ///   - a: the negative slope of the leaky ReLU that follows (used with `.leakyRelu`).
    ///   - mode: `.fanIn` (the default) or `.fanOut`.
    ///   - nonlinearity: the activation that follows; `.leakyRelu` by default, as PyTorch.
    ///   - generator: the random source.
    /// - Returns: `tensor`.
    ///
    /// ```swift
    /// let w = Tensor.empty([64, 32, 3, 3])
    /// Init.kaimingNormal(w, mode: .fanOut, nonlinearity: .relu)   // ResNet's choice
    /// ```
    @discardableResult
    public static func kaimingNormal(_ tensor: Tensor, a: Double = 0, mode: FanMode = .fanIn,
                                     nonlinearity: Nonlinearity = .leakyRelu, generator: Generator = .default) -> Tensor {
        let std = kaimingStd(tensor, a: a, mode: mode, nonlinearity: nonlinearity)
        return normal(tensor, mean: 0, std: std, generator: generator)
    }

    /// Fills `tensor` with a (semi-)orthogonal matrix times `gain`
    /// (`torch.nn.init.orthogonal_`, Saxe et al. 2013).
    ///
    /// The tensor is viewed as a `rows × cols` matrix (`rows = shape[0]`); a matrix of
    /// standard normal samples is factored as `Q·R` (Gram–Schmidt, with `R`'s diagonal
    /// positive, as PyTorch's sign correction) and `Q` (or `Qᵀ` when `rows < cols`) is
    /// written. The result has orthonormal rows or columns, whichever are fewer.
    ///
    /// - Parameters:
    ///   - tensor: a tensor of rank ≥ 2, filled in place.
    ///   - gain: a scaling factor.
    ///   - generator: the random source.
    /// - Returns: `tensor`.
    ///
    /// ```swift
    /// let w = Tensor.empty([64, 64])
    /// Init.orthogonal(w)   // w · wᵀ ≈ I
    /// ```
    @discardableResult
    public static func orthogonal(_ tensor: Tensor, gain: Double = 1, generator: Generator = .default) -> Tensor {
        precondition(tensor.rank >= 2, "Init.orthogonal: only tensors with 2 or more dimensions are supported, got shape \(tensor.shape)")
        if tensor.count == 0 { return tensor }
        let rows = tensor.shape[0], cols = tensor.count / rows
        let samples = Tensor.randn([rows, cols], dtype: .float64, generator: generator).asArray(Double.self)
        // Work on the tall orientation: m × n with m ≥ n, columns to orthonormalise.
        let transposed = rows < cols
        let m = transposed ? cols : rows, n = transposed ? rows : cols
        var columns = (0..<n).map { j in (0..<m).map { i in transposed ? samples[j * cols + i] : samples[i * cols + j] } }
        orthonormalize(&columns)
        var values = [Double](repeating: 0, count: rows * cols)
        for j in 0..<n {
            for i in 0..<m {
                // Q is m × n with column j = columns[j]; write Q (rows × cols) or Qᵀ.
                if transposed { values[j * cols + i] = columns[j][i] * gain } else { values[i * cols + j] = columns[j][i] * gain }
            }
        }
        let result = Tensor(values, shape: tensor.shape)
        return noGrad { tensor.copy_(result) }
    }

    /// Gram–Schmidt with re-orthogonalisation ("twice is enough"): afterwards the vectors
    /// are orthonormal and span the same nested subspaces, i.e. they are the columns of the
    /// `Q` of a QR factorisation whose `R` has a positive diagonal.
    private static func orthonormalize(_ vectors: inout [[Double]]) {
        for j in vectors.indices {
            var v = vectors[j]
            for _ in 0..<2 {
                for i in 0..<j {
                    let q = vectors[i]
                    var projection = 0.0
                    for k in v.indices { projection += q[k] * v[k] }
                    for k in v.indices { v[k] -= projection * q[k] }
                }
            }
            var norm = 0.0
            for x in v { norm += x * x }
            norm = norm.squareRoot()
            precondition(norm > 0, "Init.orthogonal: the random matrix is rank deficient; try again")
            vectors[j] = v.map { $0 / norm }
        }
    }
}
