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
}
