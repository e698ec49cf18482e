// The `ember` tool run as a user runs it: training and evaluating on a tiny dataset in the
// Fashion-MNIST file format, and one clear error line with a non-zero exit for bad input.
import Foundation
import XCTest
import Ember

final class CommandLineToolTests: XCTestCase {
    /// IDX bytes: magic (0, 0, type 0x08 = ubyte, rank), big-endian sizes, then the data.
    private func idx(_ dims: [Int], _ values: [UInt8]) -> Data {
        var data = Data([0, 0, 0x08, UInt8(dims.count)])
        for d in dims { withUnsafeBytes(of: UInt32(d).bigEndian) { data.append(contentsOf: $0) } }
        data.append(contentsOf: values)
        return data
    }

    /// A dataset in Fashion-MNIST's file layout where class c is a bright band at rows 2c, 2c+1.
    private func writeBandDataset(in directory: URL, train: Int, test: Int) throws {
        func images(_ n: Int) -> (Data, Data) {
            var pixels: [UInt8] = [], labels: [UInt8] = []
            for i in 0..<n {
                let label = i % 10
                labels.append(UInt8(label))
                for row in 0..<28 {
                    for column in 0..<28 {
                        let inBand = row / 2 == label
                        pixels.append(inBand ? 255 : UInt8((row * 7 + column * 13 + i) % 40))
                    }
                }
            }
            return (idx([n, 28, 28], pixels), idx([n], labels))
        }
        let (trainImages, trainLabels) = images(train), (testImages, testLabels) = images(test)
        try trainImages.write(to: directory.appendingPathComponent("train-images-idx3-ubyte"))
        try trainLabels.write(to: directory.appendingPathComponent("train-labels-idx1-ubyte"))
        try testImages.write(to: directory.appendingPathComponent("t10k-images-idx3-ubyte"))
        try testLabels.write(to: directory.appendingPathComponent("t10k-labels-idx1-ubyte"))
    }

    func testTrainsSavesAndEvaluatesOnATinyDataset() throws {
        let dir = try scratchDirectory()
        try writeBandDataset(in: dir, train: 400, test: 100)
        let checkpoint = dir.appendingPathComponent("mlp.safetensors").path
        let training = try runEmber(["train", "fashion-mnist", "--data", dir.path, "--epochs", "3", "--batch-size", "20",
                                "--seed", "1", "--save", checkpoint])
        XCTAssertEqual(training.status, 0, training.stderr)
        XCTAssertTrue(training.stdout.contains("epoch 3/3  loss "), training.stdout)
        XCTAssertTrue(training.stdout.contains("test accuracy 100.00%"), training.stdout)
        let evaluation = try runEmber(["eval", "--checkpoint", checkpoint, "--data", dir.path])
        XCTAssertEqual(evaluation.status, 0, evaluation.stderr)
        XCTAssertTrue(evaluation.stdout.contains("(mlp): test accuracy 100.00% on 100 images"), evaluation.stdout)
        let weights = try Safetensors.load(URL(fileURLWithPath: checkpoint))
        XCTAssertEqual(weights["1.weight"]?.shape, [512, 784], "Sequential names: Flatten is 0, the first Linear 1")
    }

    func testUnknownOptionIsRejected() throws {
        let result = try runEmber(["train", "fashion-mnist", "--bogus"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("Unknown option '--bogus'"), result.stderr)
    }

    func testBadValuesAreRejectedBeforeTraining() throws {
        let result = try runEmber(["train", "fashion-mnist", "--epochs", "0"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("--epochs must be positive"), result.stderr)
        let unknownModel = try runEmber(["train", "fashion-mnist", "--model", "transformer"])
        XCTAssertNotEqual(unknownModel.status, 0)
        XCTAssertTrue(unknownModel.stderr.contains("transformer"), unknownModel.stderr)
    }

    func testMissingDatasetNamesTheDebianPackage() throws {
        let result = try runEmber(["train", "fashion-mnist", "--data", "/nonexistent-ember-data", "--epochs", "1"])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.hasPrefix("error: "), result.stderr)
        XCTAssertTrue(result.stderr.contains("apt-get install dataset-fashion-mnist"), result.stderr)
    }

    func testCorruptCheckpointGivesOneErrorLine() throws {
        let dir = try scratchDirectory()
        let path = dir.appendingPathComponent("broken.safetensors")
        try Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).write(to: path)
        let result = try runEmber(["eval", "--checkpoint", path.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("invalid safetensors file"), result.stderr)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
    }

    func testCheckpointOfAnotherArchitectureIsRefusedWithTheKeys() throws {
        let dir = try scratchDirectory()
        let path = dir.appendingPathComponent("other.safetensors")
        try Safetensors.save(["weight": Tensor.zeros([3, 3])], to: path,
                             metadata: ["ember.task": "fashion-mnist", "ember.architecture": "cnn"])
        let result = try runEmber(["eval", "--checkpoint", path.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("does not fit the cnn architecture"), result.stderr)
        XCTAssertTrue(result.stderr.contains("missing keys: 0.weight"), result.stderr)
        XCTAssertTrue(result.stderr.contains("unexpected keys: weight"), result.stderr)
    }

    func testFailedRunLeavesAnExistingCheckpointUntouched() throws {
        let dir = try scratchDirectory()
        try writeBandDataset(in: dir, train: 20, test: 10)
        // Truncate the training images so loading fails after the run has started.
        let imagesPath = dir.appendingPathComponent("train-images-idx3-ubyte")
        let images = try Data(contentsOf: imagesPath)
        try images.prefix(images.count / 2).write(to: imagesPath)
        let checkpoint = dir.appendingPathComponent("keep.safetensors")
        let original = Data("previous checkpoint".utf8)
        try original.write(to: checkpoint)
        let result = try runEmber(["train", "fashion-mnist", "--data", dir.path, "--save", checkpoint.path])
        XCTAssertEqual(result.status, 1)
        XCTAssertTrue(result.stderr.contains("train-images-idx3-ubyte"), result.stderr)
        XCTAssertEqual(try Data(contentsOf: checkpoint), original)
    }
}
