// Fashion-MNIST from Debian's dataset-fashion-mnist package (skipped with a reason when it
// is not installed), and the error that names the package when it is missing.
import Foundation
import XCTest
import Ember
@testable import EmberData

final class FashionMNISTTests: XCTestCase {
    static let installed = FileManager.default.fileExists(atPath: FashionMNIST.defaultRoot + "/train-images-idx3-ubyte.gz")

    func requireInstalled() throws {
        if !Self.installed {
            throw XCTSkip("Fashion-MNIST is not installed in \(FashionMNIST.defaultRoot) (apt-get install dataset-fashion-mnist)")
        }
    }

    func testMissingFilesErrorNamesThePackageAndCommand() throws {
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        expectDatasetError(.notInstalled, dir.path("train-images-idx3-ubyte.gz"), "dataset-fashion-mnist",
                           "apt-get install dataset-fashion-mnist") {
            _ = try FashionMNIST(split: .train, root: dir.url.path)
        }
    }

    func testTestSplit() throws {
        try requireInstalled()
        let test = try FashionMNIST(split: .test)
        XCTAssertEqual(test.count, 10_000)
        XCTAssertEqual(test.images.shape, [10_000, 1, 28, 28])
        XCTAssertEqual((0..<10).map { test[$0].1 }, [9, 2, 1, 1, 6, 1, 4, 6, 5, 7])
        XCTAssertEqual(FashionMNIST.classes[test[0].1], "Ankle boot")
        // Balanced: 1000 per class.
        var histogram = [Int](repeating: 0, count: 10)
        for label in test.labels.asArray(Int.self) { histogram[label] += 1 }
        XCTAssertEqual(histogram, [Int](repeating: 1000, count: 10))
    }

    func testTrainSplitValuesAndFullEpoch() throws {
        try requireInstalled()
        let start = Date()
        let train = try FashionMNIST(split: .train)
        let loadSeconds = Date().timeIntervalSince(start)
        XCTAssertEqual(train.count, 60_000)
        XCTAssertEqual((0..<10).map { train[$0].1 }, [9, 0, 0, 3, 0, 2, 7, 2, 5, 5])
        let (image, _) = train[0]
        XCTAssertEqual(image.shape, [1, 28, 28])
        XCTAssertEqual(image.dtype, .float32)
        let head = train.images.narrow(dim: 0, start: 0, length: 2000)   // (the full 47M-pixel scan is slow in debug builds)
        XCTAssertEqual(head.min().item(Double.self), 0)
        XCTAssertEqual(head.max().item(Double.self), 1)
        // Pixels are multiples of 1/255.
        let firstPixels = image.asArray(Float.self)
        XCTAssertTrue(firstPixels.allSatisfy { ($0 * 255).rounded() / 255 == $0 })
        XCTAssertGreaterThan(firstPixels.filter { $0 > 0 }.count, 300)

        var seen = 0
        var labelSum = 0
        let epochStart = Date()
        for (x, y) in DataLoader(train, batchSize: 128, shuffle: true, seed: 0) {
            XCTAssertEqual(x.shape[1...], [1, 28, 28])
            seen += x.shape[0]
            labelSum += y.sum().item(Int.self)
        }
        let epochSeconds = Date().timeIntervalSince(epochStart)
        XCTAssertEqual(seen, 60_000)
        XCTAssertEqual(labelSum, 6000 * 45)   // 6000 of each class 0...9
        print("FashionMNIST train: decode \(String(format: "%.2f", loadSeconds)) s, one epoch at batch 128 \(String(format: "%.2f", epochSeconds)) s")
    }
}
