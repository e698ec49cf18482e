// A character-level tokenizer: the vocabulary is the sorted set of characters in a text.
import Foundation
import Ember

/// Errors from `CharTokenizer`.
public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// `encode` met a character that is not in the vocabulary (at this scalar offset of the text).
    case unknownCharacter(String, offset: Int)
    /// `decode` met an id outside `0..<vocabSize`.
    case unknownToken(Int, vocabSize: Int)
    /// The vocabulary is empty.
    case emptyVocabulary
    /// The vocabulary lists a character twice.
    case duplicateCharacter(String)
    /// A vocabulary file could not be read or is malformed.
    case invalidFile(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unknownCharacter(c, offset):
            return "CharTokenizer: character \(CharTokenizer.escape(c)) at offset \(offset) is not in the vocabulary"
        case let .unknownToken(id, vocabSize):
            return "CharTokenizer: token id \(id) is out of range for a vocabulary of \(vocabSize) characters"
        case .emptyVocabulary:
            return "CharTokenizer: the vocabulary is empty"
        case let .duplicateCharacter(c):
            return "CharTokenizer: character \(CharTokenizer.escape(c)) appears twice in the vocabulary"
        case let .invalidFile(path, reason):
            return "CharTokenizer: cannot load vocabulary \(path): \(reason)"
        }
    }
}

/// A character-level tokenizer (as nanoGPT's `shakespeare_char`): token `i` is the `i`-th of
/// the text's distinct characters in sorted order.
///
/// "Characters" are Unicode scalars, not Swift `Character`s (grapheme clusters), so that
/// decoding a sequence of ids and re-encoding it always gives the same ids (grapheme
/// clusters such as `"\r\n"` or a letter with a combining accent would otherwise merge).
///
/// ```swift
/// let tok = CharTokenizer(text: "hello world")
/// let ids = try tok.encode("hello")        // [3, 2, 4, 4, 5]
/// try tok.decode(ids)                      // "hello"
/// try tok.save(to: URL(fileURLWithPath: "vocab.json"))
/// ```
public struct CharTokenizer: Equatable, Sendable {
    /// The vocabulary, in id order.
    public let vocabulary: [Unicode.Scalar]
    private let ids: [Unicode.Scalar: Int]

    /// Builds the vocabulary from the sorted distinct scalars of `text`.
    public init(text: String) {
        let unique = Set(text.unicodeScalars).sorted { $0.value < $1.value }
        vocabulary = unique
        ids = Dictionary(uniqueKeysWithValues: unique.enumerated().map { ($1, $0) })
    }

    /// Uses `vocabulary` as given (ids in this order).
    /// - Throws: `TokenizerError.emptyVocabulary` or `.duplicateCharacter`.
    public init(vocabulary: [Unicode.Scalar]) throws {
        guard !vocabulary.isEmpty else { throw TokenizerError.emptyVocabulary }
        var map: [Unicode.Scalar: Int] = [:]
        for (i, c) in vocabulary.enumerated() {
            if map[c] != nil { throw TokenizerError.duplicateCharacter(String(c)) }
            map[c] = i
        }
        self.vocabulary = vocabulary
        ids = map
    }

    public static func == (a: CharTokenizer, b: CharTokenizer) -> Bool { a.vocabulary == b.vocabulary }

    /// Number of tokens.
    public var vocabSize: Int { vocabulary.count }

    /// The id of one character, or nil when it is unknown.
    public func id(of c: Unicode.Scalar) -> Int? { ids[c] }

    /// Token ids of `text`.
    /// - Throws: `TokenizerError.unknownCharacter` naming the first unknown character.
    public func encode(_ text: String) throws -> [Int] {
        var out: [Int] = []
        out.reserveCapacity(text.unicodeScalars.count)
        for (offset, c) in text.unicodeScalars.enumerated() {
            guard let id = ids[c] else { throw TokenizerError.unknownCharacter(String(c), offset: offset) }
            out.append(id)
        }
        return out
    }

    /// Token ids of `text` as a 1-D int64 tensor.
    public func encodeTensor(_ text: String) throws -> Tensor {
        let ids = try encode(text).map(Int64.init)
        return Tensor(ids, shape: [ids.count], dtype: .int64)
    }

    /// The text of `ids`.
    /// - Throws: `TokenizerError.unknownToken` for an id outside the vocabulary.
    public func decode(_ ids: [Int]) throws -> String {
        var scalars = String.UnicodeScalarView()
        for id in ids {
            guard id >= 0 && id < vocabulary.count else { throw TokenizerError.unknownToken(id, vocabSize: vocabulary.count) }
            scalars.append(vocabulary[id])
        }
        return String(scalars)
    }

