// `ember inspect FILE` run as a user runs it: the tensors of safetensors and npy files, one
// per line with a total and the metadata; a bad file is one error line and exit status 1.
import Foundation
import XCTest
import Ember

final class InspectTests: XCTestCase {
    func testListsSafetensorsTensorsTotalAndMetadata() throws {
        let path = try scratchDirectory().appendingPathComponent("m.safetensors")
        try Safetensors.save(["fc.weight": Tensor.zeros([3, 4]), "fc.bias": Tensor.zeros([3]), "step": Tensor([5] as [Int64])],
                             to: path, metadata: ["ember.task": "demo"])
        let result = try runEmber(["inspect", path.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, """
            fc.bias    float32  [3]     12 bytes
            fc.weight  float32  [3, 4]  48 bytes
            step       int64    [1]     8 bytes
            total: 3 tensors, 16 elements, 68 bytes
            metadata:
              ember.task: demo

            """)
    }

    func testListsAnNpyFile() throws {
        let path = try scratchDirectory().appendingPathComponent("emb.npy")
        try Tensor.zeros([2, 5], dtype: .float64).save(npy: path)
        let result = try runEmber(["inspect", path.path])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "emb  float64  [2, 5]  80 bytes\ntotal: 1 tensor, 10 elements, 80 bytes\n")
    }

    func testCorruptOrUnsupportedFilesGiveOneErrorLine() throws {
        let dir = try scratchDirectory()
        let cases: [(String, Data, String)] = [
            ("broken.safetensors", Data([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), "invalid safetensors file"),
            ("broken.npy", Data("not numpy".utf8), "broken.npy"),
            ("weights.bin", Data([0]), "supported: .safetensors, .npy"),
        ]
        for (name, bytes, fragment) in cases {
            let path = dir.appendingPathComponent(name)
            try bytes.write(to: path)
            let result = try runEmber(["inspect", path.path])
            XCTAssertEqual(result.status, 1, name)
            XCTAssertEqual(result.stdout, "", name)
            XCTAssertTrue(result.stderr.hasPrefix("error: ") && result.stderr.contains(fragment), result.stderr)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr)
        }
        let missing = try runEmber(["inspect", dir.appendingPathComponent("none.safetensors").path])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.hasPrefix("error: ") && missing.stderr.contains("cannot read the file"), missing.stderr)
    }
}
