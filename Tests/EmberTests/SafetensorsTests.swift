// Safetensors: files written by the reference implementation load exactly, Ember's files
// load in the reference implementation, and malformed files give clear errors.
import Foundation
import XCTest
import EmberTestSupport
@testable import Ember

final class SafetensorsTests: XCTestCase {
    private var fixtures: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("safetensors")
    }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ember-st-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    func testReferenceFileLoadsWithExactValuesDtypesShapesAndMetadata() throws {
        let (tensors, metadata) = try Safetensors.loadWithMetadata(fixtures.appendingPathComponent("reference.safetensors"))
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("reference.json"))) as! [String: Any]
        XCTAssertEqual(metadata, expected["metadata"] as! [String: String])
        let entries = expected["tensors"] as! [String: [String: Any]]
        XCTAssertEqual(Set(tensors.keys), Set(entries.keys))
        for (name, entry) in entries {
            let tensor = try XCTUnwrap(tensors[name])
            XCTAssertEqual(tensor.dtype.rawValue, entry["dtype"] as! String, name)
            XCTAssertEqual(tensor.shape, entry["shape"] as! [Int], name)
            let want = (entry["values"] as! [NSNumber]).map(\.doubleValue)
            let got = tensor.dtype == .int64 ? tensor.asArray(Int64.self).map { Double($0) } : tensor.asArray(Double.self)
            XCTAssertEqual(got.count, want.count, name)
            // JSON parsing may differ from Python's repr in the last bit of a double.
            for (g, w) in zip(got, want) { XCTAssertEqual(g, w, accuracy: Swift.abs(w) * 1e-15, name) }
        }
    }

    func testRoundTripKeepsEveryDtypeBitForBit() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("round.safetensors")
        let original: [String: Tensor] = [
            "a": Tensor([1.5, -2, 3.25] as [Float]),
            "b": Tensor([1, 2, 3, 4] as [Double], shape: [2, 2]).t(),        // non-contiguous
            "c": Tensor([0.1, 0.2] as [Float]).to(.float16),
            "d": Tensor([0.1, 0.2] as [Float]).to(.bfloat16),
            "e": Tensor([Int64.min, Int64.max]),
            "f": Tensor([true, false]),
            "g": Tensor([7, 8] as [Int32]),
            "h": Tensor([9] as [UInt8]),
        ]
        try Safetensors.save(original, to: url, metadata: ["note": "round trip"])
        let (loaded, metadata) = try Safetensors.loadWithMetadata(url)
        XCTAssertEqual(metadata, ["note": "round trip"])
        for (name, tensor) in original {
            let back = try XCTUnwrap(loaded[name])
            XCTAssertEqual(back.dtype, tensor.dtype, name)
            XCTAssertEqual(back.shape, tensor.shape, name)
            XCTAssertTrue(back.equal(tensor), name)
        }
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path), ["round.safetensors"], "no temporary files left")
    }

    func testEmberFileReadsInTheReferenceImplementation() throws {
        guard let python = ReferencePython.find(importing: ["safetensors", "numpy"]) else {
            throw XCTSkip("no reference Python with the safetensors package (bash scripts/make_test_venv.sh creates .venv-ref)")
        }
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("ember.safetensors")
        try Safetensors.save(["w": Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3]), "n": Tensor([5, -6])], to: url)
        let (status, output) = try ReferencePython.run(python, ["-c", """
            import sys
            from safetensors.numpy import load_file
            t = load_file(sys.argv[1])
            assert t["w"].dtype.str == "<f4" and t["w"].shape == (2, 3), t["w"]
            assert t["w"].tolist() == [[1, 2, 3], [4, 5, 6]]
            assert t["n"].dtype.str == "<i8" and t["n"].tolist() == [5, -6]
            print("ok")
            """, url.path])
        XCTAssertEqual(status, 0, output)
        XCTAssertEqual(output, "ok\n")
    }

    private func assertRejects(_ bytes: Data, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try Safetensors.decode(bytes, path: "bad.safetensors"), file: file, line: line) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("bad.safetensors") && text.contains(fragment), "message: \(text)", file: file, line: line)
        }
    }

    private func file(header: String, payload: Int) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(Data(header.utf8))
        data.append(Data(repeating: 0, count: payload))
        return data
    }

    func testMalformedFilesAreRejectedWithTheReason() throws {
        let good = try Data(contentsOf: fixtures.appendingPathComponent("reference.safetensors"))
        assertRejects(good.prefix(5), "shorter than the 8-byte header length")
        assertRejects(good.prefix(good.count - 3), "truncated")
        assertRejects(good.prefix(40), "truncated")
        assertRejects(file(header: "not json", payload: 0), "not a JSON object")
        assertRejects(file(header: #"{"x":{"dtype":"Q7","shape":[1],"data_offsets":[0,4]}}"#, payload: 4), "unsupported dtype")
        assertRejects(file(header: #"{"x":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, payload: 4), "needs 8 bytes")
        assertRejects(file(header: #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"y":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, payload: 6), "overlaps")
        assertRejects(file(header: #"{"x":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, payload: 8), "trailing bytes")
        assertRejects(file(header: #"{"x":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, payload: 4), "invalid shape")
        var huge = Data()
        withUnsafeBytes(of: UInt64(1) << 40) { huge.append(contentsOf: $0) }
        assertRejects(huge, "exceeds")
    }

    func testSavingIntoAMissingDirectoryThrowsAndCreatesNothing() {
        let url = URL(fileURLWithPath: "/nonexistent-ember-dir/model.safetensors")
        XCTAssertThrowsError(try Safetensors.save(["a": Tensor([1] as [Float])], to: url)) { error in
            XCTAssertTrue("\(error)".contains("does not exist"))
        }
    }

    func testSaveReplacesAnExistingFileCompletely() throws {
        let url = try temporaryDirectory().appendingPathComponent("m.safetensors")
        try Safetensors.save(["a": Tensor.zeros([1000])], to: url)
        try Safetensors.save(["b": Tensor([2] as [Float])], to: url)
        XCTAssertEqual(Array(try Safetensors.load(url).keys), ["b"])
    }
}
