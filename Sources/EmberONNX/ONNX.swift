// The public entry points of ONNX export (`torch.onnx.export` for Ember): trace a module
// or a function on an example input and write the graph as an `.onnx` model.
import Ember
import EmberNN
import Foundation

/// ONNX export by tracing, like `torch.onnx.export`.
///
/// The model runs once on the example input (twice with `dynamicBatch`, the second time
/// on a batch one larger) while Ember records every op autograd sees
/// (`traceOperations`); each recorded primitive becomes ONNX nodes, parameters and
/// buffers become initializers under their `stateDict` names, and other tensors the
/// computation reads become constants. Modules are traced in evaluation mode (their
/// modes are restored afterwards), so dropout is the identity and batch norm uses its
/// running statistics.
///
/// Supported: linear layers (Gemm / MatMul), matrix products, 1-D and 2-D convolutions
/// and transposed convolutions, max and average pooling, layer norm (LayerNormalization),
/// batch norm in evaluation mode (BatchNormalization), the activations (ReLU, sigmoid, tanh, GELU, SiLU, leaky
/// ReLU, ELU, softplus, clamp / ReLU6), softmax and log-softmax, reshapes, flatten,
/// transposes, concatenation, slicing, elementwise arithmetic and math, reductions and
/// embeddings (Gather on int64 indices). Anything else throws
/// `ONNXExportError.unsupportedOperation` naming the op.
///
/// ```swift
/// let model = Sequential(Flatten(), Linear(784, 128), ReLU(), Linear(128, 10))
/// try ONNX.export(model, exampleInput: Tensor.randn([1, 1, 28, 28]),
///                 to: URL(fileURLWithPath: "mlp.onnx"))
/// ```
///
/// ### See Also
/// - ``ONNXExportError``
public enum ONNX {
    /// The opset written when none is asked for.
    public static let defaultOpset = 17
    /// The opsets export can write (17 through 21).
    public static let supportedOpsets: ClosedRange<Int> = 17...21

    /// Traces `model` on `exampleInput` and writes the ONNX model to `url` atomically
    /// (a temporary file renamed into place).
    ///
    /// - Parameters:
    ///   - model: the module to export; traced in evaluation mode, its modes restored after.
    ///   - exampleInput: an input of the shape and dtype the model takes; with
    ///     `dynamicBatch`, dimension 0 is the batch.
    ///   - url: where to write the `.onnx` file.
    ///   - inputNames: the graph input's name (one entry).
    ///   - outputNames: the graph output's name (one entry).
    ///   - dynamicBatch: make dimension 0 of the input symbolic (`"batch"`), so the model
    ///     runs on any batch size; otherwise every shape is fixed to the example's.
    ///   - opset: the ONNX opset version (``supportedOpsets``); 20 and newer use the
    ///     `Gelu` op, older ones write GELU with `Erf`.
    /// - Throws: ``ONNXExportError``.
    ///
    /// ```swift
    /// try ONNX.export(cnn, exampleInput: Tensor.randn([1, 1, 28, 28]), to: url,
    ///                 inputNames: ["image"], outputNames: ["logits"])
    /// ```
    public static func export(_ model: Module, exampleInput: Tensor, to url: URL,
                              inputNames: [String] = ["input"], outputNames: [String] = ["output"],
                              dynamicBatch: Bool = true, opset: Int = defaultOpset) throws {
        let data = try serializedModel(model, exampleInput: exampleInput, inputNames: inputNames,
                                       outputNames: outputNames, dynamicBatch: dynamicBatch, opset: opset)
        try write(data, to: url)
    }

    /// Traces `function` on `exampleInput` and writes the ONNX model to `url` atomically.
    /// Modules the function calls are traced in whatever mode they are in: call `eval()`
    /// on them first.
    ///
    /// - Parameters:
    ///   - function: the computation to export.
    ///   - exampleInput: an input of the shape and dtype `function` takes.
    ///   - namedTensors: tensors the function reads that should be initializers with these
    ///     names (its weights); other tensors it reads become anonymous constants.
    ///   - url: where to write the `.onnx` file.
    ///   - inputNames: the graph input's name (one entry).
    ///   - outputNames: the graph output's name (one entry).
    ///   - dynamicBatch: make dimension 0 of the input symbolic (`"batch"`).
    ///   - opset: the ONNX opset version (``supportedOpsets``).
    /// - Throws: ``ONNXExportError``.
    ///
    /// ```swift
    /// let w = Tensor.randn([4, 3])
    /// try ONNX.export({ relu($0.matmul(w)) }, exampleInput: Tensor.randn([2, 4]),
    ///                 namedTensors: [("w", w)], to: url)
    /// ```
    public static func export(_ function: (Tensor) -> Tensor, exampleInput: Tensor, namedTensors: [(String, Tensor)] = [],
                              to url: URL, inputNames: [String] = ["input"], outputNames: [String] = ["output"],
                              dynamicBatch: Bool = true, opset: Int = defaultOpset) throws {
        let data = try serializedModel(function, exampleInput: exampleInput, namedTensors: namedTensors,
                                       inputNames: inputNames, outputNames: outputNames,
                                       dynamicBatch: dynamicBatch, opset: opset)
        try write(data, to: url)
    }

