// The typed error every Parquet read throws.
import Foundation

/// A failure reading a Parquet file. It names the file and says what is wrong (and where,
/// for damaged data); a bad or hostile file never crashes the process.
///
/// ```swift
/// do {
///     let file = try ParquetFile(contentsOf: URL(fileURLWithPath: "words.parquet"))
///     let words = try file.readStrings(column: "index")
/// } catch let error as ParquetError {
///     print(error)   // "words.parquet: column 'index', row group 0: page at byte 769645: snappy data ends after …"
/// }
/// ```
public struct ParquetError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// What went wrong, by category (the message says the details).
    public enum Kind: String, Sendable {
        /// The file does not exist.
        case fileNotFound
        /// The file exists but could not be read.
        case unreadable
        /// The file does not start and end with `PAR1` (an encrypted `PARE` file included).
        case badMagic
        /// The file ends before the data its footer or a page header promises.
        case truncated
        /// The Thrift-encoded footer or a page header is malformed (bad varint, wrong field
        /// type, missing required field, value out of range).
        case corruptMetadata
        /// A page's data does not decode (levels, values, dictionary indices, lengths).
        case corruptPage
        /// A compressed page does not decompress to the size its header declares.
        case corruptCompressedData
        /// A valid Parquet feature this reader does not implement (named in the message).
        case unsupported
        /// No column has the requested name.
        case noSuchColumn
        /// The column holds another physical or logical type than the one asked for.
        case typeMismatch
        /// The column holds a null where the caller asked for non-optional values.
        case nullValue
    }

    /// The category of the failure.
    public let kind: Kind
    /// The file involved (a path, or `<memory>` for bytes held in memory).
    public let path: String
    /// What is wrong, in words.
    public let detail: String

    /// Creates an error for `path`.
    ///
    /// ```swift
    /// throw ParquetError(.badMagic, path: "x.parquet", "the file does not end with PAR1")
    /// ```
    public init(_ kind: Kind, path: String, _ detail: String) {
        self.kind = kind
        self.path = path
        self.detail = detail
    }

    /// `"<path>: <detail>"`.
    public var description: String { "\(path): \(detail)" }
    /// The same text as `description`, for `localizedDescription`.
    public var errorDescription: String? { description }
}

/// A decoding failure inside a byte buffer, before the caller adds the file and the place.
struct ParquetDecodeError: Error {
    let kind: ParquetError.Kind
    let detail: String
    init(_ kind: ParquetError.Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }
}
