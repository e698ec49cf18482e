// Attention: the functional `scaledDotProductAttention` and the `MultiheadAttention` layer,
// with PyTorch's semantics and state-dict names.
import Ember
import Foundation

/// `[L, S]` bool mask that keeps position `(i, j)` where `j ≤ i` (a causal mask).
func causalKeepMask(_ l: Int, _ s: Int, offset: Int = 0, device: Device) -> Tensor {
    var values = [Bool](repeating: false, count: l * s)
    for i in 0..<l { for j in 0..<s where j <= i + offset { values[i * s + j] = true } }
    return Tensor(values, shape: [l, s]).to(device)
}

/// The positions a causal mask blocks (`j > i + offset`), `[l, s]` bool, made once per
/// shape: generation asks for the same mask at every step of every layer.
func causalBlockedMask(_ l: Int, _ s: Int, offset: Int, device: Device) -> Tensor {
    CausalMaskCache.shared.mask(l, s, offset: offset, device: device)
}

/// The cache behind `causalBlockedMask`: masks of up to 64 Ki elements, 4 MiB in all
/// (cleared when full). Larger masks — the query blocks of long-sequence attention, each
/// needed once per call — are made each time instead of piling up.
private final class CausalMaskCache: @unchecked Sendable {
    static let shared = CausalMaskCache()
    private struct Key: Hashable { let l, s, offset: Int; let device: Device }
    private var masks: [Key: Tensor] = [:]
    private var cachedElements = 0
    private let lock = NSLock()
    private static let largestCached = 1 << 16, capacity = 4 << 20

    func mask(_ l: Int, _ s: Int, offset: Int, device: Device) -> Tensor {
        let key = Key(l: l, s: s, offset: offset, device: device)
        lock.lock()
        if let mask = masks[key] { lock.unlock(); return mask }
        lock.unlock()
        let mask = noGrad { causalKeepMask(l, s, offset: offset, device: device).logicalNot() }
        lock.lock()
        defer { lock.unlock() }
        guard l * s <= Self.largestCached else { return mask }
        if cachedElements + l * s > Self.capacity {
            masks.removeAll()
            cachedElements = 0
        }
        if masks.updateValue(mask, forKey: key) == nil { cachedElements += l * s }
        return mask
    }
}

/// Score tensors larger than this (bytes, all heads together) are computed a block of
/// query rows at a time when no gradient is recorded, so inference on long sequences holds
/// `block × S` scores per head instead of `L × S`.
let attentionBlockBytes = 16 << 20

/// The attention computation shared by `scaledDotProductAttention` and `MultiheadAttention`:
/// returns the output and the attention weights (after dropout). Without `needWeights`, long
/// inference runs may skip the weights (then an empty tensor) to save memory.
func attentionCore(query: Tensor, key: Tensor, value: Tensor, attnMask: Tensor?, dropoutP: Double,
                   isCausal: Bool, scale: Double?, needWeights: Bool = false) -> (output: Tensor, weights: Tensor) {
    precondition(query.rank >= 2 && key.rank >= 2 && value.rank >= 2,
                 "scaled_dot_product_attention: query, key and value must be at least 2-D, got \(query.shape), \(key.shape), \(value.shape)")
    let e = query.shape[query.rank - 1]
    precondition(key.shape[key.rank - 1] == e,
                 "scaled_dot_product_attention: query \(query.shape) and key \(key.shape) differ in the embedding size")
    precondition(key.shape[key.rank - 2] == value.shape[value.rank - 2],
                 "scaled_dot_product_attention: key \(key.shape) and value \(value.shape) differ in the sequence length")
    precondition(dropoutP >= 0 && dropoutP <= 1, "scaled_dot_product_attention: dropoutP must be in [0, 1], got \(dropoutP)")
    precondition(!(isCausal && attnMask != nil), "scaled_dot_product_attention: pass either attnMask or isCausal, not both")
    let factor = scale ?? 1 / Double(e).squareRoot()
    return attentionRows(query: query, key: key, value: value, attnMask: attnMask, dropoutP: dropoutP,
                         causalOffset: isCausal ? 0 : nil, factor: factor, needWeights: needWeights)
}

