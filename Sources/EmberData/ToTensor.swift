// Converting 8-bit images to float32 CHW tensors in [0, 1].
import Ember

/// Converts an 8-bit image to a float32 `[C, H, W]` tensor with values in [0, 1]
/// (`torchvision.transforms.ToTensor`): each byte is divided by 255.
///
/// Input layouts: `[H, W]` (gray: becomes `[1, H, W]`), `[H, W, C]` (`.hwc`, the layout of
/// decoded image files; the default) or `[C, H, W]` (`.chw`). Floating-point input is
/// assumed to be converted already and is passed through.
///
/// ```swift
/// let pixels: [UInt8] = ...                                   // 32 × 32 RGB, interleaved
/// let image = ToTensor.convert(pixels, height: 32, width: 32, channels: 3)   // [3, 32, 32]
/// let same = ToTensor()(Tensor(pixels, shape: [32, 32, 3]))
/// ```
public struct ToTensor: Transform {
    /// Where the channels are in the input.
    public enum Layout: Sendable {
        /// Height, width, channels (interleaved pixels).
        case hwc
        /// Channels, height, width (planar).
        case chw
    }

    /// The layout of 3-d inputs.
    public let layout: Layout

    /// A converter for inputs in `layout`.
    ///
    /// ```swift
    /// let planar = ToTensor(layout: .chw)
    /// ```
    public init(layout: Layout = .hwc) { self.layout = layout }

    /// Converts `input` (no randomness).
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        if input.dtype.isFloatingPoint { return input }
        precondition(input.rank == 2 || input.rank == 3, "ToTensor: expected an image of shape [H, W], [H, W, C] or [C, H, W], got \(input.shape)")
        let chw: Tensor
        if input.rank == 2 { chw = input.unsqueeze(0) }
        else if layout == .hwc { chw = input.permute(2, 0, 1) }
        else { chw = input }
        return noGrad { chw.to(.float32) / 255.0 }
    }

    /// Converts raw bytes laid out as `layout` into a float32 `[channels, height, width]` tensor.
    ///
    /// ```swift
    /// let gray = ToTensor.convert(bytes, height: 28, width: 28, channels: 1)
    /// ```
    public static func convert(_ bytes: [UInt8], height: Int, width: Int, channels: Int, layout: Layout = .hwc) -> Tensor {
        precondition(bytes.count == height * width * channels,
                     "ToTensor: \(bytes.count) bytes for a \(height)×\(width) image with \(channels) channels (needs \(height * width * channels))")
        let shape = layout == .hwc ? [height, width, channels] : [channels, height, width]
        return ToTensor(layout: layout).apply(Tensor(bytes, shape: shape), generator: .default)
    }
}
