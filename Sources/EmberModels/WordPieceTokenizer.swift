// BERT's WordPiece tokenizer: basic tokenisation, then greedy longest-match-first pieces from a
// vocabulary (`vocab.txt`), special tokens, truncation, and padded batches with attention masks.
import Foundation
import Ember

/// A WordPiece tokenizer equal to Hugging Face's `BertTokenizer` / `BertTokenizerFast` for
/// uncased BERT models such as all-MiniLM-L6-v2.
///
/// Encoding a text:
/// 1. Occurrences of the special tokens (`[CLS]`, `[SEP]`, `[PAD]`, `[MASK]`, `[UNK]`) in the
///    raw text are kept whole and map to their ids.
/// 2. The rest goes through `BasicTokenizer` (cleaning, CJK spacing, accent stripping,
///    lower-casing, splitting on whitespace and punctuation).
/// 3. Each word longer than `maxInputCharsPerWord` scalars becomes `[UNK]`; otherwise it is
///    split greedily, longest match first, into vocabulary pieces, continuation pieces
///    carrying the `##` prefix. A word with any part that matches nothing becomes one `[UNK]`.
/// 4. The pieces are truncated to `maxLength - 2` and wrapped as `[CLS] … [SEP]`.
///
/// Vocabulary look-ups compare Unicode scalars exactly (not Swift's canonical equivalence),
/// as Python and Rust do.
///
/// ```swift
/// let tokenizer = try WordPieceTokenizer(directory: modelDirectory, maxLength: 256)
/// tokenizer.tokenize("Unaffable!")   // ["una", "##ff", "##able", "!"]
/// tokenizer.encode("Hello")          // [101, 7592, 102]
/// let batch = tokenizer.encodeBatch(["Hello", "Hello world"])   // padded [2, 4]
/// ```
public struct WordPieceTokenizer: Sendable {
    /// The tokens by id (line `i` of `vocab.txt` is token `i`).
    public let vocabulary: [String]
    /// Normalisation and word splitting.
    public let basic: BasicTokenizer
    /// The longest encoding, special tokens included; longer texts are truncated.
    public let maxLength: Int
    /// Words longer than this many scalars become `unknownToken` (BERT: 100).
    public let maxInputCharsPerWord: Int
    /// The prefix of continuation pieces.
    public let continuationPrefix: String
    /// The unknown-word token (`[UNK]`).
    public let unknownToken: String
    /// The classification token that starts every encoding (`[CLS]`).
    public let classToken: String
    /// The separator that ends every encoding (`[SEP]`).
    public let separatorToken: String
    /// The padding token (`[PAD]`).
    public let paddingToken: String
    /// The mask token (`[MASK]`).
    public let maskToken: String
    /// Id of `unknownToken`.
    public let unknownID: Int
    /// Id of `classToken`.
    public let classID: Int
    /// Id of `separatorToken`.
    public let separatorID: Int
    /// Id of `paddingToken`.
    public let paddingID: Int

    private let ids: [ExactText: Int]
    private let longestTokenBytes: Int
    /// Special tokens matched whole in raw text, longest first.
    private let specialTokens: [(text: [UInt8], id: Int)]

    /// Creates a tokenizer from a vocabulary.
    ///
    /// - Parameters:
    ///   - vocabulary: the tokens by id.
    ///   - basic: the normalisation and word-splitting rules.
    ///   - maxLength: the longest encoding, special tokens included (at least 2).
    ///   - maxInputCharsPerWord: longer words become the unknown token.
    ///   - unknownToken: the unknown-word token.
    ///   - classToken: the token that starts an encoding.
    ///   - separatorToken: the token that ends an encoding.
    ///   - paddingToken: the padding token.
    ///   - maskToken: the mask token.
    /// - Throws: `PretrainedFilesError.invalid` when a special token is not in the vocabulary.
    public init(vocabulary: [String], basic: BasicTokenizer = BasicTokenizer(), maxLength: Int = 512,
                maxInputCharsPerWord: Int = 100, unknownToken: String = "[UNK]", classToken: String = "[CLS]",
                separatorToken: String = "[SEP]", paddingToken: String = "[PAD]", maskToken: String = "[MASK]") throws {
        precondition(maxLength >= 2, "WordPieceTokenizer: maxLength must be at least 2 (for [CLS] and [SEP]), got \(maxLength)")
        self.vocabulary = vocabulary
        self.basic = basic
        self.maxLength = maxLength
        self.maxInputCharsPerWord = maxInputCharsPerWord
        self.continuationPrefix = "##"
        self.unknownToken = unknownToken
        self.classToken = classToken
        self.separatorToken = separatorToken
        self.paddingToken = paddingToken
        self.maskToken = maskToken
        var ids: [ExactText: Int] = [:]
        ids.reserveCapacity(vocabulary.count)
        var longest = 0
        for (i, token) in vocabulary.enumerated() {
            let key = ExactText(token)
            ids[key] = i   // a repeated token keeps its last id, as Hugging Face's dict does
            longest = max(longest, key.bytes.count)
        }
        self.ids = ids
        self.longestTokenBytes = longest
        func id(_ token: String, _ role: String) throws -> Int {
            guard let id = ids[ExactText(token)] else {
                throw PretrainedFilesError.invalid(path: "<vocabulary>", reason: "the \(role) token \(token) is not in the vocabulary (\(vocabulary.count) tokens)")
            }
            return id
        }
        unknownID = try id(unknownToken, "unknown")
        classID = try id(classToken, "class")
        separatorID = try id(separatorToken, "separator")
        paddingID = try id(paddingToken, "padding")
        var specials: [(text: [UInt8], id: Int)] = []
        for token in [unknownToken, classToken, separatorToken, paddingToken, maskToken] {
            if let id = ids[ExactText(token)], !specials.contains(where: { $0.text == Array(token.utf8) }) {
                specials.append((Array(token.utf8), id))
            }
        }
        specialTokens = specials.sorted { $0.text.count > $1.text.count }
    }

