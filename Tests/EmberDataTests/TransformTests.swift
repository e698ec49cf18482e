// Transforms: exact values for crops, flips, normalisation and byte conversion.
import XCTest
import Ember
@testable import EmberData

final class TransformTests: XCTestCase {
    /// A 1×4×5 image with pixel (r, c) = 10r + c.
    let image = Tensor((0..<4).flatMap { r in (0..<5).map { c in Float(10 * r + c) } }, shape: [1, 4, 5])

    func testRandomCropExactWindow() {
        let crop = RandomCrop(height: 2, width: 3)
        // The crop draws the top row, then the left column, each uniform over the valid range.
        let g = Generator(seed: 123), replay = Generator(seed: 123)
        let top = Randomness.below(3, replay), left = Randomness.below(3, replay)
        let out = crop(image, generator: g)
        XCTAssertEqual(out.shape, [1, 2, 3])
        let expected = (top..<(top + 2)).flatMap { r in (left..<(left + 3)).map { c in Double(10 * r + c) } }
        XCTAssertEqual(values(out), expected)
        // Every position is reachable, and the same seed repeats the crop.
        var corners = Set<Double>()
        for seed in 0..<200 { corners.insert(values(crop(image, generator: Generator(seed: UInt64(seed))))[0]) }
        XCTAssertEqual(corners, [0, 1, 2, 10, 11, 12, 20, 21, 22])
        XCTAssertEqual(values(crop(image, generator: Generator(seed: 123))), expected)
    }

    func testRandomCropWithPaddingHasZeroBorder() {
        let crop = RandomCrop(height: 4, width: 5, padding: 2)
        var sawShift = false
        for seed in 0..<50 {
            let replay = Generator(seed: UInt64(seed))
            let top = Randomness.below(5, replay) - 2, left = Randomness.below(5, replay) - 2
            let out = crop(image, generator: Generator(seed: UInt64(seed)))
            XCTAssertEqual(out.shape, [1, 4, 5])
            let expected = (0..<4).flatMap { r in (0..<5).map { c -> Double in
                let (sr, sc) = (r + top, c + left)
                return sr >= 0 && sr < 4 && sc >= 0 && sc < 5 ? Double(10 * sr + sc) : 0
            } }
            XCTAssertEqual(values(out), expected, "seed \(seed)")
            if top != 0 || left != 0 { sawShift = true }
        }
        XCTAssertTrue(sawShift)
        // Full-size crop without padding is the identity.
        XCTAssertEqual(values(RandomCrop(height: 4, width: 5)(image, generator: Generator(seed: 0))), values(image))
    }

    func testRandomHorizontalFlip() {
        let row = Tensor([1, 2, 3] as [Float], shape: [1, 1, 3])
        XCTAssertEqual(values(RandomHorizontalFlip(p: 1)(row, generator: Generator(seed: 0))), [3, 2, 1])
        XCTAssertEqual(values(RandomHorizontalFlip(p: 0)(row, generator: Generator(seed: 0))), [1, 2, 3])
        let flip = RandomHorizontalFlip(p: 0.5)
        for seed in 0..<20 {
            let replay = Generator(seed: UInt64(seed))
            let flips = Randomness.unit(replay) < 0.5
            XCTAssertEqual(values(flip(image, generator: Generator(seed: UInt64(seed)))),
                           values(flips ? image.flip([2]) : image), "seed \(seed)")
        }
        let flipped = (0..<1000).filter { values(flip(row, generator: Generator(seed: UInt64($0))))[0] == 3 }.count
        XCTAssertEqual(Double(flipped), 500, accuracy: 70)
        XCTAssertEqual(values(RandomHorizontalFlip(p: 1)(image, generator: .default))[0..<5], [4, 3, 2, 1, 0])
    }

    func testNormalize() {
        let rgb = Tensor([0, 1, 2, 3, 4, 5] as [Float], shape: [3, 1, 2])
        let out = Normalize(mean: [1, 2, 3], std: [1, 2, 0.5])(rgb)
        XCTAssertEqual(values(out), [-1, 0, 0, 0.5, 2, 4])
        XCTAssertEqual(out.dtype, .float32)
        let batch = Normalize(mean: [0.5], std: [0.25])(Tensor.ones([2, 1, 2, 2]))
        XCTAssertEqual(batch.shape, [2, 1, 2, 2])
        XCTAssertEqual(values(batch), [Double](repeating: 2, count: 8))
    }

    func testToTensorFromBytes() {
        // A 2×2 RGB image, interleaved (HWC): pixel p has channels (p, 100 + p, 255).
        let bytes: [UInt8] = (0..<4).flatMap { p in [UInt8(p), UInt8(100 + p), 255] }
        let chw = ToTensor.convert(bytes, height: 2, width: 2, channels: 3)
        XCTAssertEqual(chw.shape, [3, 2, 2])
        XCTAssertEqual(chw.dtype, .float32)
        XCTAssertEqual(chw.asArray(Float.self), [0, 1, 2, 3, 100, 101, 102, 103, 255, 255, 255, 255].map { Float($0) / 255 })
        let planar = ToTensor.convert([0, 51, 102, 255], height: 2, width: 2, channels: 1, layout: .chw)
        XCTAssertEqual(planar.shape, [1, 2, 2])
        XCTAssertEqual(planar.asArray(Float.self), [0, 0.2, 0.4, 1])
        let gray = ToTensor()(Tensor([255, 0] as [UInt8], shape: [1, 2]))
        XCTAssertEqual(gray.shape, [1, 1, 2])
        XCTAssertEqual(values(gray), [1, 0])
    }

    func testComposeAndDataRandom() {
        let pipeline = Compose(RandomCrop(height: 3, width: 3, padding: 1), RandomHorizontalFlip(), Normalize(mean: [10], std: [2]))
        let a = pipeline(image, generator: Generator(seed: 42))
        // Compose threads one generator through the steps in order.
        let g = Generator(seed: 42)
        let manual = Normalize(mean: [10], std: [2])(RandomHorizontalFlip()(RandomCrop(height: 3, width: 3, padding: 1)(image, generator: g), generator: g))
        XCTAssertEqual(values(a), values(manual))
        // Without an explicit generator, transforms use DataRandom.current.
        let b = DataRandom.with(Generator(seed: 42)) { pipeline(image) }
        XCTAssertEqual(values(b), values(a))
        XCTAssertTrue(DataRandom.current === Generator.default)
        let lambda = Lambda { x in x * 2 }
        XCTAssertEqual(values(lambda(Tensor([1, 2] as [Float]))), [2, 4])
    }
}
