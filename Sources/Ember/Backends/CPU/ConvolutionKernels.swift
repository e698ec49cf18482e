// Convolutions on the CPU: oneDNN primitives (cached by shape) for float32, direct Swift
// loops for float64 and for the rare geometries oneDNN refuses (negative padding).
import CDNNL
import Foundation

/// A 1-D or 2-D convolution problem, with 1-D problems seen as 2-D ones of height 1.
struct ConvProblem: Hashable {
    var n, c, h, w: Int          // input
    var o, kh, kw: Int           // weight (o × c/groups × kh × kw)
    var oh, ow: Int              // output
    var sh, sw, ph, pw, phAfter, pwAfter, dh, dw: Int
    var groups: Int
    var hasBias: Bool

    init(input: [Int], weight: [Int], output: [Int], geometry g: ConvolutionGeometry, hasBias: Bool) {
        let twoD = g.spatialRank == 2
        n = input[0]; c = input[1]
        h = twoD ? input[2] : 1; w = input[input.count - 1]
        o = weight[0]
        kh = twoD ? weight[2] : 1; kw = weight[weight.count - 1]
        oh = twoD ? output[2] : 1; ow = output[output.count - 1]
        sh = twoD ? g.stride[0] : 1; sw = g.stride[g.spatialRank - 1]
        ph = twoD ? g.paddingBefore[0] : 0; pw = g.paddingBefore[g.spatialRank - 1]
        phAfter = twoD ? g.paddingAfter[0] : 0; pwAfter = g.paddingAfter[g.spatialRank - 1]
        dh = twoD ? g.dilation[0] : 1; dw = g.dilation[g.spatialRank - 1]
        groups = g.groups
        self.hasBias = hasBias
    }

    var cPerGroup: Int { c / groups }
    var oPerGroup: Int { o / groups }
}

extension CPUBackend {
    func convolution(_ input: Tensor, weight: Tensor, bias: Tensor?, geometry: ConvolutionGeometry, into out: Tensor) {
        let p = ConvProblem(input: input.shape, weight: weight.shape, output: out.shape, geometry: geometry, hasBias: bias != nil)
        if out.count == 0 { return }
        if input.count == 0 || weight.count == 0 {
            if let bias { copy(bias.rawView([p.n, p.o, p.oh * p.ow], [0, 1, 0]), into: out.rawView([p.n, p.o, p.oh * p.ow], [p.o * p.oh * p.ow, p.oh * p.ow, 1])) }
            else { fill(out, with: 0) }
            return
        }
        if input.dtype == .float32, let primitive = DNNLConvolutions.shared.primitive(.forward, p) {
            primitive.execute([(DNNL_ARG_SRC, input), (DNNL_ARG_WEIGHTS, weight), (DNNL_ARG_DST, out)]
                              + (bias.map { [(DNNL_ARG_BIAS, $0)] } ?? []))
            return
        }
        withFloatType(input.dtype, op: "convolution") { directConvolution(p, input, weight, bias, out, $0) }
    }

    func convolutionBackwardInput(_ gradOutput: Tensor, weight: Tensor, geometry: ConvolutionGeometry, into gradInput: Tensor) {
        let p = ConvProblem(input: gradInput.shape, weight: weight.shape, output: gradOutput.shape, geometry: geometry, hasBias: false)
        if gradInput.count == 0 { return }
        if gradOutput.count == 0 || weight.count == 0 { fill(gradInput, with: 0); return }
        if gradOutput.dtype == .float32, let primitive = DNNLConvolutions.shared.primitive(.backwardData, p) {
            primitive.execute([(DNNL_ARG_DIFF_DST, gradOutput), (DNNL_ARG_WEIGHTS, weight), (DNNL_ARG_DIFF_SRC, gradInput)])
            return
        }
        withFloatType(gradOutput.dtype, op: "convolution backward") { directConvolutionBackwardInput(p, gradOutput, weight, gradInput, $0) }
    }

    func convolutionBackwardWeight(_ gradOutput: Tensor, input: Tensor, geometry: ConvolutionGeometry, into gradWeight: Tensor) {
        let p = ConvProblem(input: input.shape, weight: gradWeight.shape, output: gradOutput.shape, geometry: geometry, hasBias: false)
        if gradWeight.count == 0 { return }
        if gradOutput.count == 0 || input.count == 0 { fill(gradWeight, with: 0); return }
        if gradOutput.dtype == .float32, let primitive = DNNLConvolutions.shared.primitive(.backwardWeights, p) {
            primitive.execute([(DNNL_ARG_DIFF_DST, gradOutput), (DNNL_ARG_SRC, input), (DNNL_ARG_DIFF_WEIGHTS, gradWeight)])
            return
        }
        withFloatType(gradOutput.dtype, op: "convolution backward") { directConvolutionBackwardWeight(p, gradOutput, input, gradWeight, $0) }
    }

