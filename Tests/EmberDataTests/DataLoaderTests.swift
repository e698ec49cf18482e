// DataLoader: batch contents and order, dropLast, reshuffling per epoch, and determinism
// for a given seed whatever the number of workers (random transforms included).
import Foundation
import XCTest
import Ember
@testable import EmberData

/// Sample i is (a 1×2×3 image with values i·100 + position, class i % 10), optionally transformed.
struct NumberedImages: Dataset {
    let count: Int
    var transform: (any Transform)? = nil
    subscript(index: Int) -> (Tensor, Int) {
        let image = Tensor((0..<6).map { Float(index * 100 + $0) }, shape: [1, 2, 3])
        return (transform.map { $0(image) } ?? image, index % 10)
    }
}

/// Records which thread and grad mode each sample was fetched in.
final class FetchLog: @unchecked Sendable {
    private let lock = NSLock()
    private(set) var threads = Set<String>()
    private(set) var gradEnabled = Set<Bool>()
    private(set) var fetched = 0
    var fetchCount: Int { lock.lock(); defer { lock.unlock() }; return fetched }
    func note() {
        lock.lock(); defer { lock.unlock() }
        fetched += 1
        threads.insert(Thread.isMainThread ? "main" : "worker \(pthread_self())")
        gradEnabled.insert(GradMode.isEnabled)
    }
}

struct LoggingDataset: Dataset {
    let log: FetchLog
    var count: Int { 20 }
    subscript(index: Int) -> Tensor {
        log.note()
        return Tensor([Float(index)], shape: [1])
    }
}

final class DataLoaderTests: XCTestCase {
    func labels(_ batches: [(Tensor, Tensor)]) -> [[Int]] { batches.map { $0.1.asArray(Int.self) } }

