// Fused row standardisation (the core of layer normalisation) and its gradient: float32
// through the vectorised C kernels, float64 through a Swift loop.
import CEmberRuntime

extension CPUBackend {
    func normalizeRows(_ x: Tensor, columns: Int, eps: Double, into out: Tensor, mean: Tensor, rstd: Tensor) {
        let rows = columns == 0 ? 0 : x.count / columns
        let minimum = max(1, Threading.minimumParallelElements / max(columns, 1))
        if x.dtype == .float32 {
            let xp = x.pointer(Float.self), op = out.pointer(Float.self)
            let mp = mean.pointer(Float.self), rp = rstd.pointer(Float.self)
            parallelChunks(rows, minimum: minimum) { r in
                let first = r.lowerBound
                ember_normalize_rows_f32(xp + first * columns, op + first * columns, mp + first, rp + first,
                                         r.count, columns, Float(eps))
            }
            return
        }
        precondition(x.dtype == .float64, "normalizeRows: float32 or float64 expected, got \(x.dtype)")
        let xp = x.pointer(Double.self), op = out.pointer(Double.self)
        let mp = mean.pointer(Double.self), rp = rstd.pointer(Double.self)
        parallelChunks(rows, minimum: minimum) { r in
            for row in r {
                let source = xp + row * columns, target = op + row * columns
                var total = 0.0
                for j in 0..<columns { total += source[j] }
                let mu = total / Double(columns)
                var squares = 0.0
                for j in 0..<columns { squares += (source[j] - mu) * (source[j] - mu) }
                let scale = 1 / (squares / Double(columns) + eps).squareRoot()
                for j in 0..<columns { target[j] = (source[j] - mu) * scale }
                mp[row] = mu
                rp[row] = scale
            }
        }
    }

    func normalizeRowsBackward(_ x: Tensor, _ g: Tensor, mean: Tensor, rstd: Tensor, columns: Int, into out: Tensor) {
        let rows = columns == 0 ? 0 : x.count / columns
        let minimum = max(1, Threading.minimumParallelElements / max(columns, 1))
        if x.dtype == .float32 {
            let xp = x.pointer(Float.self), gp = g.pointer(Float.self), op = out.pointer(Float.self)
            let mp = mean.pointer(Float.self), rp = rstd.pointer(Float.self)
            parallelChunks(rows, minimum: minimum) { r in
                let first = r.lowerBound
                ember_normalize_rows_backward_f32(xp + first * columns, gp + first * columns, mp + first, rp + first,
                                                  op + first * columns, r.count, columns)
            }
            return
        }
        precondition(x.dtype == .float64, "normalizeRowsBackward: float32 or float64 expected, got \(x.dtype)")
        let xp = x.pointer(Double.self), gp = g.pointer(Double.self), op = out.pointer(Double.self)
        let mp = mean.pointer(Double.self), rp = rstd.pointer(Double.self)
        parallelChunks(rows, minimum: minimum) { r in
            for row in r {
                let source = xp + row * columns, grad = gp + row * columns, target = op + row * columns
                let mu = mp[row], scale = rp[row]
                var sumG = 0.0, sumGX = 0.0
                for j in 0..<columns {
                    sumG += grad[j]
                    sumGX += grad[j] * (source[j] - mu) * scale
                }
                let meanG = sumG / Double(columns), meanGX = sumGX / Double(columns)
                for j in 0..<columns {
                    target[j] = scale * (grad[j] - meanG - (source[j] - mu) * scale * meanGX)
                }
            }
        }
    }
}
