// The fused LSTM cell update, the elementwise heart of `LSTM` and `LSTMCell`.

/// One LSTM cell update in a single fused pass: with `gates` the pre-activations
/// `x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh` in PyTorch's order (input, forget, cell, output),
/// `c' = σ(f)·c + σ(i)·tanh(g)` and `h' = σ(o)·tanh(c')`. Differentiable, to any order.
///
/// - Parameters:
///   - gates: `[B, 4H]`, float32 or float64.
///   - cell: the previous cell state `[B, H]`, same dtype.
/// - Returns: `(hidden: h', cell: c')`, each `[B, H]` (views of one `[B, 2H]` result).
///
/// ```swift
/// let gates = Tensor.randn([8, 4 * 16]), c = Tensor.zeros([8, 16])
/// let (h, c2) = lstmCellUpdate(gates: gates, cell: c)   // [8, 16], [8, 16]
/// ```
public func lstmCellUpdate(gates: Tensor, cell: Tensor) -> (hidden: Tensor, cell: Tensor) {
    precondition(cell.rank == 2 && gates.rank == 2 && gates.shape == [cell.shape[0], 4 * cell.shape[1]],
                 "lstmCellUpdate: gates \(gates.shape) must be [B, 4H] for a cell of shape [B, H], got cell \(cell.shape)")
    precondition(gates.dtype == cell.dtype && (gates.dtype == .float32 || gates.dtype == .float64),
                 "lstmCellUpdate: gates and cell must both be float32 or float64, got \(gates.dtype) and \(cell.dtype)")
    precondition(gates.device == cell.device, "lstmCellUpdate: gates on \(gates.device), cell on \(cell.device)")
    let b = cell.shape[0], h = cell.shape[1]
    let g = noGrad { gates.contiguous() }, c = noGrad { cell.contiguous() }
    let out = Tensor(uninitializedShape: [b, 2 * h], dtype: gates.dtype, device: gates.device)
    let activations = Tensor(uninitializedShape: [b, 5 * h], dtype: gates.dtype, device: gates.device)
    if b > 0 && h > 0 { gates.device.backend.lstmCell(gates: g, bias: nil, cell: c, into: out, activations: activations) }
    if shouldRecord(gates, cell) {
        record(out, .lstmCell, inputs: [gates, cell], saved: [gates, cell, activations])
    }
    return (out.narrow(dim: 1, start: 0, length: h), out.narrow(dim: 1, start: h, length: h))
}
