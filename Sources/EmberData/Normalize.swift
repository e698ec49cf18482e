// Per-channel standardisation of images.
import Ember

/// Subtracts a per-channel mean and divides by a per-channel standard deviation:
/// `output[c] = (input[c] - mean[c]) / std[c]` (`torchvision.transforms.Normalize`).
///
/// Works on `[C, H, W]` images and `[N, C, H, W]` batches; one value broadcasts over every
/// channel.
///
/// ```swift
/// let normalize = Normalize(mean: [0.2860], std: [0.3530])   // Fashion-MNIST's statistics
/// let x = normalize(image)                                   // image: [1, 28, 28]
/// ```
public struct Normalize: Transform {
    /// The mean of each channel.
    public let mean: [Double]
    /// The standard deviation of each channel.
    public let std: [Double]

    /// A normaliser with the given per-channel statistics.
    ///
    /// ```swift
    /// let imagenet = Normalize(mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225])
    /// ```
    public init(mean: [Double], std: [Double]) {
        precondition(!mean.isEmpty && mean.count == std.count,
                     "Normalize: mean and std need the same, non-zero number of values, got \(mean.count) and \(std.count)")
        precondition(std.allSatisfy { $0 != 0 }, "Normalize: std evaluated to zero after conversion to float, leading to division by zero")
        self.mean = mean
        self.std = std
    }

    /// Normalises `input` (no randomness).
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        precondition(input.rank >= 3, "Normalize: expected a tensor of shape [..., C, H, W], got \(input.shape)")
        let channels = input.shape[input.rank - 3]
        precondition(mean.count == 1 || mean.count == channels,
                     "Normalize: \(mean.count) means for an image with \(channels) channels (shape \(input.shape))")
        let dtype = input.dtype.isFloatingPoint ? input.dtype : .float32
        let shape = [mean.count, 1, 1]
        let m = Tensor(mean, shape: shape, dtype: dtype), s = Tensor(std, shape: shape, dtype: dtype)
        return (input.to(dtype) - m) / s
    }
}
