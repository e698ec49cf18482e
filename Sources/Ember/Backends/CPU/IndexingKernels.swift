// Gather, scatter, running sums, sorting and softmax on the CPU.
import CEmberRuntime
import Foundation

extension CPUBackend {
    func gather(_ x: Tensor, dim: Int, index: Tensor, into out: Tensor) {
        if out.count == 0 { return }
        if gatherRows(x, dim: dim, index: index, into: out) { return }
        var sourceStrides = x.strides
        sourceStrides[dim] = 0
        let layout = RunLayout(shape: index.shape, strides: [index.strides, out.strides, sourceStrides])
        let si = layout.innerStride(0), so = layout.innerStride(1), sx = layout.innerStride(2)
        let size = x.shape[dim], step = x.strides[dim], itemSize = x.dtype.itemSize
        let ip = index.pointer(Int64.self), op = out.rawPointer, xp = x.rawPointer
        layout.forEachRun(in: 0..<layout.count) { offsets, n in
            for e in 0..<n {
                var position = Int(ip[offsets[0] + e * si])
                if position < 0 { position += size }
                precondition(position >= 0 && position < size,
                             "gather: index \(ip[offsets[0] + e * si]) out of range for dimension \(dim) of size \(size)")
                let target = op + (offsets[1] + e * so) * itemSize
                target.copyMemory(from: xp + (offsets[2] + e * sx + position * step) * itemSize, byteCount: itemSize)
            }
        }
    }

    /// The common case of `indexSelect(dim: 0)` (embedding lookups, packing rows): whole
    /// contiguous rows picked by a 1-D index broadcast along the other dims, one copy per
    /// row. False when the tensors are laid out otherwise.
    private func gatherRows(_ x: Tensor, dim: Int, index: Tensor, into out: Tensor) -> Bool {
        guard dim == 0, x.rank >= 1, out.isContiguous, Array(out.shape.dropFirst()) == Array(x.shape.dropFirst()),
              index.strides.dropFirst().allSatisfy({ $0 == 0 }) else { return false }
        let rowElements = x.shape.dropFirst().reduce(1, *)
        // Each row of x must be contiguous (rows may be any distance apart).
        var expected = 1
        for d in stride(from: x.rank - 1, through: 1, by: -1) where x.shape[d] > 1 {
            if x.strides[d] != expected { return false }
            expected *= x.shape[d]
        }
        let rows = index.shape[0], size = x.shape[0], itemSize = x.dtype.itemSize
        let rowBytes = rowElements * itemSize, sourceStep = x.strides[0] * itemSize, indexStride = index.strides[0]
        let ip = index.pointer(Int64.self), op = out.rawPointer, xp = x.rawPointer
        parallelChunks(rows, minimum: max(1, (1 << 18) / max(rowBytes, 1))) { range in
            for row in range {
                var position = Int(ip[row * indexStride])
                if position < 0 { position += size }
                precondition(position >= 0 && position < size,
                             "gather: index \(ip[row * indexStride]) out of range for dimension 0 of size \(size)")
                (op + row * rowBytes).copyMemory(from: xp + position * sourceStep, byteCount: rowBytes)
            }
        }
        return true
    }

