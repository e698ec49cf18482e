// A BERT encoder (Hugging Face's `BertModel`): configuration from `config.json`, modules whose
// state-dict names equal Hugging Face's, and loading of `model.safetensors` by name.
import Foundation
import Ember
import EmberNN

/// Hyperparameters of a `BertModel`, decoded from a Hugging Face `config.json`.
///
/// ```swift
/// let config = try BertConfig(contentsOf: dir.appendingPathComponent("config.json"))
/// config.hiddenSize   // 384 for all-MiniLM-L6-v2
/// ```
public struct BertConfig: Decodable, Equatable, Sendable {
    /// Number of tokens in the vocabulary (`vocab_size`).
    public var vocabSize: Int
    /// Width of every hidden state (`hidden_size`); a multiple of `numAttentionHeads`.
    public var hiddenSize: Int
    /// Number of encoder layers (`num_hidden_layers`).
    public var numHiddenLayers: Int
    /// Attention heads per layer (`num_attention_heads`).
    public var numAttentionHeads: Int
    /// Width of the feed-forward layer (`intermediate_size`).
    public var intermediateSize: Int
    /// The feed-forward activation (`hidden_act`): `gelu` (erf), `gelu_new` or
    /// `gelu_pytorch_tanh` (tanh approximation), `relu`.
    public var hiddenAct: String
    /// Number of position embeddings, the longest input (`max_position_embeddings`).
    public var maxPositionEmbeddings: Int
    /// Number of token types (segments) (`type_vocab_size`).
    public var typeVocabSize: Int
    /// The layer norms' epsilon (`layer_norm_eps`).
    public var layerNormEps: Double
    /// The padding token's id (`pad_token_id`).
    public var padTokenID: Int
    /// Dropout on hidden states (`hidden_dropout_prob`; training only).
    public var hiddenDropoutProb: Double
    /// Dropout on attention weights (`attention_probs_dropout_prob`; training only).
    public var attentionProbsDropoutProb: Double

    /// Creates a configuration (defaults: BERT-base).
    public init(vocabSize: Int = 30522, hiddenSize: Int = 768, numHiddenLayers: Int = 12, numAttentionHeads: Int = 12,
                intermediateSize: Int = 3072, hiddenAct: String = "gelu", maxPositionEmbeddings: Int = 512,
                typeVocabSize: Int = 2, layerNormEps: Double = 1e-12, padTokenID: Int = 0,
                hiddenDropoutProb: Double = 0.1, attentionProbsDropoutProb: Double = 0.1) {
        self.vocabSize = vocabSize
        self.hiddenSize = hiddenSize
        self.numHiddenLayers = numHiddenLayers
        self.numAttentionHeads = numAttentionHeads
        self.intermediateSize = intermediateSize
        self.hiddenAct = hiddenAct
        self.maxPositionEmbeddings = maxPositionEmbeddings
        self.typeVocabSize = typeVocabSize
        self.layerNormEps = layerNormEps
        self.padTokenID = padTokenID
        self.hiddenDropoutProb = hiddenDropoutProb
        self.attentionProbsDropoutProb = attentionProbsDropoutProb
    }

    private enum CodingKeys: String, CodingKey {
        case vocabSize = "vocab_size", hiddenSize = "hidden_size", numHiddenLayers = "num_hidden_layers"
        case numAttentionHeads = "num_attention_heads", intermediateSize = "intermediate_size", hiddenAct = "hidden_act"
        case maxPositionEmbeddings = "max_position_embeddings", typeVocabSize = "type_vocab_size"
        case layerNormEps = "layer_norm_eps", padTokenID = "pad_token_id", hiddenDropoutProb = "hidden_dropout_prob"
        case attentionProbsDropoutProb = "attention_probs_dropout_prob", positionEmbeddingType = "position_embedding_type"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        vocabSize = try c.decode(Int.self, forKey: .vocabSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        numHiddenLayers = try c.decode(Int.self, forKey: .numHiddenLayers)
        numAttentionHeads = try c.decode(Int.self, forKey: .numAttentionHeads)
        intermediateSize = try c.decode(Int.self, forKey: .intermediateSize)
        hiddenAct = try c.decodeIfPresent(String.self, forKey: .hiddenAct) ?? "gelu"
        maxPositionEmbeddings = try c.decodeIfPresent(Int.self, forKey: .maxPositionEmbeddings) ?? 512
        typeVocabSize = try c.decodeIfPresent(Int.self, forKey: .typeVocabSize) ?? 2
        layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? 1e-12
        padTokenID = try c.decodeIfPresent(Int.self, forKey: .padTokenID) ?? 0
        hiddenDropoutProb = try c.decodeIfPresent(Double.self, forKey: .hiddenDropoutProb) ?? 0.1
        attentionProbsDropoutProb = try c.decodeIfPresent(Double.self, forKey: .attentionProbsDropoutProb) ?? 0.1
        let positions = try c.decodeIfPresent(String.self, forKey: .positionEmbeddingType) ?? "absolute"
        guard positions == "absolute" else {
            throw DecodingError.dataCorruptedError(forKey: .positionEmbeddingType, in: c,
                                                   debugDescription: "position_embedding_type \"\(positions)\" is not supported (only \"absolute\")")
        }
    }

