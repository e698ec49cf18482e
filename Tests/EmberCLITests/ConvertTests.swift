// `ember convert IN OUT` run as a user runs it (.pt/.pth/.bin ⇄ .safetensors ⇄ .npz/.npy),
// `ember inspect` on .npz and .pt files, and `Module.save(to:)`/`loadStateDict(from:)` with
// the .npz and torch extensions. A failure is one error line, exit status 1, and the
// output file untouched.
import Foundation
import XCTest
import Ember
import EmberNN

final class ConvertTests: XCTestCase {
    private func sample() -> [String: Tensor] {
        [
            "layer.weight": Tensor((0..<6).map { Float($0) * 0.5 - 1 }, shape: [2, 3]),
            "layer.bias": Tensor([0.25, -0.5] as [Double]),
            "steps": Tensor([3, -7, 11] as [Int64]),
            "half": Tensor([1.5, -2] as [Float]).to(.float16),
            "mask": Tensor([true, false, true], shape: [3]),
            "scalar": Tensor(Double(7.5)),
        ]
    }

    private func assertSame(_ a: [String: Tensor], _ b: [String: Tensor], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(Set(a.keys), Set(b.keys), file: file, line: line)
        for (name, x) in a {
            guard let y = b[name] else { continue }
            XCTAssertEqual(x.dtype, y.dtype, name, file: file, line: line)
            XCTAssertEqual(x.shape, y.shape, name, file: file, line: line)
            XCTAssertEqual(x.asArray(Double.self), y.asArray(Double.self), name, file: file, line: line)
        }
    }

