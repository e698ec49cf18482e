// The error for missing or malformed files of a pretrained model directory (configs,
// vocabularies), with the reading helpers that throw it.
import Foundation

/// A file of a pretrained model directory is missing, unreadable or malformed.
///
/// ```swift
/// do { _ = try SentenceEmbedder(directory: dir) }
/// catch let error as PretrainedFilesError { print(error) }   // "…/config.json: missing (the BERT configuration)"
/// ```
public enum PretrainedFilesError: Error, CustomStringConvertible, Equatable {
    /// The file does not exist or cannot be read; `what` says what it should hold.
    case missing(path: String, what: String)
    /// The file exists but its content is not what the model needs.
    case invalid(path: String, reason: String)
    /// The directory asks for something Ember does not implement.
    case unsupported(path: String, reason: String)

    public var description: String {
        switch self {
        case let .missing(path, what): return "\(path): missing or unreadable (\(what))"
        case let .invalid(path, reason): return "\(path): \(reason)"
        case let .unsupported(path, reason): return "\(path): not supported: \(reason)"
        }
    }

    /// Reads a whole file, throwing `.missing` when it cannot.
    static func read(_ url: URL, what: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw PretrainedFilesError.missing(path: url.path, what: what)
        }
        return data
    }

    /// Decodes a JSON file, throwing `.missing` or `.invalid` (with the decoder's reason).
    static func decode<T: Decodable>(_ type: T.Type, from url: URL, what: String = "a JSON configuration") throws -> T {
        let data = try read(url, what: what)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            throw PretrainedFilesError.invalid(path: url.path, reason: "not the expected JSON: \(Self.explain(error))")
        } catch {
            throw PretrainedFilesError.invalid(path: url.path, reason: "not valid JSON: \(error)")
        }
    }

    private static func explain(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context):
            let at = path(context)
            return "no \"\(key.stringValue)\"" + (at.isEmpty ? "" : " in \(at)")
        case let .typeMismatch(type, context): return "\(path(context)) is not a \(type)"
        case let .valueNotFound(type, context): return "\(path(context)) is null, expected a \(type)"
        case let .dataCorrupted(context): return context.debugDescription
        @unknown default: return "\(error)"
        }
    }
}