/// Whether attention over these operands runs a block of query rows at a time: no
/// gradient recorded, no dropout, no weights asked for, and a score tensor of all heads
/// larger than `attentionBlockBytes`.
func runsInQueryBlocks(query: Tensor, key: Tensor, value: Tensor, dropoutP: Double, needWeights: Bool) -> Bool {
    let l = query.shape[query.rank - 2], s = key.shape[key.rank - 2]
    let scoreBytes = query.shape.dropLast(2).reduce(1, *) * l * s * query.dtype.itemSize
    let recording = GradMode.isEnabled && (query.requiresGrad || key.requiresGrad || value.requiresGrad)
    return scoreBytes > attentionBlockBytes && !recording && !needWeights && dropoutP == 0 && l > 1
}

/// `softmax(Q·Kᵀ·factor + mask)·V` for query rows that start at absolute row
/// `causalOffset` of a causal mask (nil: no causal mask).
private func attentionRows(query: Tensor, key: Tensor, value: Tensor, attnMask: Tensor?, dropoutP: Double,
                           causalOffset: Int?, factor: Double, needWeights: Bool) -> (output: Tensor, weights: Tensor) {
    let l = query.shape[query.rank - 2], s = key.shape[key.rank - 2]
    let heads = query.shape.dropLast(2).reduce(1, *)
    if runsInQueryBlocks(query: query, key: key, value: value, dropoutP: dropoutP, needWeights: needWeights) {
        // Query blocks: each sees every key, so the rows are independent. (Every block has
        // the same shape, so the allocator's cached blocks are reused from block to block;
        // a causal block could skip the keys past its last row, but its buffers would then
        // change size at every block and pile up in the cache.)
        let block = max(1, attentionBlockBytes / max(1, heads * s * query.dtype.itemSize))
        var outputs: [Tensor] = []
        var start = 0
        while start < l {
            let rows = min(block, l - start)
            let mask = attnMask.map { m in
                m.rank >= 2 && m.shape[m.rank - 2] == l ? m.narrow(dim: m.rank - 2, start: start, length: rows) : m
            }
            outputs.append(attentionRows(query: query.narrow(dim: query.rank - 2, start: start, length: rows),
                                         key: key, value: value, attnMask: mask, dropoutP: 0,
                                         causalOffset: causalOffset.map { $0 + start },
                                         factor: factor, needWeights: false).output)
            start += rows
        }
        return (Tensor.cat(outputs, dim: query.rank - 2), Tensor.empty([0]))
    }
    var scores = query.matmul(key.transpose(-2, -1)) * factor
    if let offset = causalOffset, attnMask == nil {
        // The causal mask alone: one pass, without writing the mask or a filled copy.
        var weights = causalSoftmax(scores, offset: offset)
        if dropoutP > 0 { weights = dropout(weights, p: dropoutP, training: true) }
        return (weights.matmul(value), weights)
    }
    if let offset = causalOffset {
        scores = scores.maskedFill(causalBlockedMask(l, s, offset: offset, device: scores.device), -.infinity)
    }
    if let attnMask {
        if attnMask.dtype == .bool {
            scores = scores.maskedFill(attnMask.logicalNot(), -.infinity)
        } else {
            precondition(attnMask.dtype.isFloatingPoint, "scaled_dot_product_attention: attnMask must be bool or floating point, got \(attnMask.dtype)")
            scores = scores + attnMask.to(scores.dtype)
        }
    }
    var weights = softmax(scores, dim: -1)
    if dropoutP > 0 { weights = dropout(weights, p: dropoutP, training: true) }
    return (weights.matmul(value), weights)
}

