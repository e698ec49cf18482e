// The CPU backend: memory, copies and elementwise primitives (reductions, matmul and
// indexing live in the neighbouring files).
import CEmberRuntime
import Foundation

/// Runs Ember's primitives on the host: Swift loops (split across cores above a size
/// threshold) for elementwise ops and reductions, oneDNN for matrix products.
final class CPUBackend: Backend {
    /// The process-wide CPU backend.
    static let shared = CPUBackend()

    func allocate(byteCount: Int, device: Device) -> Storage {
        Storage.cpu(byteCount: byteCount)
    }

    func copy(_ source: Tensor, into destination: Tensor) {
        precondition(source.device == .cpu && destination.device == .cpu, "copy: CPU backend got a non-CPU tensor")
        if source.dtype == destination.dtype && source.isContiguous && destination.isContiguous {
            let bytes = source.count * source.dtype.itemSize
            if source.count >= Threading.minimumParallelElements * 4 {
                parallelChunks(bytes, minimum: Threading.minimumParallelElements * 16) { r in
                    memmove(destination.rawPointer + r.lowerBound, source.rawPointer + r.lowerBound, r.count)
                }
            } else {
                memmove(destination.rawPointer, source.rawPointer, bytes)
            }
            return
        }
        let run = source.dtype == destination.dtype ? bitCopyRun(byteSize: source.dtype.itemSize)
            : castRun(from: source.dtype, to: destination.dtype)
        runUnary(run, source, destination)
    }

    func fill(_ tensor: Tensor, with value: Double) {
        func typed<T: TensorScalar>(_: T.Type) {
            var element = tensor.dtype.isFloatingPoint || !value.isFinite
                ? T(emberDouble: value) : T(emberInt64: clampedInt64(value))
            if tensor.isContiguous {
                let base = tensor.pointer(T.self)
                let fillValue = element
                parallelChunks(tensor.count) { r in (base + r.lowerBound).update(repeating: fillValue, count: r.count) }
                return
            }
            withUnsafePointer(to: &element) { source in
                runUnary(bitCopyRun(byteSize: tensor.dtype.itemSize),
                         Tensor(storage: Storage(pointer: UnsafeMutableRawPointer(mutating: source), byteCount: 0,
                                                 device: .cpu, release: { _ in }),
                                shape: tensor.shape, strides: [Int](repeating: 0, count: tensor.rank),
                                dtype: tensor.dtype),
                         tensor)
            }
        }
        withScalarType(tensor.dtype) { typed($0) }
    }

    func unary(_ op: UnaryOp, _ x: Tensor, into out: Tensor) {
        if x.dtype == .float32 && out.dtype == .float32, let kernel = vectorizedFloatKernel(op) {
            let xp = x.pointer(Float.self), op = out.pointer(Float.self)
            if x.isContiguous && out.isContiguous {
                parallelChunks(out.count) { r in kernel(xp + r.lowerBound, op + r.lowerBound, r.count) }
                return
            }
            // Strided, but contiguous along the innermost dimension (a column block of a
            // matrix, say): the vector kernel runs on each row.
            let layout = RunLayout(shape: out.shape, strides: [x.strides, out.strides])
            if layout.innerStride(0) == 1 && layout.innerStride(1) == 1 && layout.count > 0 {
                parallelChunks(layout.count) { range in
                    layout.forEachRun(in: range) { offsets, n in kernel(xp + offsets[0], op + offsets[1], n) }
                }
                return
            }
        }
        let run: UnaryRun
        switch x.dtype {
        case .float32: run = floatUnaryRun(op, Float.self)
        case .float64: run = floatUnaryRun(op, Double.self)
        case .int64: run = integerUnaryRun(op, Int64.self)
        case .int32: run = integerUnaryRun(op, Int32.self)
        case .uint8: run = integerUnaryRun(op, UInt8.self)
        case .bool: run = boolUnaryRun(op)
        case .float16, .bfloat16: preconditionFailure("\(op): CPU kernels compute \(x.dtype) through float32")
        }
        runUnary(run, x, out)
    }

