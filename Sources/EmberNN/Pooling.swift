// Pooling layers: MaxPool1d, MaxPool2d, AvgPool2d and AdaptiveAvgPool2d, wrapping Ember's
// functional pooling ops.
import Ember

/// A pooling size as PyTorch prints it: `2` for one value, `(2, 3)` for several.
private func sizeDescription(_ size: ConvSize) -> String {
    size.values.count == 1 ? "\(size.values[0])" : PythonRepr.tuple(size.values)
}

/// What `MaxPool1d` and `MaxPool2d` share: the window configuration and printing; the
/// subclasses fix the number of spatial dimensions.
public class MaxPoolLayer: Module {
    /// The window's size.
    public let kernelSize: ConvSize
    /// The step between windows (the kernel size by default).
    public let stride: ConvSize
    /// Implicit −∞ padding on both sides.
    public let padding: ConvSize
    /// The spacing between window elements.
    public let dilation: ConvSize
    /// Whether the output size rounds up.
    public let ceilMode: Bool
    /// 1 for `MaxPool1d`, 2 for `MaxPool2d`.
    let spatialDims: Int

    /// Creates the layer.
    ///
    /// - Parameters:
    ///   - spatialDims: 1 or 2.
    ///   - kernelSize: the window's size, one value or one per spatial dimension.
    ///   - stride: the step between windows; nil uses `kernelSize`.
    ///   - padding: implicit −∞ padding on both sides.
    ///   - dilation: the spacing between window elements.
    ///   - ceilMode: round the output size up instead of down.
    init(spatialDims: Int, kernelSize: ConvSize, stride: ConvSize?, padding: ConvSize, dilation: ConvSize, ceilMode: Bool) {
        self.spatialDims = spatialDims
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.dilation = dilation
        self.ceilMode = ceilMode
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        if spatialDims == 1 {
            return maxPool1d(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
        }
        return maxPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }

    public override var extraDescription: String {
        "kernel_size=\(sizeDescription(kernelSize)), stride=\(sizeDescription(stride)), padding=\(sizeDescription(padding)), "
            + "dilation=\(sizeDescription(dilation)), ceil_mode=\(PythonRepr.bool(ceilMode))"
    }
}

/// 1-D max pooling over `[N, C, L]` (or `[C, L]`) inputs (`torch.nn.MaxPool1d`): each
/// output is the maximum of a window of `kernelSize` elements.
///
/// ```swift
/// let pool = MaxPool1d(kernelSize: 2)
/// let y = pool(Tensor.randn([8, 4, 100]))   // [8, 4, 50]
/// ```
public final class MaxPool1d: MaxPoolLayer {
    /// Creates the layer (see ``MaxPoolLayer``): `kernelSize` is the window's length.
    public init(kernelSize: ConvSize, stride: ConvSize? = nil, padding: ConvSize = 0, dilation: ConvSize = 1,
                ceilMode: Bool = false) {
        super.init(spatialDims: 1, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
}

/// 2-D max pooling over `[N, C, H, W]` (or `[C, H, W]`) inputs (`torch.nn.MaxPool2d`):
/// each output is the maximum of a `kH × kW` window.
///
/// ```swift
/// let pool = MaxPool2d(kernelSize: 2)
/// let y = pool(Tensor.randn([8, 16, 32, 32]))   // [8, 16, 16, 16]
/// ```
public final class MaxPool2d: MaxPoolLayer {
    /// Creates the layer (see ``MaxPoolLayer``): `kernelSize` is `2` or `[2, 3]`.
    public init(kernelSize: ConvSize, stride: ConvSize? = nil, padding: ConvSize = 0, dilation: ConvSize = 1,
                ceilMode: Bool = false) {
        super.init(spatialDims: 2, kernelSize: kernelSize, stride: stride, padding: padding, dilation: dilation, ceilMode: ceilMode)
    }
}

/// 2-D average pooling over `[N, C, H, W]` (or `[C, H, W]`) inputs (`torch.nn.AvgPool2d`):
/// each output is the mean of a `kH × kW` window.
///
/// ```swift
/// let pool = AvgPool2d(kernelSize: 2)
/// let y = pool(Tensor.randn([8, 16, 32, 32]))   // [8, 16, 16, 16]
/// ```
public final class AvgPool2d: Module {
    /// The window's size.
    public let kernelSize: ConvSize
    /// The step between windows (the kernel size by default).
    public let stride: ConvSize
    /// Implicit zero padding on both sides.
    public let padding: ConvSize
    /// Whether the output size rounds up.
    public let ceilMode: Bool
    /// Whether padded zeros count in each window's divisor.
    public let countIncludePad: Bool

    /// Creates the layer.
    ///
    /// - Parameters:
    ///   - kernelSize: the window's size, `2` or `[2, 3]`.
    ///   - stride: the step between windows; nil (the default) uses `kernelSize`.
    ///   - padding: implicit zero padding on both sides.
    ///   - ceilMode: round the output size up instead of down.
    ///   - countIncludePad: count padded zeros in the divisor (true by default).
    public init(kernelSize: ConvSize, stride: ConvSize? = nil, padding: ConvSize = 0, ceilMode: Bool = false,
                countIncludePad: Bool = true) {
        self.kernelSize = kernelSize
        self.stride = stride ?? kernelSize
        self.padding = padding
        self.ceilMode = ceilMode
        self.countIncludePad = countIncludePad
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        avgPool2d(input, kernelSize: kernelSize, stride: stride, padding: padding, ceilMode: ceilMode,
                  countIncludePad: countIncludePad)
    }

    public override var extraDescription: String {
        "kernel_size=\(sizeDescription(kernelSize)), stride=\(sizeDescription(stride)), padding=\(sizeDescription(padding))"
    }
}

/// 2-D adaptive average pooling (`torch.nn.AdaptiveAvgPool2d`): averages `[N, C, H, W]`
/// (or `[C, H, W]`) inputs of any size down to a fixed `outputSize`.
///
/// ```swift
/// let pool = AdaptiveAvgPool2d(outputSize: 1)    // global average pooling
/// let y = pool(Tensor.randn([8, 512, 7, 7]))     // [8, 512, 1, 1]
/// ```
public final class AdaptiveAvgPool2d: Module {
    /// The output's height and width.
    public let outputSize: ConvSize

    /// Creates the layer.
    /// - Parameter outputSize: the output's size, `7` or `[3, 2]`.
    public init(outputSize: ConvSize) {
        self.outputSize = outputSize
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { adaptiveAvgPool2d(input, outputSize: outputSize) }
    public override var extraDescription: String { "output_size=\(sizeDescription(outputSize))" }
}