/// Attention `softmax(Q·Kᵀ·scale + mask)·V` (`torch.nn.functional.scaled_dot_product_attention`).
///
/// - Parameters:
///   - query: `[..., L, E]`.
///   - key: `[..., S, E]`.
///   - value: `[..., S, Ev]`; leading dimensions broadcast as in `matmul`.
///   - attnMask: broadcastable to `[..., L, S]`: a bool mask keeps positions where it is
///     **true** (as PyTorch's SDPA), a floating-point mask is added to the scores.
///   - dropoutP: dropout probability on the attention weights, applied whenever it is
///     positive (as PyTorch: pass 0 in evaluation).
///   - isCausal: mask out positions `j > i` (the upper-left aligned causal mask); not
///     together with `attnMask`.
///   - scale: the score scale; nil means `1/√E`.
/// - Returns: `[..., L, Ev]`.
///
/// ```swift
/// let q = Tensor.randn([2, 4, 10, 16]), k = Tensor.randn([2, 4, 12, 16]), v = Tensor.randn([2, 4, 12, 16])
/// let y = scaledDotProductAttention(query: q, key: k, value: v)   // [2, 4, 10, 16]
/// ```
public func scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, attnMask: Tensor? = nil,
                                      dropoutP: Double = 0, isCausal: Bool = false, scale: Double? = nil) -> Tensor {
    attentionCore(query: query, key: key, value: value, attnMask: attnMask, dropoutP: dropoutP,
                  isCausal: isCausal, scale: scale).output
}

/// Multi-head attention (`torch.nn.MultiheadAttention`).
///
/// Stored properties carry PyTorch's snake_case names (`in_proj_weight`, `out_proj`, …)
/// because `Module` names parameters and submodules after their property labels, so a
/// PyTorch state dict loads by name. Parameters: `in_proj_weight` `[3E, E]` when key and
/// value have the embedding size (otherwise `q_proj_weight` `[E, E]`, `k_proj_weight`
/// `[E, kdim]`, `v_proj_weight` `[E, vdim]`), `in_proj_bias` `[3E]` and `out_proj` (a
/// `Linear(E, E)`). Masks follow `nn.MultiheadAttention`: in `attnMask` and
/// `keyPaddingMask` a bool **true** means "do not attend" (the opposite of
/// `scaledDotProductAttention`); float masks are added.
///
/// ```swift
/// let mha = MultiheadAttention(embedDim: 16, numHeads: 4, batchFirst: true)
/// let x = Tensor.randn([2, 5, 16])
/// let (y, w) = mha(x, x, x)   // y [2, 5, 16], w [2, 5, 5] (averaged over heads)
/// ```
public final class MultiheadAttention: Module {
    /// Embedding size `E` of the queries (and output).
    public let embedDim: Int
    /// Feature size of the keys.
    public let kdim: Int
    /// Feature size of the values.
    public let vdim: Int
    /// Number of heads.
    public let numHeads: Int
    /// Width of one head, `E / numHeads`.
    public let headDim: Int
    /// Dropout probability on the attention weights (training only).
    public let dropout: Double
    /// Inputs are `[N, L, E]` when true, `[L, N, E]` otherwise (the default, as PyTorch).
    public let batchFirst: Bool

    /// Packed query/key/value projection `[3E, E]` (PyTorch's name), when kdim == vdim == E.
    public var in_proj_weight: Tensor?
    /// Separate query projection `[E, E]`, when kdim or vdim differ from E.
    public var q_proj_weight: Tensor?
    /// Separate key projection `[E, kdim]`.
    public var k_proj_weight: Tensor?
    /// Separate value projection `[E, vdim]`.
    public var v_proj_weight: Tensor?
    /// Packed projection bias `[3E]`, or nil without bias.
    public var in_proj_bias: Tensor?
    /// The output projection, `Linear(E, E)` (PyTorch's `out_proj`).
    public let out_proj: Linear

    /// Whether key and value share the embedding size (a packed `in_proj_weight`).
    public var qkvSameEmbedDim: Bool { kdim == embedDim && vdim == embedDim }

