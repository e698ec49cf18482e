// The fused LSTM cell update and its gradient: float32 through the vectorised C kernels,
// float64 through a Swift loop.
import CEmberRuntime

extension CPUBackend {
    func lstmCell(gates: Tensor, cell: Tensor, into out: Tensor, activations: Tensor) {
        let rows = cell.shape[0], h = cell.shape[1]
        let minimum = max(1, Threading.minimumParallelElements / max(4 * h, 1))
        if gates.dtype == .float32 {
            let gp = gates.pointer(Float.self), cp = cell.pointer(Float.self)
            let op = out.pointer(Float.self), ap = activations.pointer(Float.self)
            parallelChunks(rows, minimum: minimum) { r in
                let b = r.lowerBound
                ember_lstm_cell_f32(gp + b * 4 * h, cp + b * h, op + b * 2 * h, ap + b * 5 * h, r.count, h)
            }
            return
        }
        precondition(gates.dtype == .float64, "lstmCell: float32 or float64 expected, got \(gates.dtype)")
        let gp = gates.pointer(Double.self), cp = cell.pointer(Double.self)
        let op = out.pointer(Double.self), ap = activations.pointer(Double.self)
        func sigmoid(_ v: Double) -> Double { 1 / (1 + Double.exp(-v)) }
        parallelChunks(rows, minimum: minimum) { r in
            for b in r {
                let g = gp + b * 4 * h, c = cp + b * h, o = op + b * 2 * h, a = ap + b * 5 * h
                for j in 0..<h {
                    let i = sigmoid(g[j]), f = sigmoid(g[h + j]), gg = Double.tanh(g[2 * h + j]), og = sigmoid(g[3 * h + j])
                    let c2 = f * c[j] + i * gg, t = Double.tanh(c2)
                    o[j] = og * t
                    o[h + j] = c2
                    a[j] = i; a[h + j] = f; a[2 * h + j] = gg; a[3 * h + j] = og; a[4 * h + j] = t
                }
            }
        }
    }

    func lstmCellBackward(_ grad: Tensor, activations: Tensor, cell: Tensor, gatesGradient: Tensor, cellGradient: Tensor) {
        let rows = cell.shape[0], h = cell.shape[1]
        let minimum = max(1, Threading.minimumParallelElements / max(4 * h, 1))
        if grad.dtype == .float32 {
            let gp = grad.pointer(Float.self), ap = activations.pointer(Float.self), cp = cell.pointer(Float.self)
            let dg = gatesGradient.pointer(Float.self), dc = cellGradient.pointer(Float.self)
            parallelChunks(rows, minimum: minimum) { r in
                let b = r.lowerBound
                ember_lstm_cell_backward_f32(gp + b * 2 * h, ap + b * 5 * h, cp + b * h, dg + b * 4 * h, dc + b * h, r.count, h)
            }
            return
        }
        precondition(grad.dtype == .float64, "lstmCellBackward: float32 or float64 expected, got \(grad.dtype)")
        let gp = grad.pointer(Double.self), ap = activations.pointer(Double.self), cp = cell.pointer(Double.self)
        let dgp = gatesGradient.pointer(Double.self), dcp = cellGradient.pointer(Double.self)
        parallelChunks(rows, minimum: minimum) { r in
            for b in r {
                let g = gp + b * 2 * h, a = ap + b * 5 * h, c = cp + b * h, dg = dgp + b * 4 * h, dc = dcp + b * h
                for j in 0..<h {
                    let i = a[j], f = a[h + j], gg = a[2 * h + j], o = a[3 * h + j], t = a[4 * h + j]
                    let dh = g[j]
                    let dcell = g[h + j] + dh * o * (1 - t * t)
                    dg[j] = dcell * gg * i * (1 - i)
                    dg[h + j] = dcell * c[j] * f * (1 - f)
                    dg[2 * h + j] = dcell * i * (1 - gg * gg)
                    dg[3 * h + j] = dh * t * o * (1 - o)
                    dc[j] = dcell * f
                }
            }
        }
    }
}