    /// Reads `config.json`.
    ///
    /// - Throws: `PretrainedFilesError` when the file is missing, malformed, or asks for an
    ///   activation or layout this model does not implement.
    public init(contentsOf url: URL) throws {
        self = try PretrainedFilesError.decode(BertConfig.self, from: url, what: "the BERT configuration")
        try validate(path: url.path)
    }

    /// Checks the sizes and the activation.
    func validate(path: String) throws {
        let sizes = [vocabSize, hiddenSize, numHiddenLayers, numAttentionHeads, intermediateSize, maxPositionEmbeddings, typeVocabSize]
        guard sizes.allSatisfy({ $0 > 0 }), hiddenSize % numAttentionHeads == 0 else {
            throw PretrainedFilesError.invalid(path: path, reason: "sizes must be positive and hidden_size (\(hiddenSize)) a multiple of num_attention_heads (\(numAttentionHeads))")
        }
        guard BertActivation(name: hiddenAct) != nil else {
            throw PretrainedFilesError.unsupported(path: path, reason: "hidden_act \"\(hiddenAct)\" (supported: gelu, gelu_new, gelu_pytorch_tanh, relu)")
        }
    }
}

/// The feed-forward activation named by `hidden_act`.
enum BertActivation {
    case gelu, geluTanh, relu

    init?(name: String) {
        switch name {
        case "gelu": self = .gelu
        case "gelu_new", "gelu_pytorch_tanh", "gelu_fast": self = .geluTanh
        case "relu": self = .relu
        default: return nil
        }
    }

    /// The same activation as a linear layer's fused epilogue.
    var linearActivation: LinearActivation {
        switch self {
        case .gelu: return .gelu
        case .geluTanh: return .geluTanh
        case .relu: return .relu
        }
    }
}

/// Where a `BertModel`'s layers get their tensors while it is built: BERT's random
/// initialisation, or the tensors of a safetensors file (wrapped, not copied). Problems with
/// the file are collected so that one error lists them all.
final class BertWeightSource {
    let file: SafetensorsFile?
    private(set) var problems: [String] = []
    private(set) var used: Set<String> = []

    init(file: SafetensorsFile?) { self.file = file }

    /// The tensor `name` of `shape` from the file, or nil (random initialisation, or a problem recorded).
    private func tensor(_ name: String, _ shape: [Int]) -> Tensor? {
        guard let file else { return nil }
        guard let info = file.info(name) else { problems.append("missing tensor \(name) \(shape)"); return nil }
        used.insert(name)
        guard info.shape == shape else {
            problems.append("\(name) has shape \(info.shape), the model expects \(shape)")
            return nil
        }
        guard info.dtype.isFloatingPoint else {
            problems.append("\(name) is \(info.dtype), the model expects a floating-point tensor")
            return nil
        }
        do {
            var loaded = try file.tensor(name, copy: false)
            if loaded.dtype != .float32 { loaded = loaded.to(.float32) }
            loaded.requiresGrad = true
            return loaded
        } catch {
            problems.append("\(name): \(error)")
            return nil
        }
    }