    /// Creates the layer with PyTorch's initialisation (Xavier-uniform projections, zero biases).
    public init(embedDim: Int, numHeads: Int, dropout: Double = 0, bias: Bool = true,
                kdim: Int? = nil, vdim: Int? = nil, batchFirst: Bool = false) {
        precondition(embedDim > 0 && numHeads > 0 && embedDim % numHeads == 0,
                     "MultiheadAttention: embedDim (\(embedDim)) must be divisible by numHeads (\(numHeads))")
        self.embedDim = embedDim
        self.kdim = kdim ?? embedDim
        self.vdim = vdim ?? embedDim
        self.numHeads = numHeads
        self.headDim = embedDim / numHeads
        self.dropout = dropout
        self.batchFirst = batchFirst
        out_proj = Linear(embedDim, embedDim, bias: bias)
        super.init()
        if qkvSameEmbedDim {
            in_proj_weight = Tensor.empty([3 * embedDim, embedDim])
        } else {
            q_proj_weight = Tensor.empty([embedDim, embedDim])
            k_proj_weight = Tensor.empty([embedDim, self.kdim])
            v_proj_weight = Tensor.empty([embedDim, self.vdim])
        }
        in_proj_bias = bias ? Tensor.zeros([3 * embedDim]) : nil
        resetParameters()
        for p in [in_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight, in_proj_bias] { p?.requiresGrad = true }
    }

    /// PyTorch's `_reset_parameters`: Xavier-uniform projection weights, zero biases.
    public func resetParameters() {
        noGrad {
            for w in [in_proj_weight, q_proj_weight, k_proj_weight, v_proj_weight] { if let w { Init.xavierUniform(w) } }
            in_proj_bias?.zero_()
            out_proj.bias?.zero_()
        }
    }

