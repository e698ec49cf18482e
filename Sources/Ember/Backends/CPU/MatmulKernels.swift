// Matrix products on the CPU: for float32, oneDNN's matmul primitive (products with a
// transposed operand, or with a bias or activation to apply as the output is written) or
// its sgemm (the rest); a Swift loop for other dtypes and for products too small to be
// worth a library call.
import CDNNL
import CEmberRuntime

extension CPUBackend {
    func matmul(_ a: MatrixBatch, _ b: MatrixBatch, into out: Tensor) {
        linear(a, b, bias: nil, activation: nil, into: out)
    }

    func linear(_ a: MatrixBatch, _ b: MatrixBatch, bias: Tensor?, activation: UnaryOp?, into out: Tensor) {
        let m = a.rows, n = b.columns, k = a.columns
        if out.count == 0 { return }
        // What the product itself did not apply is applied afterwards, in passes of its own.
        var epilogue = Epilogue(bias: bias, activation: activation)
        defer {
            if let bias = epilogue.bias { binary(.add, out, bias.broadcastView(to: out.shape), into: out) }
            if let activation = epilogue.activation { unary(activation, out, into: out) }
        }
        if k == 0 { fill(out, with: 0); return }
        switch a.tensor.dtype {
        case .float32:
            if m * n * k <= 4096 {
                loopMatmul(a, b, out, Float.self)
            } else {
                epilogue = floatProduct(a, b, out, epilogue: epilogue)
            }
        case .float64: loopMatmul(a, b, out, Double.self)
        case .int64: loopMatmul(a, b, out, Int64.self)
        case .int32: loopMatmul(a, b, out, Int32.self)
        case .uint8: loopMatmul(a, b, out, UInt8.self)
        default: preconditionFailure("matmul: not defined for \(a.tensor.dtype) tensors")
        }
    }

    func matmulAdd(_ a: MatrixBatch, _ b: MatrixBatch, into out: Tensor) {
        let m = a.rows, n = b.columns, k = a.columns
        guard a.tensor.dtype == .float32, a.count == 1, b.count == 1, k > 0, m * n > 0,
              let layoutA = gemmLayout(a), let layoutB = gemmLayout(b) else {
            addProductThroughTemporary(a, b, into: out)
            return
        }
        onThisThreadIfSmall(multiplyAdds: m * n * k) {
            sgemm(layoutA.transposed, layoutB.transposed, m, n, k, a.tensor.pointer(Float.self), layoutA.leading,
                  b.tensor.pointer(Float.self), layoutB.leading, out.pointer(Float.self), accumulate: true)
        }
    }

    /// Runs `body` with oneDNN limited to this thread when the product has at most 2¹⁸
    /// multiply-adds (a decoding step, one token; an LSTM step): starting and joining a thread
    /// team costs more than such a product.
    private func onThisThreadIfSmall<R>(multiplyAdds: Int, _ body: () -> R) -> R {
        let threads = ember_omp_max_threads()
        let oneThread = multiplyAdds <= 1 << 18 && threads > 1
        if oneThread { ember_omp_set_max_threads(1) }
        defer { if oneThread { ember_omp_set_max_threads(threads) } }
        return body()
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

    /// Float32 products through oneDNN. Returns the part of `epilogue` still to apply.
    private func floatProduct(_ a: MatrixBatch, _ b: MatrixBatch, _ out: Tensor, epilogue: Epilogue) -> Epilogue {
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

        // Many small products (attention heads): one parallel region over the batch, each
        // sgemm single-threaded inside it, instead of one threaded region per product.
        if a.count >= 2 * Threading.threadCount && m * n * k <= 1 << 20 {
            parallelChunks(a.count, minimum: 2) { range in
                for index in range {
                    sgemm(transA, transB, m, n, k, pa + index * strideA, leadA, pb + index * strideB, leadB, pc + index * m * n)
                }
            }
            return epilogue
        }
        return onThisThreadIfSmall(multiplyAdds: a.count * m * n * k) { () -> Epilogue in
            // oneDNN's matmul primitive for a transposed operand (measured up to 1.8× faster than
            // sgemm for [32 × 256]·[1024 × 256]ᵀ, 1.2× for [640 × 1536]·[384 × 1536]ᵀ; on a par
            // with plain layouts) and whenever it can apply a bias or activation as it writes.
            let fused = epilogue.fusable(columns: n)
            if transA || transB || fused.bias != nil || fused.activation != nil {
                let problem = MatmulProblem(m: m, n: n, k: k,
                                            aRowStride: transA ? 1 : leadA, aColumnStride: transA ? leadA : 1,
                                            bRowStride: transB ? 1 : leadB, bColumnStride: transB ? leadB : 1,
                                            hasBias: fused.bias != nil, activation: fused.activation,
                                            threads: DNNLMatmuls.currentThreads)
                let biasPointer = fused.bias.map { UnsafeRawPointer($0.pointer(Float.self)) }
                var ran = true
                for index in 0..<a.count where ran {
                    ran = DNNLMatmuls.shared.run(problem, a: pa + index * strideA, b: pb + index * strideB,
                                                 bias: biasPointer, c: pc + index * m * n)
                }
                if ran { return epilogue.removing(fused) }
            }
            for index in 0..<a.count {
                sgemm(transA, transB, m, n, k, pa + index * strideA, leadA, pb + index * strideB, leadB, pc + index * m * n)
            }
            return epilogue
        }
    }

    /// `c = op(a)·op(b)` (or `c += …` when `accumulate`) with oneDNN's sgemm (`c` contiguous,
    /// `n` columns).
    private func sgemm(_ transA: Bool, _ transB: Bool, _ m: Int, _ n: Int, _ k: Int,
                       _ a: UnsafePointer<Float>, _ leadA: Int, _ b: UnsafePointer<Float>, _ leadB: Int,
                       _ c: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
        let status = dnnl_sgemm(CChar(UInt8(ascii: transA ? "T" : "N")), CChar(UInt8(ascii: transB ? "T" : "N")),
                                Int64(m), Int64(n), Int64(k), 1, a, Int64(leadA), b, Int64(leadB), accumulate ? 1 : 0,
                                c, Int64(n))
        precondition(status == dnnl_success, "matmul: oneDNN sgemm failed with status \(status.rawValue)")
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

/// What a linear layer applies after its product: a bias row and an activation.
struct Epilogue {
    var bias: Tensor?
    var activation: UnaryOp?

    /// The part oneDNN's matmul primitive can apply itself: a float32 bias of `columns`
    /// contiguous elements, and relu or one of the GELUs.
    func fusable(columns: Int) -> Epilogue {
        let fusedBias = bias.flatMap {
            $0.dtype == .float32 && $0.count == columns && ($0.rank == 1 ? $0.strides[0] == 1 : $0.isContiguous) ? $0 : nil
        }
        let fusedActivation = activation.flatMap { op -> UnaryOp? in
            switch op {
            case .relu, .gelu, .geluTanh: return op
            default: return nil
            }
        }
        return Epilogue(bias: fusedBias, activation: fusedActivation)
    }

    /// This epilogue without the parts `done` applied.
    func removing(_ done: Epilogue) -> Epilogue {
        Epilogue(bias: done.bias == nil ? bias : nil, activation: done.activation == nil ? activation : nil)
    }
}
