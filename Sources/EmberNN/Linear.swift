// Affine layers: Linear (`y = xWᵀ + b`) and Bilinear (`y = x₁ᵀ A x₂ + b`), with their
// functional forms `linear` and `bilinear`.
import Ember

/// Applies `y = x·Wᵀ + b` over the last dimension (`torch.nn.functional.linear`).
///
/// - Parameters:
///   - input: `[..., inFeatures]`.
///   - weight: `[outFeatures, inFeatures]`.
///   - bias: `[outFeatures]`, or nil for none.
/// - Returns: `[..., outFeatures]`.
///
/// ```swift
/// let w = Tensor.randn([8, 4]), b = Tensor.zeros([8])
/// let y = linear(Tensor.randn([2, 4]), weight: w, bias: b)   // [2, 8]
/// ```
public func linear(_ input: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    precondition(weight.rank == 2, "linear: weight must be 2-D [out, in], got shape \(weight.shape)")
    precondition(input.rank >= 1 && input.shape[input.rank - 1] == weight.shape[1],
                 "linear: input of shape \(input.shape) has \(input.shape.last ?? 0) features, weight \(weight.shape) expects \(weight.shape[1])")
    return input.linear(weight: weight, bias: bias)
}

/// Applies `yₖ = x₁ᵀ Aₖ x₂ + bₖ` over the last dimensions (`torch.nn.functional.bilinear`).
///
/// - Parameters:
///   - input1: `[..., in1Features]`.
///   - input2: `[..., in2Features]`, with the same leading dimensions as `input1`.
///   - weight: `[outFeatures, in1Features, in2Features]`.
///   - bias: `[outFeatures]`, or nil for none.
/// - Returns: `[..., outFeatures]`.
///
/// ```swift
/// let a = Tensor.randn([5, 3, 4])
/// let y = bilinear(Tensor.randn([2, 3]), Tensor.randn([2, 4]), weight: a)   // [2, 5]
/// ```
public func bilinear(_ input1: Tensor, _ input2: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    precondition(weight.rank == 3, "bilinear: weight must be 3-D [out, in1, in2], got shape \(weight.shape)")
    let out = weight.shape[0], in1 = weight.shape[1], in2 = weight.shape[2]
    precondition(input1.rank >= 1 && input1.shape.last == in1,
                 "bilinear: input1 of shape \(input1.shape) has \(input1.shape.last ?? 0) features, weight \(weight.shape) expects \(in1)")
    precondition(input2.rank >= 1 && input2.shape.last == in2,
                 "bilinear: input2 of shape \(input2.shape) has \(input2.shape.last ?? 0) features, weight \(weight.shape) expects \(in2)")
    let leading = Array(input1.shape.dropLast())
    precondition(leading == Array(input2.shape.dropLast()),
                 "bilinear: inputs of shapes \(input1.shape) and \(input2.shape) differ in their leading dimensions")
    let x1 = input1.reshape([-1, in1]), x2 = input2.reshape([-1, in2])
    // (x₁ · A viewed as [in1, out·in2]) → [N, out, in2], then contract with x₂.
    let mixed = x1.matmul(weight.permute(1, 0, 2).reshape([in1, out * in2])).reshape([-1, out, in2])
    var y = (mixed * x2.unsqueeze(1)).sum(dim: 2)
    if let bias {
        precondition(bias.shape == [out], "bilinear: bias has shape \(bias.shape), expected [\(out)]")
        y = y + bias
    }
    return y.reshape(leading + [out])
}

/// A fully connected layer, `y = x·Wᵀ + b` (`torch.nn.Linear`).
///
/// Parameters, named as PyTorch: `weight` `[outFeatures, inFeatures]` and `bias`
/// `[outFeatures]`, both initialised from 𝒰(-k, k) with `k = 1/√inFeatures` (PyTorch's
/// `kaiming_uniform_(a: √5)` for the weight).
///
/// ```swift
/// let layer = Linear(4, 8)
/// let y = layer(Tensor.randn([32, 4]))   // [32, 8]
/// print(layer)                            // Linear(in_features=4, out_features=8, bias=True)
/// ```
public final class Linear: Module {
    /// Size of each input sample.
    public let inFeatures: Int
    /// Size of each output sample.
    public let outFeatures: Int
    /// The learnable weight, `[outFeatures, inFeatures]`.
    public var weight: Tensor
    /// The learnable bias, `[outFeatures]`, or nil.
    public var bias: Tensor?

    /// Creates a layer with PyTorch's default initialisation.
    ///
    /// - Parameters:
    ///   - inFeatures: size of each input sample.
    ///   - outFeatures: size of each output sample.
    ///   - bias: whether to learn an additive bias (true by default).
    public init(_ inFeatures: Int, _ outFeatures: Int, bias: Bool = true) {
        precondition(inFeatures >= 0 && outFeatures >= 0, "Linear: feature counts must be non-negative, got \(inFeatures) and \(outFeatures)")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        weight = Tensor.empty([outFeatures, inFeatures])
        self.bias = bias ? Tensor.empty([outFeatures]) : nil
        super.init()
        resetParameters()
        weight.requiresGrad = true
        self.bias?.requiresGrad = true
    }

