// Reductions on the CPU: sum, prod, max, min over any set of dims, and argmax/argmin.
import CEmberRuntime

/// `o[i*so] = combine(o[i*so], x[i*sx])` for n elements; with `so == 0` the run folds into o[0].
typealias ReduceRun = UnaryRun

/// A reduction loop for a float type; sums use SIMD accumulators when folding a contiguous run.
func floatReduceRun<T: FloatElement & SIMDScalar>(_ op: ReduceOp, _: T.Type) -> ReduceRun {
    switch op {
    case .sum:
        return { x, sx, o, so, n in
            let x = x.assumingMemoryBound(to: T.self), o = o.assumingMemoryBound(to: T.self)
            if so == 0 {
                var total: T = 0
                if sx == 1 && T.self == Float.self {
                    total = T(ember_sum_f32(UnsafeRawPointer(x).assumingMemoryBound(to: Float.self), n))
                } else if sx == 1 {
                    var acc0 = SIMD8<T>(), acc1 = SIMD8<T>()
                    var i = 0
                    let raw = UnsafeRawPointer(x)
                    while i + 16 <= n {
                        acc0 += raw.loadUnaligned(fromByteOffset: i * MemoryLayout<T>.stride, as: SIMD8<T>.self)
                        acc1 += raw.loadUnaligned(fromByteOffset: (i + 8) * MemoryLayout<T>.stride, as: SIMD8<T>.self)
                        i += 16
                    }
                    total = (acc0 + acc1).sum()
                    while i < n { total += x[i]; i += 1 }
                } else {
                    for i in 0..<n { total += x[i &* sx] }
                }
                o[0] += total
            } else if sx == 1 && so == 1 {
                for i in 0..<n { o[i] += x[i] }
            } else {
                for i in 0..<n { o[i &* so] += x[i &* sx] }
            }
        }
    case .prod: return reduceRun { (a: T, b: T) in a * b }
    case .max: return reduceRun { (a: T, b: T) in (b > a || b.isNaN) ? b : a }
    case .min: return reduceRun { (a: T, b: T) in (b < a || b.isNaN) ? b : a }
    case .argmax, .argmin: preconditionFailure("argmax/argmin use their own kernel")
    }
}

/// A reduction loop for an integer type.
func integerReduceRun<T: IntegerElement>(_ op: ReduceOp, _: T.Type) -> ReduceRun {
    switch op {
    case .sum: return reduceRun { (a: T, b: T) in a &+ b }
    case .prod: return reduceRun { (a: T, b: T) in a &* b }
    case .max: return reduceRun { (a: T, b: T) in Swift.max(a, b) }
    case .min: return reduceRun { (a: T, b: T) in Swift.min(a, b) }
    case .argmax, .argmin: preconditionFailure("argmax/argmin use their own kernel")
    }
}

/// Wraps a combining function into a reduction loop.
@inline(__always)
func reduceRun<T>(_ combine: @escaping (T, T) -> T) -> ReduceRun {
    return { x, sx, o, so, n in
        let x = x.assumingMemoryBound(to: T.self), o = o.assumingMemoryBound(to: T.self)
        if so == 0 {
            var acc = o[0]
            for i in 0..<n { acc = combine(acc, x[i &* sx]) }
            o[0] = acc
        } else {
            for i in 0..<n { o[i &* so] = combine(o[i &* so], x[i &* sx]) }
        }
    }
}

