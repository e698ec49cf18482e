// JPEG and PNG decoding against PIL's pixels (after convert("RGB")).
import EmberVision
import Foundation
import XCTest

final class ImageDecodingTests: XCTestCase {
    private func assertDecodesLikePIL(_ name: String, tolerance: Int = 0, file: StaticString = #filePath, line: UInt = #line) throws {
        let image = try Image(contentsOf: VisionFixtures.url(name))
        let expected = try XCTUnwrap(VisionFixtures.shared.decoded[name], "no reference for \(name)")
        XCTAssertEqual(image.width, expected.width, name, file: file, line: line)
        XCTAssertEqual(image.height, expected.height, name, file: file, line: line)
        XCTAssertEqual(image.channels, 3, name, file: file, line: line)
        XCTAssertEqual(image.pixels.count, expected.rgb.count, name, file: file, line: line)
        let difference = maxDifference(image, expected)
        if tolerance > 0 { print("ImageDecodingTests: \(name): max |Ember - PIL| = \(difference)") }
        XCTAssertLessThanOrEqual(difference, tolerance, "\(name): pixels differ from PIL's", file: file, line: line)
    }

    func testRGB8PNGEqualsPIL() throws { try assertDecodesLikePIL("rgb8.png") }
    func testRGBAPNGDropsAlphaLikePIL() throws { try assertDecodesLikePIL("rgba8.png") }
    func testGray8PNGIsReplicatedToRGB() throws { try assertDecodesLikePIL("gray8.png") }
    func testGrayAlphaPNGEqualsPIL() throws { try assertDecodesLikePIL("gray_alpha8.png") }
    func testPalettePNGWithTransparencyEqualsPIL() throws { try assertDecodesLikePIL("palette.png") }
    func testOneBitGrayPNGEqualsPIL() throws { try assertDecodesLikePIL("gray1.png") }
    func testSixteenBitRGBPNGKeepsHighByteLikePIL() throws { try assertDecodesLikePIL("rgb16.png") }
    func testSixteenBitGrayPNGKeepsHighByte() throws { try assertDecodesLikePIL("gray16.png") }

    // libjpeg-turbo 2.1 here, PIL's bundled libjpeg-turbo there: same integer IDCT and
    // upsampling, so the pixels agree within a small tolerance (measured: see the report).
    func testBaselineJPEG420MatchesPIL() throws { try assertDecodesLikePIL("photo420.jpg", tolerance: 2) }
    func testBaselineJPEG444MatchesPIL() throws { try assertDecodesLikePIL("photo444.jpg", tolerance: 2) }
    func testProgressiveJPEGMatchesPIL() throws { try assertDecodesLikePIL("progressive.jpg", tolerance: 2) }
    func testGrayJPEGIsExpandedToRGB() throws {
        try assertDecodesLikePIL("gray.jpg", tolerance: 2)
        let image = try Image(contentsOf: VisionFixtures.url("gray.jpg"))
        XCTAssertEqual(image[3, 4, 0], image[3, 4, 2])
    }

    func testFormatIsDetectedFromBytesNotExtension() throws {
        let data = try Data(contentsOf: VisionFixtures.url("rgb8.png"))
        let image = try Image(decoding: data, name: "misnamed.jpg")
        XCTAssertEqual(image.width, 7)
        XCTAssertEqual(image.height, 5)
    }

    func testRGBOfGrayImageReplicatesChannels() {
        let gray = Image(width: 2, height: 1, channels: 1, pixels: [10, 200])
        XCTAssertEqual(gray.rgb().pixels, [10, 10, 10, 200, 200, 200])
    }
}
