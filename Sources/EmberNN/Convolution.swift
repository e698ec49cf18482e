// Convolution layers: Conv1d, Conv2d and ConvTranspose2d, wrapping Ember's functional
// conv1d, conv2d and convTranspose2d with PyTorch's parameters and initialisation.
import Ember

/// `values` expanded to one per spatial dimension, checked, for a layer's configuration.
private func expand(_ size: ConvSize, _ rank: Int, layer: String, name: String) -> [Int] {
    if size.values.count == 1 { return [Int](repeating: size.values[0], count: rank) }
    precondition(size.values.count == rank, "\(layer): \(name) needs 1 or \(rank) values, got \(size.values)")
    return size.values
}

/// PyTorch's default convolution initialisation: the weight by `kaiming_uniform_(a: √5)`
/// (𝒰(±1/√fanIn)) and the bias from 𝒰(±1/√fanIn), with `fanIn` computed from the weight.
private func resetConvolution(weight: Tensor, bias: Tensor?) {
    Init.kaimingUniform(weight, a: 5.0.squareRoot())
    if let bias {
        let fanIn = Init.calculateFans(weight).fanIn
        let bound = fanIn > 0 ? 1 / Double(fanIn).squareRoot() : 0
        Init.uniform(bias, a: -bound, b: bound)
    }
}

/// The printed configuration of a convolution, as PyTorch's `_ConvNd.extra_repr`: options
/// at their default values are left out.
private func convolutionDescription(inChannels: Int, outChannels: Int, kernelSize: [Int], stride: [Int], padding: String?,
                                    dilation: [Int], outputPadding: [Int]?, groups: Int, hasBias: Bool) -> String {
    var s = "\(inChannels), \(outChannels), kernel_size=\(PythonRepr.tuple(kernelSize)), stride=\(PythonRepr.tuple(stride))"
    if let padding { s += ", padding=\(padding)" }
    if dilation.contains(where: { $0 != 1 }) { s += ", dilation=\(PythonRepr.tuple(dilation))" }
    if let outputPadding, outputPadding.contains(where: { $0 != 0 }) { s += ", output_padding=\(PythonRepr.tuple(outputPadding))" }
    if groups != 1 { s += ", groups=\(groups)" }
    if !hasBias { s += ", bias=False" }
    return s
}

/// How PyTorch prints a convolution's padding, or nil when it is all zeros.
private func paddingDescription(_ padding: ConvPadding, _ rank: Int, layer: String) -> String? {
    switch padding {
    case .valid: return "valid"
    case .same: return "same"
    case .explicit(let size):
        let values = expand(size, rank, layer: layer, name: "padding")
        return values.allSatisfy { $0 == 0 } ? nil : PythonRepr.tuple(values)
    }
}

/// Checks channel counts against groups for a convolution layer.
private func checkChannels(_ layer: String, inChannels: Int, outChannels: Int, groups: Int) {
    precondition(inChannels > 0 && outChannels > 0, "\(layer): channel counts must be positive, got \(inChannels) and \(outChannels)")
    precondition(groups > 0, "\(layer): groups must be positive, got \(groups)")
    precondition(inChannels % groups == 0, "\(layer): inChannels (\(inChannels)) must be divisible by groups (\(groups))")
    precondition(outChannels % groups == 0, "\(layer): outChannels (\(outChannels)) must be divisible by groups (\(groups))")
}

/// What `Conv1d` and `Conv2d` share: configuration, parameters, PyTorch's initialisation
/// and printing. The subclasses only fix the number of spatial dimensions.
public class ConvolutionLayer: Module {
    /// Channels of the input.
    public let inChannels: Int
    /// Channels of the output.
    public let outChannels: Int
    /// The kernel's size, one value per spatial dimension.
    public let kernelSize: [Int]
    /// The step between windows, per spatial dimension.
    public let stride: [Int]
    /// Zeros added on both sides, or `.same` / `.valid`.
    public let padding: ConvPadding
    /// The spacing between kernel elements, per spatial dimension.
    public let dilation: [Int]
    /// The number of blocked connections from input to output channels.
    public let groups: Int
    /// The learnable kernel, `[outChannels, inChannels / groups] + kernelSize`.
    public var weight: Tensor
    /// The learnable bias, `[outChannels]`, or nil.
    public var bias: Tensor?
    /// 1 for `Conv1d`, 2 for `Conv2d`.
    let spatialDims: Int