    func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        if op == .geluBackward && a.dtype == .float32 && a.isContiguous && b.isContiguous && out.isContiguous {
            let xp = a.pointer(Float.self), gp = b.pointer(Float.self), op = out.pointer(Float.self)
            parallelChunks(out.count) { r in
                ember_gelu_backward_f32(xp + r.lowerBound, gp + r.lowerBound, op + r.lowerBound, r.count)
            }
            return
        }
        let run: BinaryRun
        switch a.dtype {
        case .float32: run = floatBinaryRun(op, Float.self)
        case .float64: run = floatBinaryRun(op, Double.self)
        case .int64: run = integerBinaryRun(op, Int64.self)
        case .int32: run = integerBinaryRun(op, Int32.self)
        case .uint8: run = integerBinaryRun(op, UInt8.self)
        case .bool: run = boolBinaryRun(op)
        case .float16, .bfloat16: preconditionFailure("\(op): CPU kernels compute \(a.dtype) through float32")
        }
        runBinary(run, a, b, out)
    }

    func select(_ condition: Tensor, _ a: Tensor, _ b: Tensor, into out: Tensor) {
        if out.count == 0 { return }
        func typed<T>(_: T.Type) {
            let layout = RunLayout(shape: out.shape, strides: [condition.strides, a.strides, b.strides, out.strides])
            let c0 = condition.pointer(Bool.self), a0 = a.pointer(T.self), b0 = b.pointer(T.self), o0 = out.pointer(T.self)
            let sc = layout.innerStride(0), sa = layout.innerStride(1), sb = layout.innerStride(2), so = layout.innerStride(3)
            parallelChunks(layout.count) { range in
                layout.forEachRun(in: range) { offsets, n in
                    let c = c0 + offsets[0], pa = a0 + offsets[1], pb = b0 + offsets[2], o = o0 + offsets[3]
                    for i in 0..<n { o[i &* so] = c[i &* sc] ? pa[i &* sa] : pb[i &* sb] }
                }
            }
        }
        switch out.dtype.itemSize {
        case 1: typed(UInt8.self)
        case 2: typed(UInt16.self)
        case 4: typed(UInt32.self)
        default: typed(UInt64.self)
        }
    }

    /// The vectorised C kernel for a float32 unary op, when there is one.
    private func vectorizedFloatKernel(_ op: UnaryOp) -> ((UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void)? {
        switch op {
        case .exp: return { ember_exp_f32($0, $1, $2) }
        case .tanh: return { ember_tanh_f32($0, $1, $2) }
        case .sigmoid: return { ember_sigmoid_f32($0, $1, $2) }
        case .relu: return { ember_relu_f32($0, $1, $2) }
        case .sqrt: return { ember_sqrt_f32($0, $1, $2) }
        case .erf: return { ember_erf_f32($0, $1, $2) }
        case .gelu: return { ember_gelu_f32($0, $1, $2) }
        case .clamp(let low, let high):
            let lo = low.map { Float($0) } ?? -.infinity, hi = high.map { Float($0) } ?? .infinity
            return { ember_clamp_f32($0, $1, $2, lo, hi) }
        default: return nil
        }
    }

    /// Runs a unary loop over `x` into `out` (same shape), contiguous or strided.
    func runUnary(_ run: UnaryRun, _ x: Tensor, _ out: Tensor) {
        if out.count == 0 { return }
        let xs = x.dtype.itemSize, os = out.dtype.itemSize
        let xp = x.rawPointer, op = out.rawPointer
        if x.isContiguous && out.isContiguous {
            parallelChunks(out.count) { r in
                run(xp + r.lowerBound * xs, 1, op + r.lowerBound * os, 1, r.count)
            }
            return
        }
        let layout = RunLayout(shape: out.shape, strides: [x.strides, out.strides])
        let sx = layout.innerStride(0), so = layout.innerStride(1)
        parallelChunks(layout.count) { range in
            layout.forEachRun(in: range) { offsets, n in
                run(xp + offsets[0] * xs, sx, op + offsets[1] * os, so, n)
            }
        }
    }

    /// Runs a binary loop over `a` and `b` into `out` (all of one shape).
    func runBinary(_ run: BinaryRun, _ a: Tensor, _ b: Tensor, _ out: Tensor) {
        if out.count == 0 { return }
        let isz = a.dtype.itemSize, osz = out.dtype.itemSize
        let ap = a.rawPointer, bp = b.rawPointer, op = out.rawPointer
        if out.isContiguous && a.isContiguous && (b.isContiguous || b.strides.allSatisfy { $0 == 0 }) {
            let sb = b.isContiguous ? 1 : 0
            parallelChunks(out.count) { r in
                run(ap + r.lowerBound * isz, 1, bp + r.lowerBound * sb * isz, sb, op + r.lowerBound * osz, 1, r.count)
            }
            return
        }
        let layout = RunLayout(shape: out.shape, strides: [a.strides, b.strides, out.strides])
        let sa = layout.innerStride(0), sb = layout.innerStride(1), so = layout.innerStride(2)
        parallelChunks(layout.count) { range in
            layout.forEachRun(in: range) { offsets, n in
                run(ap + offsets[0] * isz, sa, bp + offsets[1] * isz, sb, op + offsets[2] * osz, so, n)
            }
        }
    }
}
