// The ONNX nodes for each traced Ember primitive (one `BackwardRule` case at a time).
import Ember

extension GraphConverter {
    /// Emits the nodes computing `op`'s output and returns the output's value name.
    /// `twin` is the same op in the trace at the other batch size, if any.
    func lower(_ op: TracedOperation, _ twin: TracedOperation?) throws -> String {
        let out = op.output
        /// Operand `i` of the op, converted to `dtype` when given.
        func input(_ i: Int, as dtype: DType? = nil) throws -> String {
            try inputOperand(op, twin, i, as: dtype)
        }
        /// A unary node on operand 0.
        func unary(_ type: String, attributes: [Onnx_AttributeProto] = []) throws -> String {
            builder.node(type, [try input(0, as: out.dtype)], attributes: attributes)
        }
        /// An elementwise binary node on operands 0 and 1, both in the output's dtype.
        func binary(_ type: String) throws -> String {
            builder.node(type, [try input(0, as: out.dtype), try input(1, as: out.dtype)])
        }
        func scalar(_ value: Double) -> String { builder.scalar(value, dtype: out.dtype) }
        let rank = op.inputs.first?.rank ?? out.rank

        switch op.rule {
        // Arithmetic
        case .add: return try binary("Add")
        case .sub: return try binary("Sub")
        case .mul: return try binary("Mul")
        case .div: return try binary("Div")
        case .maximum: return try binary("Max")
        case .minimum: return try binary("Min")
        case .pow: return try binary("Pow")
        case .neg: return try unary("Neg")
        case .powScalar(let exponent): return builder.node("Pow", [try input(0, as: out.dtype), scalar(exponent)])
        case .square:
            let x = try input(0, as: out.dtype)
            return builder.node("Mul", [x, x])
        case .where:
            let condition = try broadcastOperand(op.saved[0], twin: twin?.saved[0], as: .bool)
            return builder.node("Where", [condition, try input(0, as: out.dtype), try input(1, as: out.dtype)])

        // Unary math
        case .abs: return try unary("Abs")
        case .sqrt: return try unary("Sqrt")
        case .exp: return try unary("Exp")
        case .log: return try unary("Log")
        case .erf: return try unary("Erf")
        case .tanh: return try unary("Tanh")
        case .sin: return try unary("Sin")
        case .cos: return try unary("Cos")
        case .tan: return try unary("Tan")
        case .asin: return try unary("Asin")
        case .acos: return try unary("Acos")
        case .atan: return try unary("Atan")
        case .sinh: return try unary("Sinh")
        case .cosh: return try unary("Cosh")
        case .reciprocal: return try unary("Reciprocal")
        case .rsqrt: return builder.node("Reciprocal", [try unary("Sqrt")])
        case .log1p: return builder.node("Log", [builder.node("Add", [try input(0, as: out.dtype), scalar(1)])])
        case .expm1: return builder.node("Sub", [try unary("Exp"), scalar(1)])
        case .clamp(let low, let high):
            var operands = [try input(0, as: out.dtype), low.map(scalar) ?? ""]
            if let high { operands.append(scalar(high)) }
            return builder.node("Clip", operands)

        // Activations
        case .relu: return try unary("Relu")
        case .sigmoid: return try unary("Sigmoid")
        case .silu:
            let x = try input(0, as: out.dtype)
            return builder.node("Mul", [x, builder.node("Sigmoid", [x])])
        case .gelu, .geluTanh:
            let tanh: Bool
            if case .geluTanh = op.rule { tanh = true } else { tanh = false }
            let x = try input(0, as: out.dtype)
            if opset >= 20 {
                return builder.node("Gelu", [x], attributes: [.string("approximate", tanh ? "tanh" : "none")])
            }
            let inner: String
            if tanh {
                // tanh(√(2/π)·(x + 0.044715·x³))
                let cube = builder.node("Mul", [builder.node("Mul", [x, x]), x])
                let sum = builder.node("Add", [x, builder.node("Mul", [cube, scalar(0.044715)])])
                inner = builder.node("Tanh", [builder.node("Mul", [sum, scalar((2 / Double.pi).squareRoot())])])
            } else {
                // erf(x / √2)
                inner = builder.node("Erf", [builder.node("Div", [x, scalar(2.0.squareRoot())])])
            }
            let half = builder.node("Mul", [x, scalar(0.5)])
            return builder.node("Mul", [half, builder.node("Add", [inner, scalar(1)])])
        case .softplus(let beta, let threshold):
            // x where β·x > threshold, else log(1 + exp(β·x)) / β
            let x = try input(0, as: out.dtype)
            let scaled = beta == 1 ? x : builder.node("Mul", [x, scalar(beta)])
            var soft = builder.node("Softplus", [scaled])
            if beta != 1 { soft = builder.node("Div", [soft, scalar(beta)]) }
            let linear = builder.node("Greater", [scaled, scalar(threshold)])
            return builder.node("Where", [linear, x, soft])
        case .leakyRelu(let slope): return try unary("LeakyRelu", attributes: [.float("alpha", slope)])
        case .elu(let alpha): return try unary("Elu", attributes: [.float("alpha", alpha)])
        case .softmax(let dim): return try unary("Softmax", attributes: [.int("axis", normalized(dim, rank))])
        case .logSoftmax(let dim): return try unary("LogSoftmax", attributes: [.int("axis", normalized(dim, rank))])
        case .lstmCell:
            // [h' | c'] from the gates (i, f, g, o along axis 1) and the previous cell.
            let gates = try input(0, as: out.dtype), cell = try input(1, as: out.dtype)
            let h = op.inputs[1].shape[1]
            func gate(_ k: Int, _ activation: String) -> String {
                let part = builder.node("Slice", [gates, builder.int64s([k * h]), builder.int64s([(k + 1) * h]),
                                                  builder.int64s([1]), builder.int64s([1])])
                return builder.node(activation, [part])
            }
            let i = gate(0, "Sigmoid"), f = gate(1, "Sigmoid"), g = gate(2, "Tanh"), o = gate(3, "Sigmoid")
            let next = builder.node("Add", [builder.node("Mul", [f, cell]), builder.node("Mul", [i, g])])
            let hidden = builder.node("Mul", [o, builder.node("Tanh", [next])])
            return builder.node("Concat", [hidden, next], attributes: [.int("axis", 1)])

        // Copies and views
        case .toDType: return builder.node("Cast", [try input(0)], attributes: [.int("to", out.dtype.onnxElementType.rawValue)])
        case .toDevice, .identity: return builder.node("Identity", [try input(0)])
        case .reshape:
            let target = try reshapeTarget(out.shape, twin?.output.shape)
            return builder.node("Reshape", [try input(0), builder.int64s(target)])
        case .permute(let order):
            return builder.node("Transpose", [try input(0)], attributes: [.ints("perm", order)])
        case .expand:
            return try lowerExpand(op, twin)
        case .slice(let dim, let start, let step):
            return try lowerSlice(op, twin, dim: normalized(dim, rank), start: start, step: step)
        case .select(let dim, let index):
            let d = normalized(dim, rank)
            if try batchDimensions(op.inputs[0], twin?.inputs[0]).contains(d) && index != 0 {
                throw batchError("selecting index \(index) along the batch-dependent dimension \(d)")
            }
            let position = builder.constant(Tensor(Int64(index)))
            return builder.node("Gather", [try input(0), position], attributes: [.int("axis", d)])
        case .cat(let dim, _):
            let parts = try op.inputs.indices.map { try input($0, as: out.dtype) }
            return builder.node("Concat", parts, attributes: [.int("axis", normalized(dim, out.rank))])
        case .tril(let diagonal), .triu(let diagonal):
            var upper = 0
            if case .triu = op.rule { upper = 1 }
            return builder.node("Trilu", [try input(0), builder.constant(Tensor(Int64(diagonal)))],
                                attributes: [.int("upper", upper)])

        // Reductions
        case .sum(let dims, let keepDim):
            return try reduce("ReduceSum", op, twin, dims: dims, keepDim: keepDim, axesAsInputSince: 13)
        case .prod(let dims, let keepDim):
            return try reduce("ReduceProd", op, twin, dims: dims, keepDim: keepDim, axesAsInputSince: 18)
        case .norm2(let dims, let keepDim):
            return try reduce("ReduceL2", op, twin, dims: dims, keepDim: keepDim, axesAsInputSince: 18)
        case .extremum(let dims, let keepDim):
            // The rule does not say which extremum: compare with the input's maximum.
            let isMaximum = noGrad { op.inputs[0].amax(dims: dims, keepDim: keepDim).reshape(out.shape).equal(out) }
            let type = isMaximum ? "ReduceMax" : "ReduceMin"
            return try reduce(type, op, twin, dims: dims, keepDim: keepDim, axesAsInputSince: 18)
        case .cumsum(let dim):
            return builder.node("CumSum", [try input(0), builder.constant(Tensor(Int64(normalized(dim, rank))))])

        // Linear algebra and indexing
        case .matmul: return try binary("MatMul")
        case .linear: return try lowerLinear(op, twin)
        case .gather(let dim): return try lowerGather(op, twin, dim: normalized(dim, rank))
        case .maskedFill:
            // The fill value is not part of the rule: read it where the mask is set.
            let mask = op.saved[0]
            let filled = noGrad { out.maskedSelect(mask) }
            guard filled.count > 0 else {
                throw unsupported("masked fill whose mask selects nothing in the example, so its fill value is unknown")
            }
            let value = filled.asArray(Double.self)[0]
            let condition = try broadcastOperand(mask, twin: twin?.saved[0], as: .bool)
            return builder.node("Where", [condition, scalar(value), try input(0, as: out.dtype)])

        // Convolution and pooling
        case .convolution(let g):
            let operands = try op.inputs.indices.map { try input($0) }
            return builder.node("Conv", operands, attributes: [
                .ints("strides", g.stride), .ints("pads", g.paddingBefore + g.paddingAfter),
                .ints("dilations", g.dilation), .int("group", g.groups),
                .ints("kernel_shape", Array(op.inputs[1].shape[2...])),
            ])
        case .convolutionBackwardInput(let g):
            return try lowerTransposedConvolution(op, twin, geometry: g)
        case .maxPool(let g):
            return builder.node("MaxPool", [try input(0)], attributes: poolingAttributes(g, op) + [.ints("dilations", g.dilation)])
        case .avgPool(let g):
            guard g.dilation.allSatisfy({ $0 == 1 }) else { throw unsupported("average pooling with dilation \(g.dilation)") }
            return builder.node("AveragePool", [try input(0)],
                                attributes: poolingAttributes(g, op) + [.int("count_include_pad", g.countIncludePad ? 1 : 0)])

        case .custom(let record):
            throw unsupported("custom autograd function '\(record.name)' has no ONNX equivalent")
        default:
            throw unsupported("no ONNX lowering for this op yet")
        }
    }

