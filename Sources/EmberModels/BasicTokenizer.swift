// BERT's text normalisation and word splitting (Hugging Face's BertNormalizer and
// BertPreTokenizer): cleaning, CJK spacing, accent stripping, lower-casing, and splitting on
// whitespace and punctuation.
import Foundation

/// The first stage of BERT tokenisation: cleans and normalises text, then splits it into
/// words and punctuation marks (Hugging Face's `BertNormalizer` followed by `BertPreTokenizer`,
/// which is what `BertTokenizerFast` runs; the slow `BasicTokenizer` agrees on ordinary text).
///
/// The rules, applied to Unicode scalars in this order:
/// 1. **Cleaning**: U+0000, U+FFFD and control characters (general categories Cc, Cf, Co,
///    Cn, except tab, newline and carriage return) are removed; whitespace (tab, newline,
///    carriage return and every scalar with the Unicode `White_Space` property) becomes a space.
/// 2. **CJK characters** (the CJK Unified Ideographs blocks and their extensions, and the
///    compatibility ideographs) get a space on each side, so each is a word of its own.
/// 3. **Accent stripping** (when `stripAccents` is true, or unset and `lowercase` is true):
///    canonical decomposition (NFD), then every non-spacing mark (category Mn) is removed.
/// 4. **Lower-casing**: each scalar is replaced by its full lower-case mapping.
/// 5. **Splitting** on whitespace, and every punctuation scalar becomes a word of its own:
///    ASCII 33–47, 58–64, 91–96 and 123–126, and every scalar of a Unicode punctuation
///    category (Pc, Pd, Ps, Pe, Pi, Pf, Po).
///
/// ```swift
/// let basic = BasicTokenizer()
/// basic.words(in: "Héllo, World!")   // ["hello", ",", "world", "!"]
/// ```
public struct BasicTokenizer: Sendable, Equatable {
    /// Whether text is lower-cased.
    public var lowercase: Bool
    /// Whether accents are stripped; nil follows `lowercase` (as Hugging Face's `strip_accents: null`).
    public var stripAccents: Bool?
    /// Whether CJK ideographs are split into one word each.
    public var tokenizeChineseChars: Bool

    /// Creates a basic tokenizer.
    ///
    /// - Parameters:
    ///   - lowercase: lower-case the text (`do_lower_case`).
    ///   - stripAccents: strip accents; nil follows `lowercase`.
    ///   - tokenizeChineseChars: put spaces around CJK ideographs.
    public init(lowercase: Bool = true, stripAccents: Bool? = nil, tokenizeChineseChars: Bool = true) {
        self.lowercase = lowercase
        self.stripAccents = stripAccents
        self.tokenizeChineseChars = tokenizeChineseChars
    }

    /// The text after cleaning, CJK spacing, accent stripping and lower-casing (steps 1–4).
    ///
    /// ```swift
    /// BasicTokenizer().normalize("Crème\tBRÛLÉE")   // "creme brulee"
    /// ```
    public func normalize(_ text: String) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: normalizedScalars(text))
        return String(view)
    }

    /// The words and punctuation marks of `text` (steps 1–5), each as a string.
    ///
    /// ```swift
    /// BasicTokenizer().words(in: "Don't stop!")   // ["don", "'", "t", "stop", "!"]
    /// ```
    public func words(in text: String) -> [String] {
        splitWords(normalizedScalars(text)).map { word in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: word)
            return String(view)
        }
    }

    /// Steps 1–4 on scalars.
    func normalizedScalars(_ text: String) -> [Unicode.Scalar] {
        var cleaned: [Unicode.Scalar] = []
        cleaned.reserveCapacity(text.unicodeScalars.count + 8)
        var allASCII = true
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value == 0 || value == 0xFFFD || Self.isControl(scalar) { continue }
            if Self.isWhitespace(scalar) {
                cleaned.append(" ")
            } else if tokenizeChineseChars && Self.isCJKIdeograph(value) {
                cleaned.append(" ")
                cleaned.append(scalar)
                cleaned.append(" ")
                allASCII = false
            } else {
                cleaned.append(scalar)
                if value >= 0x80 { allASCII = false }
            }
        }
        if allASCII {
            // ASCII text has nothing to decompose; lower-casing is a fixed offset.
            if lowercase {
                for i in cleaned.indices where cleaned[i].value >= 65 && cleaned[i].value <= 90 {
                    cleaned[i] = Unicode.Scalar(cleaned[i].value + 32)!
                }
            }
            return cleaned
        }
        var result = cleaned
        if stripAccents ?? lowercase {
            var view = String.UnicodeScalarView()
            view.append(contentsOf: result)
            result = String(view).decomposedStringWithCanonicalMapping.unicodeScalars
                .filter { $0.properties.generalCategory != .nonspacingMark }
        }
        if lowercase {
            var lowered: [Unicode.Scalar] = []
            lowered.reserveCapacity(result.count)
            for scalar in result {
                if scalar.value < 0x80 {
                    lowered.append(scalar.value >= 65 && scalar.value <= 90 ? Unicode.Scalar(scalar.value + 32)! : scalar)
                } else if scalar.properties.changesWhenLowercased {
                    lowered.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                } else {
                    lowered.append(scalar)
                }
            }
            result = lowered
        }
        return result
    }

    /// Step 5: splits normalised scalars on whitespace and around punctuation.
    func splitWords(_ scalars: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
        var words: [[Unicode.Scalar]] = []
        var current: [Unicode.Scalar] = []
        for scalar in scalars {
            if scalar == " " || scalar.properties.isWhitespace {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
            } else if Self.isPunctuation(scalar) {
                if !current.isEmpty { words.append(current); current.removeAll(keepingCapacity: true) }
                words.append([scalar])
            } else {
                current.append(scalar)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    /// Tab, newline, carriage return and `White_Space` scalars.
    static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20, 0x09, 0x0A, 0x0D: return true
        case 0..<0x80: return false
        default: return scalar.properties.isWhitespace
        }
    }

    /// Control, format, private-use and unassigned scalars, except tab, newline and carriage return.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D: return false
        case 0x20..<0x7F: return false
        default:
            switch scalar.properties.generalCategory {
            case .control, .format, .privateUse, .unassigned, .surrogate: return true
            default: return false
            }
        }
    }

    /// ASCII punctuation and symbols (33–47, 58–64, 91–96, 123–126) and Unicode punctuation (P*).
    static func isPunctuation(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        if (33...47).contains(v) || (58...64).contains(v) || (91...96).contains(v) || (123...126).contains(v) { return true }
        if v < 0x80 { return false }
        switch scalar.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default:
            return false
        }
    }

    /// The CJK Unified Ideographs blocks (and extensions A–F) and the compatibility ideographs,
    /// as BERT defines "Chinese characters" (Hangul, Hiragana and Katakana are not included).
    static func isCJKIdeograph(_ v: UInt32) -> Bool {
        (0x4E00...0x9FFF).contains(v) || (0x3400...0x4DBF).contains(v) || (0x20000...0x2A6DF).contains(v)
            || (0x2A700...0x2B73F).contains(v) || (0x2B740...0x2B81F).contains(v) || (0x2B820...0x2CEAF).contains(v)
            || (0xF900...0xFAFF).contains(v) || (0x2F800...0x2FA1F).contains(v)
    }
}
