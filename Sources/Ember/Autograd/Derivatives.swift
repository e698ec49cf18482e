// Every backward rule of Ember in one place, written in Tensor ops so that backward
// passes can themselves be differentiated (createGraph: true).
import Foundation

/// Computes input gradients from an output gradient, one formula per `BackwardRule`.
enum Derivatives {
    /// Gradients for each input of `node` given the gradient `g` of its output. Results
    /// may have the broadcast output shape: the engine sums them down to the input shape.
    static func backward(_ node: GradNode, _ g: Tensor) -> [Tensor?] {
        let s = node.savedTensors()
        let inputShape = node.inputs.first?.shape ?? []
        switch node.rule {
        case .add: return [g, g]
        case .sub: return [g, -g]
        case .mul:
            return [node.needsGradient(0) ? g * s[1] : nil, node.needsGradient(1) ? g * s[0] : nil]
        case .div:
            let (a, b) = (s[0], s[1])
            return [node.needsGradient(0) ? g / b : nil, node.needsGradient(1) ? -g * a / (b * b) : nil]
        case .neg: return [-g]
        case .pow:
            let (a, b, out) = (s[0], s[1], s[2])
            // d/da aᵇ = b·aᵇ⁻¹, taken as 0 where b = 0 (as PyTorch; 0·0⁻¹ would be NaN).
            let da = node.needsGradient(0) ? g * Tensor.where(b.ne(0), b * a.pow(b - 1), 0) : nil
            var db: Tensor? = nil
            if node.needsGradient(1) {
                // d/db aᵇ = aᵇ·log a, taken as 0 where a = 0 (the limit for b > 0).
                let safeLog = log(Tensor.where(a.eq(0), Tensor.onesLike(a), a))
                db = g * out * safeLog
            }
            return [da, db]
        case .powScalar(let p):
            if p == 0 { return [Tensor.zerosLike(g)] }
            return [g * p * s[0].pow(p - 1)]
        case .remainder:
            return [g, -g * noGrad { s[0].floorDivide(s[1]) }]
        case .where:
            let condition = s[0]
            let zero = Tensor.zerosLike(g)
            return [Tensor.where(condition, g, zero), Tensor.where(condition, zero, g)]
        case .maximum, .minimum:
            let (a, b) = (s[0], s[1])
            let isMax: Bool
            if case .maximum = node.rule { isMax = true } else { isMax = false }
            let (winsA, ties) = noGrad { ((isMax ? a.gt(b) : a.lt(b)).to(g.dtype), a.eq(b).to(g.dtype)) }
            let shareA = winsA + ties * 0.5
            return [g * shareA, g * (1 - shareA)]
        case .atan2:
            let (y, x) = (s[0], s[1])
            let denominator = x * x + y * y
            return [g * x / denominator, -g * y / denominator]
        case .abs: return [g * sign(s[0])]
        case .sqrt: return [g / (s[0] * 2)]
        case .exp: return [g * s[0]]
        case .log: return [g / s[0]]
        case .square: return [g * s[0] * 2]
        case .clamp(let low, let high):
            let x = s[0]
            var inside = Tensor.onesLike(x, dtype: .bool)
            if let low { inside = inside .& x.ge(low) }
            if let high { inside = inside .& x.le(high) }
            return [Tensor.where(inside, g, Tensor.zerosLike(g))]
        case .zeroGradient: return [Tensor.zerosLike(g)]
        case .log1p: return [g / (s[0] + 1)]
        case .expm1: return [g * (s[0] + 1)]
        case .rsqrt: return [g * s[0] * s[0] * s[0] * -0.5]
        case .reciprocal: return [-g * s[0] * s[0]]
        case .sin: return [g * cos(s[0])]
        case .cos: return [-g * sin(s[0])]
        case .tan: return [g * (s[0] * s[0] + 1)]
        case .asin: return [g / (1 - s[0] * s[0]).sqrt()]
        case .acos: return [-g / (1 - s[0] * s[0]).sqrt()]
        case .atan: return [g / (s[0] * s[0] + 1)]
        case .sinh: return [g * cosh(s[0])]
        case .cosh: return [g * sinh(s[0])]
        case .tanh: return [g * (1 - s[0] * s[0])]
        case .erf: return [g * (-(s[0] * s[0])).exp() * (2 / Double.pi.squareRoot())]
        case .relu: return [Tensor.where(s[0].gt(0), g, Tensor.zerosLike(g))]
        case .sigmoid: return [g * s[0] * (1 - s[0])]
        case .gelu:
            let x = s[0]
            // One fused kernel when the backward pass itself is not recorded.
            if !GradMode.isEnabled && g.dtype == x.dtype && g.shape == x.shape {
                return [Tensor.elementwise(.geluBackward, x, g, name: "gelu_backward")]
            }
            let cdf = (erf(x * (1 / 2.0.squareRoot())) + 1) * 0.5
            let pdf = (x * x * -0.5).exp() * (1 / (2 * Double.pi).squareRoot())
            return [g * (cdf + x * pdf)]
        case .geluTanh:
            let x = s[0]
            let k = (2 / Double.pi).squareRoot(), c = 0.044715
            let t = tanh((x + x * x * x * c) * k)
            let derivative = (t + 1) * 0.5 + x * 0.5 * (1 - t * t) * k * (x * x * (3 * c) + 1)
            return [g * derivative]
        case .silu:
            let x = s[0]
            let sig = sigmoid(x)
            return [g * sig * (x * (1 - sig) + 1)]
        case .softplus(let beta, let threshold):
            let x = s[0]
            let scaled = x * beta
            return [Tensor.where(scaled.gt(threshold), g, g * sigmoid(scaled))]
        case .leakyRelu(let slope):
            return [Tensor.where(s[0].gt(0), g, g * slope)]
        case .elu(let alpha):
            let (x, out) = (s[0], s[1])
            return [Tensor.where(x.gt(0), g, g * (out + alpha))]
        case .softmax(let dim):
            let out = s[0]
            return [out * (g - (g * out).sum(dim: dim, keepDim: true))]
        case .lstmCell:
            let gates = s[0], cell = s[1], activations = s[2]
            if !GradMode.isEnabled {
                // One fused pass when the backward pass itself is not recorded.
                let grad = g.to(activations.dtype).contiguous()
                let gatesGradient = Tensor(uninitializedShape: gates.shape, dtype: activations.dtype, device: gates.device)
                let cellGradient = Tensor(uninitializedShape: cell.shape, dtype: activations.dtype, device: gates.device)
                gates.device.backend.lstmCellBackward(grad, carried: nil, activations: activations, cell: cell.contiguous(),
                                                      gatesGradient: gatesGradient, cellGradient: cellGradient, biasGradient: nil)
                return [gatesGradient, cellGradient]
            }
            // Recorded (createGraph): the same formulas in differentiable ops of the inputs.
            let (gatesGradient, cellGradient) = lstmCellGradients(gates: gates, cell: cell, grad: g)
            return [gatesGradient, cellGradient]
        case .lstmLayer(let reverse, let hasBiasIH, let hasBiasHH):
            let (input, hidden, cell, weightIH, weightHH) = (s[0], s[1], s[2], s[3], s[4])
            // Inputs 5 and 6 are the biases present, in the order b_ih, b_hh.
            let biasIndices = Array(5..<(5 + (hasBiasIH ? 1 : 0) + (hasBiasHH ? 1 : 0)))
            let biasIH = hasBiasIH ? s[5] : nil, biasHH = hasBiasHH ? s[biasIndices.last!] : nil
            let (activations, states) = (s[s.count - 2], s[s.count - 1])
            if !GradMode.isEnabled {
                // One pass over the steps when the backward pass itself is not recorded.
                let kernel = LSTMLayerKernel(input: input, hidden: hidden, cell: cell, weightIH: weightIH,
                                             weightHH: weightHH, reverse: reverse)
                let needs = LSTMLayerKernel.Needs(input: node.needsGradient(0), hidden: node.needsGradient(1),
                                                  cell: node.needsGradient(2), weightIH: node.needsGradient(3),
                                                  weightHH: node.needsGradient(4),
                                                  bias: biasIndices.contains { node.needsGradient($0) })
                let r = kernel.backward(g.to(input.dtype), states: states, activations: activations, needs: needs)
                // Both biases get Σ dgates; the second a copy of its own.
                return [r.input, r.hidden, r.cell, r.weightIH, r.weightHH]
                    + biasIndices.enumerated().map { k, index in node.needsGradient(index) ? (k == 0 ? r.bias : r.bias?.clone()) : nil }
            }
            // Recorded (createGraph): backpropagation through time in differentiable ops of
            // the inputs, on the layer recomputed step by step.
            let projected = input.linear(weight: weightIH, bias: biasIH)
            let gradients = lstmLayerGradients(projected: projected, hidden: hidden, cell: cell, weight: weightHH,
                                               bias: biasHH, reverse: reverse, grad: g)
            let projectedGradient = gradients[0]!
            let rows = projectedGradient.reshape([-1, projectedGradient.shape[2]])
            let biasGradient = rows.sum(dim: 0)
            return [projectedGradient.matmul(weightIH), gradients[1], gradients[2],
                    rows.t().matmul(input.reshape([-1, input.shape[2]])), gradients[3]]
                + biasIndices.map { _ in biasGradient }
        case .normalizeLastDims(let count, let eps):
            let x = s[0], mean = s[1], rstd = s[2]
            let columns = x.shape.suffix(count).reduce(1, *)
            if !GradMode.isEnabled {
                // One fused pass per row when the backward pass itself is not recorded.
                let computeType = mean.dtype
                let input = x.to(computeType).contiguous(), grad = g.to(computeType).contiguous()
                let out = Tensor(uninitializedShape: x.shape, dtype: computeType, device: x.device)
                x.device.backend.normalizeRowsBackward(input, grad, mean: mean, rstd: rstd, columns: columns, into: out)
                return [out]
            }
            // Recorded (createGraph): the same formula in differentiable ops of x.
            let dims = Array((x.rank - count)..<x.rank)
            let centered = x - x.mean(dims: dims, keepDim: true)
            let scale = rsqrt((centered * centered).mean(dims: dims, keepDim: true) + eps)
            let xhat = centered * scale
            let gx = g.to(x.dtype)
            return [scale * (gx - gx.mean(dims: dims, keepDim: true) - xhat * (gx * xhat).mean(dims: dims, keepDim: true))]
        case .logSoftmax(let dim):
            let out = s[0]
            return [g - out.exp() * g.sum(dim: dim, keepDim: true)]
        case .toDType: return [g.to(node.inputs[0].dtype)]
        case .toDevice(let device): return [g.to(device)]
        case .identity: return [g]
        case .reshape: return [g.reshape(inputShape)]
        case .permute(let order):
            var inverse = [Int](repeating: 0, count: order.count)
            for (i, d) in order.enumerated() { inverse[d] = i }
            return [g.permute(inverse)]
        case .expand: return [g]
        case .slice(let dim, let start, let step):
            return [g.sliceScatter(into: inputShape, dim: dim, start: start, step: step)]
        case .select(let dim, let index):
            return [g.unsqueeze(dim).sliceScatter(into: inputShape, dim: dim, start: index, step: 1)]
        case .sliceScatter(let dim, let start, let step):
            let length = node.inputs[0].shape[dim]
            return [g.slice(dim: dim, start: start, end: start + (length - 1) * step + 1, step: step)]
        case .cat(let dim, let sizes): return g.split(sizes: sizes, dim: dim)
        case .flip(let dims): return [g.flip(dims)]
        case .roll(let shifts, let dims): return [g.roll(shifts.map { -$0 }, dims: dims)]
        case .tril(let k): return [g.tril(k)]
        case .triu(let k): return [g.triu(k)]
        case .padConstant(let pads):
            var result = g
            for pair in 0..<(pads.count / 2) {
                let dim = g.rank - 1 - pair
                result = result.narrow(dim: dim, start: pads[2 * pair], length: inputShape[dim])
            }
            return [result]
        case .sum(let recordedDims, let keepDim):
            let dims = recordedDims.isEmpty ? Array(0..<inputShape.count) : recordedDims
            let kept = keepDim ? g : g.reshape(keepShape(inputShape, dims))
            return [kept.expand(inputShape)]
        case .prod(let dims, let keepDim):
            let (x, out) = (s[0], s[1])
            let gk = keepDim ? g : g.reshape(keepShape(inputShape, dims))
            let outK = keepDim ? out : out.reshape(keepShape(inputShape, dims))
            let hasZero = noGrad { x.eq(0).any().item(Bool.self) }
            if !hasZero { return [gk * outK / x] }
            // With zeros, the product of the other elements is computed directly.
            let others = noGrad { productOfOthers(x, dims: dims) }
            return [gk * others]
        case .extremum(let dims, let keepDim):
            let (x, out) = (s[0], s[1])
            let gk = keepDim ? g : g.reshape(keepShape(inputShape, dims))
            let outK = keepDim ? out : out.reshape(keepShape(inputShape, dims))
            let mask = noGrad { x.eq(outK).to(g.dtype) }
            return [gk * mask / mask.sum(dims: dims, keepDim: true)]
        case .norm2(let dims, let keepDim):
            let (x, out) = (s[0], s[1])
            let gk = keepDim ? g : g.reshape(keepShape(inputShape, dims))
            let outK = keepDim ? out : out.reshape(keepShape(inputShape, dims))
            let zero = noGrad { outK.eq(0) }
            let safe = Tensor.where(zero, Tensor.onesLike(outK), outK)
            return [Tensor.where(zero, Tensor.zerosLike(x), gk * x / safe)]
        case .cumsum(let dim): return [g.flip([dim]).cumsum(dim: dim).flip([dim])]
        case .cumprod(let dim):
            let (x, out) = (s[0], s[1])
            let hasZero = noGrad { x.eq(0).any().item(Bool.self) }
            // d out_j / d x_i = out_j / x_i for j ≥ i: a reversed running sum of g·out, over x.
            if !hasZero { return [(g * out).flip([dim]).cumsum(dim: dim).flip([dim]) / x] }
            return [noGrad { cumprodBackwardWithZeros(x, g, dim: dim) }]
        case .matmul: return matmulBackward(node, g, s[0], s[1])
        case .linear:
            // y = x·Wᵀ + b: dx = g·W, dW = gᵀ·x (already [out, in]), db = Σ g over rows.
            let (x, w) = (s[0], s[1])
            let rows = g.reshape([-1, w.shape[0]])
            return [node.needsGradient(0) ? g.matmul(w) : nil,
                    node.needsGradient(1) ? rows.t().matmul(x.reshape([-1, w.shape[1]])) : nil,
                    node.inputs.count == 3 && node.needsGradient(2) ? rows.sum(dim: 0) : nil]
        case .gather(let dim):
            return [Tensor.zeros(inputShape, dtype: g.dtype, device: g.device).scatterAdd(dim: dim, index: s[0], source: g)]
        case .scatter(let dim):
            let index = s[0]
            return [g.scatter(dim: dim, index: index, value: 0), node.needsGradient(1) ? g.gather(dim: dim, index: index) : nil]
        case .scatterAdd(let dim):
            return [g, node.needsGradient(1) ? g.gather(dim: dim, index: s[0]) : nil]
        case .maskedFill:
            return [Tensor.where(s[0], Tensor.zerosLike(g), g)]
        case .convolution(let geometry):
            let (x, w) = (s[0], s[1])
            return [node.needsGradient(0) ? convolutionInputGradient(g, weight: w, geometry, inputShape: x.shape) : nil,
                    node.needsGradient(1) ? convolutionWeightGradient(g, input: x, geometry, weightShape: w.shape) : nil,
                    node.inputs.count > 2 && node.needsGradient(2) ? g.sum(dims: [0] + Array(2..<g.rank)) : nil]
        case .convolutionBackwardInput(let geometry):
            // out = convᵀ(gy, w): linear in each operand.
            let (gy, w) = (s[0], s[1])
            return [node.needsGradient(0) ? convolutionForward(g, w, nil, geometry) : nil,
                    node.needsGradient(1) ? convolutionWeightGradient(gy, input: g, geometry, weightShape: w.shape) : nil]
        case .convolutionBackwardWeight(let geometry):
            let (gy, x) = (s[0], s[1])
            return [node.needsGradient(0) ? convolutionForward(x, g, nil, geometry) : nil,
                    node.needsGradient(1) ? convolutionInputGradient(gy, weight: g, geometry, inputShape: x.shape) : nil]
        case .maxPool:
            return [maxPoolInputGradient(g, indices: s[0], inputShape: inputShape)]
        case .maxPoolBackward:
            let indices = s[0]
            return [g.flatten(startDim: 2).gather(dim: 2, index: indices.flatten(startDim: 2)).reshape(indices.shape)]
        case .avgPool(let geometry):
            return [avgPoolInputGradient(g, geometry, inputShape: inputShape)]
        case .avgPoolBackward(let geometry):
            return [avgPoolForward(g, geometry, outputShape: inputShape)]
        case .custom(let record):
            return record.backward(s, g)
        }
    }

