// TensorDataset, Subset, ConcatDataset, AnyDataset and randomSplit.
import XCTest
import Ember
@testable import EmberData

final class DatasetTests: XCTestCase {
    let x = Tensor((0..<12).map { Float($0) }, shape: [6, 2])
    let y = Tensor([0, 1, 0, 1, 1, 0] as [Int], shape: [6])

    func testTensorDatasetElementTypes() {
        let single = TensorDataset(x)
        XCTAssertEqual(single.count, 6)
        XCTAssertEqual(values(single[2]), [4, 5])

        let pairs = TensorDataset(x, y)
        let (features, label) = pairs[3]
        XCTAssertEqual(values(features), [6, 7])
        XCTAssertEqual(label.shape, [])
        XCTAssertEqual(label.item(Int.self), 1)

        let triple = TensorDataset(x, y, x * 10)
        XCTAssertEqual(triple[5].count, 3)
        XCTAssertEqual(values(triple[5][2]), [100, 110])
        XCTAssertEqual(TensorDataset(tensors: [x]).count, 6)
    }

    func testTensorDatasetBatchFastPathMatchesStacking() throws {
        let pairs = TensorDataset(x, y)
        for indices in [[1, 2, 3], [5, 0, 3], [4]] {
            let fields = try XCTUnwrap(pairs.batchTensors(at: indices))
            XCTAssertEqual(fields[0].shape, [indices.count, 2])
            XCTAssertEqual(values(fields[0]), indices.flatMap { values(pairs[$0].0) })
            XCTAssertEqual(fields[1].asArray(Int.self), indices.map { pairs[$0].1.item(Int.self) })
        }
    }

    func testSubsetAndConcat() throws {
        let data = TensorDataset(x)
        let subset = Subset(data, indices: [4, 1])
        XCTAssertEqual(subset.count, 2)
        XCTAssertEqual(values(subset[0]), [8, 9])
        XCTAssertEqual(values(subset[1]), [2, 3])
        XCTAssertEqual(values(try XCTUnwrap(subset.batchTensors(at: [1, 0]))[0]), [2, 3, 8, 9])

        let concat = ConcatDataset([Subset(data, indices: [0]), Subset(data, indices: [5, 3]), Subset(data, indices: [])])
        XCTAssertEqual(concat.count, 3)
        XCTAssertEqual(concat.cumulativeSizes, [1, 3, 3])
        XCTAssertEqual((0..<3).map { values(concat[$0]) }, [[0, 1], [10, 11], [6, 7]])

        let mixed = ConcatDataset([data.eraseToAnyDataset(), subset.eraseToAnyDataset()])
        XCTAssertEqual(mixed.count, 8)
        XCTAssertEqual(values(mixed[6]), [8, 9])
        XCTAssertEqual(values(mixed[5]), [10, 11])
    }

    func testRandomSplitSizesAndDisjointness() {
        let data = TensorDataset(Tensor.arange(0, 100))
        let parts = randomSplit(data, lengths: [70, 20, 10], generator: Generator(seed: 7))
        XCTAssertEqual(parts.map(\.count), [70, 20, 10])
        let all = parts.flatMap(\.indices)
        XCTAssertEqual(Set(all).count, 100)
        XCTAssertEqual(all.sorted(), Array(0..<100))
        XCTAssertNotEqual(parts[0].indices, Array(0..<70))   // shuffled
        // The sample is the base dataset's sample at the chosen index.
        XCTAssertEqual(parts[1][3].item(Int.self), parts[1].indices[3])
        // Same seed, same split; another seed, another split.
        XCTAssertEqual(randomSplit(data, lengths: [70, 20, 10], generator: Generator(seed: 7))[0].indices, parts[0].indices)
        XCTAssertNotEqual(randomSplit(data, lengths: [70, 20, 10], generator: Generator(seed: 8))[0].indices, parts[0].indices)
    }

    func testRandomSplitByFractions() {
        let data = TensorDataset(Tensor.arange(0, 10))
        let parts = randomSplit(data, fractions: [0.34, 0.33, 0.33], generator: Generator(seed: 1))
        // floor gives 3, 3, 3; the remaining 1 goes to the first part (PyTorch's rule).
        XCTAssertEqual(parts.map(\.count), [4, 3, 3])
        XCTAssertEqual(Set(parts.flatMap(\.indices)), Set(0..<10))
        let halves = randomSplit(data, fractions: [0.5, 0.5], generator: Generator(seed: 1))
        XCTAssertEqual(halves.map(\.count), [5, 5])
    }
}