    /// The serialized ONNX model (`ModelProto` bytes) of `model`, as ``export(_:exampleInput:to:inputNames:outputNames:dynamicBatch:opset:)``
    /// would write it.
    ///
    /// ```swift
    /// let bytes = try ONNX.serializedModel(model, exampleInput: x)
    /// ```
    public static func serializedModel(_ model: Module, exampleInput: Tensor,
                                       inputNames: [String] = ["input"], outputNames: [String] = ["output"],
                                       dynamicBatch: Bool = true, opset: Int = defaultOpset) throws -> Data {
        let modes = model.modules().map { ($0, $0.isTraining) }
        model.eval()
        defer { for (module, training) in modes { module.train(training) } }
        let named = model.namedParameters() + model.namedBuffers()
        return try serializedModel({ model($0) }, exampleInput: exampleInput, namedTensors: named,
                                   inputNames: inputNames, outputNames: outputNames,
                                   dynamicBatch: dynamicBatch, opset: opset)
    }

    /// The serialized ONNX model (`ModelProto` bytes) of `function`.
    ///
    /// ```swift
    /// let bytes = try ONNX.serializedModel({ softmax($0, dim: 1) }, exampleInput: x)
    /// ```
    public static func serializedModel(_ function: (Tensor) -> Tensor, exampleInput: Tensor,
                                       namedTensors: [(String, Tensor)] = [],
                                       inputNames: [String] = ["input"], outputNames: [String] = ["output"],
                                       dynamicBatch: Bool = true, opset: Int = defaultOpset) throws -> Data {
        let proto = try modelProto(function, exampleInput: exampleInput, namedTensors: namedTensors,
                                   inputNames: inputNames, outputNames: outputNames,
                                   dynamicBatch: dynamicBatch, opset: opset)
        return try proto.serializedBytes()
    }

    // MARK: Implementation

    /// Traces `function` and builds the `ModelProto`.
    static func modelProto(_ function: (Tensor) -> Tensor, exampleInput: Tensor, namedTensors: [(String, Tensor)],
                           inputNames: [String], outputNames: [String], dynamicBatch: Bool, opset: Int) throws -> Onnx_ModelProto {
        guard inputNames.count == 1, let inputName = inputNames.first, !inputName.isEmpty else {
            throw ONNXExportError.invalidArgument("expected exactly one non-empty input name, got \(inputNames)")
        }
        guard outputNames.count == 1, let outputName = outputNames.first, !outputName.isEmpty, outputName != inputName else {
            throw ONNXExportError.invalidArgument("expected exactly one non-empty output name different from the input's, got \(outputNames)")
        }
        guard supportedOpsets.contains(opset) else {
            throw ONNXExportError.invalidArgument("opset \(opset) is not supported; choose one of \(supportedOpsets.lowerBound)...\(supportedOpsets.upperBound)")
        }
        guard exampleInput.device == .cpu else {
            throw ONNXExportError.invalidArgument("the example input must be on the CPU, got \(exampleInput.device)")
        }
        if dynamicBatch {
            guard exampleInput.rank >= 1, exampleInput.shape[0] >= 1 else {
                throw ONNXExportError.invalidArgument("dynamicBatch needs an example input with a batch dimension of at least 1, got shape \(exampleInput.shape)")
            }
        }

        // Every floating-point leaf the function reads by name requires grad while tracing,
        // so that autograd (and the trace) records the ops that read it.
        let switched = namedTensors.map(\.1).filter { !$0.requiresGrad && $0.dtype.isFloatingPoint && $0.gradFn == nil }
        for tensor in switched { tensor.requiresGrad = true }
        defer { for tensor in switched { tensor.requiresGrad = false } }

        let primary = trace(function, on: exampleInput)
        let secondary = dynamicBatch ? trace(function, on: otherBatch(exampleInput)) : nil
        let converter = GraphConverter(primary: primary, secondary: secondary, namedTensors: namedTensors,
                                       opset: opset, inputName: inputName, outputName: outputName)
        var model = Onnx_ModelProto()
        model.irVersion = irVersion(forOpset: opset)
        model.producerName = "Ember"
        var opsetID = Onnx_OperatorSetIdProto()
        opsetID.domain = ""
        opsetID.version = Int64(opset)
        model.opsetImport = [opsetID]
        model.graph = try converter.convert()
        return model
    }

    /// Runs `function` on a fresh handle of `input` (requiring grad when it is a float
    /// tensor, so that every op reading it is recorded) and returns the trace.
    private static func trace(_ function: (Tensor) -> Tensor, on input: Tensor) -> TraceRun {
        let handle = input.detach()
        if handle.dtype.isFloatingPoint { handle.requiresGrad = true }
        let (output, operations) = traceOperations { function(handle) }
        return TraceRun(input: handle, output: output, operations: operations)
    }

    /// An input one sample larger than `input`, holding the same values in another
    /// order (so values computed from the input outside autograd change and are caught).
    private static func otherBatch(_ input: Tensor) -> Tensor {
        noGrad {
            let grown = Tensor.cat([input, input.narrow(dim: 0, start: 0, length: 1)], dim: 0)
            return grown.reshape([-1]).roll([1], dims: [0]).reshape(grown.shape).contiguous()
        }
    }

    /// The ONNX IR version that goes with `opset`.
    private static func irVersion(forOpset opset: Int) -> Int64 {
        switch opset {
        case ...18: return 8
        case 19...20: return 9
        default: return 10
        }
    }

    private static func write(_ data: Data, to url: URL) throws {
        do {
            try writeAtomically(data, to: url)
        } catch let error as FileWriteError {
            throw ONNXExportError.writeFailed(path: url.path, reason: error.reason)
        } catch {
            throw ONNXExportError.writeFailed(path: url.path, reason: "\(error)")
        }
    }
}