    /// `shape` with the reduced `dims` set to 1.
    static func keepShape(_ shape: [Int], _ dims: [Int]) -> [Int] {
        var kept = shape
        for d in dims { kept[d] = 1 }
        return kept
    }

    /// For each element, the product of the other elements in its reduction group
    /// (exact with zeros), via exclusive running products from both ends.
    static func productOfOthers(_ x: Tensor, dims: [Int]) -> Tensor {
        // Move reduced dims last and flatten them into one.
        let kept = (0..<x.rank).filter { !dims.contains($0) }
        let order = kept + dims
        let permuted = x.permute(order).contiguous()
        let groupSize = dims.reduce(1) { $0 * x.shape[$1] }
        let flat = permuted.reshape([-1, groupSize])
        let ones = Tensor.onesLike(flat.narrow(dim: 1, start: 0, length: 1))
        let left = Tensor.cat([ones, flat.narrow(dim: 1, start: 0, length: groupSize - 1)], dim: 1).cumprod(dim: 1)
        let reversed = flat.flip([1])
        let right = Tensor.cat([ones, reversed.narrow(dim: 1, start: 0, length: groupSize - 1)], dim: 1).cumprod(dim: 1).flip([1])
        var inverse = [Int](repeating: 0, count: order.count)
        for (i, d) in order.enumerated() { inverse[d] = i }
        return (left * right).reshape(permuted.shape).permute(inverse)
    }