    /// `Linear(inFeatures, outFeatures)` as `name.weight`, `name.bias`; random: normal(0, 0.02) weight, zero bias.
    func linear(_ name: String, _ inFeatures: Int, _ outFeatures: Int) -> Linear {
        if let weight = tensor(name + ".weight", [outFeatures, inFeatures]),
           let bias = tensor(name + ".bias", [outFeatures]) {
            return Linear(weight: weight, bias: bias)
        }
        let layer = Linear(inFeatures, outFeatures)
        noGrad {
            _ = layer.weight.normal_(mean: 0, std: 0.02)
            _ = layer.bias?.zero_()
        }
        return layer
    }

    /// A table `[rows, width]` as `name.weight`; random: normal(0, 0.02).
    func embedding(_ name: String, _ rows: Int, _ width: Int) -> Embedding {
        if let weight = tensor(name + ".weight", [rows, width]) { return Embedding(weight: weight) }
        let table = Embedding(rows, width)
        noGrad { _ = table.weight.normal_(mean: 0, std: 0.02) }
        return table
    }

    /// `LayerNorm(width)` as `name.weight`, `name.bias`; random: ones and zeros.
    func layerNorm(_ name: String, _ width: Int, eps: Double) -> EmberNN.LayerNorm {
        let layer = EmberNN.LayerNorm(width, eps: eps)
        if let weight = tensor(name + ".weight", [width]), let bias = tensor(name + ".bias", [width]) {
            layer.weight = weight
            layer.bias = bias
        }
        return layer
    }

    /// Marks a file tensor as expected without reading it (a derived buffer).
    func accept(_ name: String) { if file?.info(name) != nil { used.insert(name) } }
}

/// Word, position and token-type embeddings, summed and layer-normalised
/// (`embeddings.*` in Hugging Face's names).
public final class BertEmbeddings: Module {
    /// Token embeddings `[vocabSize, hiddenSize]`.
    public let word_embeddings: Embedding
    /// Absolute position embeddings `[maxPositionEmbeddings, hiddenSize]`.
    public let position_embeddings: Embedding
    /// Segment embeddings `[typeVocabSize, hiddenSize]`.
    public let token_type_embeddings: Embedding
    /// The layer norm after the sum (Hugging Face keeps TensorFlow's capitalised name).
    public let LayerNorm: EmberNN.LayerNorm
    /// Dropout after the layer norm (training only).
    public let dropout: Dropout
    /// `0 ..< maxPositionEmbeddings` as int64 `[1, maxPositionEmbeddings]`, saved as
    /// `position_ids` because checkpoints written by older transformers hold it.
    @Buffer(name: "position_ids") public var positionIDs = Tensor.zeros([0], dtype: .int64)

    init(_ config: BertConfig, _ weights: BertWeightSource, prefix: String) {
        let h = config.hiddenSize
        word_embeddings = weights.embedding(prefix + "word_embeddings", config.vocabSize, h)
        position_embeddings = weights.embedding(prefix + "position_embeddings", config.maxPositionEmbeddings, h)
        token_type_embeddings = weights.embedding(prefix + "token_type_embeddings", config.typeVocabSize, h)
        LayerNorm = weights.layerNorm(prefix + "LayerNorm", h, eps: config.layerNormEps)
        dropout = Dropout(p: config.hiddenDropoutProb)
        super.init()
        positionIDs = Tensor.arange(Double(config.maxPositionEmbeddings), dtype: .int64).reshape([1, -1])
        weights.accept(prefix + "position_ids")
    }