    /// Wraps existing tensors without copying or initialising anything (for pretrained
    /// weights, e.g. a memory-mapped checkpoint).
    ///
    /// - Parameters:
    ///   - weight: `[outFeatures, inFeatures]`, used as the layer's parameter as is.
    ///   - bias: `[outFeatures]`, or nil for no bias.
    ///
    /// ```swift
    /// let layer = Linear(weight: Tensor.randn([8, 4]), bias: Tensor.zeros([8]))
    /// ```
    public init(weight: Tensor, bias: Tensor? = nil) {
        precondition(weight.rank == 2, "Linear: weight must be 2-D [out, in], got shape \(weight.shape)")
        precondition(bias == nil || bias!.shape == [weight.shape[0]],
                     "Linear: bias has shape \(bias!.shape), expected [\(weight.shape[0])]")
        inFeatures = weight.shape[1]
        outFeatures = weight.shape[0]
        self.weight = weight
        self.bias = bias
        super.init()
    }

    /// Re-draws the parameters with PyTorch's default initialisation: the weight by
    /// `Init.kaimingUniform(a: √5)` and the bias from 𝒰(-1/√inFeatures, 1/√inFeatures).
    public func resetParameters() {
        if weight.count > 0 { Init.kaimingUniform(weight, a: 5.0.squareRoot()) }
        if let bias {
            let bound = inFeatures > 0 ? 1 / Double(inFeatures).squareRoot() : 0
            Init.uniform(bias, a: -bound, b: bound)
        }
    }

    public override func forward(_ input: Tensor) -> Tensor { linear(input, weight: weight, bias: bias) }

    /// The layer followed by `activation`; without autograd recording (inference) the
    /// activation is applied as the product is written, in one pass.
    ///
    /// ```swift
    /// let fc = Linear(128, 512)
    /// let hidden = fc.forward(Tensor.randn([64, 128]), activation: .gelu)   // gelu(fc(x))
    /// ```
    public func forward(_ input: Tensor, activation: LinearActivation) -> Tensor {
        precondition(input.rank >= 1 && input.shape[input.rank - 1] == weight.shape[1],
                     "Linear: input of shape \(input.shape) has \(input.shape.last ?? 0) features, the layer expects \(weight.shape[1])")
        return input.linear(weight: weight, bias: bias, activation: activation)
    }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        switch name {
        case "weight": weight = tensor
        case "bias": bias = tensor
        default: super.replaceParameter(name, with: tensor)
        }
    }

    public override var extraDescription: String {
        "in_features=\(inFeatures), out_features=\(outFeatures), bias=\(PythonRepr.bool(bias != nil))"
    }
}

/// A bilinear layer, `yₖ = x₁ᵀ Aₖ x₂ + bₖ` (`torch.nn.Bilinear`).
///
/// Parameters, named as PyTorch: `weight` `[outFeatures, in1Features, in2Features]` and
/// `bias` `[outFeatures]`, both initialised from 𝒰(-k, k) with `k = 1/√in1Features`.
/// It takes two inputs, so call it as `layer(x1, x2)`.
///
/// ```swift
/// let layer = Bilinear(3, 4, 5)
/// let y = layer(Tensor.randn([2, 3]), Tensor.randn([2, 4]))   // [2, 5]
/// ```
public final class Bilinear: Module {
    /// Size of each first input sample.
    public let in1Features: Int
    /// Size of each second input sample.
    public let in2Features: Int
    /// Size of each output sample.
    public let outFeatures: Int
    /// The learnable weight, `[outFeatures, in1Features, in2Features]`.
    public var weight: Tensor
    /// The learnable bias, `[outFeatures]`, or nil.
    public var bias: Tensor?

    /// Creates a layer with PyTorch's default initialisation.
    ///
    /// - Parameters:
    ///   - in1Features: size of each first input sample.
    ///   - in2Features: size of each second input sample.
    ///   - outFeatures: size of each output sample.
    ///   - bias: whether to learn an additive bias (true by default).
    public init(_ in1Features: Int, _ in2Features: Int, _ outFeatures: Int, bias: Bool = true) {
        self.in1Features = in1Features
        self.in2Features = in2Features
        self.outFeatures = outFeatures
        weight = Tensor.empty([outFeatures, in1Features, in2Features])
        self.bias = bias ? Tensor.empty([outFeatures]) : nil
        super.init()
        resetParameters()
        weight.requiresGrad = true
        self.bias?.requiresGrad = true
    }

    /// Re-draws the parameters from 𝒰(-1/√in1Features, 1/√in1Features), as PyTorch.
    public func resetParameters() {
        let bound = in1Features > 0 ? 1 / Double(in1Features).squareRoot() : 0
        Init.uniform(weight, a: -bound, b: bound)
        if let bias { Init.uniform(bias, a: -bound, b: bound) }
    }

    /// Computes the layer's output for two inputs of shapes `[..., in1Features]` and
    /// `[..., in2Features]`.
    public func forward(_ input1: Tensor, _ input2: Tensor) -> Tensor {
        bilinear(input1, input2, weight: weight, bias: bias)
    }

    /// Calls `forward(_:_:)`: `layer(x1, x2)`.
    public func callAsFunction(_ input1: Tensor, _ input2: Tensor) -> Tensor { forward(input1, input2) }

    /// Stops: a bilinear layer needs two inputs.
    public override func forward(_ input: Tensor) -> Tensor {
        fatalError("Bilinear: takes two inputs; call layer(input1, input2)")
    }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        switch name {
        case "weight": weight = tensor
        case "bias": bias = tensor
        default: super.replaceParameter(name, with: tensor)
        }
    }

    public override var extraDescription: String {
        "in1_features=\(in1Features), in2_features=\(in2Features), out_features=\(outFeatures), bias=\(PythonRepr.bool(bias != nil))"
    }
}