    /// The gradient of `x.cumprod(dim:)` when `x` holds zeros: for each position i, the
    /// running product with `x_i` replaced by 1 gives `d out_j / d x_i` for j ≥ i.
    static func cumprodBackwardWithZeros(_ x: Tensor, _ g: Tensor, dim: Int) -> Tensor {
        let n = x.shape[dim]
        guard n > 0 else { return Tensor.zerosLike(x) }
        let pieces = (0..<n).map { i -> Tensor in
            var parts: [Tensor] = []
            if i > 0 { parts.append(x.narrow(dim: dim, start: 0, length: i)) }
            parts.append(Tensor.onesLike(x.narrow(dim: dim, start: i, length: 1)))
            if i + 1 < n { parts.append(x.narrow(dim: dim, start: i + 1, length: n - i - 1)) }
            let others = Tensor.cat(parts, dim: dim).cumprod(dim: dim)
            return (g * others).narrow(dim: dim, start: i, length: n - i).sum(dim: dim, keepDim: true)
        }
        return Tensor.cat(pieces, dim: dim)
    }

    /// Gradients of `a.matmul(b)`, handling 1-D operands; broadcast batch dims are
    /// summed away by the engine.
    static func matmulBackward(_ node: GradNode, _ g: Tensor, _ a: Tensor, _ b: Tensor) -> [Tensor?] {
        if a.rank == 1 && b.rank == 2 {
            // Vector · matrix: da = g·bᵀ, db = a ⊗ g.
            return [node.needsGradient(0) ? g.matmul(b.t()) : nil, node.needsGradient(1) ? a.outer(g) : nil]
        }
        let a2 = a.rank == 1 ? a.unsqueeze(0) : a
        let b2 = b.rank == 1 ? b.unsqueeze(1) : b
        var g2 = g
        if a.rank == 1 { g2 = g2.unsqueeze(b.rank == 1 ? 0 : g2.rank - 1) }
        if b.rank == 1 { g2 = g2.unsqueeze(g2.rank) }
        var da: Tensor? = nil, db: Tensor? = nil
        if node.needsGradient(0) {
            var r = g2.matmul(b2.transpose(-1, -2))
            if a.rank == 1 { r = r.squeeze(dim: -2) }
            da = r
        }
        if node.needsGradient(1) {
            var r = a2.transpose(-1, -2).matmul(g2)
            if b.rank == 1 { r = r.squeeze(dim: -1) }
            db = r
        }
        return [da, db]
    }
}

