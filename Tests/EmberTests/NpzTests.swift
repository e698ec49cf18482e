// .npz reading and writing: NumPy-written fixtures (scripts/make_npz_fixtures.py, committed
// under Fixtures/npz; np.savez and np.savez_compressed), typed errors naming the file and
// the entry, atomic writes, and — only when a Python with NumPy is available — a round trip
// through NumPy in both directions.
import Foundation
import XCTest
import EmberTestSupport
@testable import Ember

final class NpzTests: XCTestCase {
    // MARK: Helpers

    static var fixtures: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("npz")
    }

    /// The script's float formula: i * 0.5 - 1.
    func floats(_ n: Int) -> [Double] { (0..<n).map { Double($0) * 0.5 - 1 } }
    /// The script's integer formula: i * 3 - 7.
    func ints(_ n: Int) -> [Int64] { (0..<n).map { Int64($0) * 3 - 7 } }

    var temporaryDirectory: URL!

    override func setUpWithError() throws {
        temporaryDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("ember-npz-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: temporaryDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: temporaryDirectory)
    }

    func expectError(_ kind: NpzError.Kind, entry: String?, containing text: String,
                     file: StaticString = #filePath, line: UInt = #line, _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected an NpzError (\(kind))", file: file, line: line)
        } catch let error as NpzError {
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertEqual(error.entry, entry, "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(text), "'\(error)' does not contain '\(text)'", file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }

    /// A hand-made .npy file (version 1.0) with the given header dict and payload.
    func npy(_ dict: String, payload: [UInt8]) -> Data {
        var header = Array(dict.utf8)
        while (10 + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        return Data([0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)] + header + payload)
    }

    static let mixedNames = ["f4", "f8", "f2", "i8", "i4", "u1", "b1", "scalar", "fortran", "be_f4", "be_i8", "empty", "layer.0.weight"]

    func checkMixed(_ ordered: [(name: String, tensor: Tensor)], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(ordered.map(\.name), Self.mixedNames, file: file, line: line)
        let t = Dictionary(uniqueKeysWithValues: ordered.map { ($0.name, $0.tensor) })
        func check(_ name: String, _ dtype: DType, _ shape: [Int], _ values: [Double]) {
            guard let x = t[name] else { return XCTFail("no \(name)", file: file, line: line) }
            XCTAssertEqual(x.dtype, dtype, name, file: file, line: line)
            XCTAssertEqual(x.shape, shape, name, file: file, line: line)
            XCTAssertEqual(x.asArray(Double.self), values, name, file: file, line: line)
        }
        check("f4", .float32, [2, 3], floats(6))
        check("f8", .float64, [4], floats(4))
        check("f2", .float16, [2, 2], floats(4))
        check("i8", .int64, [3, 2], ints(6).map { Double($0) })
        check("i4", .int32, [5], ints(5).map { Double($0) })
        check("u1", .uint8, [2, 2, 2], (0..<8).map { Double($0 * 30) })
        check("b1", .bool, [5], (0..<5).map { $0 % 3 == 0 ? 1 : 0 })
        check("scalar", .float64, [], [2.5])
        check("fortran", .float32, [2, 3], floats(6))
        check("be_f4", .float32, [3], floats(3))
        check("be_i8", .int64, [2, 2], ints(4).map { Double($0) })
        check("empty", .float32, [0, 3], [])
        check("layer.0.weight", .float32, [2], floats(2))
    }

    // MARK: Reading NumPy's files

    func testReadsNpSavezInArchiveOrder() throws {
        checkMixed(try Npz.loadOrdered(Self.fixtures.appendingPathComponent("mixed.npz")))
        let dict = try Npz.load(Self.fixtures.appendingPathComponent("mixed.npz"))
        XCTAssertEqual(Set(dict.keys), Set(Self.mixedNames))
    }

    func testReadsNpSavezCompressed() throws {
        let zip = try ZipArchive(url: Self.fixtures.appendingPathComponent("mixed_compressed.npz"))
        XCTAssertTrue(zip.entries.allSatisfy { $0.method == 8 }, "the fixture should be deflated")
        checkMixed(try Npz.loadOrdered(Self.fixtures.appendingPathComponent("mixed_compressed.npz")))
    }

    func testReadsPositionalAndEmptyArchives() throws {
        let positional = try Npz.loadOrdered(Self.fixtures.appendingPathComponent("positional.npz"))
        XCTAssertEqual(positional.map(\.name), ["arr_0", "arr_1"])
        XCTAssertEqual(positional[0].tensor.asArray(Int64.self), ints(3))
        XCTAssertEqual(positional[1].tensor.shape, [2, 2])
        XCTAssertTrue(try Npz.load(Self.fixtures.appendingPathComponent("empty.npz")).isEmpty)
    }

    func testObjectArraysAreRefusedNamingTheEntry() {
        let url = Self.fixtures.appendingPathComponent("object.npz")
        expectError(.unsupportedDType, entry: "obj.npy", containing: "object.npz: entry 'obj.npy'") { _ = try Npz.load(url) }
    }

    // MARK: Writing

    func testRoundTripStoredAndCompressedKeepsOrderDTypesAndShapes() throws {
        let tensors: [(name: String, tensor: Tensor)] = [
            ("z", Tensor(floats(6).map { Float($0) }, shape: [2, 3])),
            ("a", Tensor(ints(4), shape: [4])),
            ("half", Tensor(floats(4).map { Float16(Float($0)) }, shape: [2, 2])),
            ("mask", Tensor([true, false, true], shape: [3])),
            ("s", Tensor(Double(7.5))),
            ("t", Tensor(floats(6).map { Float($0) }, shape: [2, 3]).t()),   // non-contiguous
        ]
        for compressed in [false, true] {
            let url = temporaryDirectory.appendingPathComponent(compressed ? "c.npz" : "s.npz")
            try Npz.save(ordered: tensors, to: url, compressed: compressed)
            let archive = try ZipArchive(url: url)
            XCTAssertEqual(archive.entries.map(\.name), ["z.npy", "a.npy", "half.npy", "mask.npy", "s.npy", "t.npy"])
            XCTAssertTrue(archive.entries.allSatisfy { $0.method == (compressed ? 8 : 0) })
            let back = try Npz.loadOrdered(url)
            XCTAssertEqual(back.map(\.name), tensors.map(\.name))
            for (original, loaded) in zip(tensors, back) {
                XCTAssertEqual(loaded.tensor.dtype, original.tensor.dtype, original.name)
                XCTAssertEqual(loaded.tensor.shape, original.tensor.shape, original.name)
                XCTAssertEqual(loaded.tensor.asArray(Double.self), original.tensor.asArray(Double.self), original.name)
            }
        }
        // The dictionary form writes sorted keys.
        let url = temporaryDirectory.appendingPathComponent("d.npz")
        try Npz.save(["b": Tensor([1, 2] as [Float]), "a": Tensor([3] as [Float])], to: url)
        XCTAssertEqual(try Npz.loadOrdered(url).map(\.name), ["a", "b"])
    }

    func testBFloat16AndDuplicateNamesAreRefusedAndNothingIsWritten() throws {
        let url = temporaryDirectory.appendingPathComponent("w.npz")
        try Npz.save(["old": Tensor([1] as [Float])], to: url)
        let before = try Data(contentsOf: url)
        expectError(.unsupportedDType, entry: "h.npy", containing: "bfloat16") {
            try Npz.save(["a": Tensor([1] as [Float]), "h": Tensor([0.5] as [Float]).to(.bfloat16)], to: url)
        }
        expectError(.duplicateName, entry: "a.npy", containing: "two arrays") {
            try Npz.save(ordered: [("a", Tensor([1] as [Float])), ("a", Tensor([2] as [Float]))], to: url)
        }
        XCTAssertEqual(try Data(contentsOf: url), before)
        expectError(.writeFailed, entry: nil, containing: "does not exist") {
            try Npz.save(["a": Tensor([1] as [Float])], to: temporaryDirectory.appendingPathComponent("no/such/dir/x.npz"))
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory.path).filter { $0.contains(".tmp-") }
        XCTAssertEqual(leftovers, [])
    }

    // MARK: Hostile and broken files

    func testBrokenFilesGiveTypedErrorsNamingFileAndEntry() throws {
        let dir = temporaryDirectory!
        expectError(.fileNotFound, entry: nil, containing: "no such file") { _ = try Npz.load(dir.appendingPathComponent("none.npz")) }
        expectError(.unreadable, entry: nil, containing: "directory") { _ = try Npz.load(dir) }

        let notZip = dir.appendingPathComponent("text.npz")
        try Data("hello, not a zip".utf8).write(to: notZip)
        expectError(.badArchive, entry: nil, containing: "text.npz: not an .npz file") { _ = try Npz.load(notZip) }

        let npyFile = dir.appendingPathComponent("single.npz")
        try Tensor([1] as [Float]).save(npy: npyFile)
        expectError(.badArchive, entry: nil, containing: "Tensor.load(npy:)") { _ = try Npz.load(npyFile) }

        // An entry whose .npy is truncated, and one that is not .npy at all.
        var writer = ZipWriter()
        writer.add("good.npy", try Tensor([1, 2] as [Float]).npyData())
        writer.add("short.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", payload: [0, 0, 0, 0]))
        let truncated = dir.appendingPathComponent("trunc.npz")
        try writer.finish().write(to: truncated)
        expectError(.badEntry, entry: "short.npy", containing: "trunc.npz: entry 'short.npy': truncated data") { _ = try Npz.load(truncated) }

        var other = ZipWriter()
        other.add("readme.txt", Data("hello".utf8), compress: true)
        let text = dir.appendingPathComponent("other.npz")
        try other.finish().write(to: text)
        expectError(.badEntry, entry: "readme.txt", containing: "not an .npy array") { _ = try Npz.load(text) }

        // A corrupted byte inside a stored entry's data: the CRC check names the entry.
        var crcWriter = ZipWriter()
        crcWriter.add("w.npy", try Tensor([1, 2, 3, 4] as [Float]).npyData())
        var bytes = crcWriter.finish()
        let zip = try ZipArchive(data: bytes)
        let dataEnd = bytes.count - 22 - (46 + 5)   // before the central directory
        bytes[dataEnd - 1] ^= 0xFF
        XCTAssertEqual(zip.entries.count, 1)
        let corrupt = dir.appendingPathComponent("crc.npz")
        try bytes.write(to: corrupt)
        expectError(.badArchive, entry: "w.npy", containing: "crc.npz: entry 'w.npy'") { _ = try Npz.load(corrupt) }

        // Every truncation of a valid compressed archive throws (never crashes).
        let valid = try Data(contentsOf: Self.fixtures.appendingPathComponent("mixed_compressed.npz"))
        for cut in stride(from: 0, to: valid.count, by: 97) {
            XCTAssertThrowsError(try Npz.decode(valid.prefix(cut), path: "cut.npz")) { error in
                XCTAssertEqual((error as? NpzError)?.path, "cut.npz", "cut \(cut): \(error)")
            }
        }
    }

    // MARK: NumPy round trip (optional)

    /// A Python with NumPy (see `ReferencePython`), or nil.
    func pythonWithNumPy() -> String? { ReferencePython.find(importing: ["numpy"])?.path }

    func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try ReferencePython.run(URL(fileURLWithPath: executable), arguments)
    }

    func testNumPyReadsWhatEmberWritesAndBack() throws {
        guard let python = pythonWithNumPy() else {
            throw XCTSkip("no Python with NumPy (set EMBER_PYTHON or create .venv-ref): skipping the NumPy .npz round trip; the committed fixtures are still checked")
        }
        let dir = temporaryDirectory!
        let tensors: [(name: String, tensor: Tensor)] = [
            ("w", Tensor(floats(6).map { Float($0) }, shape: [2, 3])),
            ("i", Tensor(ints(6), shape: [3, 2])),
            ("h", Tensor(floats(4).map { Float16(Float($0)) }, shape: [4])),
            ("m", Tensor([true, false], shape: [2])),
            ("s", Tensor(Double(7.5))),
        ]
        try Npz.save(ordered: tensors, to: dir.appendingPathComponent("stored.npz"))
        try Npz.save(ordered: tensors, to: dir.appendingPathComponent("deflated.npz"), compressed: true)
        let script = """
        import numpy as np, sys
        d = sys.argv[1]
        for name in ('stored', 'deflated'):
            with np.load(d + '/' + name + '.npz') as z:
                assert list(z.files) == ['w', 'i', 'h', 'm', 's'], z.files
                w = z['w']; assert w.dtype == np.float32 and w.shape == (2, 3) and np.array_equal(w.ravel(), np.arange(6) * 0.5 - 1), w
                i = z['i']; assert i.dtype == np.int64 and i.shape == (3, 2) and np.array_equal(i.ravel(), np.arange(6) * 3 - 7), i
                h = z['h']; assert h.dtype == np.float16 and np.array_equal(h, np.arange(4) * 0.5 - 1), h
                m = z['m']; assert m.dtype == np.bool_ and m.tolist() == [True, False], m
                s = z['s']; assert s.shape == () and s == 7.5, s
        x = np.asfortranarray((np.arange(6) * 3 - 7).reshape(3, 2).astype('>i4'))
        np.savez_compressed(d + '/back.npz', second=x, first=np.float32(1.5))
        print('ok')
        """
        let result = try run(python, ["-c", script, dir.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("ok"), result.output)
        let back = try Npz.loadOrdered(dir.appendingPathComponent("back.npz"))
        XCTAssertEqual(back.map(\.name), ["second", "first"])
        XCTAssertEqual(back[0].tensor.dtype, .int32)
        XCTAssertEqual(back[0].tensor.shape, [3, 2])
        XCTAssertEqual(back[0].tensor.asArray(Int64.self), ints(6))
        XCTAssertEqual(back[1].tensor.shape, [])
        XCTAssertEqual(back[1].tensor.asArray(Double.self), [1.5])
    }
}