    // MARK: Direct loops (float64, and float32 where oneDNN declines)

    /// Output planes `(n, o)` are computed independently, one per task.
    private func directConvolution<T: BinaryFloatingPoint>(_ p: ConvProblem, _ x: Tensor, _ wt: Tensor, _ b: Tensor?, _ out: Tensor, _: T.Type) {
        let xp = x.pointer(T.self), wp = wt.pointer(T.self), op = out.pointer(T.self), bp = b?.pointer(T.self)
        let plane = p.oh * p.ow, cg = p.cPerGroup, og = p.oPerGroup
        parallelChunks(p.n * p.o, minimum: max(1, 16384 / max(plane * cg * p.kh * p.kw, 1))) { range in
            for task in range {
                let n = task / p.o, o = task % p.o, group = o / og
                let dst = op + task * plane
                dst.update(repeating: bp.map { $0[o] } ?? 0, count: plane)
                for c in 0..<cg {
                    let src = xp + (n * p.c + group * cg + c) * p.h * p.w
                    let ker = wp + (o * cg + c) * p.kh * p.kw
                    for i in 0..<p.kh {
                        for j in 0..<p.kw {
                            let wv = ker[i * p.kw + j]
                            for y in 0..<p.oh {
                                let iy = y * p.sh - p.ph + i * p.dh
                                if iy < 0 || iy >= p.h { continue }
                                let row = src + iy * p.w, dstRow = dst + y * p.ow
                                for x in 0..<p.ow {
                                    let ix = x * p.sw - p.pw + j * p.dw
                                    if ix >= 0 && ix < p.w { dstRow[x] += wv * row[ix] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Input-gradient planes `(n, c)` are accumulated independently, one per task.
    private func directConvolutionBackwardInput<T: BinaryFloatingPoint>(_ p: ConvProblem, _ gy: Tensor, _ wt: Tensor, _ gx: Tensor, _: T.Type) {
        let gyp = gy.pointer(T.self), wp = wt.pointer(T.self), gxp = gx.pointer(T.self)
        let plane = p.h * p.w, cg = p.cPerGroup, og = p.oPerGroup
        parallelChunks(p.n * p.c, minimum: max(1, 16384 / max(p.oh * p.ow * og * p.kh * p.kw, 1))) { range in
            for task in range {
                let n = task / p.c, ic = task % p.c, group = ic / cg, c = ic % cg
                let dst = gxp + task * plane
                dst.update(repeating: 0, count: plane)
                for o in (group * og)..<((group + 1) * og) {
                    let src = gyp + (n * p.o + o) * p.oh * p.ow
                    let ker = wp + (o * cg + c) * p.kh * p.kw
                    for i in 0..<p.kh {
                        for j in 0..<p.kw {
                            let wv = ker[i * p.kw + j]
                            for y in 0..<p.oh {
                                let iy = y * p.sh - p.ph + i * p.dh
                                if iy < 0 || iy >= p.h { continue }
                                let row = dst + iy * p.w, srcRow = src + y * p.ow
                                for x in 0..<p.ow {
                                    let ix = x * p.sw - p.pw + j * p.dw
                                    if ix >= 0 && ix < p.w { row[ix] += wv * srcRow[x] }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Each weight slice `(o, c)` sums over the batch and the output plane, one per task.
    private func directConvolutionBackwardWeight<T: BinaryFloatingPoint>(_ p: ConvProblem, _ gy: Tensor, _ x: Tensor, _ gw: Tensor, _: T.Type) {
        let gyp = gy.pointer(T.self), xp = x.pointer(T.self), gwp = gw.pointer(T.self)
        let cg = p.cPerGroup, og = p.oPerGroup, taps = p.kh * p.kw
        parallelChunks(p.o * cg, minimum: max(1, 16384 / max(p.n * p.oh * p.ow * taps, 1))) { range in
            for task in range {
                let o = task / cg, c = task % cg, ic = (o / og) * cg + c
                let dst = gwp + task * taps
                for i in 0..<p.kh {
                    for j in 0..<p.kw {
                        var sum: T = 0
                        for n in 0..<p.n {
                            let src = gyp + (n * p.o + o) * p.oh * p.ow
                            let inp = xp + (n * p.c + ic) * p.h * p.w
                            for y in 0..<p.oh {
                                let iy = y * p.sh - p.ph + i * p.dh
                                if iy < 0 || iy >= p.h { continue }
                                let row = inp + iy * p.w, srcRow = src + y * p.ow
                                for x in 0..<p.ow {
                                    let ix = x * p.sw - p.pw + j * p.dw
                                    if ix >= 0 && ix < p.w { sum += srcRow[x] * row[ix] }
                                }
                            }
                        }
                        dst[i * p.kw + j] = sum
                    }
                }
            }
        }
    }
}

/// Calls `body` with the Swift type of a float32 or float64 dtype.
func withFloatType(_ dtype: DType, op: String, _ body: (any (BinaryFloatingPoint & TensorScalar).Type) -> Void) {
    switch dtype {
    case .float32: body(Float.self)
    case .float64: body(Double.self)
    default: preconditionFailure("\(op): CPU kernels support float32 and float64, got \(dtype)")
    }
}

/// oneDNN convolution primitives, created on first use and cached by problem. Tensors
/// stay in plain NCHW / (G)OIHW; each primitive picks its own (usually blocked) layouts
/// and arguments are reordered around it, as PyTorch does. `EMBER_DNNL_PLAIN=1` forces
/// plain layouts instead (oneDNN then uses its im2col + gemm implementation).
final class DNNLConvolutions {
    static let shared = DNNLConvolutions()

    enum Kind: Hashable { case forward, backwardData, backwardWeights }
    private struct Key: Hashable { let kind: Kind; let problem: ConvProblem }
    private var cache: [Key: DNNLPrimitive?] = [:]
    private let plainOnly = ProcessInfo.processInfo.environment["EMBER_DNNL_PLAIN"] == "1"
    private let verbose = ProcessInfo.processInfo.environment["EMBER_VERBOSE_DNNL"] != nil

    /// The primitive for `problem`, or nil when oneDNN cannot run it (the caller falls
    /// back to direct loops).
    func primitive(_ kind: Kind, _ problem: ConvProblem) -> DNNLPrimitive? {
        let key = Key(kind: kind, problem: problem)
        let runtime = DNNLRuntime.shared
        runtime.lock.lock()
        defer { runtime.lock.unlock() }
        if let cached = cache[key] { return cached }
        let created = make(kind, problem)
        cache[key] = created
        if verbose {
            let layouts = created?.arguments.map { "\($0.kind):\($0.blocked == nil ? "plain" : "blocked")" }.joined(separator: " ") ?? ""
            print("oneDNN convolution \(kind) \(problem): \(created?.implementation ?? "unsupported, using loops") \(layouts)")
        }
        return created
    }

    private func make(_ kind: Kind, _ p: ConvProblem) -> DNNLPrimitive? {
        if p.ph < 0 || p.pw < 0 || p.phAfter < 0 || p.pwAfter < 0 { return nil }
        if !plainOnly, let made = make(kind, p, chooseLayouts: true) { return made }
        return make(kind, p, chooseLayouts: false)
    }

    private func make(_ kind: Kind, _ p: ConvProblem, chooseLayouts: Bool) -> DNNLPrimitive? {
        let engine = DNNLRuntime.shared.engine
        let srcDims = [p.n, p.c, p.h, p.w], dstDims = [p.n, p.o, p.oh, p.ow]
        let weiDims = p.groups == 1 ? [p.o, p.c, p.kh, p.kw] : [p.groups, p.oPerGroup, p.cPerGroup, p.kh, p.kw]
        let weiTag = p.groups == 1 ? dnnl_oihw : dnnl_goihw
        let plainSrc = DNNLRuntime.desc(srcDims, tag: dnnl_nchw), plainDst = DNNLRuntime.desc(dstDims, tag: dnnl_nchw)
        let plainWei = DNNLRuntime.desc(weiDims, tag: weiTag)
        var src = chooseLayouts ? DNNLRuntime.desc(srcDims, tag: dnnl_format_tag_any) : plainSrc
        var dst = chooseLayouts ? DNNLRuntime.desc(dstDims, tag: dnnl_format_tag_any) : plainDst
        var wei = chooseLayouts ? DNNLRuntime.desc(weiDims, tag: dnnl_format_tag_any) : plainWei
        var bias = DNNLRuntime.desc([p.o], tag: dnnl_a)
        let strides: [Int64] = [Int64(p.sh), Int64(p.sw)]
        let dilates: [Int64] = [Int64(p.dh - 1), Int64(p.dw - 1)]
        let padL: [Int64] = [Int64(p.ph), Int64(p.pw)]
        let padR: [Int64] = [Int64(p.phAfter), Int64(p.pwAfter)]

        var forwardDesc = dnnl_convolution_desc_t()
        let hasBias = p.hasBias && kind == .forward
        let status = withUnsafeMutablePointer(to: &bias) { biasPointer in
            dnnl_dilated_convolution_forward_desc_init(&forwardDesc, dnnl_forward_training, dnnl_convolution_direct,
                                                       &src, &wei, hasBias ? biasPointer : nil, &dst,
                                                       strides, dilates, padL, padR)
        }
        guard status == dnnl_success else { return nil }
        var forwardPD: dnnl_primitive_desc_t?
        guard dnnl_primitive_desc_create(&forwardPD, &forwardDesc, nil, engine, nil) == dnnl_success else { return nil }
        defer { dnnl_primitive_desc_destroy(forwardPD) }

        var pd = forwardPD
        var arguments: [DNNLArgument]
        var backwardPD: dnnl_primitive_desc_t?
        defer { if backwardPD != nil { dnnl_primitive_desc_destroy(backwardPD) } }
        switch kind {
        case .forward:
            arguments = [DNNLArgument(kind: DNNL_ARG_SRC, plain: plainSrc, isOutput: false),
                         DNNLArgument(kind: DNNL_ARG_WEIGHTS, plain: plainWei, isOutput: false),
                         DNNLArgument(kind: DNNL_ARG_DST, plain: plainDst, isOutput: true)]
            if hasBias { arguments.append(DNNLArgument(kind: DNNL_ARG_BIAS, plain: bias, isOutput: false)) }
        case .backwardData:
            var desc = dnnl_convolution_desc_t()
            guard dnnl_dilated_convolution_backward_data_desc_init(&desc, dnnl_convolution_direct, &src, &wei, &dst,
                                                                   strides, dilates, padL, padR) == dnnl_success,
                  dnnl_primitive_desc_create(&backwardPD, &desc, nil, engine, forwardPD) == dnnl_success
            else { return nil }
            pd = backwardPD
            arguments = [DNNLArgument(kind: DNNL_ARG_DIFF_DST, plain: plainDst, isOutput: false),
                         DNNLArgument(kind: DNNL_ARG_WEIGHTS, plain: plainWei, isOutput: false),
                         DNNLArgument(kind: DNNL_ARG_DIFF_SRC, plain: plainSrc, isOutput: true)]
        case .backwardWeights:
            var desc = dnnl_convolution_desc_t()
            guard dnnl_dilated_convolution_backward_weights_desc_init(&desc, dnnl_convolution_direct, &src, &wei, nil, &dst,
                                                                      strides, dilates, padL, padR) == dnnl_success,
                  dnnl_primitive_desc_create(&backwardPD, &desc, nil, engine, forwardPD) == dnnl_success
            else { return nil }
            pd = backwardPD
            arguments = [DNNLArgument(kind: DNNL_ARG_DIFF_DST, plain: plainDst, isOutput: false),
                         DNNLArgument(kind: DNNL_ARG_SRC, plain: plainSrc, isOutput: false),
                         DNNLArgument(kind: DNNL_ARG_DIFF_WEIGHTS, plain: plainWei, isOutput: true)]
        }
        // Reorders between the plain layouts and the ones the primitive chose.
        var made: [dnnl_primitive_t] = []
        func cleanUp() { made.forEach { dnnl_primitive_destroy($0) } }
        for i in arguments.indices {
            guard let chosenPointer = dnnl_primitive_desc_query_md(pd, dnnl_query_exec_arg_md, arguments[i].kind) else { cleanUp(); return nil }
            var chosen = chosenPointer.pointee
            var plain = arguments[i].plain
            if dnnl_memory_desc_equal(&chosen, &plain) != 0 { continue }
            var reorderPD: dnnl_primitive_desc_t?
            let created = arguments[i].isOutput
                ? dnnl_reorder_primitive_desc_create(&reorderPD, &chosen, engine, &plain, engine, nil)
                : dnnl_reorder_primitive_desc_create(&reorderPD, &plain, engine, &chosen, engine, nil)
            guard created == dnnl_success else { cleanUp(); return nil }
            var reorder: dnnl_primitive_t?
            let ok = dnnl_primitive_create(&reorder, reorderPD) == dnnl_success
            dnnl_primitive_desc_destroy(reorderPD)
            guard ok, let reorder else { cleanUp(); return nil }
            made.append(reorder)
            arguments[i].blocked = chosen
            arguments[i].blockedBytes = dnnl_memory_desc_get_size(&chosen)
            arguments[i].reorder = reorder
        }
        var primitive: dnnl_primitive_t?
        guard dnnl_primitive_create(&primitive, pd) == dnnl_success, let primitive else { cleanUp(); return nil }
        var name: UnsafePointer<CChar>?
        dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name)
        return DNNLPrimitive(primitive: primitive, arguments: arguments, implementation: name.map { String(cString: $0) } ?? "?")
    }
}
