// Recognising the ops `layerNorm` runs in a trace (`normalizeLastDims`, then the optional
// scale and shift), so they are written as one ONNX LayerNormalization node (opset 17).
import Ember

/// A run of consecutive traced ops computing layer normalisation: `normalizeLastDims`
/// (`(x − mean)·rsqrt(var + ε)` over the last dimensions), then optionally `· γ` and `+ β`.
struct LayerNormMatch {
    /// Index of the first op (the normalisation) and of the last (the normalisation or the
    /// affine step).
    let first: Int, last: Int
    /// The first normalised dimension.
    let axis: Int
    /// ε.
    let epsilon: Double
    /// The index of the `· γ` op, if any (γ is its input 1).
    let scaleOp: Int?
    /// The index of the `+ β` op, if any (β is its input 1).
    let biasOp: Int?
}

extension GraphConverter {
    /// The layer-norm runs among the live operations, keyed by their first op's index.
    /// A run qualifies only when nothing outside it reads its intermediate values.
    func layerNormMatches(_ live: [Int]) -> [Int: LayerNormMatch] {
        let pattern = TracePattern(ops: primary.operations)
        var matches: [Int: LayerNormMatch] = [:]
        for start in live {
            guard let match = layerNorm(at: start, pattern) else { continue }
            if pattern.isSelfContained(match.first, match.last, live: live, output: primary.output) {
                matches[start] = match
            } else {
                // The normalised values are read elsewhere too: the scale and shift stay
                // separate nodes after a LayerNormalization without them.
                matches[start] = LayerNormMatch(first: match.first, last: match.first, axis: match.axis,
                                                epsilon: match.epsilon, scaleOp: nil, biasOp: nil)
            }
        }
        return matches
    }

    private func layerNorm(at i: Int, _ p: TracePattern) -> LayerNormMatch? {
        let ops = p.ops
        guard case .normalizeLastDims(let count, let epsilon) = ops[i].rule else { return nil }
        let x = ops[i].inputs[0], rank = x.rank
        guard x.dtype.isFloatingPoint else { return nil }
        let normalizedShape = Array(x.shape[(rank - count)...])
        /// Op `j` applies an affine parameter of the normalised shape (a leaf) to op `j − 1`.
        func affine(_ j: Int, _ test: (BackwardRule) -> Bool) -> Bool {
            p.rule(j, test) && p.reads(j, 0, j - 1) && p.isLeafOperand(j, 1)
                && ops[j].inputs[1].shape == normalizedShape && ops[j].output.shape == x.shape
        }
        var last = i
        var scaleOp: Int? = nil, biasOp: Int? = nil
        if affine(last + 1, TracePattern.isMul) { last += 1; scaleOp = last }
        if affine(last + 1, TracePattern.isAdd) { last += 1; biasOp = last }
        return LayerNormMatch(first: i, last: last, axis: rank - count, epsilon: epsilon, scaleOp: scaleOp, biasOp: biasOp)
    }

    /// Emits one LayerNormalization node for `match` and returns its output.
    func lowerLayerNorm(_ match: LayerNormMatch) throws -> String {
        let ops = primary.operations, twins = secondary?.operations
        let first = ops[match.first], x = first.inputs[0]
        let input = try inputOperand(first, twins?[match.first], 0)
        let scale: String
        if let j = match.scaleOp {
            scale = try inputOperand(ops[j], twins?[j], 1, as: x.dtype)
        } else {
            scale = builder.constant(Tensor.ones(Array(x.shape[match.axis...]), dtype: x.dtype))
        }
        var operands = [input, scale]
        if let j = match.biasOp { operands.append(try inputOperand(ops[j], twins?[j], 1, as: x.dtype)) }
        return builder.node("LayerNormalization", operands,
                            attributes: [.int("axis", match.axis), .float("epsilon", match.epsilon)])
    }
}
