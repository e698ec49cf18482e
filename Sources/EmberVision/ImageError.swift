// The typed error every image reader and transform throws, naming the file and the problem.
import Foundation

/// Why an image could not be read.
///
/// Each case names the file (or `"<memory>"` for bytes decoded without a name), so a message
/// like `flower.jpg: corrupt JPEG: Premature end of JPEG file` can be shown as is.
///
/// ```swift
/// do { _ = try Image(contentsOf: url) }
/// catch let error as ImageError { print(error) }   // "photo.png: not a JPEG or PNG file (starts with 74 68 69 73)"
/// ```
public enum ImageError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or read.
    case unreadable(file: String, reason: String)
    /// The bytes are neither JPEG nor PNG (the first bytes are shown in hex).
    case unknownFormat(file: String, firstBytes: String)
    /// The decoder rejected the data: truncated, bad checksum, invalid stream.
    case corrupt(file: String, format: String, reason: String)
    /// A valid file in a variant Ember does not decode (e.g. CMYK JPEG).
    case unsupported(file: String, format: String, reason: String)
    /// The header declares more pixels than `Image.maximumPixels` (a decompression bomb, or
    /// a damaged header); nothing was allocated for it.
    case tooLarge(file: String, format: String, width: Int, height: Int, limit: Int)

    public var description: String {
        switch self {
        case let .unreadable(file, reason): return "\(file): cannot read the file (\(reason))"
        case let .unknownFormat(file, firstBytes):
            return firstBytes.isEmpty ? "\(file): not a JPEG or PNG file (the file is empty)"
                : "\(file): not a JPEG or PNG file (starts with \(firstBytes))"
        case let .corrupt(file, format, reason): return "\(file): corrupt \(format): \(reason)"
        case let .unsupported(file, format, reason): return "\(file): unsupported \(format): \(reason)"
        case let .tooLarge(file, format, width, height, limit):
            return "\(file): \(format) of \(width) x \(height) pixels is over the limit of \(limit) pixels "
                + "(Image.maximumPixels; raise it to read larger images)"
        }
    }
}