    /// Embeds `inputIDs` `[B, T]` (positions `0 ..< T`); `tokenTypeIDs` nil means type 0.
    public func forward(inputIDs: Tensor, tokenTypeIDs: Tensor? = nil) -> Tensor {
        precondition(inputIDs.rank == 2, "BertEmbeddings: input ids must be [batch, length], got \(inputIDs.shape)")
        let length = inputIDs.shape[1]
        precondition(length <= position_embeddings.numEmbeddings,
                     "BertEmbeddings: \(length) tokens exceed the \(position_embeddings.numEmbeddings) position embeddings")
        var x = word_embeddings(inputIDs)
        // Positions 0 ..< T are the table's first rows: a view, broadcast over the batch.
        x = x + position_embeddings.weight.narrow(dim: 0, start: 0, length: length)
        if let tokenTypeIDs {
            precondition(tokenTypeIDs.shape == inputIDs.shape,
                         "BertEmbeddings: token type ids \(tokenTypeIDs.shape) must match input ids \(inputIDs.shape)")
            x = x + token_type_embeddings(tokenTypeIDs)
        } else {
            x = x + token_type_embeddings.weight[0]
        }
        return dropout(LayerNorm(x))
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(inputIDs: input) }
}

/// Query, key and value projections and the multi-head attention itself
/// (`attention.self.*`).
public final class BertSelfAttention: Module {
    /// Number of heads.
    public let numHeads: Int
    /// Width of each head.
    public let headDim: Int
    /// Dropout on the attention weights (training only).
    public let dropoutP: Double
    /// Query projection `Linear(H, H)`.
    public let query: Linear
    /// Key projection `Linear(H, H)`.
    public let key: Linear
    /// Value projection `Linear(H, H)`.
    public let value: Linear

    init(_ config: BertConfig, _ weights: BertWeightSource, prefix: String) {
        let h = config.hiddenSize
        numHeads = config.numAttentionHeads
        headDim = h / config.numAttentionHeads
        dropoutP = config.attentionProbsDropoutProb
        query = weights.linear(prefix + "query", h, h)
        key = weights.linear(prefix + "key", h, h)
        value = weights.linear(prefix + "value", h, h)
        super.init()
    }

    /// `softmax(QKᵀ/√d + mask)·V` per head for `x` `[B, T, H]`; `mask` is additive,
    /// broadcastable to `[B, heads, T, T]`. Returns `[B, T, H]`.
    public func forward(_ x: Tensor, mask: Tensor?) -> Tensor {
        forward(x, mask: mask, layout: nil)
    }

    /// With a `layout`, `x` holds the real tokens only (`[N, H]`); the projections run on
    /// them and only the attention itself on the padded batch.
    func forward(_ x: Tensor, mask: Tensor?, layout: PaddingLayout?) -> Tensor {
        let b = layout?.batch ?? x.shape[0], t = layout?.length ?? x.shape[1]
        func heads(_ m: Tensor) -> Tensor {
            (layout?.padForAttention(m) ?? m).reshape([b, t, numHeads, headDim]).transpose(1, 2)
        }
        let context = scaledDotProductAttention(query: heads(query(x)), key: heads(key(x)), value: heads(value(x)),
                                                attnMask: mask, dropoutP: isTraining ? dropoutP : 0)
        let merged = context.transpose(1, 2).reshape([b, t, numHeads * headDim])
        return layout?.pack(merged) ?? merged
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(input, mask: nil) }
}

/// A dense projection, dropout, and a residual layer norm: `LayerNorm(dense(x) + residual)`
/// (Hugging Face's `BertSelfOutput` and `BertOutput`).
public final class BertResidualOutput: Module {
    /// The projection back to the hidden size.
    public let dense: Linear
    /// The layer norm after the residual sum.
    public let LayerNorm: EmberNN.LayerNorm
    /// Dropout on the projection (training only).
    public let dropout: Dropout

    init(inputSize: Int, _ config: BertConfig, _ weights: BertWeightSource, prefix: String) {
        dense = weights.linear(prefix + "dense", inputSize, config.hiddenSize)
        LayerNorm = weights.layerNorm(prefix + "LayerNorm", config.hiddenSize, eps: config.layerNormEps)
        dropout = Dropout(p: config.hiddenDropoutProb)
        super.init()
    }

    /// `LayerNorm(dropout(dense(x)) + residual)`.
    public func forward(_ x: Tensor, residual: Tensor) -> Tensor {
        LayerNorm(dropout(dense(x)) + residual)
    }
}

/// Self-attention and its output block (`attention.self` and `attention.output`).
///
/// The submodule Hugging Face calls `self` is the Swift property `selfAttention`; the
/// `customMirror` gives `Module` the name `self`.
public final class BertAttention: Module, CustomReflectable {
    /// The attention (state-dict name `self`).
    public let selfAttention: BertSelfAttention
    /// The projection, residual sum and layer norm.
    public let output: BertResidualOutput

