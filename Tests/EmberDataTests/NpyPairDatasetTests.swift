// NpyPairDataset: two .npy files as (features, labels), and its errors.
import Foundation
import XCTest
import Ember
@testable import EmberData

final class NpyPairDatasetTests: XCTestCase {
    var dir: ScratchDirectory!
    override func setUpWithError() throws { dir = try ScratchDirectory() }
    override func tearDown() { dir.remove() }

    func testLoadsPairsAndBatches() throws {
        let x = Tensor((0..<8).map { Float($0) }, shape: [4, 2]), y = Tensor([3, 1, 4, 1] as [Int], shape: [4])
        try x.save(npy: dir.url.appendingPathComponent("x.npy"))
        try y.save(npy: dir.url.appendingPathComponent("y.npy"))
        let data = try NpyPairDataset(features: dir.url.appendingPathComponent("x.npy"), labels: dir.url.appendingPathComponent("y.npy"))
        XCTAssertEqual(data.count, 4)
        XCTAssertEqual(values(data[2].0), [4, 5])
        XCTAssertEqual(data[2].1.item(Int.self), 4)
        let batches = Array(DataLoader(data, batchSize: 3))
        XCTAssertEqual(batches[0].1.asArray(Int.self), [3, 1, 4])
        XCTAssertEqual(values(batches[1].0), [6, 7])
    }

    func testMismatchedCountsAndBadFiles() throws {
        try Tensor.zeros([4, 2]).save(npy: dir.url.appendingPathComponent("x.npy"))
        try Tensor.zeros([3]).save(npy: dir.url.appendingPathComponent("y.npy"))
        expectDatasetError(.sizeMismatch, "y.npy: holds 3 labels but", "x.npy holds 4 samples") {
            _ = try NpyPairDataset(features: dir.url.appendingPathComponent("x.npy"), labels: dir.url.appendingPathComponent("y.npy"))
        }
        try dir.write("broken.npy", [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, 200, 0])
        XCTAssertThrowsError(try NpyPairDataset(features: dir.url.appendingPathComponent("broken.npy"),
                                                labels: dir.url.appendingPathComponent("y.npy"))) { error in
            let e = error as? TensorIOError
            XCTAssertEqual(e?.kind, .truncated)
            XCTAssertTrue(e?.path.hasSuffix("broken.npy") ?? false)
        }
    }
}