    /// Creates the layer with PyTorch's default initialisation.
    ///
    /// - Parameters:
    ///   - spatialDims: 1 or 2.
    ///   - inChannels: channels of the input.
    ///   - outChannels: channels produced.
    ///   - kernelSize: the kernel's size, one value or one per spatial dimension.
    ///   - stride: the step between windows.
    ///   - padding: zeros on both sides, `.same` or `.valid`.
    ///   - dilation: the spacing between kernel elements.
    ///   - groups: blocked connections; both channel counts must be divisible by it.
    ///   - bias: whether to learn an additive bias.
    init(spatialDims: Int, _ inChannels: Int, _ outChannels: Int, kernelSize: ConvSize, stride: ConvSize,
         padding: ConvPadding, dilation: ConvSize, groups: Int, bias: Bool) {
        let layer = "Conv\(spatialDims)d"
        checkChannels(layer, inChannels: inChannels, outChannels: outChannels, groups: groups)
        self.spatialDims = spatialDims
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = expand(kernelSize, spatialDims, layer: layer, name: "kernelSize")
        self.stride = expand(stride, spatialDims, layer: layer, name: "stride")
        self.padding = padding
        self.dilation = expand(dilation, spatialDims, layer: layer, name: "dilation")
        self.groups = groups
        weight = Tensor.empty([outChannels, inChannels / groups] + self.kernelSize)
        self.bias = bias ? Tensor.empty([outChannels]) : nil
        super.init()
        resetParameters()
        weight.requiresGrad = true
        self.bias?.requiresGrad = true
    }

    /// Re-draws the parameters with PyTorch's default initialisation.
    public func resetParameters() { resetConvolution(weight: weight, bias: bias) }

    public override func forward(_ input: Tensor) -> Tensor {
        if spatialDims == 1 {
            return conv1d(input, weight: weight, bias: bias, stride: ConvSize(stride), padding: padding,
                          dilation: ConvSize(dilation), groups: groups)
        }
        return conv2d(input, weight: weight, bias: bias, stride: ConvSize(stride), padding: padding,
                      dilation: ConvSize(dilation), groups: groups)
    }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        switch name {
        case "weight": weight = tensor
        case "bias": bias = tensor
        default: super.replaceParameter(name, with: tensor)
        }
    }

    public override var extraDescription: String {
        convolutionDescription(inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                               padding: paddingDescription(padding, spatialDims, layer: "Conv\(spatialDims)d"),
                               dilation: dilation, outputPadding: nil, groups: groups, hasBias: bias != nil)
    }
}

/// A 1-D convolution over `[N, C, L]` (or unbatched `[C, L]`) inputs (`torch.nn.Conv1d`).
///
/// Parameters, named as PyTorch: `weight` `[outChannels, inChannels / groups, kernelSize]`
/// and `bias` `[outChannels]`, both from 𝒰(-k, k) with `k = 1/√(inChannels / groups · kernelSize)`.
///
/// ```swift
/// let conv = Conv1d(4, 16, kernelSize: 5, padding: 2)
/// let y = conv(Tensor.randn([8, 4, 100]))   // [8, 16, 100]
/// ```
public final class Conv1d: ConvolutionLayer {
    /// Creates the layer with PyTorch's default initialisation (see ``ConvolutionLayer``).
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: ConvSize, stride: ConvSize = 1, padding: ConvPadding = 0,
                dilation: ConvSize = 1, groups: Int = 1, bias: Bool = true) {
        super.init(spatialDims: 1, inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                   dilation: dilation, groups: groups, bias: bias)
    }
}

/// A 2-D convolution over `[N, C, H, W]` (or unbatched `[C, H, W]`) inputs (`torch.nn.Conv2d`).
///
/// Parameters, named as PyTorch: `weight` `[outChannels, inChannels / groups, kH, kW]` and
/// `bias` `[outChannels]`, both from 𝒰(-k, k) with `k = 1/√(inChannels / groups · kH · kW)`.
///
/// ```swift
/// let conv = Conv2d(3, 16, kernelSize: 3, padding: 1)
/// let y = conv(Tensor.randn([8, 3, 32, 32]))   // [8, 16, 32, 32]
/// print(conv)   // Conv2d(3, 16, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
/// ```
public final class Conv2d: ConvolutionLayer {
    /// Creates the layer with PyTorch's default initialisation (see ``ConvolutionLayer``).
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: ConvSize, stride: ConvSize = 1, padding: ConvPadding = 0,
                dilation: ConvSize = 1, groups: Int = 1, bias: Bool = true) {
        super.init(spatialDims: 2, inChannels, outChannels, kernelSize: kernelSize, stride: stride, padding: padding,
                   dilation: dilation, groups: groups, bias: bias)
    }
}

