// Max and average pooling on the CPU: Swift loops over (n, c) planes, split across cores.
// Pooling is memory-bound; planes are independent, so no task writes another's data.
import Foundation

/// A 1-D or 2-D pooling problem over planes, with 1-D problems seen as 2-D ones of height 1.
struct PoolProblem {
    var planes, h, w, oh, ow: Int
    var kh, kw, sh, sw, ph, pw, dh, dw: Int

    init(input: [Int], output: [Int], geometry g: PoolingGeometry) {
        let twoD = g.spatialRank == 2, last = g.spatialRank - 1
        planes = input[0] * input[1]
        h = twoD ? input[2] : 1; w = input[input.count - 1]
        oh = twoD ? output[2] : 1; ow = output[output.count - 1]
        kh = twoD ? g.kernel[0] : 1; kw = g.kernel[last]
        sh = twoD ? g.stride[0] : 1; sw = g.stride[last]
        ph = twoD ? g.padding[0] : 0; pw = g.padding[last]
        dh = twoD ? g.dilation[0] : 1; dw = g.dilation[last]
    }

    /// Planes per parallel task so that each task has some work.
    var minimumPlanes: Int { max(1, 32768 / max(h * w + oh * ow * kh * kw, 1)) }
}

extension CPUBackend {
    func maxPool(_ input: Tensor, geometry: PoolingGeometry, into out: Tensor, indices: Tensor) {
        let p = PoolProblem(input: input.shape, output: out.shape, geometry: geometry)
        if out.count == 0 { return }
        withFloatType(input.dtype, op: "maxPool") { maxPoolLoop(p, input, out, indices, $0) }
    }

    func maxPoolBackward(_ gradOutput: Tensor, indices: Tensor, into gradInput: Tensor) {
        if gradInput.count == 0 { return }
        let planes = gradInput.shape[0] * gradInput.shape[1]
        let inPlane = gradInput.count / max(planes, 1), outPlane = gradOutput.count / max(planes, 1)
        withFloatType(gradOutput.dtype, op: "maxPool backward") { type in
            maxPoolBackwardLoop(planes, inPlane, outPlane, gradOutput, indices, gradInput, type)
        }
    }

    func avgPool(_ input: Tensor, geometry: PoolingGeometry, into out: Tensor) {
        let p = PoolProblem(input: input.shape, output: out.shape, geometry: geometry)
        if out.count == 0 { return }
        withFloatType(input.dtype, op: "avgPool") { avgPoolLoop(p, geometry.countIncludePad, input, out, $0) }
    }

    func avgPoolBackward(_ gradOutput: Tensor, geometry: PoolingGeometry, into gradInput: Tensor) {
        let p = PoolProblem(input: gradInput.shape, output: gradOutput.shape, geometry: geometry)
        if gradInput.count == 0 { return }
        withFloatType(gradOutput.dtype, op: "avgPool backward") { avgPoolBackwardLoop(p, geometry.countIncludePad, gradOutput, gradInput, $0) }
    }

    private func maxPoolLoop<T: BinaryFloatingPoint>(_ p: PoolProblem, _ x: Tensor, _ out: Tensor, _ indices: Tensor, _: T.Type) {
        let xp = x.pointer(T.self), op = out.pointer(T.self), ip = indices.pointer(Int64.self)
        let inPlane = p.h * p.w, outPlane = p.oh * p.ow
        // The common 2×2, stride 2, unpadded case without the window bookkeeping.
        if p.kh == 2 && p.kw == 2 && p.sh == 2 && p.sw == 2 && p.ph == 0 && p.pw == 0 && p.dh == 1 && p.dw == 1
            && 2 * p.oh <= p.h && 2 * p.ow <= p.w {
            parallelChunks(p.planes, minimum: p.minimumPlanes) { range in
                for plane in range {
                    let src = xp + plane * inPlane, dst = op + plane * outPlane, idx = ip + plane * outPlane
                    for y in 0..<p.oh {
                        let r0 = src + 2 * y * p.w, r1 = r0 + p.w
                        let base = 2 * y * p.w
                        for x in 0..<p.ow {
                            var best = r0[2 * x], at = base + 2 * x
                            let v1 = r0[2 * x + 1], v2 = r1[2 * x], v3 = r1[2 * x + 1]
                            if v1 > best || v1.isNaN { best = v1; at = base + 2 * x + 1 }
                            if v2 > best || v2.isNaN { best = v2; at = base + p.w + 2 * x }
                            if v3 > best || v3.isNaN { best = v3; at = base + p.w + 2 * x + 1 }
                            dst[y * p.ow + x] = best
                            idx[y * p.ow + x] = Int64(at)
                        }
                    }
                }
            }
            return
        }
        parallelChunks(p.planes, minimum: p.minimumPlanes) { range in
            for plane in range {
                let src = xp + plane * inPlane, dst = op + plane * outPlane, idx = ip + plane * outPlane
                for y in 0..<p.oh {
                    let y0 = y * p.sh - p.ph
                    for x in 0..<p.ow {
                        let x0 = x * p.sw - p.pw
                        var best = -T.infinity, at = -1
                        for i in 0..<p.kh {
                            let iy = y0 + i * p.dh
                            if iy < 0 || iy >= p.h { continue }
                            for j in 0..<p.kw {
                                let ix = x0 + j * p.dw
                                if ix < 0 || ix >= p.w { continue }
                                let v = src[iy * p.w + ix]
                                // First in-bounds element by default; NaN wins (as PyTorch).
                                if at < 0 || v > best || v.isNaN { best = v; at = iy * p.w + ix }
                            }
                        }
                        dst[y * p.ow + x] = best
                        idx[y * p.ow + x] = Int64(at)
                    }
                }
            }
        }
    }

