// Corrupt, truncated, empty and non-image files throw ImageError naming the file; nothing crashes.
import EmberVision
import Foundation
import XCTest

final class ImageErrorTests: XCTestCase {
    private func error(reading name: String) -> ImageError? {
        do {
            _ = try Image(contentsOf: VisionFixtures.url(name))
            return nil
        } catch let error as ImageError {
            return error
        } catch {
            XCTFail("\(name): unexpected error type \(type(of: error)): \(error)")
            return nil
        }
    }

    func testTruncatedJPEGThrowsCorrupt() throws {
        let error = try XCTUnwrap(self.error(reading: "truncated.jpg"), "a truncated JPEG decoded")
        guard case let .corrupt(file, format, reason) = error else { return XCTFail("got \(error)") }
        XCTAssertTrue(file.hasSuffix("truncated.jpg"))
        XCTAssertEqual(format, "JPEG")
        XCTAssertTrue(reason.contains("truncated"), reason)
        XCTAssertTrue(error.description.contains("truncated.jpg: corrupt JPEG"), error.description)
    }

    func testTruncatedPNGThrowsCorrupt() throws {
        let error = try XCTUnwrap(self.error(reading: "truncated.png"), "a truncated PNG decoded")
        guard case let .corrupt(_, format, reason) = error else { return XCTFail("got \(error)") }
        XCTAssertEqual(format, "PNG")
        XCTAssertFalse(reason.isEmpty)
    }

    func testPNGWithBadChecksumThrowsCorrupt() throws {
        let error = try XCTUnwrap(self.error(reading: "bad_crc.png"), "a PNG with a bad CRC decoded")
        guard case let .corrupt(_, _, reason) = error else { return XCTFail("got \(error)") }
        XCTAssertTrue(reason.lowercased().contains("crc"), reason)
    }

    func testTextFileNamedPNGIsUnknownFormat() throws {
        let error = try XCTUnwrap(self.error(reading: "not_an_image.png"))
        XCTAssertEqual(error, .unknownFormat(file: VisionFixtures.url("not_an_image.png").path, firstBytes: "74 68 69 73"))
    }

    func testEmptyFileIsUnknownFormat() throws {
        let error = try XCTUnwrap(self.error(reading: "empty.jpg"))
        XCTAssertTrue(error.description.hasSuffix("empty.jpg: not a JPEG or PNG file (the file is empty)"), error.description)
    }

    func testMissingFileIsUnreadable() throws {
        let error = try XCTUnwrap(self.error(reading: "no-such-file.jpg"))
        guard case let .unreadable(file, reason) = error else { return XCTFail("got \(error)") }
        XCTAssertTrue(file.hasSuffix("no-such-file.jpg"))
        XCTAssertEqual(reason, "no such file")
    }

    func testJPEGHeaderFollowedByGarbageThrows() {
        var bytes: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE0]
        bytes += (0..<200).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        XCTAssertThrowsError(try Image(decoding: Data(bytes), name: "garbage.jpg")) { error in
            XCTAssertTrue("\(error)".hasPrefix("garbage.jpg: corrupt JPEG: "), "\(error)")
        }
    }

    func testEveryTruncationOfAJPEGThrowsOrDecodes() throws {
        // No prefix of a valid file may crash the process (libjpeg's default handler would exit).
        let data = try Data(contentsOf: VisionFixtures.url("progressive.jpg"))
        var failures = 0
        for length in stride(from: 0, to: data.count, by: 7) {
            do { _ = try Image(decoding: data.prefix(length), name: "cut.jpg") } catch is ImageError { failures += 1 }
        }
        XCTAssertGreaterThan(failures, 0)
    }

    func testJPEGDeclaringTooManyPixelsIsRefusedBeforeDecoding() throws {
        // photo420.jpg with its frame header (SOF0) changed to claim 20000 × 20000 pixels.
        var bytes = [UInt8](try Data(contentsOf: VisionFixtures.url("photo420.jpg")))
        let sof = try XCTUnwrap((0..<bytes.count - 9).first { bytes[$0] == 0xFF && (bytes[$0 + 1] == 0xC0 || bytes[$0 + 1] == 0xC2) })
        for offset in [sof + 5, sof + 7] { bytes[offset] = 0x4E; bytes[offset + 1] = 0x20 }   // 20000, big-endian
        XCTAssertThrowsError(try Image(decoding: Data(bytes), name: "bomb.jpg")) { error in
            XCTAssertEqual(error as? ImageError, .tooLarge(file: "bomb.jpg", format: "JPEG", width: 20000, height: 20000,
                                                           limit: Image.maximumPixels))
            XCTAssertTrue("\(error)".contains("over the limit of 178956970 pixels"), "\(error)")
        }
    }

    func testPNGDeclaringTooManyPixelsIsRefusedAndTheLimitCanBeRaised() throws {
        // rgb8.png with its IHDR changed to claim 30000 × 30000 pixels (checksum redone).
        var bytes = [UInt8](try Data(contentsOf: VisionFixtures.url("rgb8.png")))
        XCTAssertEqual(Array(bytes[12..<16]), Array("IHDR".utf8))
        for offset in [16, 20] { bytes.replaceSubrange(offset..<offset + 4, with: [0x00, 0x00, 0x75, 0x30]) }   // 30000
        let checksum = crc32(bytes[12..<29])
        bytes.replaceSubrange(29..<33, with: [UInt8(checksum >> 24), UInt8(checksum >> 16 & 0xFF), UInt8(checksum >> 8 & 0xFF), UInt8(checksum & 0xFF)])
        XCTAssertThrowsError(try Image(decoding: Data(bytes), name: "bomb.png")) { error in
            XCTAssertEqual(error as? ImageError, .tooLarge(file: "bomb.png", format: "PNG", width: 30000, height: 30000,
                                                           limit: Image.maximumPixels))
        }
        // Past a raised limit the same header reaches the decoder, which finds the data too short.
        let saved = Image.maximumPixels
        Image.maximumPixels = 1_000_000_000
        defer { Image.maximumPixels = saved }
        XCTAssertThrowsError(try Image(decoding: Data(bytes), name: "bomb.png")) { error in
            XCTAssertTrue("\(error)".hasPrefix("bomb.png: corrupt PNG: "), "\(error)")
        }
    }

    /// CRC-32 (ISO-HDLC, as PNG chunks use).
    private func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }
}
