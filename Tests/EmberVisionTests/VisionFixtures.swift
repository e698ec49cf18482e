// Locating the committed test images and PIL's reference pixels (scripts/make_image_fixtures.py).
import EmberVision
import Foundation
import XCTest

/// PIL's decode and bilinear resizes of the fixture images.
struct VisionFixtures: Decodable {
    struct Pixels: Decodable {
        let width: Int
        let height: Int
        let rgb: [Int]
    }
    let decoded: [String: Pixels]
    let resized: [String: Pixels]

    /// The fixture directory copied into the test bundle.
    static var directory: URL { Bundle.module.url(forResource: "Fixtures", withExtension: nil)! }

    /// The URL of one fixture file.
    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    /// `expected.json`, parsed once.
    static let shared: VisionFixtures = {
        let data = try! Data(contentsOf: url("expected.json"))
        return try! JSONDecoder().decode(VisionFixtures.self, from: data)
    }()
}

/// The largest absolute difference between an image's bytes and reference values.
func maxDifference(_ image: Image, _ expected: VisionFixtures.Pixels) -> Int {
    zip(image.pixels, expected.rgb).map { abs(Int($0) - $1) }.max() ?? 0
}
