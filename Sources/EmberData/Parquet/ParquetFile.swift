// `ParquetFile`: opens a Parquet file (the format Spark, Dask, pandas and Arrow write),
// validates its footer and schema, and reads flat columns into Swift arrays.
//
// Layout: "PAR1", column chunks (pages), the footer (Thrift compact FileMetaData), the
// footer's length (UInt32, little-endian), "PAR1".
import Foundation

/// One top-level column of a Parquet file's schema.
///
/// ```swift
/// let file = try ParquetFile(contentsOf: url)
/// for column in file.columns { print(column.name, column.physicalType, column.isOptional) }
/// ```
public struct ParquetColumn: Sendable, Equatable, CustomStringConvertible {
    /// The column's name.
    public let name: String
    /// How values are stored; nil for a nested column (a group such as a list or a struct).
    public let physicalType: ParquetPhysicalType?
    /// The logical type's name (`STRING`, `INTEGER`, `TIMESTAMP`, `LIST`, …), when the file gives one.
    public let logicalType: String?
    /// True when the column may hold nulls (repetition `OPTIONAL`).
    public let isOptional: Bool
    /// True for nested columns (groups and repeated fields), which this reader cannot read.
    public let isNested: Bool

    /// `name: TYPE (logical) optional`.
    public var description: String {
        var text = "\(name): " + (physicalType.map { "\($0)" } ?? "group")
        if let logicalType { text += " (\(logicalType))" }
        if isOptional { text += " optional" }
        return text
    }
}

/// A Parquet file held in memory, with its footer decoded and validated.
///
/// Supported: flat columns of `BOOLEAN`, `INT32`, `INT64`, `FLOAT`, `DOUBLE` and `BYTE_ARRAY`
/// (read as UTF-8 strings), required or optional; PLAIN and dictionary encodings
/// (`PLAIN_DICTIONARY`, `RLE_DICTIONARY`, with the writer's fallback to PLAIN); data pages
/// v1 and v2; codecs UNCOMPRESSED, SNAPPY and GZIP; any number of row groups. Anything
/// else (nested columns, other codecs or encodings, encryption) throws a ``ParquetError``
/// of kind `.unsupported` that names the feature. Damaged or hostile files throw a
/// ``ParquetError`` naming the file and the problem; sizes are checked against the bytes
/// present before anything is allocated.
///
/// ```swift
/// let file = try ParquetFile(contentsOf: URL(fileURLWithPath: "glove_6B_index.parquet"))
/// file.rowCount                                         // 400000
/// let words = try file.read(String.self, column: "index")
/// let scores = try file.readOptional(Double.self, column: "score")   // [Double?]
/// ```
public struct ParquetFile: Sendable {
    /// The file's path (or the `source` given for in-memory bytes), used in errors.
    public let path: String
    /// The number of rows.
    public let rowCount: Int
    /// The number of row groups.
    public var rowGroupCount: Int { metadata.rowGroups.count }
    /// The top-level columns, in schema order.
    public let columns: [ParquetColumn]
    /// The writer's name and version (`created_by`), when the file records it.
    public var createdBy: String? { metadata.createdBy }
    /// The file's key/value metadata (pandas and Arrow store their schemas here).
    public var keyValueMetadata: [String: String] {
        var result: [String: String] = [:]
        for (key, value) in metadata.keyValues { result[key] = value ?? "" }
        return result
    }

    private let bytes: [UInt8]
    private let metadata: FileMetaData
    /// The end of the column data (where the footer starts).
    private let dataEnd: Int
    /// For each top-level column, the index of its leaf among each row group's column chunks.
    private let leafIndex: [Int]

