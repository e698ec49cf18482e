// Matrix products: matmul (NumPy rules), mm, bmm, dot, outer, einsum.
import Foundation

/// An activation a linear layer can apply as it writes its output (a fused epilogue; see
/// `Tensor.linear(weight:bias:activation:)`).
public enum LinearActivation: Sendable {
    /// `max(x, 0)`.
    case relu
    /// The exact GELU, `x·Φ(x)`.
    case gelu
    /// GELU with the tanh approximation.
    case geluTanh

    /// The backend's elementwise op.
    var unaryOp: UnaryOp {
        switch self {
        case .relu: return .relu
        case .gelu: return .gelu
        case .geluTanh: return .geluTanh
        }
    }

    /// The activation as its own (recorded) op.
    func apply(_ x: Tensor) -> Tensor {
        switch self {
        case .relu: return Ember.relu(x)
        case .gelu: return Ember.gelu(x)
        case .geluTanh: return Ember.gelu(x, approximate: GELUApproximation.tanh)
        }
    }
}

extension Tensor {
    /// `self · weightᵀ + bias` over the last dimension, as one op (`torch.nn.functional.linear`):
    /// the weight is read transposed in place, the bias is added in the same output buffer,
    /// and the weight's gradient comes out directly in its own `[out, in]` layout.
    ///
    /// - Parameters:
    ///   - weight: `[out, in]`.
    ///   - bias: `[out]`, optional.
    ///
    /// ```swift
    /// let y = x.linear(weight: w, bias: b)   // x [32, 784], w [10, 784] → [32, 10]
    /// ```
    public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        linear(weight: weight, bias: bias, epilogue: nil)
    }

    /// `activation(self.linear(weight:bias:))`. Without autograd recording (inference,
    /// `noGrad`) the activation is applied as the product is written, in the same pass;
    /// while recording it is the usual separate, differentiable op.
    ///
    /// - Parameters:
    ///   - weight: `[out, in]`.
    ///   - bias: `[out]`, optional.
    ///   - activation: what to apply to every output element.
    ///
    /// ```swift
    /// let hidden = x.linear(weight: w1, bias: b1, activation: .gelu)   // gelu(x·w1ᵀ + b1)
    /// ```
    public func linear(weight: Tensor, bias: Tensor?, activation: LinearActivation) -> Tensor {
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        if shouldRecord(inputs) { return activation.apply(linear(weight: weight, bias: bias)) }
        return linear(weight: weight, bias: bias, epilogue: activation.unaryOp)
    }

    private func linear(weight: Tensor, bias: Tensor?, epilogue: UnaryOp?) -> Tensor {
        precondition(weight.rank == 2, "linear: weight must be 2-D [out, in], got shape \(weight.shape)")
        let inFeatures = weight.shape[1], outFeatures = weight.shape[0]
        precondition(rank >= 1 && shape[rank - 1] == inFeatures,
                     "linear: input of shape \(shape) has \(shape.last ?? 0) features, weight \(weight.shape) expects \(inFeatures)")
        if let bias {
            precondition(bias.shape == [outFeatures], "linear: bias has shape \(bias.shape), expected [\(outFeatures)]")
        }
        let fused = dtype == weight.dtype && (bias?.dtype ?? dtype) == dtype && dtype.computeType == dtype
            && dtype.isFloatingPoint && weight.device == device && (bias?.device ?? device) == device
        guard fused else {
            let product = matmul(weight.t())
            let out = bias.map { product + $0 } ?? product
            return epilogue.map { out.unaryOp($0, rule: nil) } ?? out
        }
        let rows2D = mergingLeadingDims(rank - 1) ?? contiguousRaw().mergingLeadingDims(rank - 1)!
        let left = MatrixBatch(tensor: rows2D, count: 1, batchStride: 0, rows: rows2D.shape[0], rowStride: rows2D.strides[0],
                               columns: inFeatures, columnStride: rows2D.strides[1])
        let right: MatrixBatch
        if rows2D.shape[0] <= TransposedWeightCache.maximumRows && device == .cpu && dtype == .float32
            && weight.count >= TransposedWeightCache.minimumElements && weight.strides == [inFeatures, 1],
           let transposed = TransposedWeightCache.shared.transposed(weight) {
            // Few rows, a weight in repeated use: multiply by a cached contiguous Wᵗ.
            right = MatrixBatch(tensor: transposed, count: 1, batchStride: 0, rows: inFeatures, rowStride: outFeatures,
                                columns: outFeatures, columnStride: 1)
        } else {
            right = MatrixBatch(tensor: weight, count: 1, batchStride: 0, rows: inFeatures, rowStride: weight.strides[1],
                                columns: outFeatures, columnStride: weight.strides[0])
        }
        let out = Tensor(uninitializedShape: Array(shape.dropLast()) + [outFeatures], dtype: dtype, device: device)
        device.backend.linear(left, right, bias: bias, activation: epilogue, into: out)
        let inputs = bias.map { [self, weight, $0] } ?? [self, weight]
        if shouldRecord(inputs) { record(out, .linear, inputs: inputs, saved: [self, weight]) }
        return out
    }

    /// Matrix product with NumPy/PyTorch rules: 1-D operands act as a row (left) or a
    /// column (right) vector and the added dimension is dropped; leading (batch)
    /// dimensions broadcast.
    ///
    /// ```swift
    /// let y = x.matmul(w)       // [32, 784] · [784, 10] → [32, 10]
    /// ```
    public func matmul(_ other: Tensor) -> Tensor {
        let out = Tensor.matmulRaw(self, other)
        if shouldRecord(self, other) { record(out, .matmul, inputs: [self, other], saved: [self, other]) }
        return out
    }

    /// 2-D matrix product (`torch.mm`).
    public func mm(_ other: Tensor) -> Tensor {
        precondition(rank == 2 && other.rank == 2, "mm: expects two 2-D tensors, got shapes \(shape) and \(other.shape)")
        return matmul(other)
    }

    /// Batched matrix product of two 3-D tensors (`torch.bmm`).
    public func bmm(_ other: Tensor) -> Tensor {
        precondition(rank == 3 && other.rank == 3 && shape[0] == other.shape[0],
                     "bmm: expects two 3-D tensors with the same batch size, got shapes \(shape) and \(other.shape)")
        return matmul(other)
    }

    /// Inner product of two 1-D tensors.
    public func dot(_ other: Tensor) -> Tensor {
        precondition(rank == 1 && other.rank == 1 && count == other.count,
                     "dot: expects two 1-D tensors of equal length, got shapes \(shape) and \(other.shape)")
        return matmul(other)
    }

    /// Outer product of two 1-D tensors: `out[i][j] = self[i] * other[j]`.
    public func outer(_ other: Tensor) -> Tensor {
        precondition(rank == 1 && other.rank == 1, "outer: expects two 1-D tensors, got shapes \(shape) and \(other.shape)")
        return unsqueeze(1) * other.unsqueeze(0)
    }

    /// Computes a matrix product without recording autograd.
    static func matmulRaw(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rank >= 1 && b.rank >= 1, "matmul: both arguments need at least 1 dimension, got shapes \(a.shape) and \(b.shape)")
        precondition(a.dtype == b.dtype, "matmul: expected both operands to have the same dtype, got \(a.dtype) and \(b.dtype)")
        precondition(a.device == b.device, "matmul: operands on different devices: \(a.device) and \(b.device)")
        let k = a.shape[a.rank - 1]
        let kb = b.rank == 1 ? b.shape[0] : b.shape[b.rank - 2]
        precondition(k == kb, "matmul: shapes \(a.shape) and \(b.shape) do not match: \(k) ≠ \(kb)")
        let computeA = a.computable, computeB = b.computable
        let n = b.rank == 1 ? 1 : b.shape[b.rank - 1]
        // A 1-D left operand is one row; a 1-D right operand is one column.
        func matrices(_ t: Tensor, vectorIsRow: Bool) -> MatrixBatch {
            if t.rank == 1 {
                return vectorIsRow
                    ? MatrixBatch(tensor: t, count: 1, batchStride: 0, rows: 1, rowStride: 0, columns: t.shape[0], columnStride: t.strides[0])
                    : MatrixBatch(tensor: t, count: 1, batchStride: 0, rows: t.shape[0], rowStride: t.strides[0], columns: 1, columnStride: 0)
            }
            let r = t.rank
            return MatrixBatch(tensor: t, count: 1, batchStride: 0, rows: t.shape[r - 2], rowStride: t.strides[r - 2],
                               columns: t.shape[r - 1], columnStride: t.strides[r - 1])
        }
        let batchA = a.rank > 2 ? Array(a.shape.dropLast(2)) : []
        let batchB = b.rank > 2 ? Array(b.shape.dropLast(2)) : []
        let batch = batchA == batchB ? batchA : broadcastShapes(batchA, batchB, op: "matmul")
        var outShape = batch
        if a.rank > 1 { outShape.append(a.shape[a.rank - 2]) }
        if b.rank > 1 { outShape.append(n) }
        let out = Tensor(uninitializedShape: outShape, dtype: computeA.dtype, device: a.device)

        var left = matrices(computeA, vectorIsRow: true), right = matrices(computeB, vectorIsRow: false)
        if b.rank <= 2, a.rank > 2, let folded = computeA.mergingLeadingDims(a.rank - 1) {
            // [..., M, K] · [K, N]: fold the batch into the rows of one product.
            left = MatrixBatch(tensor: folded, count: 1, batchStride: 0, rows: folded.shape[0], rowStride: folded.strides[0],
                               columns: k, columnStride: folded.strides[1])
        } else if !batch.isEmpty {
            // Broadcast both to the full batch and merge the batch dims into one.
            func batched(_ t: Tensor, _ single: MatrixBatch) -> MatrixBatch {
                let tail = [single.rows, single.columns]
                let wide = t.rank <= 2
                    ? t.rawView(batch + tail, [Int](repeating: 0, count: batch.count) + [single.rowStride, single.columnStride])
                    : t.broadcastView(to: batch + tail)
                let merged = wide.mergingLeadingDims(batch.count) ?? wide.contiguousRaw().mergingLeadingDims(batch.count)!
                return MatrixBatch(tensor: merged, count: merged.shape[0], batchStride: merged.strides[0],
                                   rows: single.rows, rowStride: merged.strides[1], columns: single.columns, columnStride: merged.strides[2])
            }
            left = batched(computeA, left)
            right = batched(computeB, right)
        }
        a.device.backend.matmul(left, right, into: out)
        return out.dtype == a.dtype ? out : noGrad { out.to(a.dtype) }
    }

    /// A raw view (no autograd) with the given shape and strides over this tensor's storage.
    func rawView(_ shape: [Int], _ strides: [Int]) -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }

    /// A contiguous copy without autograd.
    func contiguousRaw() -> Tensor {
        if isContiguous { return self }
        let out = Tensor(uninitializedShape: shape, dtype: dtype, device: device)
        device.backend.copy(self, into: out)
        return out
    }

    /// Merges the first `leading` dims into one, keeping the rest, as a raw view; nil
    /// when the strides do not allow it without a copy.
    func mergingLeadingDims(_ leading: Int) -> Tensor? {
        let lead = Array(shape[..<leading]), leadStrides = Array(strides[..<leading])
        var merged = 1, mergedStride = 0
        var ok = true
        // Walk from the innermost leading dim outwards, checking the layout is uniform.
        for i in stride(from: leading - 1, through: 0, by: -1) where lead[i] != 1 {
            if merged == 1 { mergedStride = leadStrides[i] } else if leadStrides[i] != mergedStride * merged { ok = false; break }
            merged *= lead[i]
        }
        guard ok else { return nil }
        let tail = Array(shape[leading...]), tailStrides = Array(strides[leading...])
        return rawView([merged] + tail, [mergedStride] + tailStrides)
    }
}

