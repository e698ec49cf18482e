// The typed error every dataset file operation throws.
import Foundation

/// A failure loading a dataset from disk. It names the file (and the line, for text
/// formats) and says what is wrong; a bad file never crashes the process.
///
/// ```swift
/// do {
///     let train = try FashionMNIST(split: .train)
/// } catch let error as DatasetError {
///     print(error)   // names the missing file and `apt-get install dataset-fashion-mnist`
/// }
/// ```
public struct DatasetError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
    /// What went wrong, by category (the message says the details).
    public enum Kind: String, Sendable {
        /// A file the dataset needs does not exist.
        case fileNotFound
        /// A dataset that a system package provides is not installed.
        case notInstalled
        /// The file exists but could not be read.
        case unreadable
        /// The file does not start with the magic number its format requires.
        case badMagic
        /// The compressed stream is corrupt.
        case corruptCompressedData
        /// The file ends before the data its header promises.
        case truncated
        /// Sizes disagree: the header and the data, or two files that belong together.
        case sizeMismatch
        /// A value the format allows but this dataset does not (an element type, a label out of range).
        case unsupportedContent
        /// A text cell that is not a number, or a row with the wrong number of cells.
        case badValue
    }

    /// The category of the failure.
    public let kind: Kind
    /// The file involved.
    public let path: String
    /// The 1-based line, for text formats.
    public let line: Int?
    /// What is wrong, in words.
    public let detail: String

    /// Creates an error for `path` (and `line`, for text files).
    ///
    /// ```swift
    /// throw DatasetError(.badValue, path: "data.csv", line: 7, "column 3: 'abc' is not a number")
    /// ```
    public init(_ kind: Kind, path: String, line: Int? = nil, _ detail: String) {
        self.kind = kind
        self.path = path
        self.line = line
        self.detail = detail
    }

    /// `"<path>:<line>: <detail>"` (without the line when there is none).
    public var description: String {
        if let line { return "\(path):\(line): \(detail)" }
        return "\(path): \(detail)"
    }

    /// The same text as `description`, for `localizedDescription`.
    public var errorDescription: String? { description }
}
