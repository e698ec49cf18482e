// The errors ONNX export throws: each names the op (and module, when one owns an operand).

/// Why an ONNX export failed. Every case says what went wrong and where: the traced op
/// (its autograd node name, e.g. `CumsumBackward0`) and, when one of its operands is a
/// named parameter or buffer, the module that owns it.
///
/// ```swift
/// do { try ONNX.export(model, exampleInput: x, to: url) }
/// catch let error as ONNXExportError { print(error) }   // "ONNX export: unsupported op ..."
/// ```
public enum ONNXExportError: Error, CustomStringConvertible, Equatable {
    /// The traced computation uses an op that has no ONNX lowering yet.
    case unsupportedOperation(op: String, module: String?, detail: String)
    /// A value the output depends on was computed from the input outside autograd (an
    /// integer op, `noGrad`, `.item()`): it would be frozen into the graph as a constant.
    case inputDependentConstant(op: String, module: String?, detail: String)
    /// With `dynamicBatch`, a shape in the graph depends on the batch size in a way the
    /// exporter cannot express (more than one batch-dependent dimension in a reshape, an
    /// expand along the batch dimension, ...).
    case batchDependentShape(op: String, module: String?, detail: String)
    /// Tracing with two batch sizes ran different computations, so no single graph
    /// serves every batch size.
    case traceMismatch(detail: String)
    /// An argument of the export call is invalid (names, opset, example input).
    case invalidArgument(String)
    /// The model could not be written.
    case writeFailed(path: String, reason: String)

    /// A one-line message naming the op and module.
    public var description: String {
        func place(_ op: String, _ module: String?) -> String {
            module.map { "\(op) (in module '\($0)')" } ?? op
        }
        switch self {
        case .unsupportedOperation(let op, let module, let detail):
            return "ONNX export: unsupported op \(place(op, module)): \(detail)"
        case .inputDependentConstant(let op, let module, let detail):
            return "ONNX export: an operand of \(place(op, module)) depends on the input but was computed outside autograd, so it cannot be exported: \(detail)"
        case .batchDependentShape(let op, let module, let detail):
            return "ONNX export: \(place(op, module)) has a batch-dependent shape that cannot be made dynamic: \(detail) (export with dynamicBatch: false for a fixed batch size)"
        case .traceMismatch(let detail):
            return "ONNX export: the model runs different ops for different batch sizes: \(detail) (export with dynamicBatch: false for a fixed batch size)"
        case .invalidArgument(let detail):
            return "ONNX export: \(detail)"
        case .writeFailed(let path, let reason):
            return "ONNX export: cannot write \(path): \(reason)"
        }
    }
}
