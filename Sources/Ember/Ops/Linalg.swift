// Matrix products: matmul (NumPy rules), mm, bmm, dot, outer, einsum.
import Foundation

extension Tensor {
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
        let a2 = a.rank == 1 ? computeA.rawView([1, k], [0, computeA.strides[0]]) : computeA
        let b2 = b.rank == 1 ? computeB.rawView([k, 1], [computeB.strides[0], 0]) : computeB
        let m = a2.shape[a2.rank - 2], n = b2.shape[b2.rank - 1]
        let batch = broadcastShapes(Array(a2.shape.dropLast(2)), Array(b2.shape.dropLast(2)), op: "matmul")
        let batchCount = batch.reduce(1, *)

        let a3: Tensor, b3: Tensor, rows: Int
        if b2.rank == 2, let folded = a2.mergingLeadingDims(a2.rank - 1) {
            // [..., M, K] · [K, N]: fold the batch into the rows of one product.
            a3 = folded.rawView([1] + folded.shape, [0] + folded.strides)
            b3 = b2.rawView([1, k, n], [0, b2.strides[0], b2.strides[1]])
            rows = batchCount * m
        } else {
            let wideA = a2.broadcastView(to: batch + [m, k]), wideB = b2.broadcastView(to: batch + [k, n])
            a3 = wideA.mergingLeadingDims(batch.count) ?? wideA.contiguousRaw().mergingLeadingDims(batch.count)!
            b3 = wideB.mergingLeadingDims(batch.count) ?? wideB.contiguousRaw().mergingLeadingDims(batch.count)!
            rows = m
        }
        let out3 = Tensor(uninitializedShape: [a3.shape[0], rows, n], dtype: a3.dtype, device: a.device)
        a.device.backend.matmul(a3, b3, into: out3)
        var outShape = batch
        if a.rank > 1 { outShape.append(m) }
        if b.rank > 1 { outShape.append(n) }
        let out = Tensor(adopting: out3, shape: outShape)
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
