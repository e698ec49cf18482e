// The typed error of word-vector look-ups and loaders.
import Foundation

/// A failure looking up or loading word vectors.
///
/// ```swift
/// do {
///     _ = try glove.nearest(to: "xyzzyq")
/// } catch let error as WordVectorsError {
///     print(error)   // "'xyzzyq' is not in the vocabulary (400000 words)"
/// }
/// ```
public enum WordVectorsError: Error, CustomStringConvertible, LocalizedError, Equatable {
    /// A word that is not in the vocabulary (with the vocabulary's size).
    case unknownWord(String, vocabularySize: Int)
    /// The words and the vectors do not fit together (counts, shape or dtype).
    case mismatch(String)
    /// A text file of vectors is malformed at `line` (1-based; 0 when the file cannot be read at all).
    case badTextFile(path: String, line: Int, detail: String)

    /// The message, in words.
    public var description: String {
        switch self {
        case let .unknownWord(word, size):
            return "'\(word)' is not in the vocabulary (\(size) words)"
        case let .mismatch(detail):
            return detail
        case let .badTextFile(path, line, detail):
            return line > 0 ? "\(path):\(line): \(detail)" : "\(path): \(detail)"
        }
    }

    /// The same text as `description`.
    public var errorDescription: String? { description }
}