    func scatter(_ source: Tensor, dim: Int, index: Tensor, into destination: Tensor, accumulate: Bool) {
        if index.count == 0 { return }
        var targetStrides = destination.strides
        targetStrides[dim] = 0
        let layout = RunLayout(shape: index.shape, strides: [index.strides, source.strides, targetStrides])
        let si = layout.innerStride(0), ss = layout.innerStride(1), sd = layout.innerStride(2)
        let size = destination.shape[dim], step = destination.strides[dim]
        func typed<T: TensorScalar>(_: T.Type, add: (T, T) -> T) {
            let ip = index.pointer(Int64.self), sp = source.pointer(T.self), dp = destination.pointer(T.self)
            layout.forEachRun(in: 0..<layout.count) { offsets, n in
                for e in 0..<n {
                    var position = Int(ip[offsets[0] + e * si])
                    if position < 0 { position += size }
                    precondition(position >= 0 && position < size,
                                 "scatter: index \(ip[offsets[0] + e * si]) out of range for dimension \(dim) of size \(size)")
                    let target = dp + offsets[2] + e * sd + position * step
                    let value = sp[offsets[1] + e * ss]
                    target.pointee = accumulate ? add(target.pointee, value) : value
                }
            }
        }
        switch destination.dtype {
        case .float32: typed(Float.self, add: +)
        case .float64: typed(Double.self, add: +)
        case .int64: typed(Int64.self, add: &+)
        case .int32: typed(Int32.self, add: &+)
        case .uint8: typed(UInt8.self, add: &+)
        case .bool: typed(Bool.self) { $0 || $1 }
        case .float16: typed(Float16.self) { Float16(Float($0) + Float($1)) }
        case .bfloat16: typed(BFloat16.self) { BFloat16($0.floatValue + $1.floatValue) }
        }
    }

    func cumulative(_ op: CumulativeOp, _ x: Tensor, dim: Int, into out: Tensor) {
        if out.count == 0 { return }
        var lineShape = x.shape
        let length = lineShape[dim]
        lineShape[dim] = 1
        let layout = RunLayout(shape: lineShape, strides: [x.strides, out.strides])
        let sx = layout.innerStride(0), so = layout.innerStride(1)
        let xStep = x.strides[dim], oStep = out.strides[dim]
        func typed<T: TensorScalar & Numeric>(_: T.Type) {
            let xp = x.pointer(T.self), outp = out.pointer(T.self)
            let isSum = op == .sum
            layout.forEachRun(in: 0..<layout.count) { offsets, n in
                for e in 0..<n {
                    let source = xp + offsets[0] + e * sx, target = outp + offsets[1] + e * so
                    var running: T = isSum ? 0 : 1
                    for j in 0..<length {
                        running = isSum ? running + source[j * xStep] : running * source[j * xStep]
                        target[j * oStep] = running
                    }
                }
            }
        }
        switch x.dtype {
        case .float32: typed(Float.self)
        case .float64: typed(Double.self)
        case .int64: typed(Int64.self)
        default: preconditionFailure("cumsum: CPU kernel takes float32, float64 or int64, got \(x.dtype)")
        }
    }

    func sort(_ x: Tensor, dim: Int, descending: Bool, values: Tensor, indices: Tensor) {
        if x.count == 0 { return }
        var lineShape = x.shape
        let length = lineShape[dim]
        lineShape[dim] = 1
        let layout = RunLayout(shape: lineShape, strides: [x.strides, values.strides, indices.strides])
        let sx = layout.innerStride(0), sv = layout.innerStride(1), si = layout.innerStride(2)
        let xStep = x.strides[dim], vStep = values.strides[dim], iStep = indices.strides[dim]
        func typed<T: TensorScalar & Comparable>(_: T.Type, isNaN: (T) -> Bool) {
            let xp = x.pointer(T.self), vp = values.pointer(T.self), ip = indices.pointer(Int64.self)
            var order = [Int](repeating: 0, count: length)
            layout.forEachRun(in: 0..<layout.count) { offsets, n in
                for e in 0..<n {
                    let line = xp + offsets[0] + e * sx
                    for j in 0..<length { order[j] = j }
                    // NaN sorts as the largest value; ties keep their original order (stable).
                    order.sort { p, q in
                        let a = line[p * xStep], b = line[q * xStep]
                        let an = isNaN(a), bn = isNaN(b)
                        if an || bn {
                            if an && bn { return p < q }
                            return descending ? an : bn
                        }
                        if a == b { return p < q }
                        return descending ? a > b : a < b
                    }
                    let valueLine = vp + offsets[1] + e * sv, indexLine = ip + offsets[2] + e * si
                    for j in 0..<length {
                        valueLine[j * vStep] = line[order[j] * xStep]
                        indexLine[j * iStep] = Int64(order[j])
                    }
                }
            }
        }
        switch x.dtype {
        case .float32: typed(Float.self) { $0.isNaN }
        case .float64: typed(Double.self) { $0.isNaN }
        case .int64: typed(Int64.self) { _ in false }
        case .int32: typed(Int32.self) { _ in false }
        case .uint8, .bool: typed(UInt8.self) { _ in false }
        default: preconditionFailure("sort: CPU kernels compute \(x.dtype) through float32")
        }
    }

