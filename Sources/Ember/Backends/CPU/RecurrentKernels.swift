// The fused LSTM cell update and its gradient: float32 through the vectorised C kernels,
// float64 through a Swift loop.
import CEmberRuntime

extension CPUBackend {
    func lstmCell(gates: Tensor, bias: Tensor?, cell: Tensor, into out: Tensor, activations: Tensor) {
        let rows = cell.shape[0], h = cell.shape[1]
        requireRows("lstmCell", gates, cell, out, activations)
        let bias = bias?.contiguous()
        let minimum = max(1, Threading.minimumParallelElements / max(4 * h, 1))
        if gates.dtype == .float32 {
            let gp = gates.pointer(Float.self), bp = bias?.pointer(Float.self)
            let cp = cell.pointer(Float.self), op = out.pointer(Float.self), ap = activations.pointer(Float.self)
            parallelChunks(rows, minimum: minimum) { r in
                let b = r.lowerBound
                var args = ember_lstm_cell_args(
                    rows: r.count, hidden: h,
                    gates: gp + b * gates.strides[0], gates_stride: gates.strides[0], bias: bp,
                    c: cp + b * cell.strides[0], c_stride: cell.strides[0],
                    out: op + b * out.strides[0], out_stride: out.strides[0],
                    saved: ap + b * activations.strides[0], saved_stride: activations.strides[0])
                ember_lstm_cell_f32(&args)
            }
            return
        }
        precondition(gates.dtype == .float64, "lstmCell: float32 or float64 expected, got \(gates.dtype)")
        let gp = gates.pointer(Double.self), bp = bias?.pointer(Double.self)
        let cp = cell.pointer(Double.self), op = out.pointer(Double.self), ap = activations.pointer(Double.self)
        func sigmoid(_ v: Double) -> Double { 1 / (1 + Double.exp(-v)) }
        parallelChunks(rows, minimum: minimum) { r in
            for b in r {
                let g = gp + b * gates.strides[0]
                let c = cp + b * cell.strides[0], o = op + b * out.strides[0], a = ap + b * activations.strides[0]
                func pre(_ k: Int) -> Double { g[k] + (bp?[k] ?? 0) }
                for j in 0..<h {
                    let i = sigmoid(pre(j)), f = sigmoid(pre(h + j)), gg = Double.tanh(pre(2 * h + j)), og = sigmoid(pre(3 * h + j))
                    let c2 = f * c[j] + i * gg, t = Double.tanh(c2)
                    o[j] = og * t
                    o[h + j] = c2
                    a[j] = i; a[h + j] = f; a[2 * h + j] = gg; a[3 * h + j] = og; a[4 * h + j] = t
                }
            }
        }
    }

    func lstmCellBackward(_ grad: Tensor, carried: (hidden: Tensor, cell: Tensor)?, activations: Tensor, cell: Tensor,
                          gatesGradient: Tensor, cellGradient: Tensor, biasGradient: Tensor?) {
        let rows = cell.shape[0], h = cell.shape[1]
        precondition(biasGradient.map { $0.isContiguous && $0.count == 4 * h } ?? true,
                     "lstmCellBackward: biasGradient must be contiguous with \(4 * h) elements")
        // Rows are split across threads only when there is no shared bias sum to add into.
        let minimum = biasGradient == nil ? max(1, Threading.minimumParallelElements / max(4 * h, 1)) : Int.max
        requireRows("lstmCellBackward", grad, activations, cell, gatesGradient, cellGradient, carried?.hidden, carried?.cell)
        precondition(carried.map { $0.hidden.strides[0] == $0.cell.strides[0] } ?? true,
                     "lstmCellBackward: the carried gradients must share one row stride")
        let carriedStride = carried?.hidden.strides[0] ?? 0
        if grad.dtype == .float32 {
            let gp = grad.pointer(Float.self), ap = activations.pointer(Float.self), cp = cell.pointer(Float.self)
            let hp = carried?.hidden.pointer(Float.self), ccp = carried?.cell.pointer(Float.self)
            let dg = gatesGradient.pointer(Float.self), dc = cellGradient.pointer(Float.self)
            let bg = biasGradient?.pointer(Float.self)
            parallelChunks(rows, minimum: minimum) { r in
                let b = r.lowerBound
                var args = ember_lstm_cell_backward_args(
                    rows: r.count, hidden: h,
                    grad: gp + b * grad.strides[0], grad_stride: grad.strides[0],
                    carried_h: hp.map { $0 + b * carriedStride }, carried_c: ccp.map { $0 + b * carriedStride },
                    carried_stride: carriedStride,
                    saved: ap + b * activations.strides[0], saved_stride: activations.strides[0],
                    c: cp + b * cell.strides[0], c_stride: cell.strides[0],
                    dgates: dg + b * gatesGradient.strides[0], dgates_stride: gatesGradient.strides[0],
                    dc: dc + b * cellGradient.strides[0], dc_stride: cellGradient.strides[0], bias_grad: bg)
                ember_lstm_cell_backward_f32(&args)
            }
            return
        }
        precondition(grad.dtype == .float64, "lstmCellBackward: float32 or float64 expected, got \(grad.dtype)")
        let gp = grad.pointer(Double.self), ap = activations.pointer(Double.self), cp = cell.pointer(Double.self)
        let hp = carried?.hidden.pointer(Double.self), ccp = carried?.cell.pointer(Double.self)
        let dgp = gatesGradient.pointer(Double.self), dcp = cellGradient.pointer(Double.self)
        let bgp = biasGradient?.pointer(Double.self)
        parallelChunks(rows, minimum: minimum) { r in
            for b in r {
                let g = gp + b * grad.strides[0], a = ap + b * activations.strides[0], c = cp + b * cell.strides[0]
                let dg = dgp + b * gatesGradient.strides[0], dc = dcp + b * cellGradient.strides[0]
                let ch = hp.map { $0 + b * carriedStride }, cc = ccp.map { $0 + b * carriedStride }
                for j in 0..<h {
                    let i = a[j], f = a[h + j], gg = a[2 * h + j], o = a[3 * h + j], t = a[4 * h + j]
                    let dh = g[j] + (ch?[j] ?? 0)
                    let dcell = g[h + j] + (cc?[j] ?? 0) + dh * o * (1 - t * t)
                    dg[j] = dcell * gg * i * (1 - i)
                    dg[h + j] = dcell * c[j] * f * (1 - f)
                    dg[2 * h + j] = dcell * i * (1 - gg * gg)
                    dg[3 * h + j] = dh * t * o * (1 - o)
                    dc[j] = dcell * f
                    if let bgp { for k in 0..<4 { bgp[k * h + j] += dg[k * h + j] } }
                }
            }
        }
    }

    /// Stops unless every given matrix is 2-D with contiguous rows (any row stride).
    private func requireRows(_ caller: String, _ matrices: Tensor?...) {
        for case let matrix? in matrices {
            precondition(matrix.rank == 2 && (matrix.strides[1] == 1 || matrix.shape[1] <= 1),
                         "\(caller): operands must be matrices with contiguous rows, got shape \(matrix.shape) strides \(matrix.strides)")
        }
    }
}