    private func normalized(_ dim: Int, _ rank: Int) -> Int { dim < 0 ? dim + rank : dim }

    /// The operand of a broadcasting op with its broadcast (stride-0) dimensions cut to
    /// size 1: ONNX broadcasting restores them, so a mask broadcast over the batch does
    /// not depend on the batch size.
    private func broadcastOperand(_ tensor: Tensor, twin: Tensor?, as dtype: DType) throws -> String {
        func compact(_ t: Tensor) -> Tensor {
            var result = t
            for d in 0..<t.rank where t.strides[d] == 0 && t.shape[d] > 1 {
                result = noGrad { result.narrow(dim: d, start: 0, length: 1) }
            }
            return result === t ? t : keep(result)
        }
        return try operand(compact(tensor), twin: twin.map(compact), as: dtype)
    }

    /// A reduction over `dims` (all when empty); the axes are an input from opset
    /// `axesAsInputSince` on, an attribute before.
    private func reduce(_ type: String, _ op: TracedOperation, _ twin: TracedOperation?, dims: [Int], keepDim: Bool,
                        axesAsInputSince: Int) throws -> String {
        let x = try inputOperand(op, twin, 0)
        let rank = op.inputs[0].rank
        let axes = dims.map { normalized($0, rank) }
        var attributes: [Onnx_AttributeProto] = [.int("keepdims", keepDim ? 1 : 0)]
        if axes.isEmpty { return builder.node(type, [x], attributes: attributes) }
        if opset >= axesAsInputSince { return builder.node(type, [x, builder.int64s(axes)], attributes: attributes) }
        attributes.append(.ints("axes", axes))
        return builder.node(type, [x], attributes: attributes)
    }

