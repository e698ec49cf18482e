// The IDX reader and the MNIST loader on small generated files: plain and gzipped, and
// every kind of damage (wrong magic, truncation, size and count mismatches, corrupt gzip).
import Foundation
import XCTest
import Ember
@testable import EmberData

final class IDXTests: XCTestCase {
    var dir: ScratchDirectory!
    override func setUpWithError() throws { dir = try ScratchDirectory() }
    override func tearDown() { dir.remove() }

    /// Three 2×3 images with pixel value 10·image + position, and labels [7, 0, 9].
    let pixels: [UInt8] = (0..<3).flatMap { i in (0..<6).map { UInt8(10 * i + $0) } }
    var images: [UInt8] { IDXArray.encode(uint8: pixels, shape: [3, 2, 3]) }
    var labels: [UInt8] { IDXArray.encode(uint8: [7, 0, 9], shape: [3]) }

    func testParsesPlainAndGzippedFiles() throws {
        let plain = try IDXArray(contentsOf: try dir.write("a-idx3-ubyte", images))
        XCTAssertEqual(plain.elementType, .uint8)
        XCTAssertEqual(plain.shape, [3, 2, 3])
        XCTAssertEqual(plain.magic, 2051)
        XCTAssertEqual(plain.payload, pixels)
        let gz = try IDXArray(contentsOf: try dir.write("a-idx3-ubyte.gz", Gzip.deflate(images)))
        XCTAssertEqual(gz.shape, [3, 2, 3])
        XCTAssertEqual(gz.payload, pixels)
        let t = gz.tensor()
        XCTAssertEqual(t.dtype, .uint8)
        XCTAssertEqual(t.shape, [3, 2, 3])
        XCTAssertEqual(t[2, 1, 2].item(Int.self), 25)
        let l = try IDXArray(contentsOf: try dir.write("l.gz", Gzip.deflate(labels)))
        XCTAssertEqual(l.magic, 2049)
        XCTAssertEqual(l.payload, [7, 0, 9])
    }

    func testWiderElementTypesAreBigEndian() throws {
        // int32 [2]: 1 and -2; float32 [1]: 1.5; int16 [1]: -3; float64 [1]: -0.25; int8 [2]: -1, 5.
        let i32 = try IDXArray(bytes: [0, 0, 0x0C, 1, 0, 0, 0, 2, 0, 0, 0, 1, 0xFF, 0xFF, 0xFF, 0xFE], path: "i32")
        XCTAssertEqual(i32.tensor().dtype, .int32)
        XCTAssertEqual(values(i32.tensor()), [1, -2])
        let f32 = try IDXArray(bytes: [0, 0, 0x0D, 1, 0, 0, 0, 1, 0x3F, 0xC0, 0, 0], path: "f32")
        XCTAssertEqual(f32.tensor().dtype, .float32)
        XCTAssertEqual(values(f32.tensor()), [1.5])
        let i16 = try IDXArray(bytes: [0, 0, 0x0B, 1, 0, 0, 0, 1, 0xFF, 0xFD], path: "i16")
        XCTAssertEqual(values(i16.tensor()), [-3])
        let f64 = try IDXArray(bytes: [0, 0, 0x0E, 1, 0, 0, 0, 1, 0xBF, 0xD0, 0, 0, 0, 0, 0, 0], path: "f64")
        XCTAssertEqual(f64.tensor().dtype, .float64)
        XCTAssertEqual(values(f64.tensor()), [-0.25])
        let i8 = try IDXArray(bytes: [0, 0, 0x09, 1, 0, 0, 0, 2, 0xFF, 5], path: "i8")
        XCTAssertEqual(values(i8.tensor()), [-1, 5])
    }

    func testWrongMagic() throws {
        var bad = images
        bad[0] = 0x1F; bad[1] = 0x8C
        let path = try dir.write("bad-magic", bad)
        expectDatasetError(.badMagic, path, "magic number starts with 1f 8c") { _ = try IDXArray(contentsOf: path) }
        var badType = images
        badType[2] = 0x07
        let typePath = try dir.write("bad-type", badType)
        expectDatasetError(.badMagic, typePath, "unknown IDX element type code 0x07") { _ = try IDXArray(contentsOf: typePath) }
        expectDatasetError(.badMagic, "0 dimensions") { _ = try IDXArray(bytes: [0, 0, 8, 0], path: "zero") }
    }

