// The legacy (pre-1.6, non-zip) torch.save format, which torchvision's published weights use:
// a tiny file written by torch 2.13 with _use_new_zipfile_serialization=False
// (scripts/make_mobilenet_fixtures.py).
import Ember
import Foundation
import XCTest

final class LegacyCheckpointTests: XCTestCase {
    private var url: URL { Bundle.module.url(forResource: "legacy_checkpoint", withExtension: "pth", subdirectory: "Fixtures")! }

    func testLegacyFileLoadsEveryTensorWithItsValues() throws {
        let tensors = try TorchCheckpoint.load(url)
        XCTAssertEqual(Set(tensors.keys), ["w", "row", "n", "h", "nested.b"])
        XCTAssertEqual(tensors["w"]?.shape, [2, 3])
        XCTAssertEqual(tensors["w"]?.asArray(Float.self), [0, 0.25, 0.5, 0.75, 1, 1.25])
        XCTAssertEqual(tensors["row"]?.asArray(Float.self), [0.75, 1, 1.25])
        XCTAssertEqual(tensors["n"]?.dtype, .int64)
        XCTAssertEqual(tensors["n"]?.item(Int64.self), 7)
        XCTAssertEqual(tensors["h"]?.dtype, .float16)
        XCTAssertEqual(tensors["h"]?.to(.float32).asArray(Float.self), [1.5, -2])
        XCTAssertEqual(tensors["nested.b"]?.asArray(Bool.self), [true, false])
    }

    func testViewsShareTheirStorage() throws {
        let tensors = try TorchCheckpoint.load(url)
        let w = try XCTUnwrap(tensors["w"]), row = try XCTUnwrap(tensors["row"])
        XCTAssertTrue(w.storage === row.storage)
        XCTAssertEqual(row.offset, 3)
    }

    func testEveryPrefixAndByteFlipParsesOrThrowsTypedError() throws {
        let data = try Data(contentsOf: url)
        var parsed = 0, refused = 0
        func attempt(_ bytes: Data) {
            do { _ = try TorchCheckpoint.decode(bytes, path: "mutated.pth").flattenedTensors(); parsed += 1 }
            catch is TorchCheckpointError { refused += 1 }
            catch { XCTFail("untyped error \(error)") }
        }
        for length in 0..<data.count { attempt(data.prefix(length)) }
        for i in 0..<data.count {
            var flipped = data
            flipped[i] ^= 0xFF
            attempt(flipped)
        }
        XCTAssertEqual(parsed + refused, 2 * data.count)
        XCTAssertGreaterThan(refused, data.count)   // every strict prefix is refused
    }

    func testTruncatedLegacyFileThrowsNamingIt() throws {
        let data = try Data(contentsOf: url)
        for length in [20, data.count / 2, data.count - 3] {
            XCTAssertThrowsError(try TorchCheckpoint.decode(data.prefix(length), path: "cut.pth")) { error in
                XCTAssertTrue(error is TorchCheckpointError, "\(error)")
                XCTAssertTrue("\(error)".hasPrefix("cut.pth"), "\(error)")
            }
        }
    }
}
