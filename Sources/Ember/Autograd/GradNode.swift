// A node of the autograd graph: the backward rule of one op, its saved tensors and edges.

/// Where the gradient for one input of an op goes.
enum GradEdge {
    /// The input does not require a gradient.
    case none
    /// The input was produced by another recorded op.
    case node(GradNode)
    /// The input is a leaf that requires a gradient (accumulated into its `.grad`).
    case leaf(Tensor)
}

/// One input of a recorded op, as its node sees it.
struct GradInput {
    /// Where the input's gradient goes.
    let edge: GradEdge
    /// The input's shape and dtype; gradients are summed and cast to match.
    let shape: [Int]
    let dtype: DType
}

/// A tensor saved for backward, with the version it had when saved, so an in-place
/// change before backward is caught. An op's own output is kept without its graph link
/// (no reference cycle) and reattached when unpacked.
struct SavedTensor {
    let tensor: Tensor
    let version: Int
    let isOutput: Bool
}

/// One recorded operation in the autograd graph (`grad_fn` in PyTorch).
///
/// ```swift
/// let y = x * 2
/// y.gradFn?.name   // "MulBackward0"
/// ```
public final class GradNode {
    /// The backward rule to apply, with its non-tensor metadata.
    var rule: BackwardRule
    /// One entry per input of the forward op: where its gradient goes, and its shape and
    /// dtype, so gradients can be reduced and cast to match.
    let inputs: [GradInput]
    /// Tensors the rule needs.
    private var saved: [SavedTensor]
    /// False once backward ran without `retainGraph`.
    private(set) var isAlive = true
    /// Hooks registered on the op's output tensor (run on its incoming gradient).
    var outputHooks: [(id: Int, hook: (Tensor) -> Tensor?)] = []
    /// Non-leaf outputs that asked for `retainGrad()`.
    var retainedOutputs: [WeakTensor] = []
    /// Creation order; later nodes run first when several are ready.
    let sequence: Int

    // Scratch state of the backward pass walking this node; reset when the pass ends.
    /// Gradient of the output accumulated so far.
    var pendingGradient: Tensor?
    /// Edges from nodes still to run that point at this node.
    var waitingEdges = 0
    /// Reached by the current pass.
    var isVisited = false
    /// In the ready list of the current pass.
    var isQueued = false

    nonisolated(unsafe) private static var nextSequence = 0

    init(rule: BackwardRule, inputs: [Tensor], saved: [Tensor], output: Tensor?) {
        self.rule = rule
        self.inputs = inputs.map { input in
            let edge: GradEdge
            if let node = input.gradNode { edge = .node(node) } else { edge = input.requiresGradFlag ? .leaf(input) : .none }
            return GradInput(edge: edge, shape: input.shape, dtype: input.dtype)
        }
        var kept = [SavedTensor]()
        kept.reserveCapacity(saved.count + (output == nil ? 0 : 1))
        for tensor in saved { kept.append(SavedTensor(tensor: tensor, version: tensor.version, isOutput: false)) }
        self.saved = kept
        if let output {
            // Keep the output's data only, not its link to this node.
            let alias = Tensor(storage: output.storage, shape: output.shape, strides: output.strides,
                               offset: output.offset, dtype: output.dtype)
            self.saved.append(SavedTensor(tensor: alias, version: output.version, isOutput: true))
        }
        GradNode.nextSequence &+= 1
        self.sequence = GradNode.nextSequence
    }

    /// PyTorch's name for the node, such as `MulBackward0`.
    public var name: String { rule.name }

    /// True when input `index` needs a gradient.
    func needsGradient(_ index: Int) -> Bool {
        if case .none = inputs[index].edge { return false }
        return true
    }

    /// The saved tensors, checked against in-place changes since they were saved.
    func savedTensors() -> [Tensor] {
        precondition(isAlive, "backward: trying to backward through the graph a second time (or to use saved tensors after they were freed). Pass retainGraph: true to the first backward call if you need to.")
        return saved.map { entry in
            precondition(entry.tensor.version == entry.version,
                         "backward: one of the tensors needed for gradient computation has been modified by an in-place operation: a tensor of shape \(entry.tensor.shape) saved by \(name) is at version \(entry.tensor.version); expected version \(entry.version) instead.")
            if entry.isOutput {
                let output = Tensor(storage: entry.tensor.storage, shape: entry.tensor.shape,
                                    strides: entry.tensor.strides, offset: entry.tensor.offset, dtype: entry.tensor.dtype)
                output.gradNode = self
                output.requiresGradFlag = true
                return output
            }
            return entry.tensor
        }
    }

    /// Frees saved tensors after a backward pass that did not retain the graph.
    func release() {
        saved = []
        isAlive = false
    }
}

/// A weak reference to a tensor.
struct WeakTensor {
    weak var tensor: Tensor?
}