    /// `input · weightᵀ (+ bias)`: Gemm for a 2-D input, MatMul with a transposed weight
    /// (and Add) otherwise.
    private func lowerLinear(_ op: TracedOperation, _ twin: TracedOperation?) throws -> String {
        let operands = try op.inputs.indices.map { try inputOperand(op, twin, $0) }
        if op.inputs[0].rank == 2 {
            return builder.node("Gemm", operands, attributes: [.int("transB", 1)])
        }
        let transposed = builder.node("Transpose", [operands[1]], attributes: [.ints("perm", [1, 0])])
        let product = builder.node("MatMul", [operands[0], transposed])
        return operands.count == 3 ? builder.node("Add", [product, operands[2]]) : product
    }

    /// Gather along `dim`: an `indexSelect` (the index broadcast along every other
    /// dimension) becomes Gather on the 1-D index, anything else GatherElements.
    private func lowerGather(_ op: TracedOperation, _ twin: TracedOperation?, dim: Int) throws -> String {
        let data = try inputOperand(op, twin, 0)
        let index = op.saved[0]
        func vector(_ index: Tensor) -> Tensor {
            var v = index
            for k in (0..<index.rank).reversed() where k != dim { v = noGrad { v.select(dim: k, index: 0) } }
            return keep(v)
        }
        let isSelection = (0..<index.rank).allSatisfy { $0 == dim || index.strides[$0] == 0 || index.shape[$0] == 1 }
        if isSelection {
            let positions = try operand(vector(index), twin: twin.map { vector($0.saved[0]) }, as: .int64)
            return builder.node("Gather", [data, positions], attributes: [.int("axis", dim)])
        }
        return builder.node("GatherElements", [data, try operand(index, twin: twin?.saved[0], as: .int64)],
                            attributes: [.int("axis", dim)])
    }

