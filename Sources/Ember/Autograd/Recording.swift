// Attaching a backward node to the result of an op.

/// True when an op on these inputs must be recorded for autograd.
@inline(__always) func shouldRecord(_ a: Tensor) -> Bool {
    a.requiresGradFlag && GradMode.isEnabled
}

/// True when an op on these inputs must be recorded for autograd.
@inline(__always) func shouldRecord(_ a: Tensor, _ b: Tensor) -> Bool {
    (a.requiresGradFlag || b.requiresGradFlag) && GradMode.isEnabled
}

/// True when an op on these inputs must be recorded for autograd.
@inline(__always) func shouldRecord(_ inputs: [Tensor]) -> Bool {
    GradMode.isEnabled && inputs.contains { $0.requiresGradFlag }
}

/// Records `output` as the result of `rule` applied to `inputs` (and appends the op to
/// this thread's operation trace while `traceOperations` runs).
///
/// - Parameters:
///   - saved: tensors the backward rule reads (version-checked at backward time).
///   - savesOutput: also save `output` itself (appended after `saved`).
func record(_ output: Tensor, _ rule: BackwardRule, inputs: [Tensor], saved: [Tensor] = [], savesOutput: Bool = false) {
    let trace = OperationTrace.current
    let inputNodes = trace == nil ? [] : inputs.map(\.gradNode)
    let node = GradNode(rule: rule, inputs: inputs, saved: saved, output: savesOutput ? output : nil)
    output.gradNode = node
    output.requiresGradFlag = true
    trace?.operations.append(TracedOperation(rule: rule, output: output, node: node, inputs: inputs,
                                             inputNodes: inputNodes, saved: saved))
}
