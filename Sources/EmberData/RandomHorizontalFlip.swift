// Mirroring images left to right at random.
import Ember

/// Mirrors the last dimension (left ↔ right) with probability `p`
/// (`torchvision.transforms.RandomHorizontalFlip`).
///
/// One uniform number `u` in [0, 1) is drawn per call; the image flips when `u < p`.
///
/// ```swift
/// let flip = RandomHorizontalFlip()                 // p = 0.5
/// let y = flip(image, generator: Generator(seed: 1))
/// ```
public struct RandomHorizontalFlip: Transform {
    /// The probability of flipping.
    public let p: Double

    /// A flip with probability `p`.
    ///
    /// ```swift
    /// let always = RandomHorizontalFlip(p: 1)
    /// ```
    public init(p: Double = 0.5) {
        precondition(p >= 0 && p <= 1, "RandomHorizontalFlip: p must be in [0, 1], got \(p)")
        self.p = p
    }

    /// Flips `input` along its last dimension when the draw from `generator` is below `p`.
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        precondition(input.rank >= 1, "RandomHorizontalFlip: expected a tensor with at least one dimension")
        return Randomness.unit(generator) < p ? input.flip([-1]) : input
    }
}