    private func maxPoolBackwardLoop<T: BinaryFloatingPoint>(_ planes: Int, _ inPlane: Int, _ outPlane: Int,
                                                             _ gy: Tensor, _ indices: Tensor, _ gx: Tensor, _: T.Type) {
        let gyp = gy.pointer(T.self), ip = indices.pointer(Int64.self), gxp = gx.pointer(T.self)
        parallelChunks(planes, minimum: max(1, 32768 / max(inPlane + outPlane, 1))) { range in
            for plane in range {
                let dst = gxp + plane * inPlane, src = gyp + plane * outPlane, idx = ip + plane * outPlane
                dst.update(repeating: 0, count: inPlane)
                for k in 0..<outPlane where idx[k] >= 0 { dst[Int(idx[k])] += src[k] }
            }
        }
    }

    /// The window of output position `o` along one dim: its clipped input range and the
    /// divisor it contributes (PyTorch's `avg_pool2d` rules).
    @inline(__always)
    private static func avgWindow(_ o: Int, stride: Int, padding: Int, kernel: Int, size: Int, includePad: Bool) -> (Int, Int, Int) {
        var start = o * stride - padding
        var end = min(start + kernel, size + padding)
        let padded = end - start
        start = max(start, 0)
        end = min(end, size)
        return (start, end, includePad ? padded : end - start)
    }

    private func avgPoolLoop<T: BinaryFloatingPoint>(_ p: PoolProblem, _ includePad: Bool, _ x: Tensor, _ out: Tensor, _: T.Type) {
        let xp = x.pointer(T.self), op = out.pointer(T.self)
        let inPlane = p.h * p.w, outPlane = p.oh * p.ow
        parallelChunks(p.planes, minimum: p.minimumPlanes) { range in
            for plane in range {
                let src = xp + plane * inPlane, dst = op + plane * outPlane
                for y in 0..<p.oh {
                    let (y0, y1, dy) = CPUBackend.avgWindow(y, stride: p.sh, padding: p.ph, kernel: p.kh, size: p.h, includePad: includePad)
                    for x in 0..<p.ow {
                        let (x0, x1, dx) = CPUBackend.avgWindow(x, stride: p.sw, padding: p.pw, kernel: p.kw, size: p.w, includePad: includePad)
                        var sum: T = 0
                        for iy in y0..<max(y0, y1) {
                            for ix in x0..<max(x0, x1) { sum += src[iy * p.w + ix] }
                        }
                        let divisor = dy * dx
                        dst[y * p.ow + x] = divisor == 0 ? 0 : sum / T(divisor)
                    }
                }
            }
        }
    }

    private func avgPoolBackwardLoop<T: BinaryFloatingPoint>(_ p: PoolProblem, _ includePad: Bool, _ gy: Tensor, _ gx: Tensor, _: T.Type) {
        let gyp = gy.pointer(T.self), gxp = gx.pointer(T.self)
        let inPlane = p.h * p.w, outPlane = p.oh * p.ow
        parallelChunks(p.planes, minimum: p.minimumPlanes) { range in
            for plane in range {
                let src = gyp + plane * outPlane, dst = gxp + plane * inPlane
                dst.update(repeating: 0, count: inPlane)
                for y in 0..<p.oh {
                    let (y0, y1, dy) = CPUBackend.avgWindow(y, stride: p.sh, padding: p.ph, kernel: p.kh, size: p.h, includePad: includePad)
                    for x in 0..<p.ow {
                        let (x0, x1, dx) = CPUBackend.avgWindow(x, stride: p.sw, padding: p.pw, kernel: p.kw, size: p.w, includePad: includePad)
                        let divisor = dy * dx
                        if divisor == 0 { continue }
                        let share = src[y * p.ow + x] / T(divisor)
                        for iy in y0..<max(y0, y1) {
                            for ix in x0..<max(x0, x1) { dst[iy * p.w + ix] += share }
                        }
                    }
                }
            }
        }
    }
}