    func testSequentialBatchesAndCollation() {
        let loader = DataLoader(NumberedImages(count: 10), batchSize: 4)
        XCTAssertEqual(loader.count, 3)
        let batches = Array(loader)
        XCTAssertEqual(batches.count, 3)
        XCTAssertEqual(batches.map { $0.0.shape }, [[4, 1, 2, 3], [4, 1, 2, 3], [2, 1, 2, 3]])
        XCTAssertEqual(batches[0].1.dtype, .int64)
        XCTAssertEqual(labels(batches), [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]])
        XCTAssertEqual(values(batches[2].0), (0..<6).map { Double(800 + $0) } + (0..<6).map { Double(900 + $0) })
    }

    func testDropLast() {
        let loader = DataLoader(NumberedImages(count: 10), batchSize: 4, dropLast: true)
        XCTAssertEqual(loader.count, 2)
        XCTAssertEqual(labels(Array(loader)), [[0, 1, 2, 3], [4, 5, 6, 7]])
        let exact = DataLoader(NumberedImages(count: 8), batchSize: 4, dropLast: true)
        XCTAssertEqual(Array(exact).count, 2)
    }

    func testShuffleCoversEverySampleAndReshufflesEachEpoch() {
        let loader = DataLoader(TensorDataset(Tensor.arange(0, 50)), batchSize: 8, shuffle: true, seed: 3)
        let epoch0 = Array(loader).flatMap { $0.asArray(Int.self) }
        let epoch1 = Array(loader).flatMap { $0.asArray(Int.self) }   // iterating again is the next epoch
        XCTAssertEqual(loader.epoch, 2)
        XCTAssertEqual(epoch0.sorted(), Array(0..<50))
        XCTAssertEqual(epoch1.sorted(), Array(0..<50))
        XCTAssertNotEqual(epoch0, Array(0..<50))
        XCTAssertNotEqual(epoch0, epoch1)
        // A new loader with the same seed repeats both epochs; batches(epoch:) replays one.
        let again = DataLoader(TensorDataset(Tensor.arange(0, 50)), batchSize: 8, shuffle: true, seed: 3)
        XCTAssertEqual(Array(again).flatMap { $0.asArray(Int.self) }, epoch0)
        XCTAssertEqual(Array(again).flatMap { $0.asArray(Int.self) }, epoch1)
        XCTAssertEqual(Array(again.batches(epoch: 1)).flatMap { $0.asArray(Int.self) }, epoch1)
        XCTAssertEqual(again.epoch, 2)
        // Another seed gives another order.
        let other = DataLoader(TensorDataset(Tensor.arange(0, 50)), batchSize: 8, shuffle: true, seed: 4)
        XCTAssertNotEqual(Array(other).flatMap { $0.asArray(Int.self) }, epoch0)
        // The shuffled order is the RandomSampler's with the loader's seed.
        XCTAssertEqual(epoch1, RandomSampler(count: 50, seed: 3).indices(epoch: 1))
    }

    /// Everything a loader yields over `epochs` epochs, as plain values.
    func run(workers: Int, seed: UInt64, epochs: Int = 2, transform: (any Transform)? = nil) -> [[Double]] {
        let data = NumberedImages(count: 37, transform: transform)
        let loader = DataLoader(data, batchSize: 5, shuffle: true, numWorkers: workers, seed: seed)
        var out: [[Double]] = []
        for _ in 0..<epochs {
            for (x, y) in loader { out.append(values(x) + values(y)) }
        }
        return out
    }

    func testSameSeedSameBatchesForAnyNumberOfWorkers() {
        let augment = Compose(RandomCrop(height: 2, width: 2, padding: 1), RandomHorizontalFlip())
        let reference = run(workers: 0, seed: 17, transform: augment)
        XCTAssertEqual(reference.count, 16)   // 8 batches × 2 epochs
        for workers in [1, 3] {
            XCTAssertEqual(run(workers: workers, seed: 17, transform: augment), reference, "numWorkers \(workers)")
        }
        XCTAssertNotEqual(run(workers: 3, seed: 18, transform: augment), reference)
        // Without transforms too, and the batches are the dataset's samples.
        let plain = run(workers: 3, seed: 5, epochs: 1)
        XCTAssertEqual(plain, run(workers: 0, seed: 5, epochs: 1))
        let labelsSeen = plain.flatMap { $0.suffix($0.count / 7) }   // 6 pixels + 1 label per sample
        XCTAssertEqual(labelsSeen.count, 37)
    }

    func testRandomTransformsDifferAcrossEpochsAndBatches() {
        let flip = RandomHorizontalFlip()
        let data = NumberedImages(count: 40, transform: flip)
        let loader = DataLoader(data, batchSize: 40, seed: 1)
        let e0 = values(Array(loader)[0].0), e1 = values(Array(loader)[0].0)
        XCTAssertNotEqual(e0, e1, "each epoch draws new augmentations")
        // Roughly half the images are flipped (first pixel of a flipped row is index·100 + 2).
        let flippedCount = (0..<40).filter { e0[$0 * 6] == Double($0 * 100 + 2) }.count
        XCTAssertGreaterThan(flippedCount, 8)
        XCTAssertLessThan(flippedCount, 32)
    }

    func testWorkersLoadOffTheMainThreadUnderNoGrad() {
        let log = FetchLog()
        let loader = DataLoader(LoggingDataset(log: log), batchSize: 3, numWorkers: 2, seed: 0)
        let batches = Array(loader)
        XCTAssertEqual(batches.map { $0.asArray(Int.self) }.flatMap { $0 }, Array(0..<20))
        XCTAssertFalse(log.threads.contains("main"))
        XCTAssertTrue((1...2).contains(log.threads.count), "\(log.threads)")
        XCTAssertEqual(log.gradEnabled, [false])
        XCTAssertTrue(GradMode.isEnabled)

        let inline = FetchLog()
        _ = Array(DataLoader(LoggingDataset(log: inline), batchSize: 3, seed: 0))
        XCTAssertEqual(inline.threads.count, 1)   // numWorkers 0: on the iterating thread
        XCTAssertEqual(inline.gradEnabled, [false])
        XCTAssertTrue(GradMode.isEnabled)
    }

    func testBreakingOutEarlyStopsTheWorkers() {
        let log = FetchLog()
        let loader = DataLoader(LoggingDataset(log: log), batchSize: 1, numWorkers: 2, prefetchFactor: 1, seed: 0)
        var seen: [Int] = []
        for batch in loader {
            seen.append(batch.item(Int.self))
            if seen.count == 1 {
                // Bounded prefetch: 2 workers × prefetchFactor 1 may prepare at most batches 1 and 2 ahead.
                Thread.sleep(forTimeInterval: 0.2)
                XCTAssertLessThanOrEqual(log.fetchCount, 3)
                XCTAssertGreaterThanOrEqual(log.fetchCount, 2)
            }
            if seen.count == 2 { break }
        }
        XCTAssertEqual(seen, [0, 1])
        Thread.sleep(forTimeInterval: 0.2)
        XCTAssertLessThanOrEqual(log.fetchCount, 4, "workers stop once the loop is left")
        // The next loop is a full new epoch.
        XCTAssertEqual(Array(loader).count, 20)
        XCTAssertEqual(loader.epoch, 2)
    }

    func testCustomSamplerCollateAndPairs() {
        let x = Tensor((0..<10).map { Float($0) }, shape: [5, 2]), y = Tensor([10, 11, 12, 13, 14] as [Float], shape: [5])
        let sampler = WeightedRandomSampler(weights: [0, 0, 1, 0, 0], numSamples: 4, seed: 0)
        let loader = DataLoader(TensorDataset(x, y), batchSize: 2, sampler: sampler, seed: 0)
        let batches = Array(loader)
        XCTAssertEqual(batches.count, 2)
        XCTAssertEqual(values(batches[0].0), [4, 5, 4, 5])
        XCTAssertEqual(values(batches[1].1), [12, 12])

        let sums = DataLoader(TensorDataset(x, y), batchSize: 3) { samples in samples.map { $0.1.item(Double.self) }.reduce(0, +) }
        XCTAssertEqual(Array(sums), [33, 27])

        let fields = Array(DataLoader(TensorDataset(x, y, y * 2), batchSize: 5))
        XCTAssertEqual(fields.count, 1)
        XCTAssertEqual(values(fields[0][2]), [20, 22, 24, 26, 28])
    }

    func testSeedFromGeneratorIsReproducible() {
        let data = TensorDataset(Tensor.arange(0, 20))
        let a = Array(DataLoader(data, batchSize: 20, shuffle: true, generator: Generator(seed: 9)))[0].asArray(Int.self)
        let b = Array(DataLoader(data, batchSize: 20, shuffle: true, generator: Generator(seed: 9)))[0].asArray(Int.self)
        XCTAssertEqual(a, b)
        manualSeed(1)
        let c = Array(DataLoader(data, batchSize: 20, shuffle: true))[0].asArray(Int.self)
        manualSeed(1)
        XCTAssertEqual(Array(DataLoader(data, batchSize: 20, shuffle: true))[0].asArray(Int.self), c)
    }

    func testEmptyDataset() {
        XCTAssertEqual(Array(DataLoader(TensorDataset(Tensor.zeros([0, 2])), batchSize: 4, numWorkers: 2)).count, 0)
    }
}
