// Parquet's footer and page headers (parquet.thrift: FileMetaData, SchemaElement, RowGroup,
// ColumnChunk, ColumnMetaData, PageHeader and its three kinds), decoded from the Thrift
// compact protocol. Only the fields the reader uses are kept; the rest are skipped.

/// A Parquet physical type: how values are stored on disk.
///
/// ```swift
/// file.columns[0].physicalType   // .byteArray for a string column
/// ```
public enum ParquetPhysicalType: Int32, Sendable, CustomStringConvertible {
    /// `BOOLEAN`: one bit per value (read as `Bool`).
    case boolean = 0
    /// `INT32`: 32-bit signed integers (read as `Int32`).
    case int32 = 1
    /// `INT64`: 64-bit signed integers (read as `Int64`).
    case int64 = 2
    /// `INT96`: legacy 96-bit timestamps (not supported).
    case int96 = 3
    /// `FLOAT`: IEEE 32-bit floats (read as `Float`).
    case float = 4
    /// `DOUBLE`: IEEE 64-bit floats (read as `Double`).
    case double = 5
    /// `BYTE_ARRAY`: variable-length bytes, strings among them (read as `String`).
    case byteArray = 6
    /// `FIXED_LEN_BYTE_ARRAY`: fixed-length bytes such as decimals and UUIDs (not supported).
    case fixedLenByteArray = 7

    /// The specification's name (`BYTE_ARRAY`, `INT64`, …).
    public var description: String {
        switch self {
        case .boolean: return "BOOLEAN"
        case .int32: return "INT32"
        case .int64: return "INT64"
        case .int96: return "INT96"
        case .float: return "FLOAT"
        case .double: return "DOUBLE"
        case .byteArray: return "BYTE_ARRAY"
        case .fixedLenByteArray: return "FIXED_LEN_BYTE_ARRAY"
        }
    }
}

/// Value and level encodings (parquet.thrift `Encoding`).
enum ParquetEncoding: Int32 {
    case plain = 0, plainDictionary = 2, rle = 3, bitPacked = 4, deltaBinaryPacked = 5
    case deltaLengthByteArray = 6, deltaByteArray = 7, rleDictionary = 8, byteStreamSplit = 9

    static func name(_ raw: Int32) -> String {
        switch ParquetEncoding(rawValue: raw) {
        case .plain: return "PLAIN"
        case .plainDictionary: return "PLAIN_DICTIONARY"
        case .rle: return "RLE"
        case .bitPacked: return "BIT_PACKED"
        case .deltaBinaryPacked: return "DELTA_BINARY_PACKED"
        case .deltaLengthByteArray: return "DELTA_LENGTH_BYTE_ARRAY"
        case .deltaByteArray: return "DELTA_BYTE_ARRAY"
        case .rleDictionary: return "RLE_DICTIONARY"
        case .byteStreamSplit: return "BYTE_STREAM_SPLIT"
        case nil: return "encoding \(raw)"
        }
    }
}

/// Compression codecs (parquet.thrift `CompressionCodec`).
enum ParquetCodec: Int32 {
    case uncompressed = 0, snappy = 1, gzip = 2, lzo = 3, brotli = 4, lz4 = 5, zstd = 6, lz4Raw = 7

    static func name(_ raw: Int32) -> String {
        switch ParquetCodec(rawValue: raw) {
        case .uncompressed: return "UNCOMPRESSED"
        case .snappy: return "SNAPPY"
        case .gzip: return "GZIP"
        case .lzo: return "LZO"
        case .brotli: return "BROTLI"
        case .lz4: return "LZ4"
        case .zstd: return "ZSTD"
        case .lz4Raw: return "LZ4_RAW"
        case nil: return "codec \(raw)"
        }
    }
}

/// One node of the flattened schema tree (parquet.thrift `SchemaElement`).
struct SchemaElement {
    var type: Int32?
    var repetition: Int32?          // 0 required, 1 optional, 2 repeated
    var name = ""
    var numChildren: Int32?
    var convertedType: Int32?
    var logicalType: Int16?         // the id of the LogicalType union's member
}

/// parquet.thrift `ColumnMetaData`.
struct ColumnMetaData {
    var type: Int32 = -1
    var encodings: [Int32] = []
    var pathInSchema: [String] = []
    var codec: Int32 = 0
    var numValues: Int64 = 0
    var totalCompressedSize: Int64 = 0
    var dataPageOffset: Int64 = -1
    var dictionaryPageOffset: Int64?
}

/// parquet.thrift `RowGroup` (with its column chunks' metadata).
struct RowGroupMetaData {
    var columns: [ColumnMetaData?] = []   // nil where the chunk lives in another file (file_path)
    var columnFilePaths: [String?] = []
    var numRows: Int64 = 0
}

