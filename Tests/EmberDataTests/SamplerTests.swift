// Samplers: order, determinism per seed and epoch, and the distributions they draw from.
import XCTest
import Ember
@testable import EmberData

final class SamplerTests: XCTestCase {
    func testSequentialSampler() {
        XCTAssertEqual(SequentialSampler(count: 5).indices(epoch: 0), [0, 1, 2, 3, 4])
        XCTAssertEqual(SequentialSampler(count: 5).indices(epoch: 9), [0, 1, 2, 3, 4])
        XCTAssertEqual(SequentialSampler(count: 0).indices(epoch: 0), [])
    }

    func testRandomSamplerIsAPermutationPerEpochAndDeterministic() {
        let sampler = RandomSampler(count: 50, seed: 3)
        let e0 = sampler.indices(epoch: 0), e1 = sampler.indices(epoch: 1)
        XCTAssertEqual(e0.sorted(), Array(0..<50))
        XCTAssertEqual(e1.sorted(), Array(0..<50))
        XCTAssertNotEqual(e0, e1)
        XCTAssertNotEqual(e0, Array(0..<50))
        XCTAssertEqual(RandomSampler(count: 50, seed: 3).indices(epoch: 1), e1)
        XCTAssertNotEqual(RandomSampler(count: 50, seed: 4).indices(epoch: 0), e0)
        // Seeding from a generator: manualSeed makes it reproducible.
        manualSeed(11)
        let a = RandomSampler(count: 20).indices(epoch: 0)
        manualSeed(11)
        XCTAssertEqual(RandomSampler(count: 20).indices(epoch: 0), a)
        XCTAssertEqual(RandomSampler(count: 20, generator: Generator(seed: 2)).indices(epoch: 0),
                       RandomSampler(count: 20, generator: Generator(seed: 2)).indices(epoch: 0))
    }

    func testRandomSamplerNumSamplesWithoutReplacement() {
        let sampler = RandomSampler(count: 4, numSamples: 10, seed: 0)
        let indices = sampler.indices(epoch: 0)
        XCTAssertEqual(sampler.count, 10)
        XCTAssertEqual(indices.count, 10)
        // Back-to-back permutations: the first 8 hold each index exactly twice.
        XCTAssertEqual(indices[0..<4].sorted(), [0, 1, 2, 3])
        XCTAssertEqual(indices[4..<8].sorted(), [0, 1, 2, 3])
        XCTAssertEqual(RandomSampler(count: 10, numSamples: 3, seed: 0).indices(epoch: 0).count, 3)
    }

    func testRandomSamplerWithReplacementIsUniform() {
        let sampler = RandomSampler(count: 5, replacement: true, numSamples: 50_000, seed: 9)
        let indices = sampler.indices(epoch: 0)
        XCTAssertEqual(indices.count, 50_000)
        var histogram = [Int](repeating: 0, count: 5)
        for i in indices { histogram[i] += 1 }
        // Expected 10000 each; 4 standard deviations is about 360.
        for h in histogram { XCTAssertEqual(Double(h), 10_000, accuracy: 400, "\(histogram)") }
        // Repeats occur (it is with replacement) in a short draw too.
        let short = RandomSampler(count: 5, replacement: true, numSamples: 20, seed: 1).indices(epoch: 0)
        XCTAssertLessThan(Set(short).count, 20)
    }

    func testWeightedRandomSamplerFollowsTheWeights() {
        let weights = [1.0, 0, 3, 6]
        let sampler = WeightedRandomSampler(weights: weights, numSamples: 100_000, seed: 5)
        var histogram = [Int](repeating: 0, count: 4)
        for i in sampler.indices(epoch: 0) { histogram[i] += 1 }
        XCTAssertEqual(histogram[1], 0, "zero weight is never drawn")
        XCTAssertEqual(Double(histogram[0]) / 100_000, 0.1, accuracy: 0.006)
        XCTAssertEqual(Double(histogram[2]) / 100_000, 0.3, accuracy: 0.008)
        XCTAssertEqual(Double(histogram[3]) / 100_000, 0.6, accuracy: 0.008)
        XCTAssertEqual(sampler.indices(epoch: 2), WeightedRandomSampler(weights: weights, numSamples: 100_000, seed: 5).indices(epoch: 2))
        XCTAssertNotEqual(Array(sampler.indices(epoch: 0).prefix(50)), Array(sampler.indices(epoch: 1).prefix(50)))
    }

    func testWeightedRandomSamplerWithoutReplacement() {
        let sampler = WeightedRandomSampler(weights: [1, 1, 0, 1], numSamples: 3, replacement: false, seed: 0)
        for epoch in 0..<20 {
            let indices = sampler.indices(epoch: epoch)
            XCTAssertEqual(indices.sorted(), [0, 1, 3], "epoch \(epoch)")
        }
        // A heavy weight comes first far more often.
        let heavy = WeightedRandomSampler(weights: [100, 1, 1], numSamples: 1, replacement: false, seed: 1)
        let firsts = (0..<200).map { heavy.indices(epoch: $0)[0] }
        XCTAssertGreaterThan(firsts.filter { $0 == 0 }.count, 180)
    }

    func testBatchSampler() {
        let keep = BatchSampler(SequentialSampler(count: 7), batchSize: 3, dropLast: false)
        XCTAssertEqual(keep.count, 3)
        XCTAssertEqual(keep.batches(epoch: 0), [[0, 1, 2], [3, 4, 5], [6]])
        let drop = BatchSampler(SequentialSampler(count: 7), batchSize: 3, dropLast: true)
        XCTAssertEqual(drop.count, 2)
        XCTAssertEqual(drop.batches(epoch: 0), [[0, 1, 2], [3, 4, 5]])
        let random = BatchSampler(RandomSampler(count: 10, seed: 2), batchSize: 4)
        XCTAssertEqual(random.batches(epoch: 1).flatMap { $0 }, RandomSampler(count: 10, seed: 2).indices(epoch: 1))
        XCTAssertEqual(random.batches(epoch: 1).map(\.count), [4, 4, 2])
    }
}
