// Iterating over a dataset in batches, shuffled per epoch, prepared ahead on worker threads.
import Foundation
import Ember

/// Iterates over a dataset in batches (`torch.utils.data.DataLoader`).
///
/// Each `for` loop over the loader is one epoch; the next loop is the next epoch, and with
/// `shuffle: true` it visits the samples in a new order (the epoch number is mixed into the
/// seed). With `numWorkers > 0`, worker threads prepare the next batches while the model
/// trains, up to `numWorkers × prefetchFactor` batches ahead. Batches always arrive in the
/// same order with the same contents for a given seed, whatever `numWorkers` is: random
/// transforms draw from ``DataRandom/current``, which the loader seeds per batch.
/// Loading runs under `noGrad`.
///
/// The default collation (no `collate:` argument) stacks tensors for samples that are a
/// `Tensor`, a `(Tensor, Tensor)` pair, a `(Tensor, Int)` pair (classes become an int64
/// vector) or a `[Tensor]`; datasets that conform to ``BatchTensorSource`` (in-memory
/// ones such as ``FashionMNIST`` and ``TensorDataset``) are sliced a whole batch at a time.
///
/// ```swift
/// let train = try FashionMNIST(split: .train)
/// let loader = DataLoader(train, batchSize: 128, shuffle: true, numWorkers: 2, seed: 42)
/// for epoch in 0..<10 {
///     for (images, labels) in loader {   // [128, 1, 28, 28] float32, [128] int64
///         let loss = crossEntropy(model(images), labels)
///         ...
///     }
/// }
/// ```
public final class DataLoader<D: Dataset, Batch>: Sequence {
    /// The dataset batches are drawn from.
    public let dataset: D
    /// Which indices each batch holds, epoch by epoch.
    public let batchSampler: BatchSampler
    /// Number of worker threads preparing batches (0: on the iterating thread, when asked for).
    public let numWorkers: Int
    /// Batches each worker may prepare ahead of the consumer.
    public let prefetchFactor: Int
    /// The seed that shuffling and per-batch randomness derive from.
    public let seed: UInt64
    /// The epoch the next iteration will run (counts from 0; each `makeIterator()` advances it).
    public var epoch: Int
    private let fetch: ([Int]) -> Batch

    /// The number of samples per batch.
    public var batchSize: Int { batchSampler.batchSize }
    /// Whether a last, smaller batch is dropped.
    public var dropLast: Bool { batchSampler.dropLast }
    /// The number of batches per epoch.
    public var count: Int { batchSampler.count }
    /// The number of batches per epoch.
    public var underestimatedCount: Int { count }

    /// A loader with a custom collate function merging a list of samples into a batch.
    ///
    /// - Parameters:
    ///   - dataset: the samples.
    ///   - batchSize: samples per batch.
    ///   - shuffle: a new random order every epoch (not together with `sampler`).
    ///   - dropLast: drop the last batch when it is smaller than `batchSize`.
    ///   - sampler: chooses the indices of each epoch (default: sequential, or random when `shuffle`).
    ///   - numWorkers: worker threads preparing batches ahead (0: prepare on demand).
    ///   - prefetchFactor: batches each worker may prepare ahead.
    ///   - generator: draws the loader's seed when `seed` is nil (default: Ember's default
    ///     generator, so `manualSeed` makes runs reproducible).
    ///   - seed: the seed shuffling and per-batch randomness derive from.
    ///   - collate: merges samples into a batch.
    ///
    /// ```swift
    /// let loader = DataLoader(data, batchSize: 32, shuffle: true, seed: 1) { samples in
    ///     Collate.stack(samples.map { $0.0 })
    /// }
    /// ```
    public convenience init(_ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false,
                            sampler: (any Sampler)? = nil, numWorkers: Int = 0, prefetchFactor: Int = 2,
                            generator: Ember.Generator? = nil, seed: UInt64? = nil,
                            collate: @escaping ([D.Element]) -> Batch) {
        self.init(dataset, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, sampler: sampler,
                  numWorkers: numWorkers, prefetchFactor: prefetchFactor, generator: generator, seed: seed,
                  fetch: { indices in collate(indices.map { dataset[$0] }) })
    }

    /// The designated initialiser: `fetch` turns a batch's indices into the batch.
    init(_ dataset: D, batchSize: Int, shuffle: Bool, dropLast: Bool, sampler: (any Sampler)?,
         numWorkers: Int, prefetchFactor: Int, generator: Ember.Generator?, seed: UInt64?,
         fetch: @escaping ([Int]) -> Batch) {
        precondition(numWorkers >= 0, "DataLoader: numWorkers must be non-negative, got \(numWorkers)")
        precondition(prefetchFactor >= 1, "DataLoader: prefetchFactor must be at least 1, got \(prefetchFactor)")
        precondition(!(shuffle && sampler != nil), "DataLoader: sampler option is mutually exclusive with shuffle")
        let seed = seed ?? (generator ?? .default).next()
        let sampler: any Sampler = sampler
            ?? (shuffle ? RandomSampler(count: dataset.count, seed: seed) : SequentialSampler(count: dataset.count))
        self.dataset = dataset
        self.batchSampler = BatchSampler(sampler, batchSize: batchSize, dropLast: dropLast)
        self.numWorkers = numWorkers
        self.prefetchFactor = prefetchFactor
        self.seed = seed
        self.epoch = 0
        self.fetch = fetch
    }

    /// Iterates over one epoch's batches.
    public struct Iterator: IteratorProtocol {
        let handle: BatchPipelineHandle<Batch>

        /// The next batch, or nil at the end of the epoch.
        public mutating func next() -> Batch? { handle.pipeline.next() }
    }