    /// Computes attention of `query` over `key`/`value`.
    ///
    /// - Parameters:
    ///   - query: `[L, N, E]` (`[N, L, E]` with `batchFirst`) or unbatched `[L, E]`.
    ///   - key: `[S, N, kdim]` (or batch first / unbatched).
    ///   - value: `[S, N, vdim]` (or batch first / unbatched).
    ///   - keyPaddingMask: `[N, S]` (or `[S]`): bool true ignores that key; a float mask is added.
    ///   - needWeights: also return the attention weights.
    ///   - attnMask: `[L, S]` or `[N·numHeads, L, S]`: bool true forbids attending; float is added.
    ///   - averageAttnWeights: average the returned weights over heads.
    ///   - isCausal: with no `attnMask`, apply a causal mask.
    /// - Returns: the output `[L, N, E]` (or as the input's layout) and, when `needWeights`,
    ///   the weights `[N, L, S]` (averaged) or `[N, numHeads, L, S]`.
    public func forward(_ query: Tensor, _ key: Tensor, _ value: Tensor, keyPaddingMask: Tensor? = nil,
                        needWeights: Bool = true, attnMask: Tensor? = nil, averageAttnWeights: Bool = true,
                        isCausal: Bool = false) -> (Tensor, Tensor?) {
        let batched = query.rank == 3
        precondition(query.rank == 3 || query.rank == 2, "MultiheadAttention: query must be 2-D or 3-D, got shape \(query.shape)")
        precondition(key.rank == query.rank && value.rank == query.rank,
                     "MultiheadAttention: query \(query.shape), key \(key.shape) and value \(value.shape) must have the same rank")
        // Internally [N, L, E].
        func toBatchFirst(_ t: Tensor) -> Tensor {
            if !batched { return t.unsqueeze(0) }
            return batchFirst ? t : t.transpose(0, 1)
        }
        let q0 = toBatchFirst(query), k0 = toBatchFirst(key), v0 = toBatchFirst(value)
        let n = q0.shape[0], l = q0.shape[1], s = k0.shape[1], e = embedDim, h = numHeads, d = headDim
        precondition(q0.shape[2] == e, "MultiheadAttention: query has \(q0.shape[2]) features, expected embedDim \(e)")
        precondition(k0.shape[2] == kdim && v0.shape[2] == vdim,
                     "MultiheadAttention: key \(key.shape) and value \(value.shape) must have \(kdim) and \(vdim) features")
        precondition(k0.shape[0] == n && v0.shape[0] == n && v0.shape[1] == s,
                     "MultiheadAttention: key \(key.shape) and value \(value.shape) do not match query \(query.shape)")
        let biases = in_proj_bias.map { $0.chunk(3, dim: 0) }
        let weights: [Tensor]
        if let w = in_proj_weight { weights = w.chunk(3, dim: 0) } else { weights = [q_proj_weight!, k_proj_weight!, v_proj_weight!] }
        let q = q0.linear(weight: weights[0], bias: biases?[0])
        let k = k0.linear(weight: weights[1], bias: biases?[1])
        let v = v0.linear(weight: weights[2], bias: biases?[2])
        func heads(_ t: Tensor, _ len: Int) -> Tensor { t.reshape([n, len, h, d]).transpose(1, 2) }

        // One float mask [N or 1, H or 1, L, S] combining attnMask and keyPaddingMask.
        var mask: Tensor? = nil
        var attn = attnMask
        if attn == nil && isCausal { attn = causalBlockedMask(l, s, offset: 0, device: q.device) }
        if let a = attn {
            var m = a.dtype == .bool ? Tensor.zeros(a.shape, dtype: q.dtype, device: q.device).maskedFill(a, -.infinity) : a.to(q.dtype)
            if m.rank == 2 {
                precondition(m.shape == [l, s], "MultiheadAttention: 2-D attnMask has shape \(m.shape), expected [\(l), \(s)]")
                m = m.reshape([1, 1, l, s])
            } else {
                precondition(m.shape == [n * h, l, s], "MultiheadAttention: 3-D attnMask has shape \(m.shape), expected [\(n * h), \(l), \(s)]")
                m = m.reshape([n, h, l, s])
            }
            mask = m
        }
        if let kpm = keyPaddingMask {
            let kp = batched ? kpm : kpm.unsqueeze(0)
            precondition(kp.shape == [n, s], "MultiheadAttention: keyPaddingMask has shape \(kpm.shape), expected [\(n), \(s)]")
            let m = (kp.dtype == .bool ? Tensor.zeros(kp.shape, dtype: q.dtype, device: q.device).maskedFill(kp, -.infinity) : kp.to(q.dtype))
                .reshape([n, 1, 1, s])
            mask = mask.map { $0 + m } ?? m
        }
        let (out, w) = attentionCore(query: heads(q, l), key: heads(k, s), value: heads(v, s), attnMask: mask,
                                     dropoutP: isTraining ? dropout : 0, isCausal: false, scale: nil,
                                     needWeights: needWeights)
        // [N, H, L, D] → [N, L, E] → output projection.
        var y = out_proj(out.transpose(1, 2).reshape([n, l, e]))
        var weightsOut: Tensor? = needWeights ? (averageAttnWeights ? w.mean(dim: 1) : w) : nil
        if !batched {
            y = y.squeeze(dim: 0)
            weightsOut = weightsOut?.squeeze(dim: 0)
        } else if !batchFirst {
            y = y.transpose(0, 1)
        }
        return (y, weightsOut)
    }

    /// Calls `forward`: `let (y, weights) = mha(q, k, v)`.
    public func callAsFunction(_ query: Tensor, _ key: Tensor, _ value: Tensor, keyPaddingMask: Tensor? = nil,
                               needWeights: Bool = true, attnMask: Tensor? = nil, averageAttnWeights: Bool = true,
                               isCausal: Bool = false) -> (Tensor, Tensor?) {
        forward(query, key, value, keyPaddingMask: keyPaddingMask, needWeights: needWeights, attnMask: attnMask,
                averageAttnWeights: averageAttnWeights, isCausal: isCausal)
    }

    /// Self-attention on one input, returning the output only.
    public override func forward(_ input: Tensor) -> Tensor {
        forward(input, input, input, needWeights: false).0
    }

    public override func replaceParameter(_ name: String, with tensor: Tensor) {
        switch name {
        case "in_proj_weight": in_proj_weight = tensor
        case "q_proj_weight": q_proj_weight = tensor
        case "k_proj_weight": k_proj_weight = tensor
        case "v_proj_weight": v_proj_weight = tensor
        case "in_proj_bias": in_proj_bias = tensor
        default: super.replaceParameter(name, with: tensor)
        }
    }
}