    /// Reads the tokenizer of a Hugging Face model directory: `vocab.txt` (one token per line)
    /// and, when present, `tokenizer_config.json` (`do_lower_case`, `strip_accents`,
    /// `tokenize_chinese_chars`, the special tokens and `model_max_length`).
    ///
    /// - Parameters:
    ///   - directory: the model directory.
    ///   - maxLength: the longest encoding; nil uses `model_max_length` (512 when absent).
    /// - Throws: `PretrainedFilesError` for a missing or malformed file.
    ///
    /// ```swift
    /// let tokenizer = try WordPieceTokenizer(directory: dir, maxLength: 256)
    /// ```
    public init(directory: URL, maxLength: Int? = nil) throws {
        let vocabURL = directory.appendingPathComponent("vocab.txt")
        let data = try PretrainedFilesError.read(vocabURL, what: "the WordPiece vocabulary")
        guard let text = String(data: data, encoding: .utf8) else {
            throw PretrainedFilesError.invalid(path: vocabURL.path, reason: "not UTF-8 text")
        }
        var tokens = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if tokens.last == "" { tokens.removeLast() }
        guard !tokens.isEmpty else { throw PretrainedFilesError.invalid(path: vocabURL.path, reason: "the vocabulary is empty") }

        var config = TokenizerConfig()
        let configURL = directory.appendingPathComponent("tokenizer_config.json")
        if FileManager.default.fileExists(atPath: configURL.path) {
            config = try PretrainedFilesError.decode(TokenizerConfig.self, from: configURL)
        }
        let basic = BasicTokenizer(lowercase: config.do_lower_case ?? true, stripAccents: config.strip_accents,
                                   tokenizeChineseChars: config.tokenize_chinese_chars ?? true)
        let limit = maxLength ?? config.model_max_length.map { Int(Swift.min($0, Double(1 << 30))) } ?? 512
        guard limit >= 2 else {
            throw PretrainedFilesError.invalid(path: configURL.path, reason: "the maximum length \(limit) leaves no room for [CLS] and [SEP]")
        }
        do {
            try self.init(vocabulary: tokens, basic: basic, maxLength: limit,
                          unknownToken: config.unk_token ?? "[UNK]", classToken: config.cls_token ?? "[CLS]",
                          separatorToken: config.sep_token ?? "[SEP]", paddingToken: config.pad_token ?? "[PAD]",
                          maskToken: config.mask_token ?? "[MASK]")
        } catch PretrainedFilesError.invalid(_, let reason) {
            throw PretrainedFilesError.invalid(path: vocabURL.path, reason: reason)
        }
    }

    /// The fields of `tokenizer_config.json` that matter here.
    private struct TokenizerConfig: Decodable {
        var do_lower_case: Bool?
        var strip_accents: Bool?
        var tokenize_chinese_chars: Bool?
        var unk_token: String?
        var cls_token: String?
        var sep_token: String?
        var pad_token: String?
        var mask_token: String?
        var model_max_length: Double?
    }

    /// The number of tokens in the vocabulary.
    public var vocabularySize: Int { vocabulary.count }

    /// The id of `token`, or nil when it is not in the vocabulary.
    public func id(of token: String) -> Int? { ids[ExactText(token)] }

    /// The pieces of `text`, without special tokens and without truncation.
    ///
    /// ```swift
    /// tokenizer.tokenize("Tokenization!")   // ["token", "##ization", "!"]
    /// ```
    public func tokenize(_ text: String) -> [String] {
        pieceIDs(text).map { vocabulary[$0] }
    }

