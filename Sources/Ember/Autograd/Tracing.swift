// Operation tracing: while a trace is active on a thread, every op that autograd records
// is also appended, with its tensors, to the trace (the hook that ONNX export builds on).
import CEmberRuntime

/// One operation seen while tracing: the op's backward rule (which names the primitive and
/// carries its non-tensor facts), its output and the tensors it read.
///
/// ```swift
/// let (_, ops) = traceOperations { relu(x * 2) }   // x requires grad
/// ops.map(\.rule.name)                             // ["MulBackward0", "ReluBackward0"]
/// ```
public struct TracedOperation {
    /// The primitive and its facts (dims, strides, geometry, ...).
    public let rule: BackwardRule
    /// The op's result.
    public let output: Tensor
    /// The autograd node recorded for the op: `output.gradFn` when the op ran. An in-place
    /// op later moves a tensor to a new node, so nodes, not tensors, name values.
    public let node: GradNode
    /// The op's differentiable operands, in the primitive's order.
    public let inputs: [Tensor]
    /// For each input, the node that produced it when the op ran (nil for a tensor that
    /// no recorded op produced: a leaf, a constant).
    public let inputNodes: [GradNode?]
    /// Tensors the op saved for backward; for index ops (`gather`, `where`, masked fills,
    /// max pooling) these hold the index, condition or mask operands.
    public let saved: [Tensor]
}

/// The per-thread list that `record` appends to while `traceOperations` runs.
final class OperationTrace {
    var operations: [TracedOperation] = []

    /// The trace active on this thread, if any.
    @inline(__always) static var current: OperationTrace? {
        guard let pointer = ember_active_trace() else { return nil }
        return Unmanaged<OperationTrace>.fromOpaque(pointer).takeUnretainedValue()
    }
}

/// Runs `body` with grad mode on and returns its value together with every operation that
/// autograd recorded on this thread meanwhile, in execution order.
///
/// The trace sees exactly what autograd sees: an op is recorded when one of its operands
/// requires grad, so make the inputs of interest require grad first (parameters already
/// do). Ops on tensors that need no gradient (integer tensors, buffers, work done under
/// `noGrad`) are not recorded; their results appear as operands with no producer.
/// Traces nest; an inner trace hides its operations from the outer one.
///
/// - Parameter body: the computation to trace.
/// - Returns: `body`'s result and the recorded operations.
///
/// ```swift
/// let input = example.detach().requiresGrad(true)
/// let (output, operations) = traceOperations { model(input) }
/// ```
public func traceOperations<R>(_ body: () throws -> R) rethrows -> (R, [TracedOperation]) {
    let trace = OperationTrace()
    let pointer = Unmanaged.passRetained(trace).toOpaque()
    let previous = ember_set_active_trace(pointer)
    defer {
        _ = ember_set_active_trace(previous)
        Unmanaged<OperationTrace>.fromOpaque(pointer).release()
    }
    let result = try enableGrad(body)
    return (result, trace.operations)
}