/// Einstein summation over one or two operands, e.g. `"ij,jk->ik"` (matrix product),
/// `"bij,bjk->bik"`, `"i,j->ij"`, `"ij->ji"`, `"ii->i"` is not supported. Indices that do
/// not appear in the output are summed. Built from permute, reshape, sum and matmul, so
/// it is differentiable.
///
/// ```swift
/// let y = einsum("bhqd,bhkd->bhqk", q, k)
/// ```
public func einsum(_ equation: String, _ operands: Tensor...) -> Tensor {
    let parts = equation.replacingOccurrences(of: " ", with: "").components(separatedBy: "->")
    let inputs = parts[0].components(separatedBy: ",").map { Array($0) }
    precondition(inputs.count == operands.count, "einsum: equation has \(inputs.count) operands, got \(operands.count) tensors")
    precondition((1...2).contains(operands.count), "einsum: supports one or two operands")
    for (spec, t) in zip(inputs, operands) {
        precondition(spec.count == t.rank, "einsum: operand spec '\(String(spec))' has \(spec.count) indices for a tensor of rank \(t.rank)")
        precondition(Set(spec).count == spec.count, "einsum: repeated index within one operand ('\(String(spec))') is not supported")
    }
    let output: [Character]
    if parts.count > 1 {
        output = Array(parts[1])
    } else {
        // Implicit output: indices that appear once, in alphabetical order.
        let all = inputs.flatMap { $0 }
        output = Array(Set(all.filter { c in all.filter { $0 == c }.count == 1 })).sorted()
    }

    /// Sums away indices of one operand that appear nowhere else.
    func reduceUnique(_ t: Tensor, _ spec: [Character], keep: Set<Character>) -> (Tensor, [Character]) {
        let drop = spec.indices.filter { !keep.contains(spec[$0]) }
        if drop.isEmpty { return (t, spec) }
        return (t.sum(dims: drop), spec.enumerated().filter { !drop.contains($0.offset) }.map(\.element))
    }

    if operands.count == 1 {
        let (t, spec) = reduceUnique(operands[0], inputs[0], keep: Set(output))
        return t.permute(output.map { spec.firstIndex(of: $0)! })
    }

    let (a, specA) = reduceUnique(operands[0], inputs[0], keep: Set(output).union(inputs[1]))
    let (b, specB) = reduceUnique(operands[1], inputs[1], keep: Set(output).union(inputs[0]))
    let batch = specA.filter { specB.contains($0) && output.contains($0) }
    let contracted = specA.filter { specB.contains($0) && !output.contains($0) }
    let leftOnly = specA.filter { !specB.contains($0) }
    let rightOnly = specB.filter { !specA.contains($0) }
    func size(_ c: Character) -> Int {
        if let i = specA.firstIndex(of: c) { return a.shape[i] }
        return b.shape[specB.firstIndex(of: c)!]
    }
    for c in batch + contracted {
        let sa = a.shape[specA.firstIndex(of: c)!], sb = b.shape[specB.firstIndex(of: c)!]
        precondition(sa == sb || sa == 1 || sb == 1, "einsum: index '\(c)' has size \(sa) in the first operand and \(sb) in the second")
    }
    let batchSizes = batch.map { max(a.shape[specA.firstIndex(of: $0)!], b.shape[specB.firstIndex(of: $0)!]) }
    let leftSize = leftOnly.map(size).reduce(1, *), rightSize = rightOnly.map(size).reduce(1, *)
    let contractedSize = contracted.map(size).reduce(1, *)
    let a3 = a.permute((batch + leftOnly + contracted).map { specA.firstIndex(of: $0)! })
        .expand(batchSizes + leftOnly.map(size) + contracted.map(size))
        .reshape(batchSizes + [leftSize, contractedSize])
    let b3 = b.permute((batch + contracted + rightOnly).map { specB.firstIndex(of: $0)! })
        .expand(batchSizes + contracted.map(size) + rightOnly.map(size))
        .reshape(batchSizes + [contractedSize, rightSize])
    let product = a3.matmul(b3).reshape(batchSizes + leftOnly.map(size) + rightOnly.map(size))
    let produced = batch + leftOnly + rightOnly
    precondition(Set(output).isSubset(of: Set(produced)), "einsum: output indices '\(String(output))' do not all appear in the inputs")
    return product.permute(output.map { produced.firstIndex(of: $0)! })
}
