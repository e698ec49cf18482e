// Cropping images at a random position, after optional padding.
import Ember

/// Crops a random `height × width` window out of the last two dimensions, after padding
/// each side by `padding` (`torchvision.transforms.RandomCrop`).
///
/// The window's top row is drawn first, uniformly in `0 ... paddedHeight - height`, then
/// its left column in `0 ... paddedWidth - width`.
///
/// ```swift
/// let crop = RandomCrop(size: 28, padding: 4)          // the classic augmentation
/// let y = crop(image, generator: Generator(seed: 0))   // [1, 28, 28]
/// ```
public struct RandomCrop: Transform {
    /// Rows of the crop.
    public let height: Int
    /// Columns of the crop.
    public let width: Int
    /// Border added on each side before cropping.
    public let padding: Int
    /// How the border is filled.
    public let paddingMode: PaddingMode
    /// The border's value for constant padding.
    public let fill: Double

    /// A square crop of `size × size`.
    ///
    /// ```swift
    /// let crop = RandomCrop(size: 24)
    /// ```
    public init(size: Int, padding: Int = 0, paddingMode: PaddingMode = .constant, fill: Double = 0) {
        self.init(height: size, width: size, padding: padding, paddingMode: paddingMode, fill: fill)
    }

    /// A crop of `height × width`.
    ///
    /// ```swift
    /// let crop = RandomCrop(height: 20, width: 30, padding: 2)
    /// ```
    public init(height: Int, width: Int, padding: Int = 0, paddingMode: PaddingMode = .constant, fill: Double = 0) {
        precondition(height > 0 && width > 0, "RandomCrop: size must be positive, got \(height)×\(width)")
        precondition(padding >= 0, "RandomCrop: padding must be non-negative, got \(padding)")
        self.height = height
        self.width = width
        self.padding = padding
        self.paddingMode = paddingMode
        self.fill = fill
    }

    /// Pads, then crops at a random position drawn from `generator`.
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        precondition(input.rank >= 2, "RandomCrop: expected a tensor of shape [..., H, W], got \(input.shape)")
        let padded = padding > 0
            ? input.pad([padding, padding, padding, padding], mode: paddingMode, value: fill) : input
        let h = padded.shape[padded.rank - 2], w = padded.shape[padded.rank - 1]
        precondition(h >= height && w >= width,
                     "RandomCrop: required crop size \(height)×\(width) is larger than the (padded) input image size \(h)×\(w)")
        let top = Randomness.below(h - height + 1, generator)
        let left = Randomness.below(w - width + 1, generator)
        return padded.narrow(dim: -2, start: top, length: height).narrow(dim: -1, start: left, length: width).contiguous()
    }
}