    /// The ids of `text`: `[CLS]`, the pieces truncated to `maxLength - 2`, `[SEP]`.
    ///
    /// - Parameter addSpecialTokens: false gives the (truncated to `maxLength`) pieces alone.
    ///
    /// ```swift
    /// tokenizer.encode("Hello, world!")   // [101, 7592, 1010, 2088, 999, 102]
    /// ```
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        let pieces = pieceIDs(text)
        guard addSpecialTokens else { return Array(pieces.prefix(maxLength)) }
        return [classID] + pieces.prefix(maxLength - 2) + [separatorID]
    }

    /// Encodes several texts and pads them to the longest, as one batch.
    ///
    /// - Returns: `inputIDs` and `attentionMask`, both int64 `[count, longest]` (the mask is 1
    ///   on real tokens, 0 on padding), and each text's unpadded length.
    ///
    /// ```swift
    /// let batch = tokenizer.encodeBatch(["a", "a longer text"])
    /// batch.inputIDs.shape   // [2, 5]
    /// ```
    public func encodeBatch(_ texts: [String]) -> TokenBatch {
        TokenBatch(sequences: texts.map { encode($0) }, paddingID: paddingID)
    }

    /// Piece ids of `text` before truncation.
    func pieceIDs(_ text: String) -> [Int] {
        var result: [Int] = []
        let utf8 = Array(text.utf8)
        var segmentStart = 0, i = 0
        // Special tokens in the raw text are kept whole; the text between them is tokenised.
        while i < utf8.count {
            if utf8[i] == UInt8(ascii: "["), let special = specialTokens.first(where: { matches($0.text, in: utf8, at: i) }) {
                if segmentStart < i { appendPieces(of: utf8[segmentStart..<i], to: &result) }
                result.append(special.id)
                i += special.text.count
                segmentStart = i
            } else {
                i += 1
            }
        }
        if segmentStart < utf8.count { appendPieces(of: utf8[segmentStart...], to: &result) }
        return result
    }

    private func matches(_ token: [UInt8], in text: [UInt8], at start: Int) -> Bool {
        guard start + token.count <= text.count else { return false }
        for k in token.indices where text[start + k] != token[k] { return false }
        return true
    }

    private func appendPieces(of segment: ArraySlice<UInt8>, to result: inout [Int]) {
        let text = String(decoding: segment, as: UTF8.self)
        for word in basic.splitWords(basic.normalizedScalars(text)) {
            appendWordPieces(word, to: &result)
        }
    }

    /// Greedy longest-match-first split of one word.
    private func appendWordPieces(_ word: [Unicode.Scalar], to result: inout [Int]) {
        if word.count > maxInputCharsPerWord { result.append(unknownID); return }
        var bytes: [UInt8] = []
        var boundaries: [Int] = [0]   // byte offset of each scalar boundary
        for scalar in word {
            bytes.append(contentsOf: UTF8.encode(scalar)!)
            boundaries.append(bytes.count)
        }
        let prefix = Array(continuationPrefix.utf8)
        var pieces: [Int] = []
        var start = 0
        while start < word.count {
            var found: Int? = nil
            var end = word.count
            var key: [UInt8] = []
            while end > start {
                let length = boundaries[end] - boundaries[start] + (start > 0 ? prefix.count : 0)
                if length <= longestTokenBytes {
                    key.removeAll(keepingCapacity: true)
                    if start > 0 { key.append(contentsOf: prefix) }
                    key.append(contentsOf: bytes[boundaries[start]..<boundaries[end]])
                    if let id = ids[ExactText(bytes: key)] { found = id; break }
                }
                end -= 1
            }
            guard let id = found else { result.append(unknownID); return }
            pieces.append(id)
            start = end
        }
        result.append(contentsOf: pieces)
    }
}

/// Token ids of several texts padded to one length, with the attention mask.
///
/// ```swift
/// let batch = TokenBatch(sequences: [[101, 7592, 102], [101, 102]], paddingID: 0)
/// batch.inputIDs.shape                 // [2, 3]
/// batch.attentionMask.asArray(Int64.self)   // [1, 1, 1, 1, 1, 0]
/// ```
public struct TokenBatch {
    /// Token ids, int64 `[count, longest]`, padded with the padding id.
    public let inputIDs: Tensor
    /// 1 on real tokens, 0 on padding; int64 `[count, longest]`.
    public let attentionMask: Tensor
    /// Each sequence's unpadded length.
    public let lengths: [Int]

    /// Pads `sequences` to the longest with `paddingID`.
    ///
    /// - Parameters:
    ///   - sequences: token ids, one array per text.
    ///   - paddingID: the id written after each shorter sequence.
    public init(sequences: [[Int]], paddingID: Int) {
        let longest = sequences.map(\.count).max() ?? 0
        var ids = [Int64](repeating: Int64(paddingID), count: sequences.count * longest)
        var mask = [Int64](repeating: 0, count: sequences.count * longest)
        for (row, sequence) in sequences.enumerated() {
            for (column, id) in sequence.enumerated() {
                ids[row * longest + column] = Int64(id)
                mask[row * longest + column] = 1
            }
        }
        inputIDs = Tensor(ids, shape: [sequences.count, longest])
        attentionMask = Tensor(mask, shape: [sequences.count, longest])
        lengths = sequences.map(\.count)
    }
}

/// A string compared and hashed by its exact UTF-8 bytes (Swift's `String` equality treats
/// canonically equivalent strings as equal; vocabularies do not).
struct ExactText: Hashable, Sendable {
    let bytes: [UInt8]
    init(_ text: String) { bytes = Array(text.utf8) }
    init(bytes: [UInt8]) { self.bytes = bytes }
    func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
}