/// parquet.thrift `FileMetaData`.
struct FileMetaData {
    var version: Int32 = 0
    var schema: [SchemaElement] = []
    var numRows: Int64 = 0
    var rowGroups: [RowGroupMetaData] = []
    var keyValues: [(String, String?)] = []
    var createdBy: String?
}

/// parquet.thrift `PageHeader` with the fields of its data (v1 and v2) and dictionary headers.
struct PageHeader {
    var type: Int32 = -1                 // 0 data v1, 1 index, 2 dictionary, 3 data v2
    var uncompressedSize: Int32 = -1
    var compressedSize: Int32 = -1
    var numValues: Int32 = 0
    var encoding: Int32 = 0
    var definitionLevelEncoding: Int32 = 3
    // Data page v2 only.
    var numNulls: Int32 = 0
    var numRows: Int32 = 0
    var definitionLevelsByteLength: Int32 = 0
    var repetitionLevelsByteLength: Int32 = 0
    var isCompressed = true
    var hasTypeHeader = false
}

extension ThriftCompactReader {
    mutating func readFileMetaData() throws -> FileMetaData {
        var meta = FileMetaData()
        var seen = Set<Int16>()
        try readStruct { r, id, type in
            switch id {
            case 1: meta.version = try r.i32(type, "FileMetaData.version")
            case 2: meta.schema = try r.list(type, "FileMetaData.schema") { r, t in try r.structure(t, "SchemaElement") { try $0.readSchemaElement() } }
            case 3: meta.numRows = try r.i64(type, "FileMetaData.num_rows")
            case 4: meta.rowGroups = try r.list(type, "FileMetaData.row_groups") { r, t in try r.structure(t, "RowGroup") { try $0.readRowGroup() } }
            case 5: meta.keyValues = try r.list(type, "FileMetaData.key_value_metadata") { r, t in try r.structure(t, "KeyValue") { try $0.readKeyValue() } }
            case 6: meta.createdBy = try r.string(type, "FileMetaData.created_by")
            default: return false
            }
            seen.insert(id)
            return true
        }
        for (id, name) in [(Int16(1), "version"), (2, "schema"), (3, "num_rows"), (4, "row_groups")] where !seen.contains(id) {
            throw ParquetDecodeError(.corruptMetadata, "the footer has no \(name) field")
        }
        return meta
    }

    mutating func readKeyValue() throws -> (String, String?) {
        var key: String?, value: String?
        try readStruct { r, id, type in
            switch id {
            case 1: key = try r.string(type, "KeyValue.key")
            case 2: value = try r.string(type, "KeyValue.value")
            default: return false
            }
            return true
        }
        guard let key else { throw ParquetDecodeError(.corruptMetadata, "a key/value pair has no key") }
        return (key, value)
    }

    mutating func readSchemaElement() throws -> SchemaElement {
        var element = SchemaElement()
        var hasName = false
        try readStruct { r, id, type in
            switch id {
            case 1: element.type = try r.i32(type, "SchemaElement.type")
            case 3: element.repetition = try r.i32(type, "SchemaElement.repetition_type")
            case 4: element.name = try r.string(type, "SchemaElement.name"); hasName = true
            case 5: element.numChildren = try r.i32(type, "SchemaElement.num_children")
            case 6: element.convertedType = try r.i32(type, "SchemaElement.converted_type")
            case 10:
                // LogicalType is a union: remember which member is set.
                try r.structure(type, "SchemaElement.logicalType") { r in
                    try r.readStruct { r, member, memberType in
                        element.logicalType = member
                        try r.skip(memberType)
                        return true
                    }
                }
            default: return false
            }
            return true
        }
        guard hasName else { throw ParquetDecodeError(.corruptMetadata, "a schema element has no name") }
        return element
    }

    mutating func readRowGroup() throws -> RowGroupMetaData {
        var group = RowGroupMetaData()
        var hasColumns = false, hasRows = false
        try readStruct { r, id, type in
            switch id {
            case 1:
                let chunks = try r.list(type, "RowGroup.columns") { r, t in try r.structure(t, "ColumnChunk") { try $0.readColumnChunk() } }
                group.columns = chunks.map(\.1)
                group.columnFilePaths = chunks.map(\.0)
                hasColumns = true
            case 3: group.numRows = try r.i64(type, "RowGroup.num_rows"); hasRows = true
            default: return false
            }
            return true
        }
        guard hasColumns, hasRows else { throw ParquetDecodeError(.corruptMetadata, "a row group has no columns or no num_rows") }
        return group
    }