    /// Expand to the output's shape; a batch-dependent dimension is kept from the input
    /// (ONNX broadcasting treats a target of 1 as "keep").
    private func lowerExpand(_ op: TracedOperation, _ twin: TracedOperation?) throws -> String {
        let inputShape = op.inputs[0].shape
        var target = op.output.shape
        let lead = target.count - inputShape.count
        let outputVarying = try batchDimensions(op.output, twin?.output)
        let inputVarying = try batchDimensions(op.inputs[0], twin?.inputs[0])
        for d in outputVarying {
            guard d >= lead, inputVarying.contains(d - lead) else {
                throw batchError("expanding to \(target) along the batch-dependent dimension \(d)")
            }
            target[d] = 1
        }
        return builder.node("Expand", [try inputOperand(op, twin, 0), builder.int64s(target)])
    }

    /// A strided slice along `dim`; along a batch-dependent dimension the end is counted
    /// from the back when both traces agree on it.
    private func lowerSlice(_ op: TracedOperation, _ twin: TracedOperation?, dim: Int, start: Int, step: Int) throws -> String {
        let length = op.output.shape[dim], size = op.inputs[0].shape[dim]
        var end = length == 0 ? start : start + (length - 1) * step + 1
        if try batchDimensions(op.inputs[0], twin?.inputs[0]).contains(dim), let twin {
            let twinLength = twin.output.shape[dim], twinSize = twin.inputs[0].shape[dim]
            let twinEnd = twinLength == 0 ? start : start + (twinLength - 1) * step + 1
            let tail = size - Swift.min(end, size), twinTail = twinSize - Swift.min(twinEnd, twinSize)
            guard step == 1, tail == twinTail else {
                throw batchError("slicing \(start)..<\(end) (step \(step)) along the batch-dependent dimension \(dim)")
            }
            end = tail == 0 ? Int(Int64.max) : -tail
        }
        let x = try inputOperand(op, twin, 0)
        return builder.node("Slice", [x, builder.int64s([start]), builder.int64s([end]), builder.int64s([dim]), builder.int64s([step])])
    }

    /// A transposed convolution (the input gradient of a convolution): ConvTranspose with
    /// the output padding that gives the traced output size.
    private func lowerTransposedConvolution(_ op: TracedOperation, _ twin: TracedOperation?,
                                            geometry g: ConvolutionGeometry) throws -> String {
        let x = op.inputs[0], weight = op.inputs[1]
        var outputPadding: [Int] = []
        for i in 0..<g.spatialRank {
            let natural = (x.shape[2 + i] - 1) * g.stride[i] - 2 * g.paddingBefore[i]
                + g.dilation[i] * (weight.shape[2 + i] - 1) + 1
            let extra = op.output.shape[2 + i] - natural
            guard extra >= 0 else { throw unsupported("transposed convolution with asymmetric padding \(g.paddingBefore)/\(g.paddingAfter)") }
            outputPadding.append(extra)
        }
        return builder.node("ConvTranspose", [try inputOperand(op, twin, 0), try inputOperand(op, twin, 1)], attributes: [
            .ints("strides", g.stride), .ints("pads", g.paddingBefore + g.paddingBefore),
            .ints("dilations", g.dilation), .int("group", g.groups),
            .ints("kernel_shape", Array(weight.shape[2...])), .ints("output_padding", outputPadding),
        ])
    }

    /// Kernel, strides, pads and ceil mode of a pooling op (ceil mode when the traced
    /// output is longer than floor rounding gives).
    private func poolingAttributes(_ g: PoolingGeometry, _ op: TracedOperation) -> [Onnx_AttributeProto] {
        var ceil = 0
        for i in 0..<g.spatialRank {
            let input = op.inputs[0].shape[2 + i]
            let floorSize = (input + 2 * g.padding[i] - g.dilation[i] * (g.kernel[i] - 1) - 1) / g.stride[i] + 1
            if op.output.shape[2 + i] > floorSize { ceil = 1 }
        }
        return [.ints("kernel_shape", g.kernel), .ints("strides", g.stride), .ints("pads", g.padding + g.padding),
                .int("ceil_mode", ceil)]
    }
}