    func testTruncatedHeaderAndData() throws {
        let short = try dir.write("short", [0, 0])
        expectDatasetError(.truncated, short, "too short for an IDX header") { _ = try IDXArray(contentsOf: short) }
        let header = try dir.write("header", Array(images.prefix(9)))
        expectDatasetError(.truncated, header, "too short for the header of a 3-dimensional IDX array (16 bytes)") {
            _ = try IDXArray(contentsOf: header)
        }
        let data = try dir.write("data", Array(images.dropLast(4)))
        expectDatasetError(.truncated, data, "dimensions [3, 2, 3] need 18 bytes, the file holds 14") { _ = try IDXArray(contentsOf: data) }
        // The same damage inside a gzipped file is found after inflating.
        let gz = try dir.write("data.gz", Gzip.deflate(Array(images.dropLast(4))))
        expectDatasetError(.truncated, gz, "need 18 bytes, the file holds 14") { _ = try IDXArray(contentsOf: gz) }
    }

    func testTrailingBytesAreASizeMismatch() throws {
        let path = try dir.write("long", images + [1, 2])
        expectDatasetError(.sizeMismatch, path, "2 unexpected trailing bytes") { _ = try IDXArray(contentsOf: path) }
    }

    func testTruncatedAndCorruptGzip() throws {
        let compressed = Gzip.deflate(images + [UInt8](repeating: 3, count: 500))
        let cut = try dir.write("cut.gz", Array(compressed.prefix(compressed.count / 2)))
        expectDatasetError(.truncated, cut, "gzip stream is truncated") { _ = try IDXArray(contentsOf: cut) }
        var corrupt = compressed
        corrupt[12] ^= 0xFF; corrupt[13] ^= 0xFF; corrupt[14] ^= 0xFF
        let bad = try dir.write("bad.gz", corrupt)
        expectDatasetError(.corruptCompressedData, bad, "corrupt gzip data") { _ = try IDXArray(contentsOf: bad) }
        // A flipped bit in the stored CRC is caught too.
        var crc = compressed
        crc[crc.count - 6] ^= 0x01
        let crcPath = try dir.write("crc.gz", crc)
        expectDatasetError(.corruptCompressedData, crcPath, "incorrect data check") { _ = try IDXArray(contentsOf: crcPath) }
    }

    func testStreamingReaderAgreesWithTheWholeFileReader() throws {
        // Every file below, read whole and streamed in chunks of 1, 3, 5 and 1 MiB bytes
        // (chunk edges inside the header and the data): the same shape and bytes, or the
        // same error.
        var badMagic = images; badMagic[0] = 1
        var badType = images; badType[2] = 7
        let compressed = Gzip.deflate(images + [UInt8](repeating: 3, count: 500))
        var corrupt = compressed; corrupt[12] ^= 0xFF; corrupt[13] ^= 0xFF; corrupt[14] ^= 0xFF
        let files: [(String, [UInt8])] = [
            ("plain", images), ("gz", Gzip.deflate(images)), ("labels.gz", Gzip.deflate(labels)),
            ("short", [0, 0]), ("rank only", [0, 0, 8, 3]), ("header", Array(images.prefix(9))),
            ("data", Array(images.dropLast(4))), ("data.gz", Gzip.deflate(Array(images.dropLast(4)))),
            ("long", images + [1, 2]), ("long.gz", Gzip.deflate(images + [1, 2])),
            ("bad magic", badMagic), ("bad type", badType), ("zero dims", [0, 0, 8, 0]),
            ("cut.gz", Array(compressed.prefix(compressed.count / 2))), ("corrupt.gz", corrupt), ("empty", []),
        ]
        for (name, bytes) in files {
            let path = try dir.write(name.replacingOccurrences(of: " ", with: "-"), bytes)
            let whole = Result { try IDXArray(contentsOf: path) }
            for chunkSize in [1, 3, 5, 1 << 20] {
                var shape: [Int]? = nil, type: IDXArray.ElementType? = nil, streamed: [UInt8] = []
                let outcome = Result {
                    try IDXArray.stream(contentsOf: path, chunkSize: chunkSize,
                                        header: { type = $0; shape = $1 }, payload: { streamed.append(contentsOf: $0) })
                }
                switch (whole, outcome) {
                case (.success(let array), .success):
                    XCTAssertEqual(shape, array.shape, "\(name), chunks of \(chunkSize)")
                    XCTAssertEqual(type, array.elementType, "\(name), chunks of \(chunkSize)")
                    XCTAssertEqual(streamed, array.payload, "\(name), chunks of \(chunkSize)")
                case (.failure(let expected), .failure(let got)):
                    XCTAssertEqual("\(got)", "\(expected)", "\(name), chunks of \(chunkSize)")
                default:
                    XCTFail("\(name), chunks of \(chunkSize): whole read \(whole), streamed \(outcome)")
                }
            }
        }
        // Inflating in pieces gives the same bytes whatever the piece size.
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        for chunkSize in [1000, 65536] {
            var pieces: [UInt8] = []
            try Gzip.inflate(Gzip.deflate(big), path: "big", chunkSize: chunkSize) { pieces.append(contentsOf: $0) }
            XCTAssertEqual(pieces, big)
        }
    }