extension CPUBackend {
    func reduce(_ op: ReduceOp, _ x: Tensor, dims: [Int], into out: Tensor) {
        if op == .argmax || op == .argmin {
            precondition(dims.count == 1, "\(op): reduces exactly one dimension")
            argReduce(largest: op == .argmax, x, dim: dims[0], into: out)
            return
        }
        let dtype = x.dtype
        let identity: Double
        switch op {
        case .sum: identity = 0
        case .prod: identity = 1
        case .max:
            switch dtype {
            case .int64: identity = -9.3e18
            case .int32: identity = Double(Int32.min)
            case .uint8, .bool: identity = 0
            default: identity = -.infinity
            }
        default:
            switch dtype {
            case .int64: identity = 9.3e18
            case .int32: identity = Double(Int32.max)
            case .uint8: identity = 255
            case .bool: identity = 1
            default: identity = .infinity
            }
        }
        fill(out, with: identity)
        if x.count == 0 { return }
        let run: ReduceRun
        switch dtype {
        case .float32: run = floatReduceRun(op, Float.self)
        case .float64: run = floatReduceRun(op, Double.self)
        case .int64: run = integerReduceRun(op, Int64.self)
        case .int32: run = integerReduceRun(op, Int32.self)
        case .uint8, .bool: run = integerReduceRun(op, UInt8.self)
        case .float16, .bfloat16: preconditionFailure("\(op): CPU kernels compute \(dtype) through float32")
        }
        if out.count == 1 && x.isContiguous && x.count < Threading.minimumParallelElements {
            // Small full reduction: one run, no layout or partials.
            run(x.rawPointer, 1, out.rawPointer, 0, x.count)
            return
        }
        let isReduced = (0..<x.rank).map { dims.contains($0) }
        var outStrides = out.strides
        for d in dims { outStrides[d] = 0 }
        let itemSize = dtype.itemSize
        let xp = x.rawPointer, op0 = out.rawPointer

        // The dimension x steps through fastest decides the loop order.
        var fastest = -1
        for d in 0..<x.rank where x.shape[d] > 1 && (fastest < 0 || x.strides[d] < x.strides[fastest]) { fastest = d }
        if fastest >= 0 && !isReduced[fastest] && out.count > 1 {
            // Kept dim innermost: accumulate whole rows into the output (vectorisable), serially.
            let layout = RunLayout(shape: x.shape, strides: [x.strides, outStrides])
            let sx = layout.innerStride(0), so = layout.innerStride(1)
            layout.forEachRun(in: 0..<layout.count) { offsets, n in
                run(xp + offsets[0] * itemSize, sx, op0 + offsets[1] * itemSize, so, n)
            }
            return
        }
        // Reduced dims innermost: each output folds one block of `reducedCount` elements.
        let order = (0..<x.rank).filter { !isReduced[$0] } + (0..<x.rank).filter { isReduced[$0] }
        let layout = RunLayout(shape: order.map { x.shape[$0] },
                               strides: [order.map { x.strides[$0] }, order.map { outStrides[$0] }])
        let sx = layout.innerStride(0), so = layout.innerStride(1)
        let reducedCount = x.count / max(out.count, 1)
        if out.count == 1 {
            // One output: fold per-thread partials, then combine them.
            let partials = Tensor(uninitializedShape: [Threading.threadCount], dtype: dtype)
            fill(partials, with: identity)
            let chunks = parallelChunksIndexed(layout.count) { chunk, range in
                layout.forEachRun(in: range) { offsets, n in
                    run(xp + offsets[0] * itemSize, sx, partials.rawPointer + chunk * itemSize, 0, n)
                }
            }
            run(partials.rawPointer, 1, op0, 0, chunks)
            return
        }
        parallelChunks(out.count, minimum: max(1, Threading.minimumParallelElements / reducedCount)) { outputs in
            layout.forEachRun(in: (outputs.lowerBound * reducedCount)..<(outputs.upperBound * reducedCount)) { offsets, n in
                run(xp + offsets[0] * itemSize, sx, op0 + offsets[1] * itemSize, so, n)
            }
        }
    }

    /// Index of the largest (or smallest) element along `dim`; the first one wins ties,
    /// and NaN counts as the largest, as in PyTorch.
    func argReduce(largest: Bool, _ x: Tensor, dim: Int, into out: Tensor) {
        func typed<T: TensorScalar & Comparable>(_: T.Type, isNaN: @escaping (T) -> Bool) {
            var lineShape = x.shape
            let length = lineShape[dim]
            precondition(length > 0, "\(largest ? "argmax" : "argmin"): cannot reduce an empty dimension")
            lineShape[dim] = 1
            let layout = RunLayout(shape: lineShape, strides: [x.strides, out.strides])
            let step = x.strides[dim]
            let sx = layout.innerStride(0), so = layout.innerStride(1)
            let xp = x.pointer(T.self), op = out.pointer(Int64.self)
            layout.forEachRun(in: 0..<layout.count) { offsets, n in
                for i in 0..<n {
                    let line = xp + offsets[0] + i * sx
                    var best = line[0], bestIndex = 0
                    if !isNaN(best) {
                        for j in 1..<max(length, 1) where j < length {
                            let v = line[j * step]
                            if isNaN(v) { best = v; bestIndex = j; break }
                            if largest ? v > best : v < best { best = v; bestIndex = j }
                        }
                    }
                    op[offsets[1] + i * so] = Int64(bestIndex)
                }
            }
        }
        switch x.dtype {
        case .float32: typed(Float.self) { $0.isNaN }
        case .float64: typed(Double.self) { $0.isNaN }
        case .int64: typed(Int64.self) { _ in false }
        case .int32: typed(Int32.self) { _ in false }
        case .uint8, .bool: typed(UInt8.self) { _ in false }
        case .float16, .bfloat16: preconditionFailure("argmax: CPU kernels compute \(x.dtype) through float32")
        }
    }
}
