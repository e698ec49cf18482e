// Matrix products on the CPU: for float32, oneDNN's matmul primitive (products with a
// transposed operand, optionally adding a bias) or its sgemm (the rest); a Swift loop for
// other dtypes and for products too small to be worth a library call.
import CDNNL
import CEmberRuntime

extension CPUBackend {
    func matmul(_ a: MatrixBatch, _ b: MatrixBatch, into out: Tensor) {
        linear(a, b, bias: nil, into: out)
    }

    func linear(_ a: MatrixBatch, _ b: MatrixBatch, bias: Tensor?, into out: Tensor) {
        let m = a.rows, n = b.columns, k = a.columns
        if out.count == 0 { return }
        if k == 0 {
            fill(out, with: 0)
            if let bias { binary(.add, out, bias.broadcastView(to: out.shape), into: out) }
            return
        }
        var biasPending = bias
        defer { if let bias = biasPending { binary(.add, out, bias.broadcastView(to: out.shape), into: out) } }
        switch a.tensor.dtype {
        case .float32:
            if m * n * k <= 4096 {
                loopMatmul(a, b, out, Float.self)
            } else if sgemmBatched(a, b, out, bias: bias) {
                biasPending = nil
            }
        case .float64: loopMatmul(a, b, out, Double.self)
        case .int64: loopMatmul(a, b, out, Int64.self)
        case .int32: loopMatmul(a, b, out, Int32.self)
        case .uint8: loopMatmul(a, b, out, UInt8.self)
        default: preconditionFailure("matmul: not defined for \(a.tensor.dtype) tensors")
        }
    }

    /// How one matrix operand is passed to a BLAS-style gemm: transposed or not, and its
    /// leading dimension. Nil when the layout needs a copy first.
    private func gemmLayout(_ x: MatrixBatch) -> (transposed: Bool, leading: Int)? {
        let (rows, columns) = (x.rows, x.columns)
        if (x.columnStride == 1 || columns == 1) && (rows == 1 || x.rowStride >= columns) {
            return (false, rows == 1 ? max(columns, 1) : x.rowStride)
        }
        if (x.rowStride == 1 || rows == 1) && (columns == 1 || x.columnStride >= rows) {
            return (true, columns == 1 ? max(rows, 1) : x.columnStride)
        }
        return nil
    }

    /// A contiguous copy of a matrix batch.
    private func packed(_ x: MatrixBatch) -> MatrixBatch {
        let view = Tensor(storage: x.tensor.storage, shape: [x.count, x.rows, x.columns],
                          strides: [x.batchStride, x.rowStride, x.columnStride], offset: x.tensor.offset, dtype: x.tensor.dtype)
        let copy = Tensor(uninitializedShape: view.shape, dtype: view.dtype)
        self.copy(view, into: copy)
        return MatrixBatch(tensor: copy, count: x.count, batchStride: x.rows * x.columns,
                           rows: x.rows, rowStride: x.columns, columns: x.columns, columnStride: 1)
    }

    /// Float32 products through oneDNN. Returns whether `bias` was added too.
    private func sgemmBatched(_ a: MatrixBatch, _ b: MatrixBatch, _ out: Tensor, bias: Tensor?) -> Bool {
        let m = a.rows, n = b.columns, k = a.columns
        var a = a, b = b
        var layoutA = gemmLayout(a)
        if layoutA == nil {
            a = packed(a)
            layoutA = gemmLayout(a)
        }
        var layoutB = gemmLayout(b)
        if layoutB == nil {
            b = packed(b)
            layoutB = gemmLayout(b)
        }
        let pa = a.tensor.pointer(Float.self), pb = b.tensor.pointer(Float.self), pc = out.pointer(Float.self)
        let (transA, transB) = (layoutA!.transposed, layoutB!.transposed)
        let (leadA, leadB) = (layoutA!.leading, layoutB!.leading)
        let (strideA, strideB) = (a.batchStride, b.batchStride)
        // A transposed operand: oneDNN's matmul primitive (measured up to 1.8× faster than
        // sgemm for [32 × 256]·[1024 × 256]ᵗ and 1.2× for [640 × 1536]·[384 × 1536]ᵗ, on a par
        // for plain layouts, where sgemm stays), adding the bias as it goes.
        let usePrimitive = (transA || transB) && a.count * m * n * k > 1 << 18
            && !(a.count >= 2 * Threading.threadCount && m * n * k <= 1 << 20)
        if usePrimitive {
            let fusedBias = bias.flatMap { $0.count == n && ($0.rank == 1 ? $0.strides[0] == 1 : $0.isContiguous) ? $0 : nil }
            let problem = MatmulProblem(m: m, n: n, k: k,
                                        aRowStride: transA ? 1 : leadA, aColumnStride: transA ? leadA : 1,
                                        bRowStride: transB ? 1 : leadB, bColumnStride: transB ? leadB : 1,
                                        hasBias: fusedBias != nil, threads: DNNLMatmuls.currentThreads)
            let biasPointer = fusedBias.map { UnsafeRawPointer($0.pointer(Float.self)) }
            var ran = true
            for index in 0..<a.count where ran {
                ran = DNNLMatmuls.shared.run(problem, a: pa + index * strideA, b: pb + index * strideB,
                                             bias: biasPointer, c: pc + index * m * n)
            }
            if ran { return fusedBias != nil }
        }
        func gemm(_ index: Int) {
            let status = dnnl_sgemm(CChar(UInt8(ascii: transA ? "T" : "N")), CChar(UInt8(ascii: transB ? "T" : "N")),
                                    Int64(m), Int64(n), Int64(k), 1,
                                    pa + index * strideA, Int64(leadA), pb + index * strideB, Int64(leadB),
                                    0, pc + index * m * n, Int64(n))
            precondition(status == dnnl_success, "matmul: oneDNN sgemm failed with status \(status.rawValue)")
        }
        // Many small products (attention heads): one parallel region over the batch, each
        // sgemm single-threaded inside it, instead of one threaded region per product.
        if a.count >= 2 * Threading.threadCount && m * n * k <= 1 << 20 {
            parallelChunks(a.count, minimum: 2) { range in for index in range { gemm(index) } }
        } else if a.count * m * n * k <= 1 << 18, ember_omp_max_threads() > 1 {
            // Small products (a decoding step, one token): starting and joining a thread team
            // costs more than the product, so oneDNN runs them on this thread alone.
            let threads = ember_omp_max_threads()
            ember_omp_set_max_threads(1)
            for index in 0..<a.count { gemm(index) }
            ember_omp_set_max_threads(threads)
        } else {
            for index in 0..<a.count { gemm(index) }
        }
        return false
    }

    /// `out[i] = a[i] · b[i]` with an i-k-j loop whose inner loop runs along rows of `b`
    /// and `out` (vectorisable when they are contiguous). Rows are split across cores.
    private func loopMatmul<T: TensorScalar & Numeric>(_ a: MatrixBatch, _ b: MatrixBatch, _ out: Tensor, _: T.Type) {
        let batch = a.count, m = a.rows, n = b.columns, k = a.columns
        let pa = a.tensor.pointer(T.self), pb = b.tensor.pointer(T.self), pc = out.pointer(T.self)
        let (sab, sam, sak) = (a.batchStride, a.rowStride, a.columnStride)
        let (sbb, sbk, sbn) = (b.batchStride, b.rowStride, b.columnStride)
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
