// .npy reading and writing: NumPy-written fixtures (scripts/make_npy_fixtures.py, committed
// under Fixtures/npy), every validation error, atomic writes, and — only when a Python with
// NumPy is available — a round trip of Ember-written files through NumPy.
import Foundation
import XCTest
import EmberTestSupport
@testable import Ember

final class NpyTests: XCTestCase {
    // MARK: Helpers

    static var fixtures: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("npy")
    }

    func fixture(_ name: String) throws -> Tensor { try Tensor.load(npy: Self.fixtures.appendingPathComponent(name)) }

    /// The script's float formula: i * 0.5 - 1.
    func floats(_ n: Int) -> [Double] { (0..<n).map { Double($0) * 0.5 - 1 } }
    /// The script's integer formula: i * 3 - 7.
    func ints(_ n: Int) -> [Int64] { (0..<n).map { Int64($0) * 3 - 7 } }

    var temporaryDirectory: URL!

    override func setUpWithError() throws {
        temporaryDirectory = FileManager.default.temporaryDirectory
            .appendingPathComponent("ember-npy-\(getpid())-\(UInt32.random(in: 0 ... .max))")
        try FileManager.default.createDirectory(at: temporaryDirectory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: temporaryDirectory)
    }

    func expectError(_ kind: TensorIOError.Kind, containing text: String, file: StaticString = #filePath, line: UInt = #line,
                     _ body: () throws -> Void) {
        do {
            try body()
            XCTFail("expected a TensorIOError (\(kind))", file: file, line: line)
        } catch let error as TensorIOError {
            XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
            XCTAssertTrue(error.description.contains(text), "'\(error)' does not contain '\(text)'", file: file, line: line)
        } catch {
            XCTFail("unexpected error \(error)", file: file, line: line)
        }
    }

    /// A hand-made .npy file (version 1.0) with the given header dict and payload.
    func handMade(_ dict: String, payload: [UInt8], major: UInt8 = 1) -> Data {
        var header = Array(dict.utf8)
        let prefix = major == 1 ? 10 : 12
        while (prefix + header.count + 1) % 64 != 0 { header.append(0x20) }
        header.append(0x0A)
        var bytes: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, major, 0]
        if major == 1 { bytes += [UInt8(header.count & 0xFF), UInt8(header.count >> 8)] }
        else { bytes += [UInt8(header.count & 0xFF), UInt8(header.count >> 8), 0, 0] }
        return Data(bytes + header + payload)
    }

    // MARK: Reading NumPy's files

    func testReadsEveryDTypeWrittenByNumPy() throws {
        let f4 = try fixture("f4_2x3.npy")
        XCTAssertEqual(f4.dtype, .float32)
        XCTAssertEqual(f4.shape, [2, 3])
        XCTAssertEqual(f4.asArray(Double.self), floats(6))

        let f8 = try fixture("f8_4.npy")
        XCTAssertEqual(f8.dtype, .float64)
        XCTAssertEqual(f8.asArray(Double.self), floats(4))

        let f2 = try fixture("f2_2x2.npy")
        XCTAssertEqual(f2.dtype, .float16)
        XCTAssertEqual(f2.shape, [2, 2])
        XCTAssertEqual(f2.asArray(Double.self), floats(4))

        let i8 = try fixture("i8_3x2.npy")
        XCTAssertEqual(i8.dtype, .int64)
        XCTAssertEqual(i8.shape, [3, 2])
        XCTAssertEqual(i8.asArray(Int64.self), ints(6))

        let i4 = try fixture("i4_5.npy")
        XCTAssertEqual(i4.dtype, .int32)
        XCTAssertEqual(i4.asArray(Int64.self), ints(5))

        let u1 = try fixture("u1_2x2x2.npy")
        XCTAssertEqual(u1.dtype, .uint8)
        XCTAssertEqual(u1.shape, [2, 2, 2])
        XCTAssertEqual(u1.asArray(UInt8.self), (0..<8).map { UInt8($0 * 30) })

        let b1 = try fixture("b1_5.npy")
        XCTAssertEqual(b1.dtype, .bool)
        XCTAssertEqual(b1.asArray(Bool.self), [true, false, false, true, true])
    }

    func testScalarAndEmptyArrays() throws {
        let scalar = try fixture("f4_scalar.npy")
        XCTAssertEqual(scalar.shape, [])
        XCTAssertEqual(scalar.item(Double.self), 3.25)
        let empty = try fixture("f4_empty_0x3.npy")
        XCTAssertEqual(empty.shape, [0, 3])
        XCTAssertEqual(empty.count, 0)
    }

    func testFortranOrderIsConvertedToRowMajor() throws {
        let f = try fixture("f4_2x3_fortran.npy")
        XCTAssertEqual(f.shape, [2, 3])
        XCTAssertEqual(f.asArray(Double.self), floats(6))   // same logical values as the C-order file
        let g = try fixture("i8_2x3x4_fortran.npy")
        XCTAssertEqual(g.shape, [2, 3, 4])
        XCTAssertEqual(g.asArray(Int64.self), ints(24))
        XCTAssertEqual(g[1, 2, 3].item(Int64.self), Int64(23 * 3 - 7))
    }

    func testFormatVersions2And3() throws {
        let v2 = try fixture("f4_2x3_v2.npy")
        XCTAssertEqual(v2.shape, [2, 3])
        XCTAssertEqual(v2.asArray(Double.self), floats(6))
        let v3 = try fixture("f8_3_v3.npy")
        XCTAssertEqual(v3.dtype, .float64)
        XCTAssertEqual(v3.asArray(Double.self), floats(3))
    }

    func testBigEndianIsByteSwapped() throws {
        let f = try fixture("f8_be_3.npy")
        XCTAssertEqual(f.dtype, .float64)
        XCTAssertEqual(f.asArray(Double.self), floats(3))
        let i = try fixture("i4_be_4.npy")
        XCTAssertEqual(i.dtype, .int32)
        XCTAssertEqual(i.asArray(Int64.self), ints(4))
    }

    // MARK: Writing

    func testRoundTripThroughFilesForEveryDType() throws {
        let cases: [Tensor] = [
            Tensor(floats(6).map { Float($0) }, shape: [2, 3]),
            Tensor(floats(5), shape: [5]),
            Tensor(floats(4).map { Float16(Float($0)) }, shape: [2, 2]),
            Tensor(ints(6), shape: [3, 1, 2]),
            Tensor(ints(4).map { Int32($0) }, shape: [4]),
            Tensor([0, 7, 255] as [UInt8], shape: [3]),
            Tensor([true, false, true], shape: [3]),
            Tensor(Float(2.5)),
            Tensor.zeros([0, 4]),
        ]
        for (k, original) in cases.enumerated() {
            let url = temporaryDirectory.appendingPathComponent("case\(k).npy")
            try original.save(npy: url)
            let back = try Tensor.load(npy: url)
            XCTAssertEqual(back.dtype, original.dtype, "case \(k)")
            XCTAssertEqual(back.shape, original.shape, "case \(k)")
            XCTAssertEqual(back.asArray(Double.self), original.asArray(Double.self), "case \(k)")
        }
    }

    func testWrittenHeaderIsNumPyStyleAndAligned() throws {
        let data = try Tensor.zeros([2, 3]).npyData()
        let bytes = [UInt8](data)
        XCTAssertEqual(Array(bytes[0..<8]), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0)
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), header)
        XCTAssertTrue(header.hasSuffix("\n"))
        XCTAssertEqual(data.count, 10 + headerLength + 24)
        let vector = String(decoding: [UInt8](try Tensor.zeros([7]).npyData())[10..<70], as: UTF8.self)
        XCTAssertTrue(vector.contains("'shape': (7,)"), vector)
    }

    func testSavesNonContiguousViewsInLogicalOrder() throws {
        let x = Tensor(floats(6).map { Float($0) }, shape: [2, 3]).t()   // [3, 2], not contiguous
        XCTAssertFalse(x.isContiguous)
        let back = try Tensor.load(npyData: try x.npyData())
        XCTAssertEqual(back.shape, [3, 2])
        XCTAssertEqual(back.asArray(Double.self), [-1, 0.5, -0.5, 1, 0, 1.5])
    }

    func testBFloat16CannotBeSaved() {
        expectError(.unsupportedDType, containing: "bfloat16") {
            try Tensor.zeros([2], dtype: .bfloat16).save(npy: self.temporaryDirectory.appendingPathComponent("b.npy"))
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: temporaryDirectory.appendingPathComponent("b.npy").path))
    }

    func testAtomicWriteReplacesAndLeavesNoTemporaryFiles() throws {
        let url = temporaryDirectory.appendingPathComponent("w.npy")
        try Tensor.ones([3]).save(npy: url)
        try Tensor.full([2], 5).save(npy: url)
        XCTAssertEqual(try Tensor.load(npy: url).asArray(Double.self), [5, 5])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: temporaryDirectory.path), ["w.npy"])
    }

    func testWriteIntoMissingDirectoryFailsWithoutCrashing() {
        let url = temporaryDirectory.appendingPathComponent("missing/dir/x.npy")
        expectError(.writeFailed, containing: "missing/dir/x.npy") { try Tensor.ones([2]).save(npy: url) }
    }

    // MARK: Validation

    func testMissingFileAndDirectory() {
        let missing = temporaryDirectory.appendingPathComponent("nope.npy")
        expectError(.fileNotFound, containing: missing.path) { _ = try Tensor.load(npy: missing) }
        expectError(.unreadable, containing: "directory") { _ = try Tensor.load(npy: self.temporaryDirectory) }
    }

    func testBadMagicAndVersion() throws {
        expectError(.badMagic, containing: "bad.npy") { _ = try Tensor.load(npyData: Data("PK\u{3}\u{4}not numpy".utf8), source: "bad.npy") }
        var bytes = [UInt8](try Tensor.ones([2]).npyData())
        bytes[6] = 4
        expectError(.unsupportedVersion, containing: "version 4.0") { _ = try Tensor.load(npyData: Data(bytes), source: "v.npy") }
        expectError(.truncated, containing: "too short") { _ = try Tensor.load(npyData: Data([0x93, 0x4E]), source: "t.npy") }
    }

    func testTruncatedFilesThrowNamingTheFile() throws {
        let full = try Tensor.ones([4, 4]).npyData()
        let url = temporaryDirectory.appendingPathComponent("cut.npy")
        // Cut inside the data.
        try full.prefix(full.count - 5).write(to: url)
        expectError(.truncated, containing: "cut.npy: truncated data: the header's shape [4, 4] needs 64 bytes, the file holds 59") {
            _ = try Tensor.load(npy: url)
        }
        // Cut inside the header, and inside the length field.
        try full.prefix(40).write(to: url)
        expectError(.truncated, containing: "inside the header") { _ = try Tensor.load(npy: url) }
        try full.prefix(9).write(to: url)
        expectError(.truncated, containing: "header length") { _ = try Tensor.load(npy: url) }
    }

    func testTrailingBytesAreASizeMismatch() throws {
        let data = try Tensor.ones([2]).npyData() + Data([1, 2, 3])
        expectError(.sizeMismatch, containing: "3 unexpected trailing bytes") { _ = try Tensor.load(npyData: data, source: "x.npy") }
    }

    func testMalformedHeaders() {
        let cases: [(String, TensorIOError.Kind, String)] = [
            ("{'descr': '<f4', 'fortran_order': False}", .badHeader, "no 'shape'"),
            ("{'descr': '<f4', 'shape': (1,)}", .badHeader, "no 'fortran_order'"),
            ("{'fortran_order': False, 'shape': (1,)}", .badHeader, "no 'descr'"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", .badHeader, "non-negative integers"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", .badHeader, "unexpected"),
            ("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", .badHeader, "unexpected value '0'"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", .badHeader, "wrong type"),
            ("{'descr': '<f4', 'fortran_order': False, 'shape': (1,)", .badHeader, "expected '}'"),
            ("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", .badHeader, "duplicate"),
            ("{'descr': '<c8', 'fortran_order': False, 'shape': (1,)}", .unsupportedDType, "'<c8'"),
            ("{'descr': '|O', 'fortran_order': False, 'shape': (1,)}", .unsupportedDType, "'|O'"),
            ("{'descr': '<U3', 'fortran_order': False, 'shape': (1,)}", .unsupportedDType, "'<U3'"),
            ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,)}", .unsupportedDType, "structured"),
            ("not a dict", .badHeader, "expected '{'"),
        ]
        for (dict, kind, text) in cases {
            let data = handMade(dict, payload: [0, 0, 128, 63])
            expectError(kind, containing: text) { _ = try Tensor.load(npyData: data, source: "h.npy") }
        }
        // A well-formed hand-made header (double quotes, no trailing comma) reads fine.
        let ok = handMade("{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1,)}", payload: [0, 0, 128, 63])
        XCTAssertEqual(try Tensor.load(npyData: ok).asArray(Float.self), [1])
        let v2 = handMade("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", payload: [0, 0, 0, 64], major: 2)
        XCTAssertEqual(try Tensor.load(npyData: v2).asArray(Float.self), [2])
    }

    func testEveryPrefixOfAValidFileFailsCleanly() throws {
        let data = try Tensor(floats(6).map { Float($0) }, shape: [2, 3]).npyData()
        for cut in 0..<data.count {
            XCTAssertThrowsError(try Tensor.load(npyData: data.prefix(cut), source: "p.npy")) { error in
                XCTAssertTrue((error as? TensorIOError)?.path == "p.npy", "cut \(cut): \(error)")
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
            throw XCTSkip("no Python with NumPy (set EMBER_PYTHON or create .venv-ref): skipping the NumPy round trip; the committed fixtures are still checked")
        }
        let dir = temporaryDirectory!
        try Tensor(floats(6).map { Float($0) }, shape: [2, 3]).save(npy: dir.appendingPathComponent("f4.npy"))
        try Tensor(floats(4).map { Float16(Float($0)) }, shape: [4]).save(npy: dir.appendingPathComponent("f2.npy"))
        try Tensor(ints(6), shape: [3, 2]).save(npy: dir.appendingPathComponent("i8.npy"))
        try Tensor([true, false], shape: [2]).save(npy: dir.appendingPathComponent("b1.npy"))
        try Tensor(Double(7.5)).save(npy: dir.appendingPathComponent("scalar.npy"))
        let script = """
        import numpy as np, sys
        d = sys.argv[1]
        a = np.load(d + '/f4.npy'); assert a.dtype == np.float32 and a.shape == (2, 3), a
        assert np.array_equal(a.ravel(), np.arange(6) * 0.5 - 1), a
        b = np.load(d + '/f2.npy'); assert b.dtype == np.float16 and np.array_equal(b, np.arange(4) * 0.5 - 1), b
        c = np.load(d + '/i8.npy'); assert c.dtype == np.int64 and c.shape == (3, 2) and np.array_equal(c.ravel(), np.arange(6) * 3 - 7), c
        e = np.load(d + '/b1.npy'); assert e.dtype == np.bool_ and e.tolist() == [True, False], e
        s = np.load(d + '/scalar.npy'); assert s.shape == () and s == 7.5, s
        np.save(d + '/back.npy', np.asfortranarray((c * 2).astype(np.int32)))
        print('ok')
        """
        let result = try run(python, ["-c", script, dir.path])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertTrue(result.output.contains("ok"), result.output)
        let back = try Tensor.load(npy: dir.appendingPathComponent("back.npy"))
        XCTAssertEqual(back.dtype, .int32)
        XCTAssertEqual(back.shape, [3, 2])
        XCTAssertEqual(back.asArray(Int64.self), ints(6).map { $0 * 2 })
    }
}
