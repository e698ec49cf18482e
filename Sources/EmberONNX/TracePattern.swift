// Questions about the shape of a traced op sequence, for recognising composite layers
// (layer norm, batch norm) that ONNX has single operators for.
import Ember

/// A view of a trace for pattern matching: which op read which, which operands are
/// constants, which rule ran.
struct TracePattern {
    let ops: [TracedOperation]

    /// True when input `k` of op `j` is the result of op `producer`.
    func reads(_ j: Int, _ k: Int, _ producer: Int) -> Bool {
        j < ops.count && k < ops[j].inputs.count && ops[j].inputNodes[k] === ops[producer].node
    }

    /// The value of input `k` of op `j` when it is a one-element tensor no op produced.
    func scalar(_ j: Int, _ k: Int) -> Double? {
        guard j < ops.count, k < ops[j].inputs.count, ops[j].inputNodes[k] == nil, ops[j].inputs[k].count == 1 else { return nil }
        return noGrad { ops[j].inputs[k].item(Double.self) }
    }

    /// True when input `k` of op `j` is a tensor no op produced (a parameter, buffer or constant).
    func isLeafOperand(_ j: Int, _ k: Int) -> Bool {
        j < ops.count && k < ops[j].inputs.count && ops[j].inputNodes[k] == nil
    }

    /// True when op `j` exists and its rule passes `test`.
    func rule(_ j: Int, _ test: (BackwardRule) -> Bool) -> Bool { j < ops.count && test(ops[j].rule) }

    static func isAdd(_ rule: BackwardRule) -> Bool { if case .add = rule { return true } else { return false } }
    static func isSub(_ rule: BackwardRule) -> Bool { if case .sub = rule { return true } else { return false } }
    static func isMul(_ rule: BackwardRule) -> Bool { if case .mul = rule { return true } else { return false } }
    static func isDiv(_ rule: BackwardRule) -> Bool { if case .div = rule { return true } else { return false } }
    static func isRsqrt(_ rule: BackwardRule) -> Bool { if case .rsqrt = rule { return true } else { return false } }
    static func isReshape(_ rule: BackwardRule) -> Bool { if case .reshape = rule { return true } else { return false } }

    /// True when no live op outside `first...last`, and not the graph's output, reads a
    /// value computed by the ops `first..<last`.
    func isSelfContained(_ first: Int, _ last: Int, live: [Int], output: Tensor) -> Bool {
        let intermediates = Set((first..<last).map { ObjectIdentifier(ops[$0].node) })
        if let node = output.gradFn, intermediates.contains(ObjectIdentifier(node)) { return false }
        return !live.contains { index in
            (index < first || index > last)
                && ops[index].inputNodes.contains { $0.map { intermediates.contains(ObjectIdentifier($0)) } ?? false }
        }
    }
}