    func testConcatenatedGzipMembersAndEmptyInput() throws {
        let joined = Gzip.deflate([1, 2, 3]) + Gzip.deflate([4, 5])
        XCTAssertEqual(try Gzip.inflate(joined, path: "j"), [1, 2, 3, 4, 5])
        XCTAssertEqual(try Gzip.inflate(Gzip.deflate([]), path: "e"), [])
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        XCTAssertEqual(try Gzip.inflate(Gzip.deflate(big), path: "big"), big)
    }

    func testMissingFile() {
        let path = dir.path("nothing.gz")
        expectDatasetError(.fileNotFound, path, "no such file") { _ = try IDXArray(contentsOf: path) }
    }

    // MARK: MNIST-format loader

    func writeSplit(_ prefix: String, images: [UInt8], labels: [UInt8], gzip: Bool) throws {
        let suffix = gzip ? ".gz" : ""
        try dir.write("\(prefix)-images-idx3-ubyte\(suffix)", gzip ? Gzip.deflate(images) : images)
        try dir.write("\(prefix)-labels-idx1-ubyte\(suffix)", gzip ? Gzip.deflate(labels) : labels)
    }

    func testMNISTLoadsGzippedAndPlainSplits() throws {
        try writeSplit("train", images: images, labels: labels, gzip: true)
        try writeSplit("t10k", images: IDXArray.encode(uint8: [255, 0, 51, 102, 153, 204], shape: [1, 2, 3]),
                       labels: IDXArray.encode(uint8: [4], shape: [1]), gzip: false)
        let train = try MNIST(root: dir.url.path, split: .train)
        XCTAssertEqual(train.count, 3)
        let (image, label) = train[1]
        XCTAssertEqual(image.shape, [1, 2, 3])
        XCTAssertEqual(image.dtype, .float32)
        XCTAssertEqual(image.asArray(Float.self), (10..<16).map { Float($0) / 255 })
        XCTAssertEqual(label, 0)
        XCTAssertEqual(train.labels.asArray(Int.self), [7, 0, 9])
        let test = try MNIST(root: dir.url.path, split: .test)
        XCTAssertEqual(test.count, 1)
        XCTAssertEqual(test[0].0.asArray(Float.self), [1, 0, 0.2, 0.4, 0.6, 0.8])
        XCTAssertEqual(test[0].1, 4)
        // The batch fast path equals stacking samples.
        let fields = try XCTUnwrap(train.batchTensors(at: [2, 0]))
        XCTAssertEqual(fields[0].shape, [2, 1, 2, 3])
        XCTAssertEqual(values(fields[0]), values(train[2].0) + values(train[0].0))
        XCTAssertEqual(fields[1].asArray(Int.self), [9, 7])
    }

    func testMNISTImageLabelCountMismatch() throws {
        try writeSplit("train", images: images, labels: IDXArray.encode(uint8: [1, 2], shape: [2]), gzip: true)
        expectDatasetError(.sizeMismatch, "train-labels-idx1-ubyte.gz: holds 2 labels but", "holds 3 images") {
            _ = try MNIST(root: dir.url.path, split: .train)
        }
    }

    func testMNISTRejectsSwappedFilesAndBadLabels() throws {
        try writeSplit("train", images: labels, labels: images, gzip: false)
        expectDatasetError(.unsupportedContent, "train-images-idx3-ubyte", "expected 3-d uint8 images (magic number 2051)", "magic number 2049") {
            _ = try MNIST(root: dir.url.path, split: .train)
        }
        try writeSplit("t10k", images: images, labels: IDXArray.encode(uint8: [1, 12, 3], shape: [3]), gzip: false)
        expectDatasetError(.unsupportedContent, "label 12 at index 1 is out of range 0..<10") {
            _ = try MNIST(root: dir.url.path, split: .test)
        }
    }

    func testMNISTMissingFiles() {
        expectDatasetError(.fileNotFound, dir.path("train-images-idx3-ubyte.gz"), "no such file") {
            _ = try MNIST(root: dir.url.path, split: .train)
        }
    }
}