    private func assertOneErrorLine(_ result: ToolResult, containing fragment: String,
                                    file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 1, result.stderr, file: file, line: line)
        XCTAssertEqual(result.stdout, "", file: file, line: line)
        XCTAssertTrue(result.stderr.hasPrefix("error: ") && result.stderr.contains(fragment),
                      "'\(result.stderr)' does not contain '\(fragment)'", file: file, line: line)
        XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, result.stderr, file: file, line: line)
    }

    // MARK: convert

    func testConvertsAroundEveryFormatKeepingNamesDTypesAndValues() throws {
        let dir = try scratchDirectory()
        let tensors = sample()
        let start = dir.appendingPathComponent("start.safetensors")
        try Safetensors.save(tensors, to: start)
        let chain = ["a.npz", "b.pt", "c.pth", "d.bin", "e.npz", "f.safetensors"]
        var previous = start
        for name in chain {
            let next = dir.appendingPathComponent(name)
            let args = name == "e.npz" ? ["convert", previous.path, next.path, "--compressed"] : ["convert", previous.path, next.path]
            let result = try runEmber(args)
            XCTAssertEqual(result.status, 0, "\(name): \(result.stderr)")
            XCTAssertEqual(result.stderr, "", name)
            previous = next
        }
        assertSame(tensors, try Npz.load(dir.appendingPathComponent("a.npz")))
        assertSame(tensors, try TorchCheckpoint.load(dir.appendingPathComponent("b.pt")))
        assertSame(tensors, try TorchCheckpoint.load(dir.appendingPathComponent("d.bin")))
        let compressed = try ZipArchive(url: dir.appendingPathComponent("e.npz"))
        XCTAssertTrue(compressed.entries.allSatisfy { $0.method == 8 })
        assertSame(tensors, try Npz.load(dir.appendingPathComponent("e.npz")))
        assertSame(tensors, try Safetensors.load(dir.appendingPathComponent("f.safetensors")))
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    func testSafetensorsMetadataSurvivesSafetensorsToSafetensors() throws {
        let dir = try scratchDirectory()
        let input = dir.appendingPathComponent("in.safetensors"), output = dir.appendingPathComponent("out.safetensors")
        try Safetensors.save(["w": Tensor([1, 2] as [Float])], to: input, metadata: ["format": "pt"])
        XCTAssertEqual(try runEmber(["convert", input.path, output.path]).status, 0)
        XCTAssertEqual(try Safetensors.loadWithMetadata(output).metadata, ["format": "pt"])
    }

    func testBFloat16IntoNpzIsRefusedAndTheOutputIsUntouched() throws {
        let dir = try scratchDirectory()
        let input = dir.appendingPathComponent("bf.safetensors")
        try Safetensors.save(["a": Tensor([1] as [Float]), "emb": Tensor([0.5, 2] as [Float]).to(.bfloat16)], to: input)
        let output = dir.appendingPathComponent("out.npz")
        let previous = Data("previous contents".utf8)
        try previous.write(to: output)
        let result = try runEmber(["convert", input.path, output.path])
        assertOneErrorLine(result, containing: "'emb' (bfloat16)")
        XCTAssertTrue(result.stderr.contains("NumPy has no bfloat16"), result.stderr)
        XCTAssertEqual(try Data(contentsOf: output), previous)
        // bfloat16 goes to the torch format fine.
        let pt = dir.appendingPathComponent("bf.pt")
        XCTAssertEqual(try runEmber(["convert", input.path, pt.path]).status, 0)
        XCTAssertEqual(try TorchCheckpoint.load(pt)["emb"]?.dtype, .bfloat16)
    }

    func testNpyInAndOutWithTensorSelection() throws {
        let dir = try scratchDirectory()
        let checkpoint = dir.appendingPathComponent("model.pt")
        try TorchCheckpoint.save(sample(), to: checkpoint)
        // One tensor out of several, chosen by name.
        let npy = dir.appendingPathComponent("weight.npy")
        let picked = try runEmber(["convert", checkpoint.path, npy.path, "--tensor", "layer.weight"])
        XCTAssertEqual(picked.status, 0, picked.stderr)
        assertSame(["w": try Tensor.load(npy: npy)], ["w": sample()["layer.weight"]!])
        // An .npy input becomes one tensor named after the file.
        let back = dir.appendingPathComponent("back.safetensors")
        XCTAssertEqual(try runEmber(["convert", npy.path, back.path]).status, 0)
        assertSame(try Safetensors.load(back), ["weight": sample()["layer.weight"]!])
        // Several tensors into one .npy, an unknown name, and bfloat16 are refused; the output stays.
        let previous = try Data(contentsOf: npy)
        assertOneErrorLine(try runEmber(["convert", checkpoint.path, npy.path]), containing: "choose one with --tensor NAME")
        assertOneErrorLine(try runEmber(["convert", checkpoint.path, npy.path, "--tensor", "nope"]),
                           containing: "no tensor named 'nope'")
        let bf = dir.appendingPathComponent("bf.safetensors")
        try Safetensors.save(["emb": Tensor([0.5, 2] as [Float]).to(.bfloat16)], to: bf)
        assertOneErrorLine(try runEmber(["convert", bf.path, npy.path]), containing: "NumPy has no bfloat16")
        XCTAssertEqual(try Data(contentsOf: npy), previous)
    }

    func testFailuresAreOneErrorLineAndLeaveTheOutputUntouched() throws {
        let dir = try scratchDirectory()
        let good = dir.appendingPathComponent("good.npz")
        try Npz.save(["w": Tensor([1, 2] as [Float])], to: good)
        let output = dir.appendingPathComponent("out.safetensors")
        let previous = Data("keep me".utf8)
        try previous.write(to: output)

        let broken = dir.appendingPathComponent("broken.npz")
        try Data("PK\u{3}\u{4} not really a zip".utf8).write(to: broken)
        let brokenPt = dir.appendingPathComponent("broken.pt")
        try Data([0, 1, 2, 3]).write(to: brokenPt)
        let cases: [([String], String)] = [
            (["convert", broken.path, output.path], "broken.npz"),
            (["convert", brokenPt.path, output.path], "not a PyTorch checkpoint"),
            (["convert", dir.appendingPathComponent("missing.pt").path, output.path], "no such file"),
            (["convert", good.path, dir.appendingPathComponent("out.txt").path], "unsupported file extension 'txt'"),
            (["convert", dir.appendingPathComponent("in.onnx").path, output.path], "unsupported file extension 'onnx'"),
            (["convert", good.path, output.path, "--compressed"], "--compressed applies only"),
            (["convert", good.path, dir.appendingPathComponent("no/dir/out.npz").path], "does not exist"),
        ]
        for (args, fragment) in cases {
            assertOneErrorLine(try runEmber(args), containing: fragment)
            XCTAssertEqual(try Data(contentsOf: output), previous, args.joined(separator: " "))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    // MARK: inspect

    func testInspectListsNpzAndTorchFiles() throws {
        let dir = try scratchDirectory()
        let npz = dir.appendingPathComponent("arrays.npz")
        try Npz.save(ordered: [("zeta", Tensor.zeros([2, 5], dtype: .float64)), ("a", Tensor([1, 2, 3] as [Int64]))], to: npz)
        let listed = try runEmber(["inspect", npz.path])
        XCTAssertEqual(listed.status, 0, listed.stderr)
        XCTAssertEqual(listed.stdout, """
            zeta  float64  [2, 5]  80 bytes
            a     int64    [3]     24 bytes
            total: 2 tensors, 13 elements, 104 bytes

            """)
        let pt = dir.appendingPathComponent("model.pt")
        try TorchCheckpoint.save(["fc.weight": Tensor.zeros([4, 2]), "fc.bias": Tensor.zeros([4])], to: pt)
        let torch = try runEmber(["inspect", pt.path])
        XCTAssertEqual(torch.status, 0, torch.stderr)
        XCTAssertEqual(torch.stdout, """
            fc.bias    float32  [4]     16 bytes
            fc.weight  float32  [4, 2]  32 bytes
            total: 2 tensors, 12 elements, 48 bytes

            """)
        let broken = dir.appendingPathComponent("broken.npz")
        try Data([1, 2, 3]).write(to: broken)
        assertOneErrorLine(try runEmber(["inspect", broken.path]), containing: "broken.npz")
    }

    // MARK: Module files

    func testModuleSavesAndLoadsNpzAndTorchFiles() throws {
        let dir = try scratchDirectory()
        let model = Linear(3, 2)
        for ext in ["npz", "pt", "pth", "bin", "safetensors"] {
            let url = dir.appendingPathComponent("linear.\(ext)")
            try model.save(to: url)
            let copy = Linear(3, 2)
            try copy.loadStateDict(from: url)
            XCTAssertEqual(copy.weight.asArray(Double.self), model.weight.asArray(Double.self), ext)
            XCTAssertEqual(copy.bias!.asArray(Double.self), model.bias!.asArray(Double.self), ext)
        }
        // Files written by the other writers load too.
        let viaNumPyFormat = dir.appendingPathComponent("external.npz")
        try Npz.save(["weight": Tensor.ones([2, 3]), "bias": Tensor.zeros([2])], to: viaNumPyFormat)
        let loaded = Linear(3, 2)
        try loaded.loadStateDict(from: viaNumPyFormat)
        XCTAssertEqual(loaded.weight.asArray(Double.self), Array(repeating: 1, count: 6))
        // Metadata only fits in safetensors; it is refused rather than dropped.
        XCTAssertThrowsError(try model.save(to: dir.appendingPathComponent("m.npz"), metadata: ["k": "v"])) { error in
            XCTAssertTrue(error is ModuleFileError, "\(error)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir.appendingPathComponent("m.npz").path))
        XCTAssertThrowsError(try model.save(to: dir.appendingPathComponent("m.onnx"))) { error in
            XCTAssertTrue("\(error)".contains(".safetensors, .npz, .pt, .pth, .bin"), "\(error)")
        }
    }
}