    func softmax(_ x: Tensor, log: Bool, into out: Tensor) {
        softmaxRows(x, log: log, into: out, keptColumns: nil)
    }

    func causalSoftmax(_ x: Tensor, offset: Int, into out: Tensor) {
        let width = x.shape.last ?? 1, length = x.rank >= 2 ? x.shape[x.rank - 2] : 1
        softmaxRows(x, log: false, into: out) { row in min(width, max(0, row % length + offset + 1)) }
    }

    /// Softmax of each row of a contiguous tensor over its first `keptColumns(row)` entries
    /// (all when nil); the other entries become 0, or NaN throughout a row that keeps none.
    private func softmaxRows(_ x: Tensor, log: Bool, into out: Tensor, keptColumns: ((Int) -> Int)?) {
        let width = x.shape.last ?? 1
        let rows = width == 0 ? 0 : x.count / width
        let minimumRows = max(1, Threading.minimumParallelElements / max(width, 1))
        /// Entries past the kept ones: zeros, or NaN for a row that keeps nothing.
        func finish<T: FloatElement>(_ target: UnsafeMutablePointer<T>, kept: Int) {
            let value: T = kept == 0 ? .nan : 0
            for j in kept..<width { target[j] = value }
        }
        if x.dtype == .float32 {
            let xp = x.pointer(Float.self), op = out.pointer(Float.self)
            parallelChunks(rows, minimum: minimumRows) { range in
                guard let keptColumns else {
                    ember_softmax_rows_f32(xp + range.lowerBound * width, op + range.lowerBound * width,
                                           range.count, width, log ? 1 : 0)
                    return
                }
                for row in range {
                    let kept = keptColumns(row)
                    if kept > 0 { ember_softmax_rows_f32(xp + row * width, op + row * width, 1, kept, log ? 1 : 0) }
                    finish(op + row * width, kept: kept)
                }
            }
            return
        }
        func typed<T: FloatElement>(_: T.Type) {
            let xp = x.pointer(T.self), op = out.pointer(T.self)
            parallelChunks(rows, minimum: minimumRows) { range in
                for row in range {
                    let source = xp + row * width, target = op + row * width
                    let kept = keptColumns?(row) ?? width
                    defer { if keptColumns != nil { finish(target, kept: kept) } }
                    if kept == 0 { continue }
                    var largest = -T.infinity
                    for j in 0..<kept where source[j] > largest || source[j].isNaN { largest = source[j] }
                    if largest == -T.infinity { largest = 0 }
                    var total: T = 0
                    if log {
                        for j in 0..<kept { total += T.exp(source[j] - largest) }
                        let shift = largest + T.log(total)
                        for j in 0..<kept { target[j] = source[j] - shift }
                    } else {
                        for j in 0..<kept {
                            let e = T.exp(source[j] - largest)
                            target[j] = e
                            total += e
                        }
                        let scale = 1 / total
                        for j in 0..<kept { target[j] *= scale }
                    }
                }
            }
        }
        switch x.dtype {
        case .float32: typed(Float.self)
        case .float64: typed(Double.self)
        default: preconditionFailure("softmax: CPU kernel takes float32 or float64, got \(x.dtype)")
        }
    }
}
