// Running a padded batch of sequences without computing its padding.
import Ember

/// Where the real tokens of a padded batch are: the link between the padded `[B, T, …]`
/// layout that attention needs and a packed `[N, …]` layout holding only the N real tokens,
/// in which the per-token layers (projections, feed-forward, layer norms — most of a
/// Transformer's time) run. PyTorch's `nn.TransformerEncoder` fast path does the same
/// with nested tensors.
///
/// ```swift
/// let layout = PaddingLayout(mask: batch.attentionMask)   // [B, T], 1 on real tokens
/// let packed = layout.pack(states)                        // [N, H]
/// let padded = layout.pad(packed)                         // [B, T, H], zeros on padding
/// ```
struct PaddingLayout {
    /// Sequences and the padded length.
    let batch, length: Int
    /// Real tokens in the whole batch.
    let tokens: Int
    /// int64 `[N]`: the flat position `b·T + t` of each real token, in order.
    let realPositions: Tensor
    /// int64 `[B·T]`: each padded position's row in the packed layout; padding points at
    /// row N, a zero row `pad` appends.
    let packedRows: Tensor
    /// The same with padding pointing at row 0 (for `padForAttention`).
    let packedRowsOrFirst: Tensor

    /// The layout of `mask` `[B, T]` (nonzero or true on real tokens).
    init(mask: Tensor) {
        precondition(mask.rank == 2, "PaddingLayout: the mask must be [B, T], got \(mask.shape)")
        batch = mask.shape[0]
        length = mask.shape[1]
        let keep = (mask.dtype == .bool ? mask : mask .!= 0).to(.int64).contiguous().asArray(Int64.self)
        var real: [Int64] = [], rows = [Int64](repeating: 0, count: keep.count)
        for (position, kept) in keep.enumerated() {
            if kept != 0 {
                rows[position] = Int64(real.count)
                real.append(Int64(position))
            }
        }
        tokens = real.count
        realPositions = Tensor(real, shape: [tokens])
        packedRowsOrFirst = Tensor(rows, shape: [keep.count])
        for (position, kept) in keep.enumerated() where kept == 0 { rows[position] = Int64(tokens) }
        packedRows = Tensor(rows, shape: [keep.count])
    }

    /// `[B, T, H]` → `[N, H]`: the real tokens' rows, in order.
    func pack(_ x: Tensor) -> Tensor {
        x.reshape([batch * length, x.shape[2]]).indexSelect(dim: 0, index: realPositions)
    }

    /// `[N, H]` → `[B, T, H]` for attention's queries, keys and values, whose padded rows
    /// are never seen (masked keys get weight 0, padded query rows are dropped by `pack`):
    /// they repeat the first token's row, which spares `pad`'s copy of the whole input.
    func padForAttention(_ x: Tensor) -> Tensor {
        if tokens == 0 { return pad(x) }
        return x.indexSelect(dim: 0, index: packedRowsOrFirst).reshape([batch, length, x.shape[1]])
    }

    /// `[N, H]` → `[B, T, H]`, with zeros at the padding.
    func pad(_ x: Tensor) -> Tensor {
        let zeroRow = Tensor.zeros([1, x.shape[1]], dtype: x.dtype, device: x.device)
        return Tensor.cat([x, zeroRow], dim: 0).indexSelect(dim: 0, index: packedRows).reshape([batch, length, x.shape[1]])
    }
}