    /// Reads and validates the Parquet file at `url`.
    ///
    /// - Parameter url: a local file.
    /// - Throws: ``ParquetError`` when the file is missing, unreadable, damaged or uses an
    ///   unsupported feature in its footer (encryption).
    ///
    /// ```swift
    /// let file = try ParquetFile(contentsOf: URL(fileURLWithPath: "data.parquet"))
    /// print(file.columns)
    /// ```
    public init(contentsOf url: URL) throws {
        let path = url.path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ParquetError(.fileNotFound, path: path, "no such file")
        }
        if isDirectory.boolValue {
            throw ParquetError(.unreadable, path: path, "is a directory (a partitioned dataset?), not a Parquet file")
        }
        let data: Data
        do {
            data = try Data(contentsOf: url, options: .mappedIfSafe)
        } catch {
            throw ParquetError(.unreadable, path: path, "cannot read the file: \(error.localizedDescription)")
        }
        try self.init(bytes: [UInt8](data), source: path)
    }

    /// Decodes Parquet bytes held in memory; `source` names them in errors.
    ///
    /// - Parameters:
    ///   - bytes: the whole file.
    ///   - source: a name for errors.
    ///
    /// ```swift
    /// let file = try ParquetFile(bytes: Array(downloadedData), source: "s3://bucket/part-0.parquet")
    /// ```
    public init(bytes: [UInt8], source: String = "<memory>") throws {
        path = source
        self.bytes = bytes
        let n = bytes.count
        let magic: [UInt8] = Array("PAR1".utf8)
        guard n >= 12 else {
            throw ParquetError(n >= 4 && Array(bytes[0..<4]) == magic ? .truncated : .badMagic, path: source,
                               "\(n) bytes is too short for a Parquet file (at least 12: PAR1, a footer length, PAR1)")
        }
        guard Array(bytes[0..<4]) == magic else {
            throw ParquetError(.badMagic, path: source, "not a Parquet file (it does not start with PAR1)")
        }
        let tail = Array(bytes[(n - 4)..<n])
        if tail == Array("PARE".utf8) {
            throw ParquetError(.unsupported, path: source, "the file is encrypted (PARE footer); encrypted Parquet is not supported")
        }
        guard tail == magic else {
            throw ParquetError(.truncated, path: source, "the file does not end with PAR1 (truncated or damaged)")
        }
        let footerLength = Int(bytes[n - 8]) | Int(bytes[n - 7]) << 8 | Int(bytes[n - 6]) << 16 | Int(bytes[n - 5]) << 24
        guard footerLength <= n - 12 else {
            throw ParquetError(.truncated, path: source, "the footer length \(footerLength) runs past the start of the \(n)-byte file")
        }
        dataEnd = n - 8 - footerLength
        var reader = ThriftCompactReader(bytes, start: dataEnd, end: n - 8)
        do {
            metadata = try reader.readFileMetaData()
        } catch let error as ParquetDecodeError {
            throw ParquetError(error.kind == .truncated ? .corruptMetadata : error.kind, path: source, "footer: \(error.detail)")
        }
        (columns, leafIndex) = try Self.flatten(metadata, path: source)
        guard metadata.numRows >= 0 else { throw ParquetError(.corruptMetadata, path: source, "negative row count \(metadata.numRows)") }
        var total: Int64 = 0
        let leaves = Self.leafCount(metadata)
        for (g, group) in metadata.rowGroups.enumerated() {
            guard group.numRows >= 0, group.columns.count == leaves else {
                throw ParquetError(.corruptMetadata, path: source,
                                   "row group \(g) has \(group.columns.count) column chunks and \(group.numRows) rows; the schema has \(leaves) leaves")
            }
            let (sum, overflow) = total.addingReportingOverflow(group.numRows)
            guard !overflow else { throw ParquetError(.corruptMetadata, path: source, "the row groups' row counts overflow") }
            total = sum
        }
        guard total == metadata.numRows else {
            throw ParquetError(.corruptMetadata, path: source, "the footer says \(metadata.numRows) rows, the row groups hold \(total)")
        }
        rowCount = Int(metadata.numRows)
    }

    private static func leafCount(_ metadata: FileMetaData) -> Int {
        metadata.schema.dropFirst().filter { ($0.numChildren ?? 0) == 0 }.count
    }

    /// The top-level columns and, for each, the index of its first leaf.
    private static func flatten(_ metadata: FileMetaData, path: String) throws -> ([ParquetColumn], [Int]) {
        let schema = metadata.schema
        guard let root = schema.first else { throw ParquetError(.corruptMetadata, path: path, "the schema is empty") }
        let topLevel = Int(root.numChildren ?? 0)
        guard topLevel >= 0, topLevel < schema.count else {
            throw ParquetError(.corruptMetadata, path: path, "the schema root declares \(topLevel) children, the schema has \(schema.count - 1) elements")
        }
        var columns: [ParquetColumn] = []
        var leaves: [Int] = []
        var position = 1
        var leaf = 0
        /// Skips the subtree at `position`; returns the number of leaves in it.
        func skipSubtree(depth: Int) throws -> Int {
            guard depth < 64 else { throw ParquetError(.corruptMetadata, path: path, "the schema is nested deeper than 64") }
            guard position < schema.count else { throw ParquetError(.corruptMetadata, path: path, "the schema tree runs past its elements") }
            let children = Int(schema[position].numChildren ?? 0)
            guard children >= 0, children <= schema.count - position - 1 else {
                throw ParquetError(.corruptMetadata, path: path, "schema element '\(schema[position].name)' declares \(children) children")
            }
            position += 1
            if children == 0 { return 1 }
            var count = 0
            for _ in 0..<children { count += try skipSubtree(depth: depth + 1) }
            return count
        }
        for _ in 0..<topLevel {
            guard position < schema.count else { throw ParquetError(.corruptMetadata, path: path, "the schema tree runs past its elements") }
            let element = schema[position]
            let isGroup = (element.numChildren ?? 0) > 0
            let physical = element.type.flatMap(ParquetPhysicalType.init(rawValue:))
            if !isGroup && physical == nil {
                throw ParquetError(.corruptMetadata, path: path, "column '\(element.name)' has no valid physical type (\(element.type.map(String.init) ?? "none"))")
            }
            guard let repetition = element.repetition, (0...2).contains(repetition) else {
                throw ParquetError(.corruptMetadata, path: path, "column '\(element.name)' has no valid repetition type")
            }
            let nested = isGroup || repetition == 2
            columns.append(ParquetColumn(name: element.name, physicalType: isGroup ? nil : physical,
                                         logicalType: logicalTypeName(element), isOptional: repetition == 1, isNested: nested))
            leaves.append(leaf)
            leaf += try skipSubtree(depth: 0)
        }
        guard position == schema.count else {
            throw ParquetError(.corruptMetadata, path: path, "the schema holds \(schema.count - position) elements outside its tree")
        }
        return (columns, leaves)
    }

    private static func logicalTypeName(_ element: SchemaElement) -> String? {
        let logical = [1: "STRING", 2: "MAP", 3: "LIST", 4: "ENUM", 5: "DECIMAL", 6: "DATE", 7: "TIME", 8: "TIMESTAMP",
                       10: "INTEGER", 11: "UNKNOWN", 12: "JSON", 13: "BSON", 14: "UUID", 15: "FLOAT16", 16: "VARIANT",
                       17: "GEOMETRY", 18: "GEOGRAPHY"]
        let converted = [0: "STRING", 1: "MAP", 2: "MAP_KEY_VALUE", 3: "LIST", 4: "ENUM", 5: "DECIMAL", 6: "DATE",
                         7: "TIME_MILLIS", 8: "TIME_MICROS", 9: "TIMESTAMP_MILLIS", 10: "TIMESTAMP_MICROS",
                         11: "UINT_8", 12: "UINT_16", 13: "UINT_32", 14: "UINT_64", 15: "INT_8", 16: "INT_16",
                         17: "INT_32", 18: "INT_64", 19: "JSON", 20: "BSON", 21: "INTERVAL"]
        if let id = element.logicalType { return logical[Int(id)] ?? "logical type \(id)" }
        if let id = element.convertedType { return converted[Int(id)] ?? "converted type \(id)" }
        return nil
    }

    /// The column named `name`, or nil.
    ///
    /// ```swift
    /// file.column(named: "index")?.physicalType   // .byteArray
    /// ```
    public func column(named name: String) -> ParquetColumn? {
        columns.first { $0.name == name }
    }

    /// Every value of a column that holds no nulls, across all row groups.
    ///
    /// - Parameters:
    ///   - type: the Swift type to read: `String` for `BYTE_ARRAY`, `Int64`, `Int32`,
    ///     `Double`, `Float` or `Bool` for the physical type of the same name.
    ///   - column: the column's name.
    /// - Returns: one value per row.
    /// - Throws: ``ParquetError``: `.noSuchColumn`, `.typeMismatch` (naming the column's
    ///   type), `.nullValue` (naming the first null row; use ``readOptional(_:column:)``),
    ///   `.unsupported`, or a damaged-data kind naming the page.
    ///
    /// ```swift
    /// let words = try file.read(String.self, column: "index")
    /// ```
    public func read<T: ParquetValue>(_ type: T.Type, column: String) throws -> [T] {
        let (values, defined) = try readColumn(T.self, column)
        if let defined, let row = defined.firstIndex(of: false) {
            throw ParquetError(.nullValue, path: path, "column '\(column)' holds a null at row \(row); read it with readOptional")
        }
        return values
    }

    /// Every value of a column, with nil for nulls, across all row groups.
    ///
    /// - Parameters:
    ///   - type: the Swift type to read (see ``read(_:column:)``).
    ///   - column: the column's name (required columns are fine too: no value is nil).
    /// - Returns: one optional value per row.
    ///
    /// ```swift
    /// let ages = try file.readOptional(Int64.self, column: "age")   // [31, nil, 45]
    /// ```
    public func readOptional<T: ParquetValue>(_ type: T.Type, column: String) throws -> [T?] {
        let (values, defined) = try readColumn(T.self, column)
        guard let defined else { return values.map { $0 } }
        var result: [T?] = []
        result.reserveCapacity(defined.count)
        var next = 0
        for isDefined in defined {
            if isDefined {
                result.append(values[next])
                next += 1
            } else {
                result.append(nil)
            }
        }
        return result
    }

    private func readColumn<T: ParquetValue>(_ type: T.Type, _ name: String) throws -> ([T], [Bool]?) {
        guard let index = columns.firstIndex(where: { $0.name == name }) else {
            throw ParquetError(.noSuchColumn, path: path, "no column '\(name)' (the file has \(columns.map(\.name)))")
        }
        let column = columns[index]
        guard !column.isNested, let physical = column.physicalType else {
            throw ParquetError(.unsupported, path: path, "column '\(name)' is nested (\(column.logicalType ?? "a group or repeated field")); "
                               + "only flat columns are supported")
        }
        guard physical == T.parquetPhysicalType else {
            throw ParquetError(.typeMismatch, path: path, "column '\(name)' holds \(physical) values, not \(T.parquetPhysicalType) (\(T.self))")
        }
        var values: [T] = []
        var defined: [Bool]? = column.isOptional ? [] : nil
        for (g, group) in metadata.rowGroups.enumerated() {
            let place = "column '\(name)', row group \(g)"
            guard let meta = group.columns[leafIndex[index]] else {
                if let file = group.columnFilePaths[leafIndex[index]] {
                    throw ParquetError(.unsupported, path: path, "\(place) lives in another file (\(file))")
                }
                throw ParquetError(.corruptMetadata, path: path, "\(place) has no metadata")
            }
            guard meta.type == physical.rawValue else {
                throw ParquetError(.corruptMetadata, path: path, "\(place): the chunk's type \(meta.type) differs from the schema's \(physical)")
            }
            guard meta.numValues == group.numRows else {
                throw ParquetError(.corruptMetadata, path: path, "\(place) holds \(meta.numValues) values for \(group.numRows) rows")
            }
            if group.numRows == 0 { continue }   // writers may leave an empty chunk's offsets at 0
            var start = meta.dataPageOffset
            if let dictionaryOffset = meta.dictionaryPageOffset, dictionaryOffset > 0, dictionaryOffset < start { start = dictionaryOffset }
            let length = meta.totalCompressedSize
            guard start >= 4, length >= 0, start <= Int64(dataEnd), length <= Int64(dataEnd) - start else {
                throw ParquetError(.corruptMetadata, path: path, "\(place) spans bytes \(start) + \(length), outside the data (4..<\(dataEnd))")
            }
            let rows = Int(group.numRows)
            let limit = max(65_536, Int(length) * ParquetColumnChunkReader.maxValuesPerByte)
            guard rows <= limit else {
                throw ParquetError(.corruptMetadata, path: path, "\(place) declares \(rows) rows in \(length) bytes")
            }
            let chunk = ParquetColumnChunkReader(bytes: bytes, chunkRange: Int(start)..<Int(start + length), meta: meta,
                                                 isOptional: column.isOptional, rowCount: rows)
            do {
                let part = try chunk.read(T.self)
                if values.isEmpty { values = part.values } else { values += part.values }
                if let d = part.defined { defined?.append(contentsOf: d) }
            } catch let error as ParquetDecodeError {
                throw ParquetError(error.kind, path: path, "\(place): \(error.detail)")
            }
        }
        return (values, defined)
    }
}