    init(_ config: BertConfig, _ weights: BertWeightSource, prefix: String) {
        selfAttention = BertSelfAttention(config, weights, prefix: prefix + "self.")
        output = BertResidualOutput(inputSize: config.hiddenSize, config, weights, prefix: prefix + "output.")
        super.init()
    }

    /// `output(self(x, mask), residual: x)`.
    public func forward(_ x: Tensor, mask: Tensor?) -> Tensor {
        forward(x, mask: mask, layout: nil)
    }

    /// With a `layout`, `x` holds the real tokens only (`[N, H]`).
    func forward(_ x: Tensor, mask: Tensor?, layout: PaddingLayout?) -> Tensor {
        output.forward(selfAttention.forward(x, mask: mask, layout: layout), residual: x)
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(input, mask: nil) }

    /// The submodules under Hugging Face's names, for `Module`'s reflection.
    public var customMirror: Mirror {
        Mirror(self, children: [(label: "self", value: selfAttention as Any), (label: "output", value: output as Any)],
               ancestorRepresentation: .suppressed)
    }
}

/// The feed-forward expansion with its activation (`intermediate.*`).
public final class BertIntermediate: Module {
    /// `Linear(hiddenSize, intermediateSize)`.
    public let dense: Linear
    let activation: BertActivation

    init(_ config: BertConfig, _ weights: BertWeightSource, prefix: String) {
        dense = weights.linear(prefix + "dense", config.hiddenSize, config.intermediateSize)
        activation = BertActivation(name: config.hiddenAct) ?? .gelu
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor { dense.forward(input, activation: activation.linearActivation) }
}

/// One encoder layer: attention, then the feed-forward block (`encoder.layer.N.*`).
public final class BertLayer: Module {
    /// Attention with its residual output.
    public let attention: BertAttention
    /// The feed-forward expansion.
    public let intermediate: BertIntermediate
    /// The feed-forward projection, residual sum and layer norm.
    public let output: BertResidualOutput

    init(_ config: BertConfig, _ weights: BertWeightSource, prefix: String) {
        attention = BertAttention(config, weights, prefix: prefix + "attention.")
        intermediate = BertIntermediate(config, weights, prefix: prefix + "intermediate.")
        output = BertResidualOutput(inputSize: config.intermediateSize, config, weights, prefix: prefix + "output.")
        super.init()
    }

    /// The layer's output for `x` `[B, T, H]` with an additive attention mask.
    public func forward(_ x: Tensor, mask: Tensor?) -> Tensor {
        forward(x, mask: mask, layout: nil)
    }

    /// With a `layout`, `x` holds the real tokens only (`[N, H]`): everything but the
    /// attention itself runs on them alone.
    func forward(_ x: Tensor, mask: Tensor?, layout: PaddingLayout?) -> Tensor {
        let attended = attention.forward(x, mask: mask, layout: layout)
        return output.forward(intermediate(attended), residual: attended)
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(input, mask: nil) }
}

/// The stack of encoder layers (`encoder.layer.N`).
public final class BertEncoder: Module {
    /// The layers.
    public let layer: [BertLayer]

    init(_ config: BertConfig, _ weights: BertWeightSource, prefix: String) {
        layer = (0..<config.numHiddenLayers).map { BertLayer(config, weights, prefix: prefix + "layer.\($0).") }
        super.init()
    }

    /// Runs every layer.
    public func forward(_ x: Tensor, mask: Tensor?) -> Tensor {
        layer.reduce(x) { $1.forward($0, mask: mask) }
    }

    /// Runs every layer on the real tokens of `x` `[B, T, H]` only (see `PaddingLayout`);
    /// padded rows of the result are zero.
    func forward(_ x: Tensor, mask: Tensor, layout: PaddingLayout) -> Tensor {
        layout.pad(layer.reduce(layout.pack(x)) { $1.forward($0, mask: mask, layout: layout) })
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(input, mask: nil) }
}

/// `tanh(dense(h[:, 0]))`, the pooled `[CLS]` state (`pooler.dense`).
public final class BertPooler: Module {
    /// `Linear(hiddenSize, hiddenSize)`.
    public let dense: Linear

    init(_ config: BertConfig, _ weights: BertWeightSource, prefix: String) {
        dense = weights.linear(prefix + "dense", config.hiddenSize, config.hiddenSize)
        super.init()
    }

