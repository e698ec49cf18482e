// Recognising the ops `batchNorm` runs in evaluation mode in a trace, so they are written
// as one ONNX BatchNormalization node on the layer's named running statistics.
import Ember

/// A run of consecutive traced ops computing evaluation-mode batch normalisation:
/// `(x − reshape(μ)) · rsqrt(reshape(σ²) + ε)`, then optionally `· reshape(γ)` and
/// `+ reshape(β)`, with μ, σ², γ, β per-channel tensors no op produced.
struct BatchNormMatch {
    /// Index of the first op (the running mean's reshape) and of the last.
    let first: Int, last: Int
    /// ε.
    let epsilon: Double
    /// The reshapes of γ and β, if present (the tensor is their input 0).
    let scaleReshape: Int?, biasReshape: Int?
}

extension GraphConverter {
    /// The batch-norm runs among the live operations, keyed by their first op's index.
    func batchNormMatches(_ live: [Int]) -> [Int: BatchNormMatch] {
        let pattern = TracePattern(ops: primary.operations)
        var matches: [Int: BatchNormMatch] = [:]
        for start in live {
            if let match = batchNorm(at: start, pattern),
               pattern.isSelfContained(match.first, match.last, live: live, output: primary.output) {
                matches[start] = match
            }
        }
        return matches
    }

    private func batchNorm(at i: Int, _ p: TracePattern) -> BatchNormMatch? {
        let ops = p.ops
        /// Op `j` reshapes a per-channel leaf tensor of `channels` values to `[1, C, 1, ...]`.
        func channelReshape(_ j: Int, channels: Int?) -> Bool {
            guard p.rule(j, TracePattern.isReshape), p.isLeafOperand(j, 0) else { return false }
            let source = ops[j].inputs[0], shape = ops[j].output.shape
            guard source.rank == 1, shape.count >= 2, shape[1] == source.shape[0], shape.enumerated().allSatisfy({ $0.offset == 1 || $0.element == 1 })
            else { return false }
            return channels.map { $0 == source.shape[0] } ?? true
        }
        guard channelReshape(i, channels: nil), p.rule(i + 2, TracePattern.isSub) else { return nil }
        let x = ops[i + 2].inputs[0], channels = ops[i].inputs[0].shape[0]
        guard x.dtype.isFloatingPoint, x.rank == ops[i].output.rank, x.shape[1] == channels,
              channelReshape(i + 1, channels: channels), p.reads(i + 2, 1, i),
              p.rule(i + 3, TracePattern.isAdd), p.reads(i + 3, 0, i + 1), let epsilon = p.scalar(i + 3, 1),
              p.rule(i + 4, TracePattern.isRsqrt), p.reads(i + 4, 0, i + 3),
              p.rule(i + 5, TracePattern.isMul), p.reads(i + 5, 0, i + 2), p.reads(i + 5, 1, i + 4)
        else { return nil }
        // The affine step: γ and β are both reshaped before the multiply and the add.
        if channelReshape(i + 6, channels: channels), channelReshape(i + 7, channels: channels),
           p.rule(i + 8, TracePattern.isMul), p.reads(i + 8, 0, i + 5), p.reads(i + 8, 1, i + 6),
           p.rule(i + 9, TracePattern.isAdd), p.reads(i + 9, 0, i + 8), p.reads(i + 9, 1, i + 7) {
            return BatchNormMatch(first: i, last: i + 9, epsilon: epsilon, scaleReshape: i + 6, biasReshape: i + 7)
        }
        if channelReshape(i + 6, channels: channels), p.rule(i + 7, TracePattern.isMul), p.reads(i + 7, 0, i + 5), p.reads(i + 7, 1, i + 6) {
            return BatchNormMatch(first: i, last: i + 7, epsilon: epsilon, scaleReshape: i + 6, biasReshape: nil)
        }
        if channelReshape(i + 6, channels: channels), p.rule(i + 7, TracePattern.isAdd), p.reads(i + 7, 0, i + 5), p.reads(i + 7, 1, i + 6) {
            return BatchNormMatch(first: i, last: i + 7, epsilon: epsilon, scaleReshape: nil, biasReshape: i + 6)
        }
        return BatchNormMatch(first: i, last: i + 5, epsilon: epsilon, scaleReshape: nil, biasReshape: nil)
    }

    /// Emits one BatchNormalization node for `match` and returns its output.
    func lowerBatchNorm(_ match: BatchNormMatch) throws -> String {
        let ops = primary.operations, twins = secondary?.operations
        let sub = match.first + 2, x = ops[sub].inputs[0]
        let channels = ops[match.first].inputs[0].shape[0]
        /// The per-channel tensor reshaped by op `j`, as an initializer.
        func channelValue(_ j: Int) throws -> String { try inputOperand(ops[j], twins?[j], 0, as: x.dtype) }
        let input = try inputOperand(ops[sub], twins?[sub], 0)
        let scale = try match.scaleReshape.map(channelValue) ?? builder.constant(Tensor.ones([channels], dtype: x.dtype))
        let bias = try match.biasReshape.map(channelValue) ?? builder.constant(Tensor.zeros([channels], dtype: x.dtype))
        let mean = try channelValue(match.first), variance = try channelValue(match.first + 1)
        return builder.node("BatchNormalization", [input, scale, bias, mean, variance],
                            attributes: [.float("epsilon", match.epsilon)])
    }
}