    mutating func readColumnChunk() throws -> (String?, ColumnMetaData?) {
        var filePath: String?
        var meta: ColumnMetaData?
        try readStruct { r, id, type in
            switch id {
            case 1: filePath = try r.string(type, "ColumnChunk.file_path")
            case 3: meta = try r.structure(type, "ColumnChunk.meta_data") { try $0.readColumnMetaData() }
            default: return false
            }
            return true
        }
        return (filePath, meta)
    }

    mutating func readColumnMetaData() throws -> ColumnMetaData {
        var meta = ColumnMetaData()
        var seen = Set<Int16>()
        try readStruct { r, id, type in
            switch id {
            case 1: meta.type = try r.i32(type, "ColumnMetaData.type")
            case 2: meta.encodings = try r.list(type, "ColumnMetaData.encodings") { r, t in try r.i32(t, "encoding") }
            case 3: meta.pathInSchema = try r.list(type, "ColumnMetaData.path_in_schema") { r, t in try r.string(t, "path") }
            case 4: meta.codec = try r.i32(type, "ColumnMetaData.codec")
            case 5: meta.numValues = try r.i64(type, "ColumnMetaData.num_values")
            case 7: meta.totalCompressedSize = try r.i64(type, "ColumnMetaData.total_compressed_size")
            case 9: meta.dataPageOffset = try r.i64(type, "ColumnMetaData.data_page_offset")
            case 11: meta.dictionaryPageOffset = try r.i64(type, "ColumnMetaData.dictionary_page_offset")
            default: return false
            }
            seen.insert(id)
            return true
        }
        for (id, name) in [(Int16(1), "type"), (4, "codec"), (5, "num_values"), (7, "total_compressed_size"), (9, "data_page_offset")]
        where !seen.contains(id) {
            throw ParquetDecodeError(.corruptMetadata, "a column chunk's metadata has no \(name) field")
        }
        return meta
    }

    mutating func readPageHeader() throws -> PageHeader {
        var page = PageHeader()
        var seen = Set<Int16>()
        try readStruct { r, id, type in
            switch id {
            case 1: page.type = try r.i32(type, "PageHeader.type")
            case 2: page.uncompressedSize = try r.i32(type, "PageHeader.uncompressed_page_size")
            case 3: page.compressedSize = try r.i32(type, "PageHeader.compressed_page_size")
            case 5:
                page.hasTypeHeader = true
                try r.structure(type, "DataPageHeader") { r in
                    try r.readStruct { r, id, type in
                        switch id {
                        case 1: page.numValues = try r.i32(type, "DataPageHeader.num_values")
                        case 2: page.encoding = try r.i32(type, "DataPageHeader.encoding")
                        case 3: page.definitionLevelEncoding = try r.i32(type, "DataPageHeader.definition_level_encoding")
                        default: return false
                        }
                        return true
                    }
                }
            case 7:
                page.hasTypeHeader = true
                try r.structure(type, "DictionaryPageHeader") { r in
                    try r.readStruct { r, id, type in
                        switch id {
                        case 1: page.numValues = try r.i32(type, "DictionaryPageHeader.num_values")
                        case 2: page.encoding = try r.i32(type, "DictionaryPageHeader.encoding")
                        default: return false
                        }
                        return true
                    }
                }
            case 8:
                page.hasTypeHeader = true
                try r.structure(type, "DataPageHeaderV2") { r in
                    try r.readStruct { r, id, type in
                        switch id {
                        case 1: page.numValues = try r.i32(type, "DataPageHeaderV2.num_values")
                        case 2: page.numNulls = try r.i32(type, "DataPageHeaderV2.num_nulls")
                        case 3: page.numRows = try r.i32(type, "DataPageHeaderV2.num_rows")
                        case 4: page.encoding = try r.i32(type, "DataPageHeaderV2.encoding")
                        case 5: page.definitionLevelsByteLength = try r.i32(type, "DataPageHeaderV2.definition_levels_byte_length")
                        case 6: page.repetitionLevelsByteLength = try r.i32(type, "DataPageHeaderV2.repetition_levels_byte_length")
                        case 7: page.isCompressed = try r.bool(type, "DataPageHeaderV2.is_compressed")
                        default: return false
                        }
                        return true
                    }
                }
            default: return false
            }
            seen.insert(id)
            return true
        }
        guard seen.contains(1), seen.contains(2), seen.contains(3) else {
            throw ParquetDecodeError(.corruptMetadata, "a page header lacks its type or sizes")
        }
        guard page.uncompressedSize >= 0, page.compressedSize >= 0, page.numValues >= 0, page.numNulls >= 0,
              page.definitionLevelsByteLength >= 0, page.repetitionLevelsByteLength >= 0 else {
            throw ParquetDecodeError(.corruptMetadata, "a page header has a negative size or count")
        }
        return page
    }
}