    /// Pools `hidden` `[B, T, H]` to `[B, H]`.
    public override func forward(_ input: Tensor) -> Tensor {
        tanh(dense(input.select(dim: 1, index: 0)))
    }
}

/// A BERT encoder (Hugging Face's `BertModel`), as used by sentence-transformers models
/// such as all-MiniLM-L6-v2.
///
/// State-dict names equal Hugging Face's: `embeddings.word_embeddings.weight`,
/// `embeddings.position_embeddings.weight`, `embeddings.token_type_embeddings.weight`,
/// `embeddings.LayerNorm.{weight,bias}`, `embeddings.position_ids`,
/// `encoder.layer.N.attention.self.{query,key,value}.{weight,bias}`,
/// `encoder.layer.N.attention.output.{dense,LayerNorm}.*`, `encoder.layer.N.intermediate.dense.*`,
/// `encoder.layer.N.output.{dense,LayerNorm}.*` and (with the pooler) `pooler.dense.*`.
///
/// Padding follows Hugging Face: keys where the attention mask is 0 get a large negative
/// score before the softmax, so real tokens never attend to padding; the states at padded
/// positions are computed but meaningless (pooling ignores them).
///
/// ```swift
/// let bert = try BertModel(directory: dir)          // config.json + model.safetensors
/// let batch = tokenizer.encodeBatch(["Hello", "Hello world"])
/// let states = bert(inputIDs: batch.inputIDs, attentionMask: batch.attentionMask)   // [2, 4, 384]
/// ```
public final class BertModel: Module {
    /// The configuration.
    public let config: BertConfig
    /// Token, position and type embeddings.
    public let embeddings: BertEmbeddings
    /// The encoder layers.
    public let encoder: BertEncoder
    /// The `[CLS]` pooler, or nil (`add_pooling_layer=False`).
    public let pooler: BertPooler?

    /// Creates a model with BERT's initialisation: normal(0, 0.02) weights and embeddings,
    /// zero biases, unit layer norms. Call `eval()` before inference (dropout is on in training mode).
    ///
    /// - Parameters:
    ///   - config: the hyperparameters.
    ///   - addPoolingLayer: whether to create `pooler.dense`.
    ///
    /// ```swift
    /// let tiny = BertModel(BertConfig(vocabSize: 100, hiddenSize: 32, numHiddenLayers: 2,
    ///                                 numAttentionHeads: 4, intermediateSize: 64))
    /// ```
    public convenience init(_ config: BertConfig, addPoolingLayer: Bool = true) {
        precondition(config.hiddenSize > 0 && config.numAttentionHeads > 0 && config.hiddenSize % config.numAttentionHeads == 0,
                     "BertModel: hidden size \(config.hiddenSize) must be a multiple of the \(config.numAttentionHeads) heads")
        self.init(config, addPoolingLayer: addPoolingLayer, weights: BertWeightSource(file: nil))
        noGrad { _ = embeddings.word_embeddings.weight[config.padTokenID].zero_() }
    }

    private init(_ config: BertConfig, addPoolingLayer: Bool, weights: BertWeightSource) {
        self.config = config
        embeddings = BertEmbeddings(config, weights, prefix: "embeddings.")
        encoder = BertEncoder(config, weights, prefix: "encoder.")
        pooler = addPoolingLayer ? BertPooler(config, weights, prefix: "pooler.") : nil
        super.init()
    }

