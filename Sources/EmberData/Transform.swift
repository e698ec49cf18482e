// The Transform protocol, and Lambda for closures.
import Ember

/// A function applied to each sample's tensor, such as normalisation or random
/// augmentation (`torchvision.transforms`).
///
/// Random transforms draw from the generator they are given. Called without one, they use
/// ``DataRandom/current``: inside a ``DataLoader`` that is seeded per batch, so runs are
/// reproducible whatever the number of workers.
///
/// ```swift
/// let augment = Compose(RandomCrop(size: 28, padding: 2), RandomHorizontalFlip())
/// let a = augment(image, generator: Generator(seed: 0))   // explicit generator
/// let b = augment(image)                                  // DataRandom.current
/// ```
public protocol Transform {
    /// Transforms `input`, drawing any randomness from `generator`.
    func apply(_ input: Tensor, generator: Generator) -> Tensor
}

extension Transform {
    /// Transforms `input` with randomness from ``DataRandom/current``.
    ///
    /// ```swift
    /// let y = Normalize(mean: [0.5], std: [0.5])(x)
    /// ```
    public func callAsFunction(_ input: Tensor) -> Tensor { apply(input, generator: DataRandom.current) }

    /// Transforms `input` with randomness from `generator`.
    ///
    /// ```swift
    /// let y = RandomHorizontalFlip(p: 0.5)(x, generator: Generator(seed: 3))
    /// ```
    public func callAsFunction(_ input: Tensor, generator: Generator) -> Tensor { apply(input, generator: generator) }
}

/// A transform from a closure.
///
/// ```swift
/// let scale = Lambda { x in x * 2 }
/// let jitter = Lambda { x, g in x + Tensor.randn(x.shape, generator: g) * 0.01 }
/// ```
public struct Lambda: Transform {
    private let body: (Tensor, Generator) -> Tensor

    /// A deterministic transform.
    public init(_ body: @escaping (Tensor) -> Tensor) { self.body = { x, _ in body(x) } }

    /// A random transform that draws from the generator it is given.
    public init(_ body: @escaping (Tensor, Generator) -> Tensor) { self.body = body }

    /// Runs the closure.
    public func apply(_ input: Tensor, generator: Generator) -> Tensor { body(input, generator) }
}