/// A 2-D transposed convolution (`torch.nn.ConvTranspose2d`), the gradient of `Conv2d`
/// with respect to its input, used to upsample. The output is
/// `(H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1` high (likewise wide).
///
/// Parameters, named as PyTorch: `weight` `[inChannels, outChannels / groups, kH, kW]` and
/// `bias` `[outChannels]`, both from 𝒰(-k, k) with `k = 1/√(outChannels / groups · kH · kW)`
/// (PyTorch computes the fan from the weight's second dimension).
///
/// ```swift
/// let up = ConvTranspose2d(32, 16, kernelSize: 4, stride: 2, padding: 1)
/// let y = up(Tensor.randn([8, 32, 7, 7]))   // [8, 16, 14, 14]
/// ```
public final class ConvTranspose2d: Module {
    /// Channels of the input.
    public let inChannels: Int
    /// Channels of the output.
    public let outChannels: Int
    /// The kernel's height and width.
    public let kernelSize: [Int]
    /// The upsampling step, along H and W.
    public let stride: [Int]
    /// Rows and columns removed from both sides of the output.
    public let padding: [Int]
    /// Extra rows and columns added to one side of the output.
    public let outputPadding: [Int]
    /// The number of blocked connections from input to output channels.
    public let groups: Int
    /// The spacing between kernel elements, along H and W.
    public let dilation: [Int]
    /// The learnable kernel, `[inChannels, outChannels / groups, kH, kW]`.
    public var weight: Tensor
    /// The learnable bias, `[outChannels]`, or nil.
    public var bias: Tensor?

    /// Creates the layer with PyTorch's default initialisation.
    ///
    /// - Parameters:
    ///   - inChannels: channels of the input.
    ///   - outChannels: channels produced.
    ///   - kernelSize: the kernel's size, `4` or `[4, 3]`.
    ///   - stride: the upsampling step.
    ///   - padding: `dilation·(k − 1) − padding` zeros are added to both sides of the input.
    ///   - outputPadding: extra size added to one side of the output (less than stride or dilation).
    ///   - groups: blocked connections; both channel counts must be divisible by it.
    ///   - bias: whether to learn an additive bias.
    ///   - dilation: the spacing between kernel elements.
    public init(_ inChannels: Int, _ outChannels: Int, kernelSize: ConvSize, stride: ConvSize = 1, padding: ConvSize = 0,
                outputPadding: ConvSize = 0, groups: Int = 1, bias: Bool = true, dilation: ConvSize = 1) {
        checkChannels("ConvTranspose2d", inChannels: inChannels, outChannels: outChannels, groups: groups)
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernelSize = expand(kernelSize, 2, layer: "ConvTranspose2d", name: "kernelSize")
        self.stride = expand(stride, 2, layer: "ConvTranspose2d", name: "stride")
        self.padding = expand(padding, 2, layer: "ConvTranspose2d", name: "padding")
        self.outputPadding = expand(outputPadding, 2, layer: "ConvTranspose2d", name: "outputPadding")
        self.groups = groups
        self.dilation = expand(dilation, 2, layer: "ConvTranspose2d", name: "dilation")
        weight = Tensor.empty([inChannels, outChannels / groups] + self.kernelSize)
        self.bias = bias ? Tensor.empty([outChannels]) : nil
        super.init()
        resetParameters()
        weight.requiresGrad = true
        self.bias?.requiresGrad = true
    }

    /// Re-draws the parameters with PyTorch's default initialisation.
    public func resetParameters() { resetConvolution(weight: weight, bias: bias) }

    public override func forward(_ input: Tensor) -> Tensor {
        convTranspose2d(input, weight: weight, bias: bias, stride: ConvSize(stride), padding: ConvSize(padding),
                        outputPadding: ConvSize(outputPadding), groups: groups, dilation: ConvSize(dilation))
    }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        switch name {
        case "weight": weight = tensor
        case "bias": bias = tensor
        default: super.replaceParameter(name, with: tensor)
        }
    }

    public override var extraDescription: String {
        convolutionDescription(inChannels: inChannels, outChannels: outChannels, kernelSize: kernelSize, stride: stride,
                               padding: padding.allSatisfy { $0 == 0 } ? nil : PythonRepr.tuple(padding), dilation: dilation,
                               outputPadding: outputPadding, groups: groups, hasBias: bias != nil)
    }
}