    /// Loads a Hugging Face model directory: `config.json` and `model.safetensors`
    /// (BertModel names, no prefix), in evaluation mode.
    ///
    /// The parameters view the file's memory mapping instead of being copied (see
    /// `SafetensorsFile`; the mapping is private, so changing a parameter never changes the
    /// file), and nothing is randomly initialised, so loading takes milliseconds. A file
    /// without `pooler.*` tensors gives a model without a pooler; `embeddings.position_ids`
    /// may be absent (newer checkpoints leave it out).
    ///
    /// - Parameter directory: the model directory.
    /// - Throws: `PretrainedFilesError` for a missing or malformed `config.json`, a missing
    ///   `model.safetensors`, or tensors that do not fit the configuration (every missing,
    ///   unexpected, mis-shaped or non-float tensor is listed); `SafetensorsError` for an
    ///   unreadable weight file.
    ///
    /// ```swift
    /// let bert = try BertModel(directory: URL(fileURLWithPath: "all-MiniLM-L6-v2"))
    /// ```
    public convenience init(directory: URL) throws {
        let config = try BertConfig(contentsOf: directory.appendingPathComponent("config.json"))
        let weightsURL = directory.appendingPathComponent("model.safetensors")
        guard FileManager.default.fileExists(atPath: weightsURL.path) else {
            throw PretrainedFilesError.missing(path: weightsURL.path, what: "the BERT weights")
        }
        let file = try SafetensorsFile(weightsURL)
        let source = BertWeightSource(file: file)
        self.init(config, addPoolingLayer: file.info("pooler.dense.weight") != nil, weights: source)
        var problems = source.problems
        let unexpected = file.names.filter { !source.used.contains($0) }.sorted()
        if !unexpected.isEmpty { problems.append("unexpected tensors: " + unexpected.joined(separator: ", ")) }
        guard problems.isEmpty else {
            throw PretrainedFilesError.invalid(path: weightsURL.path,
                                               reason: "the weights do not fit config.json: " + problems.joined(separator: "; "))
        }
        eval()
    }

    /// The last hidden state `[B, T, hiddenSize]`.
    ///
    /// - Parameters:
    ///   - inputIDs: int64 token ids `[B, T]`.
    ///   - attentionMask: `[B, T]`, nonzero (or true) on real tokens, 0 on padding; nil
    ///     attends everywhere.
    ///   - tokenTypeIDs: segment ids `[B, T]`; nil means all 0.
    ///   - skipPadding: run the per-token layers (projections, feed-forward, layer norms:
    ///     most of the time) on the real tokens only, as PyTorch's Transformer fast path
    ///     does; the real tokens' states are the same, and the padded rows of the result are
    ///     zero instead of the values Hugging Face computes there (which no real token
    ///     depends on). Without a mask there is no padding and this changes nothing.
    ///
    /// ```swift
    /// let states = bert.forward(inputIDs: ids, attentionMask: mask)   // [B, T, 384]
    /// ```
    public func forward(inputIDs: Tensor, attentionMask: Tensor? = nil, tokenTypeIDs: Tensor? = nil,
                        skipPadding: Bool = false) -> Tensor {
        let x = embeddings.forward(inputIDs: inputIDs, tokenTypeIDs: tokenTypeIDs)
        guard let attentionMask else { return encoder.forward(x, mask: nil) }
        precondition(attentionMask.shape == inputIDs.shape,
                     "BertModel: attention mask \(attentionMask.shape) must match input ids \(inputIDs.shape)")
        let additive = Self.additiveMask(attentionMask, dtype: x.dtype)
        if skipPadding { return encoder.forward(x, mask: additive, layout: PaddingLayout(mask: attentionMask)) }
        return encoder.forward(x, mask: additive)
    }

    /// Calls `forward(inputIDs:attentionMask:tokenTypeIDs:skipPadding:)`.
    public func callAsFunction(inputIDs: Tensor, attentionMask: Tensor? = nil, tokenTypeIDs: Tensor? = nil,
                               skipPadding: Bool = false) -> Tensor {
        forward(inputIDs: inputIDs, attentionMask: attentionMask, tokenTypeIDs: tokenTypeIDs, skipPadding: skipPadding)
    }

    public override func forward(_ input: Tensor) -> Tensor { forward(inputIDs: input) }

    /// `[B, 1, 1, T]`: 0 where the mask is nonzero, the dtype's lowest finite value elsewhere
    /// (Hugging Face's extended attention mask).
    static func additiveMask(_ mask: Tensor, dtype: DType) -> Tensor {
        let keep = mask.dtype == .bool ? mask : mask .!= 0
        let lowest = dtype == .float64 ? -Double.greatestFiniteMagnitude : -Double(Float.greatestFiniteMagnitude)
        return Tensor.zeros(mask.shape, dtype: dtype).maskedFill(keep.logicalNot(), lowest)
            .reshape([mask.shape[0], 1, 1, mask.shape[1]])
    }
}