    /// The text of an integer tensor of ids (any shape, read in row-major order).
    public func decode(_ ids: Tensor) throws -> String {
        precondition(!ids.dtype.isFloatingPoint && ids.dtype != .bool, "CharTokenizer.decode: expected an integer tensor, got \(ids.dtype)")
        return try decode(ids.asArray(Int64.self).map { Int($0) })
    }

    // MARK: Files

    /// Vocabulary file formats.
    public enum FileFormat: Sendable {
        /// `{"type": "char", "vocab": ["\n", " ", "!", …]}`.
        case json
        /// One character per line, with `\n`, `\r`, `\t`, `\\` and other control or
        /// whitespace characters (other than space) escaped as `\u{HEX}`.
        case lines

        /// `.json` for a `.json` path, `.lines` otherwise.
        public static func forPath(_ url: URL) -> FileFormat { url.pathExtension.lowercased() == "json" ? .json : .lines }
    }

    /// Writes the vocabulary (format chosen from the extension unless given).
    public func save(to url: URL, format: FileFormat? = nil) throws {
        let data: Data
        switch format ?? FileFormat.forPath(url) {
        case .json:
            let object: [String: Any] = ["type": "char", "vocab": vocabulary.map { String($0) }]
            data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted])
        case .lines:
            data = Data((vocabulary.map { Self.escape(String($0)) }.joined(separator: "\n") + "\n").utf8)
        }
        try data.write(to: url, options: .atomic)
    }

    /// Reads a vocabulary written by `save` (format chosen from the extension unless given).
    /// - Throws: `TokenizerError.invalidFile` naming the file and what is wrong.
    public static func load(from url: URL, format: FileFormat? = nil) throws -> CharTokenizer {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw TokenizerError.invalidFile(path: url.path, reason: error.localizedDescription)
        }
        var scalars: [Unicode.Scalar] = []
        switch format ?? FileFormat.forPath(url) {
        case .json:
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
                  let vocab = object["vocab"] as? [String] else {
                throw TokenizerError.invalidFile(path: url.path, reason: "expected a JSON object with a \"vocab\" array of strings")
            }
            for (i, entry) in vocab.enumerated() {
                let s = Array(entry.unicodeScalars)
                guard s.count == 1 else {
                    throw TokenizerError.invalidFile(path: url.path, reason: "entry \(i) (\(escape(entry))) is not a single character")
                }
                scalars.append(s[0])
            }
        case .lines:
            guard let text = String(data: data, encoding: .utf8) else {
                throw TokenizerError.invalidFile(path: url.path, reason: "not UTF-8 text")
            }
            var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            if lines.last == "" { lines.removeLast() }
            for (i, line) in lines.enumerated() {
                guard let c = unescape(String(line)) else {
                    throw TokenizerError.invalidFile(path: url.path, reason: "line \(i + 1) (\(line)) is not a single (escaped) character")
                }
                scalars.append(c)
            }
        }
        do { return try CharTokenizer(vocabulary: scalars) } catch let error as TokenizerError {
            throw TokenizerError.invalidFile(path: url.path, reason: error.description)
        }
    }

    /// A printable spelling of a character (`\n`, `\u{7F}`, `a`).
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\\": out += "\\\\"
            case " ": out += " "
            default:
                if c.properties.generalCategory == .control || c.properties.isWhitespace
                    || c.properties.generalCategory == .format || c.properties.generalCategory == .unassigned {
                    out += "\\u{" + String(c.value, radix: 16, uppercase: true) + "}"
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }

    static func unescape(_ line: String) -> Unicode.Scalar? {
        let s = Array(line.unicodeScalars)
        if s.count == 1 { return s[0] == "\\" ? nil : s[0] }
        guard s.count >= 2, s[0] == "\\" else { return nil }
        switch String(String.UnicodeScalarView(s[1...])) {
        case "n": return "\n"
        case "r": return "\r"
        case "t": return "\t"
        case "\\": return "\\"
        default:
            guard s.count > 4, s[1] == "u", s[2] == "{", s.last == "}",
                  let v = UInt32(String(String.UnicodeScalarView(s[3..<(s.count - 1)])), radix: 16) else { return nil }
            return Unicode.Scalar(v)
        }
    }
}