    /// Starts the next epoch (and advances ``epoch``).
    ///
    /// ```swift
    /// var it = loader.makeIterator()
    /// let first = it.next()
    /// ```
    public func makeIterator() -> Iterator {
        let epoch = self.epoch
        self.epoch += 1
        return Iterator(handle: BatchPipelineHandle(pipeline(epoch: epoch)))
    }

    /// The batches of one given epoch, without changing ``epoch`` (for resuming or inspecting).
    ///
    /// ```swift
    /// for (x, y) in loader.batches(epoch: 3) { ... }
    /// ```
    public func batches(epoch: Int) -> AnySequence<Batch> {
        AnySequence {
            var handle: BatchPipelineHandle<Batch>? = nil
            return AnyIterator { () -> Batch? in
                if handle == nil { handle = BatchPipelineHandle(self.pipeline(epoch: epoch)) }
                return handle!.pipeline.next()
            }
        }
    }

    private func pipeline(epoch: Int) -> BatchPipeline<Batch> {
        let fetch = self.fetch, seed = self.seed
        return BatchPipeline(batches: batchSampler.batches(epoch: epoch), workers: numWorkers,
                             capacity: numWorkers * prefetchFactor) { position, indices in
            DataRandom.with(Ember.Generator(seed: Randomness.derive(seed, epoch, position))) {
                noGrad { fetch(indices) }
            }
        }
    }
}

// MARK: - Default collation

extension DataLoader where Batch == Tensor, D.Element == Tensor {
    /// A loader whose samples are tensors, stacked into batches.
    ///
    /// ```swift
    /// let loader = DataLoader(TensorDataset(x), batchSize: 16)
    /// for batch in loader { print(batch.shape) }   // [16] + x.shape.dropFirst()
    /// ```
    public convenience init(_ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false,
                            sampler: (any Sampler)? = nil, numWorkers: Int = 0, prefetchFactor: Int = 2,
                            generator: Ember.Generator? = nil, seed: UInt64? = nil) {
        let source = dataset as? BatchTensorSource
        self.init(dataset, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, sampler: sampler,
                  numWorkers: numWorkers, prefetchFactor: prefetchFactor, generator: generator, seed: seed,
                  fetch: { indices in
                      if let fields = source?.batchTensors(at: indices) { return fields[0] }
                      return Collate.stack(indices.map { dataset[$0] })
                  })
    }
}

extension DataLoader where Batch == (Tensor, Tensor), D.Element == (Tensor, Tensor) {
    /// A loader whose samples are (input, target) tensor pairs, each half stacked.
    ///
    /// ```swift
    /// let loader = DataLoader(TensorDataset(x, y), batchSize: 64, shuffle: true, seed: 0)
    /// for (inputs, targets) in loader { ... }
    /// ```
    public convenience init(_ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false,
                            sampler: (any Sampler)? = nil, numWorkers: Int = 0, prefetchFactor: Int = 2,
                            generator: Ember.Generator? = nil, seed: UInt64? = nil) {
        let source = dataset as? BatchTensorSource
        self.init(dataset, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, sampler: sampler,
                  numWorkers: numWorkers, prefetchFactor: prefetchFactor, generator: generator, seed: seed,
                  fetch: { indices in
                      if let fields = source?.batchTensors(at: indices) { return (fields[0], fields[1]) }
                      return Collate.pairs(indices.map { dataset[$0] })
                  })
    }
}

extension DataLoader where Batch == (Tensor, Tensor), D.Element == (Tensor, Int) {
    /// A loader whose samples are (input, class) pairs: inputs stacked, classes as an
    /// int64 vector.
    ///
    /// ```swift
    /// let loader = DataLoader(try FashionMNIST(split: .train), batchSize: 128, shuffle: true, seed: 0)
    /// for (images, labels) in loader { ... }   // labels.dtype == .int64
    /// ```
    public convenience init(_ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false,
                            sampler: (any Sampler)? = nil, numWorkers: Int = 0, prefetchFactor: Int = 2,
                            generator: Ember.Generator? = nil, seed: UInt64? = nil) {
        let source = dataset as? BatchTensorSource
        self.init(dataset, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, sampler: sampler,
                  numWorkers: numWorkers, prefetchFactor: prefetchFactor, generator: generator, seed: seed,
                  fetch: { indices in
                      if let fields = source?.batchTensors(at: indices) { return (fields[0], fields[1]) }
                      return Collate.labeled(indices.map { dataset[$0] })
                  })
    }
}

extension DataLoader where Batch == [Tensor], D.Element == [Tensor] {
    /// A loader whose samples are lists of tensors, each field stacked.
    ///
    /// ```swift
    /// let loader = DataLoader(TensorDataset(a, b, c), batchSize: 8)
    /// for fields in loader { let (a, b, c) = (fields[0], fields[1], fields[2]) }
    /// ```
    public convenience init(_ dataset: D, batchSize: Int = 1, shuffle: Bool = false, dropLast: Bool = false,
                            sampler: (any Sampler)? = nil, numWorkers: Int = 0, prefetchFactor: Int = 2,
                            generator: Ember.Generator? = nil, seed: UInt64? = nil) {
        let source = dataset as? BatchTensorSource
        self.init(dataset, batchSize: batchSize, shuffle: shuffle, dropLast: dropLast, sampler: sampler,
                  numWorkers: numWorkers, prefetchFactor: prefetchFactor, generator: generator, seed: seed,
                  fetch: { indices in
                      source?.batchTensors(at: indices) ?? Collate.fields(indices.map { dataset[$0] })
                  })
    }
}
