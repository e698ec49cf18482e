// Matrix products on the CPU: oneDNN's sgemm for float32, a Swift loop for other dtypes
// and for products too small to be worth a library call.
import CDNNL

extension CPUBackend {
    func matmul(_ a: Tensor, _ b: Tensor, into out: Tensor) {
        let batch = out.shape[0], m = out.shape[1], n = out.shape[2], k = a.shape[2]
        if out.count == 0 { return }
        if k == 0 { fill(out, with: 0); return }
        switch a.dtype {
        case .float32:
            if m * n * k <= 4096 {
                loopMatmul(a, b, out, Float.self)
            } else {
                sgemmBatched(a, b, out, batch: batch, m: m, n: n, k: k)
            }
        case .float64: loopMatmul(a, b, out, Double.self)
        case .int64: loopMatmul(a, b, out, Int64.self)
        case .int32: loopMatmul(a, b, out, Int32.self)
        case .uint8: loopMatmul(a, b, out, UInt8.self)
        default: preconditionFailure("matmul: not defined for \(a.dtype) tensors")
        }
    }

    /// How one matrix operand is passed to a BLAS-style gemm: transposed or not, and its
    /// leading dimension. Nil when the layout needs a copy first.
    private func gemmLayout(rows: Int, columns: Int, rowStride: Int, columnStride: Int) -> (transposed: Bool, leading: Int)? {
        if (columnStride == 1 || columns == 1) && (rows == 1 || rowStride >= columns) {
            return (false, rows == 1 ? max(columns, 1) : rowStride)
        }
        if (rowStride == 1 || rows == 1) && (columns == 1 || columnStride >= rows) {
            return (true, columns == 1 ? max(rows, 1) : columnStride)
        }
        return nil
    }

    private func sgemmBatched(_ a: Tensor, _ b: Tensor, _ out: Tensor, batch: Int, m: Int, n: Int, k: Int) {
        var a = a, b = b
        var layoutA = gemmLayout(rows: m, columns: k, rowStride: a.strides[1], columnStride: a.strides[2])
        if layoutA == nil {
            a = copyContiguous(a)
            layoutA = (false, k)
        }
        var layoutB = gemmLayout(rows: k, columns: n, rowStride: b.strides[1], columnStride: b.strides[2])
        if layoutB == nil {
            b = copyContiguous(b)
            layoutB = (false, n)
        }
        let pa = a.pointer(Float.self), pb = b.pointer(Float.self), pc = out.pointer(Float.self)
        for index in 0..<batch {
            let status = dnnl_sgemm(CChar(UInt8(ascii: layoutA!.transposed ? "T" : "N")),
                                    CChar(UInt8(ascii: layoutB!.transposed ? "T" : "N")),
                                    Int64(m), Int64(n), Int64(k), 1,
                                    pa + index * a.strides[0], Int64(layoutA!.leading),
                                    pb + index * b.strides[0], Int64(layoutB!.leading),
                                    0, pc + index * m * n, Int64(n))
            precondition(status == dnnl_success, "matmul: oneDNN sgemm failed with status \(status.rawValue)")
        }
    }

    private func copyContiguous(_ x: Tensor) -> Tensor {
        let copy = Tensor(uninitializedShape: x.shape, dtype: x.dtype)
        self.copy(x, into: copy)
        return copy
    }

    /// `out[b] = a[b] · b[b]` with an i-k-j loop whose inner loop runs along rows of `b`
    /// and `out` (vectorisable when they are contiguous). Rows are split across cores.
    private func loopMatmul<T: TensorScalar & Numeric>(_ a: Tensor, _ b: Tensor, _ out: Tensor, _: T.Type) {
        let batch = out.shape[0], m = out.shape[1], n = out.shape[2], k = a.shape[2]
        let pa = a.pointer(T.self), pb = b.pointer(T.self), pc = out.pointer(T.self)
        let (sab, sam, sak) = (a.strides[0], a.strides[1], a.strides[2])
        let (sbb, sbk, sbn) = (b.strides[0], b.strides[1], b.strides[2])
        parallelChunks(batch * m, minimum: max(1, 32768 / max(n * k, 1))) { rows in
            for row in rows {
                let bi = row / m, i = row % m
                let c = pc + bi * m * n + i * n
                for j in 0..<n { c[j] = 0 }
                let aRow = pa + bi * sab + i * sam
                let bBase = pb + bi * sbb
                for p in 0..<k {
                    let av = aRow[p * sak]
                    let bRow = bBase + p * sbk
                    if sbn == 1 {
                        for j in 0..<n { c[j] += av * bRow[j] }
                    } else {
                        for j in 0..<n { c[j] += av * bRow[j * sbn] }
                    }
                }
            }
        }
    }
}
