// The per-thread generator that random transforms draw from.
import Foundation
import Ember

/// The generator random transforms use when none is passed explicitly.
///
/// ``DataLoader`` sets it, on whichever thread prepares a batch, to a generator seeded from
/// the loader's seed, the epoch and the batch's position, so random augmentation gives the
/// same batches for a given seed whatever `numWorkers` is. Outside a loader it is
/// `Generator.default` unless set with ``with(_:_:)``.
///
/// ```swift
/// let crop = RandomCrop(size: 24)
/// let a = DataRandom.with(Generator(seed: 1)) { crop(image) }
/// let b = DataRandom.with(Generator(seed: 1)) { crop(image) }   // the same crop as a
/// ```
public enum DataRandom {
    private static let key = "ember.data.generator"

    /// The generator for the current thread: the innermost ``with(_:_:)`` scope's, else `Generator.default`.
    public static var current: Generator {
        (Thread.current.threadDictionary[key] as? Generator) ?? .default
    }

    /// Runs `body` with `generator` as this thread's ``current`` generator.
    ///
    /// ```swift
    /// let flipped = DataRandom.with(Generator(seed: 7)) { RandomHorizontalFlip()(image) }
    /// ```
    public static func with<R>(_ generator: Generator, _ body: () throws -> R) rethrows -> R {
        let dictionary = Thread.current.threadDictionary
        let previous = dictionary[key]
        dictionary[key] = generator
        defer { dictionary[key] = previous }
        return try body()
    }
}
