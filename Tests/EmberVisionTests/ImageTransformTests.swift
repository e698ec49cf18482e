// Resize (PIL's antialiased bilinear), CenterCrop (torchvision's rounding) and ImageNet
// preprocessing against reference values.
import Ember
import EmberVision
import Foundation
import XCTest

final class ImageTransformTests: XCTestCase {
    func testBilinearResizeEqualsPILExactly() throws {
        let source = try Image(contentsOf: VisionFixtures.url("resize_source.png"))
        XCTAssertEqual(VisionFixtures.shared.resized.count, 6)
        for (key, expected) in VisionFixtures.shared.resized {
            let resized = Resize(width: expected.width, height: expected.height)(source)
            XCTAssertEqual(resized.width, expected.width, key)
            XCTAssertEqual(resized.height, expected.height, key)
            XCTAssertEqual(maxDifference(resized, expected), 0, "\(key): resize differs from PIL's")
        }
    }

    func testShorterSideSizeTruncatesLikeTorchvision() {
        let resize = Resize(shorterSide: 256)
        XCTAssertTrue(resize.outputSize(width: 640, height: 427) == (383, 256))
        XCTAssertTrue(resize.outputSize(width: 427, height: 640) == (256, 383))
        XCTAssertTrue(resize.outputSize(width: 300, height: 300) == (256, 256))
    }

    func testResizeToSameSizeIsIdentity() throws {
        let source = try Image(contentsOf: VisionFixtures.url("resize_source.png"))
        XCTAssertEqual(Resize(width: source.width, height: source.height)(source), source)
    }

    func testCenterCropRoundsHalvesToEven() {
        // (383 − 224) / 2 = 79.5 → 80 with Python's round; (256 − 224) / 2 = 16.
        XCTAssertTrue(CenterCrop(size: 224).origin(width: 383, height: 256) == (80, 16))
        XCTAssertTrue(CenterCrop(size: 2).origin(width: 5, height: 7) == (2, 2))   // 1.5 → 2, 2.5 → 2
    }

    func testCenterCropTakesTheMiddlePixels() {
        let pixels = (0..<20).map { UInt8($0) }
        let image = Image(width: 5, height: 4, channels: 1, pixels: pixels)
        let crop = CenterCrop(width: 3, height: 2)(image)
        XCTAssertEqual(crop.pixels, [6, 7, 8, 11, 12, 13])
    }

    func testCenterCropPadsSmallImagesWithZeros() {
        let image = Image(width: 1, height: 1, channels: 1, pixels: [9])
        XCTAssertEqual(CenterCrop(size: 3)(image).pixels, [0, 0, 0, 0, 9, 0, 0, 0, 0])
    }

    func testImageNetPreprocessingNormalisesEachChannel() {
        // A constant 300×260 image: every output value is (v/255 − mean) / std.
        let image = Image(width: 300, height: 260, channels: 3, pixels: [UInt8](repeating: 0, count: 300 * 260 * 3).enumerated().map {
            [UInt8(51), 102, 204][$0.offset % 3]
        })
        let x = ImageNetPreprocessing()(image)
        XCTAssertEqual(x.shape, [3, 224, 224])
        let values = x.asArray(Float.self)
        for (c, v) in [51, 102, 204].enumerated() {
            let expected = (Float(v) / 255 - Float(ImageNetPreprocessing.mean[c])) / Float(ImageNetPreprocessing.std[c])
            XCTAssertEqual(values[c * 224 * 224], expected)
            XCTAssertEqual(values[c * 224 * 224 + 224 * 224 - 1], expected)
        }
    }

    func testBatchStacksImages() throws {
        let a = try Image(contentsOf: VisionFixtures.url("photo420.jpg"))
        let b = try Image(contentsOf: VisionFixtures.url("rgb8.png"))
        let preprocess = ImageNetPreprocessing(resizeShorterSide: 20, cropSize: 16)
        let batch = preprocess.batch([a, b])
        XCTAssertEqual(batch.shape, [2, 3, 16, 16])
        XCTAssertEqual(batch[1].asArray(Float.self), preprocess(b).asArray(Float.self))
    }
}
