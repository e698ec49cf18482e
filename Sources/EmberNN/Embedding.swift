// Embedding lookup tables: the Embedding layer and the functional `embedding`.
import Ember

/// Looks up rows of `weight` by integer index (`torch.nn.functional.embedding`).
///
/// The gradient with respect to `weight` accumulates into the looked-up rows (repeated
/// indices add up), except for `paddingIdx`, whose row never receives a gradient; its
/// stored value is still returned.
///
/// - Parameters:
///   - input: an integer tensor of indices in `0 ..< weight.shape[0]`, any shape.
///   - weight: the table, `[numEmbeddings, embeddingDim]`.
///   - paddingIdx: an index whose row gets no gradient (negative counts from the end), or nil.
/// - Returns: `input.shape + [embeddingDim]`.
///
/// ```swift
/// let table = Tensor.randn([10, 3])
/// let vectors = embedding(Tensor([1, 4, 4] as [Int64]), weight: table)   // [3, 3]
/// ```
public func embedding(_ input: Tensor, weight: Tensor, paddingIdx: Int? = nil) -> Tensor {
    precondition(weight.rank == 2, "embedding: weight must be 2-D [numEmbeddings, embeddingDim], got shape \(weight.shape)")
    precondition(input.dtype == .int64 || input.dtype == .int32,
                 "embedding: indices must be an integer tensor (int64 or int32), got \(input.dtype)")
    let rows = weight.shape[0]
    let flat = input.reshape([-1])
    if flat.count > 0 {
        let (low, high) = noGrad { (flat.min().item(Int64.self), flat.max().item(Int64.self)) }
        precondition(low >= 0 && high < rows, "embedding: index \(low < 0 ? low : high) is out of range for a table of \(rows) rows")
    }
    let picked = weight.indexSelect(dim: 0, index: flat)
    var result = picked
    if let paddingIdx, picked.requiresGrad {
        let pad = paddingIdx < 0 ? paddingIdx + rows : paddingIdx
        precondition(pad >= 0 && pad < rows, "embedding: paddingIdx \(paddingIdx) is out of range for a table of \(rows) rows")
        // The padding rows' values pass through detached, so no gradient reaches them.
        let isPadding = noGrad { flat.eq(Double(pad)).unsqueeze(1) }
        result = Tensor.where(isPadding, picked.detach(), picked)
    }
    return result.reshape(input.shape + [weight.shape[1]])
}

/// A lookup table of learnable vectors (`torch.nn.Embedding`), e.g. word embeddings.
///
/// Parameter, named as PyTorch: `weight` `[numEmbeddings, embeddingDim]`, initialised from
/// 𝒩(0, 1), with the `paddingIdx` row zeroed. The padding row never receives a gradient.
///
/// ```swift
/// let table = Embedding(1000, 64, paddingIdx: 0)
/// let vectors = table(Tensor([5, 9, 0] as [Int64], shape: [1, 3]))   // [1, 3, 64]
/// print(table)   // Embedding(1000, 64, padding_idx=0)
/// ```
public final class Embedding: Module {
    /// The number of rows.
    public let numEmbeddings: Int
    /// The size of each vector.
    public let embeddingDim: Int
    /// The row that gets no gradient (normalised to be non-negative), or nil.
    public let paddingIdx: Int?
    /// The learnable table, `[numEmbeddings, embeddingDim]`.
    public var weight: Tensor

    /// Creates a table with PyTorch's default initialisation.
    ///
    /// - Parameters:
    ///   - numEmbeddings: the number of rows.
    ///   - embeddingDim: the size of each vector.
    ///   - paddingIdx: a row that is zero at creation and never trained (negative counts
    ///     from the end), or nil.
    public init(_ numEmbeddings: Int, _ embeddingDim: Int, paddingIdx: Int? = nil) {
        self.numEmbeddings = numEmbeddings
        self.embeddingDim = embeddingDim
        self.paddingIdx = Embedding.normalizedPadding(paddingIdx, rows: numEmbeddings)
        weight = Tensor.randn([numEmbeddings, embeddingDim])
        super.init()
        if let pad = self.paddingIdx { noGrad { _ = weight[pad].fill_(0) } }
        weight.requiresGrad = true
    }

    /// Wraps an existing table without copying it, as `torch.nn.Embedding(_weight:)`.
    ///
    /// - Parameters:
    ///   - weight: the table `[numEmbeddings, embeddingDim]`, used as the layer's parameter as is.
    ///   - paddingIdx: a row that gets no gradient, or nil.
    ///
    /// ```swift
    /// let table = Embedding(weight: Tensor.randn([100, 16]))
    /// ```
    public init(weight: Tensor, paddingIdx: Int? = nil) {
        precondition(weight.rank == 2, "Embedding: weight must be 2-D, got shape \(weight.shape)")
        numEmbeddings = weight.shape[0]
        embeddingDim = weight.shape[1]
        self.paddingIdx = Embedding.normalizedPadding(paddingIdx, rows: weight.shape[0])
        self.weight = weight
        super.init()
    }

    private static func normalizedPadding(_ paddingIdx: Int?, rows: Int) -> Int? {
        guard let paddingIdx else { return nil }
        precondition(paddingIdx >= -rows && paddingIdx < rows,
                     "Embedding: paddingIdx \(paddingIdx) must be within the number of embeddings (\(rows))")
        return paddingIdx < 0 ? paddingIdx + rows : paddingIdx
    }

    /// Creates a layer from a pretrained table (`torch.nn.Embedding.from_pretrained`).
    ///
    /// The table is copied, so training does not change `embeddings`; its padding row is
    /// kept as given.
    ///
    /// - Parameters:
    ///   - embeddings: the table, `[numEmbeddings, embeddingDim]`.
    ///   - freeze: when true (the default) the weight does not require grad.
    ///   - paddingIdx: a row that gets no gradient, or nil.
    /// - Returns: the layer.
    ///
    /// ```swift
    /// let glove = Tensor.randn([400, 50])
    /// let table = Embedding.fromPretrained(glove)   // frozen
    /// ```
    public static func fromPretrained(_ embeddings: Tensor, freeze: Bool = true, paddingIdx: Int? = nil) -> Embedding {
        precondition(embeddings.rank == 2, "Embedding.fromPretrained: embeddings must be 2-D, got shape \(embeddings.shape)")
        let weight = noGrad { embeddings.detach().clone() }
        weight.requiresGrad = !freeze
        return Embedding(weight: weight, paddingIdx: paddingIdx)
    }

    public override func forward(_ input: Tensor) -> Tensor { embedding(input, weight: weight, paddingIdx: paddingIdx) }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        if name == "weight" { weight = tensor } else { super.replaceParameter(name, with: tensor) }
    }

    public override var extraDescription: String {
        "\(numEmbeddings), \(embeddingDim)" + (paddingIdx.map { ", padding_idx=\($0)" } ?? "")
    }
}
