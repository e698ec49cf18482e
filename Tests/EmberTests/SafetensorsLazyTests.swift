// SafetensorsFile: the header is validated up front, tensors are read one at a time from a
// read-only mapping, and the tensors handed out are independent, writable copies.
import Foundation
import XCTest
@testable import Ember

final class SafetensorsLazyTests: XCTestCase {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ember-stlazy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    private func sample(in dir: URL) throws -> URL {
        let url = dir.appendingPathComponent("m.safetensors")
        try Safetensors.save([
            "b": Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3]),
            "a": Tensor([7, -8] as [Int64]),
            "c": Tensor([0.5] as [Double]).to(.float16),
            "empty": Tensor.zeros([0, 4]),
        ], to: url, metadata: ["format": "pt"])
        return url
    }

    func testNamesInfoAndMetadataComeFromTheHeader() throws {
        let file = try SafetensorsFile(sample(in: temporaryDirectory()))
        // File order: the writer stores tensors by name, so offsets grow with the name.
        XCTAssertEqual(file.names, ["a", "b", "c", "empty"])
        XCTAssertEqual(file.metadata, ["format": "pt"])
        let b = try XCTUnwrap(file.info("b"))
        XCTAssertEqual(b.dtype, .float32)
        XCTAssertEqual(b.shape, [2, 3])
        XCTAssertEqual(b.dataOffsets, 16..<40, "after a's 16 bytes")
        XCTAssertEqual(b.byteCount, 24)
        XCTAssertEqual(b.fileOffsets.count, 24)
        XCTAssertEqual(file.info("c")?.dtype, .float16)
        XCTAssertEqual(file.info("empty")?.byteCount, 0)
        XCTAssertNil(file.info("missing"))
        XCTAssertEqual(b.fileOffsets.upperBound + 2 + 0, file.info("c")!.fileOffsets.upperBound)
        XCTAssertEqual(file.info("empty")!.fileOffsets.upperBound, file.fileSize, "the data ends the file")
    }

    func testTensorLoadsOneTensorWithExactValues() throws {
        let file = try SafetensorsFile(sample(in: temporaryDirectory()))
        let b = try file.tensor("b")
        XCTAssertEqual(b.shape, [2, 3])
        XCTAssertEqual(b.asArray(Float.self), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try file.tensor("a").asArray(Int64.self), [7, -8])
        XCTAssertEqual(try file.tensor("c").to(.float64).asArray(Double.self), [0.5])
        XCTAssertEqual(try file.tensor("empty").shape, [0, 4])
        XCTAssertThrowsError(try file.tensor("nope")) { error in
            XCTAssertTrue("\(error)".contains("no tensor named 'nope'"), "\(error)")
        }
    }

    func testTensorsAreWritableCopiesThatOutliveTheFile() throws {
        let url = try sample(in: temporaryDirectory())
        var file: SafetensorsFile? = try SafetensorsFile(url)
        let first = try file!.tensor("b")
        let second = try file!.tensor("b")
        first.fill_(0)
        XCTAssertEqual(second.asArray(Float.self), [1, 2, 3, 4, 5, 6], "each call gives its own copy")
        file = nil   // unmaps the file
        XCTAssertEqual(second.asArray(Float.self), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try Safetensors.load(url)["b"]?.asArray(Float.self), [1, 2, 3, 4, 5, 6], "the file is unchanged")
    }

    func testEagerLoadAgreesWithTheLazyReader() throws {
        let url = try sample(in: temporaryDirectory())
        let (eager, metadata) = try Safetensors.loadWithMetadata(url)
        let file = try SafetensorsFile(url)
        XCTAssertEqual(metadata, file.metadata)
        XCTAssertEqual(Set(eager.keys), Set(file.names))
        for name in file.names { XCTAssertTrue(eager[name]!.equal(try file.tensor(name)), name) }
        let decoded = try Safetensors.decode(Data(contentsOf: url)).tensors
        for name in file.names { XCTAssertTrue(decoded[name]!.equal(eager[name]!), name) }
    }

    func testMalformedFilesAreRejectedWhenOpened() throws {
        let dir = try temporaryDirectory()
        let good = try Data(contentsOf: sample(in: dir))
        func rejects(_ bytes: Data, _ fragment: String, line: UInt = #line) throws {
            let url = dir.appendingPathComponent("bad-\(UUID().uuidString).safetensors")
            try bytes.write(to: url)
            XCTAssertThrowsError(try SafetensorsFile(url), line: line) { error in
                XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains(fragment), "\(error)", line: line)
            }
        }
        try rejects(Data(), "shorter than the 8-byte header length")
        try rejects(good.prefix(5), "shorter than the 8-byte header length")
        try rejects(good.prefix(good.count - 1), "truncated")
        try rejects(good + Data([0, 0, 0, 0]), "trailing bytes")
        XCTAssertThrowsError(try SafetensorsFile(dir.appendingPathComponent("missing.safetensors"))) { error in
            XCTAssertTrue("\(error)".contains("cannot read the file"), "\(error)")
        }
        XCTAssertThrowsError(try SafetensorsFile(dir)) { error in
            XCTAssertTrue("\(error)".contains("not a regular file"), "\(error)")
        }
    }

    func testZeroCopyTensorsReadTheMappingAndWritesStayPrivate() throws {
        let url = try sample(in: temporaryDirectory())
        var file: SafetensorsFile? = try SafetensorsFile(url)
        let viewed = try file!.tensor("b", copy: false)
        let all = try file!.tensors(copy: false)
        XCTAssertEqual(viewed.asArray(Float.self), [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(all["a"]?.asArray(Int64.self), [7, -8])
        XCTAssertEqual(all["empty"]?.shape, [0, 4])
        file = nil   // the tensors keep the mapping alive
        XCTAssertEqual(viewed.sum().item(Float.self), 21)
        viewed.fill_(0)   // copy-on-write: only this process's pages change
        XCTAssertEqual(viewed.asArray(Float.self), [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(all["b"]?.asArray(Float.self), [0, 0, 0, 0, 0, 0], "views of one file share the private mapping")
        XCTAssertEqual(try SafetensorsFile(url).tensor("b", copy: false).asArray(Float.self), [1, 2, 3, 4, 5, 6], "the file is unchanged")
    }

    func testMisalignedTensorsAreCopiedEvenWithoutCopy() throws {
        // A float16 of 2 bytes first puts the float32 at data offset 2: not 4-byte aligned.
        let url = try temporaryDirectory().appendingPathComponent("odd.safetensors")
        try Safetensors.save(["a": Tensor([1] as [Float]).to(.float16), "b": Tensor([3, 4] as [Float])], to: url)
        let file = try SafetensorsFile(url)
        XCTAssertEqual(file.info("b")!.fileOffsets.lowerBound % 4, 2)
        let b = try file.tensor("b", copy: false)
        XCTAssertEqual(b.asArray(Float.self), [3, 4])
        XCTAssertEqual(Int(bitPattern: b.rawPointer) % 4, 0)
    }
}
