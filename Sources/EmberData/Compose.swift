// Chaining transforms.
import Ember

/// Applies transforms one after another (`torchvision.transforms.Compose`), all drawing
/// from the same generator in order.
///
/// ```swift
/// let pipeline = Compose(RandomCrop(size: 28, padding: 4), RandomHorizontalFlip(), Normalize(mean: [0.286], std: [0.353]))
/// let y = pipeline(image)
/// ```
public struct Compose: Transform {
    /// The transforms, in the order they run.
    public let transforms: [any Transform]

    /// Chains `transforms`.
    ///
    /// ```swift
    /// let t = Compose(ToTensor(), Normalize(mean: [0.5], std: [0.5]))
    /// ```
    public init(_ transforms: any Transform...) { self.transforms = transforms }

    /// Chains a list of transforms.
    ///
    /// ```swift
    /// let t = Compose([ToTensor(), Normalize(mean: [0.5], std: [0.5])])
    /// ```
    public init(_ transforms: [any Transform]) { self.transforms = transforms }

    /// Applies each transform in turn.
    public func apply(_ input: Tensor, generator: Generator) -> Tensor {
        transforms.reduce(input) { $1.apply($0, generator: generator) }
    }
}