extension Derivatives {
    /// The gradients of `lstmCellUpdate` with respect to its gates `[B, 4H]` and previous cell
    /// `[B, H]`, for the gradient `grad` `[B, 2H]` of `[h' | c']`, in differentiable ops.
    static func lstmCellGradients(gates: Tensor, cell: Tensor, grad g: Tensor) -> (gates: Tensor, cell: Tensor) {
        let h = cell.shape[1]
        let parts = gates.chunk(4, dim: 1)
        let i = sigmoid(parts[0]), f = sigmoid(parts[1]), cg = tanh(parts[2]), o = sigmoid(parts[3])
        let t = tanh(f * cell + i * cg)
        let dh = g.narrow(dim: 1, start: 0, length: h)
        let dc = g.narrow(dim: 1, start: h, length: h) + dh * o * (1 - t * t)
        let gatesGradient = Tensor.cat([dc * cg * i * (1 - i), dc * cell * f * (1 - f),
                                        dc * i * (1 - cg * cg), dh * t * o * (1 - o)], dim: 1)
        return (gatesGradient, dc * f)
    }

    /// The gradients of `lstmLayerStepByStep` (projected, h₀, c₀, W_hh and, with a bias, b_hh)
    /// for the gradient `grad` `[T, B, 2H]` of its states, in differentiable ops of the inputs.
    static func lstmLayerGradients(projected: Tensor, hidden: Tensor, cell: Tensor, weight: Tensor, bias: Tensor?,
                                   reverse: Bool, grad g: Tensor) -> [Tensor?] {
        let steps = projected.shape[0], width = hidden.shape[1]
        let order = reverse ? Array((0..<steps).reversed()) : Array(0..<steps)
        // The forward pass again, keeping each step's gates and entering states.
        var (h, c) = (hidden, cell)
        var gates = [Tensor?](repeating: nil, count: steps)
        var hiddenBefore = gates, cellBefore = gates
        for t in order {
            hiddenBefore[t] = h
            cellBefore[t] = c
            gates[t] = projected.select(dim: 0, index: t) + h.linear(weight: weight, bias: bias)
            (h, c) = lstmCellUpdate(gates: gates[t]!, cell: c)
        }
        var dh = Tensor.zerosLike(hidden), dc = Tensor.zerosLike(cell)
        var gatesGradients = [Tensor?](repeating: nil, count: steps)
        var weightGradient: Tensor? = nil
        for t in order.reversed() {
            let stepGrad = g.select(dim: 0, index: t)
            let incoming = Tensor.cat([stepGrad.narrow(dim: 1, start: 0, length: width) + dh,
                                       stepGrad.narrow(dim: 1, start: width, length: width) + dc], dim: 1)
            let (gatesGradient, cellGradient) = lstmCellGradients(gates: gates[t]!, cell: cellBefore[t]!, grad: incoming)
            gatesGradients[t] = gatesGradient
            dh = gatesGradient.matmul(weight)
            dc = cellGradient
            let term = gatesGradient.t().matmul(hiddenBefore[t]!)
            weightGradient = weightGradient.map { $0 + term } ?? term
        }
        let projectedGradient = Tensor.stack(gatesGradients.map { $0! }, dim: 0)
        return [projectedGradient, dh, dc, weightGradient] + (bias == nil ? [] : [projectedGradient.sum(dims: [0, 1])])
    }
}
