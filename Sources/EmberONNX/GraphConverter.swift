// Turns a traced computation into an ONNX graph: operand resolution (graph input,
// named initializers, views of them, constants), batch-dependent shapes, outputs.
import Ember
import Foundation

/// One traced run of the exported computation.
struct TraceRun {
    /// The tensor the computation was called on (the graph input).
    let input: Tensor
    /// Its result (the graph output).
    let output: Tensor
    /// The operations autograd recorded, in order.
    let operations: [TracedOperation]
}

/// Builds the ONNX graph of `primary`. With dynamic batch, `secondary` is the same
/// computation traced at another batch size: dimensions whose sizes differ between the
/// two runs are batch-dependent and are written so the graph computes them at run time.
final class GraphConverter {
    let primary: TraceRun
    let secondary: TraceRun?
    let opset: Int
    let builder = GraphBuilder()
    let inputName: String, outputName: String
    /// Parameter and buffer names by tensor identity.
    private let tensorNames: [ObjectIdentifier: String]
    /// Named tensors (and the graph input) by storage identity, for views of them.
    private let storageOwners: [ObjectIdentifier: [Tensor]]
    /// Tensors the converter made itself (views of operands), kept alive so that their
    /// identities stay unique while `values` refers to them.
    private var madeTensors: [Tensor] = []
    /// The ONNX value of each traced op's result, by the op's autograd node.
    private var nodeValues: [ObjectIdentifier: String] = [:]
    /// The ONNX value of each operand without a producer (input, initializers, constants).
    private var values: [ObjectIdentifier: String] = [:]
    /// The input's batch size as a graph value, once asked for.
    private var batchSizeValue: String?
    /// Casts already emitted, keyed by value name and dtype.
    private var casts: [String: String] = [:]
    /// The op being lowered, for error messages.
    private(set) var currentOp = ""
    private var currentModule: String?

    init(primary: TraceRun, secondary: TraceRun?, namedTensors: [(String, Tensor)], opset: Int,
         inputName: String, outputName: String) {
        self.primary = primary
        self.secondary = secondary
        self.opset = opset
        self.inputName = inputName
        self.outputName = outputName
        var names: [ObjectIdentifier: String] = [:]
        for (name, tensor) in namedTensors where names[ObjectIdentifier(tensor)] == nil {
            names[ObjectIdentifier(tensor)] = name
        }
        tensorNames = names
        var owners: [ObjectIdentifier: [Tensor]] = [:]
        for tensor in [primary.input] + namedTensors.map(\.1) where tensor.isContiguous {
            owners[ObjectIdentifier(tensor.storage), default: []].append(tensor)
        }
        storageOwners = owners
        builder.reserve(inputName)
        builder.reserve(outputName)
        values[ObjectIdentifier(primary.input)] = inputName
    }

    /// Keeps a tensor the converter derived from an operand alive for the conversion.
    func keep(_ tensor: Tensor) -> Tensor {
        madeTensors.append(tensor)
        return tensor
    }

    /// Converts the trace into a graph.
    func convert() throws -> Onnx_GraphProto {
        let operations = primary.operations
        if let secondary {
            guard secondary.operations.count == operations.count else {
                throw ONNXExportError.traceMismatch(detail: "\(operations.count) ops at batch size \(primary.input.shape[0]), \(secondary.operations.count) at batch size \(secondary.input.shape[0])")
            }
            for (a, b) in zip(operations, secondary.operations) where a.rule.name != b.rule.name || a.inputs.count != b.inputs.count {
                throw ONNXExportError.traceMismatch(detail: "\(a.rule.name) at batch size \(primary.input.shape[0]) where \(b.rule.name) ran at batch size \(secondary.input.shape[0])")
            }
        }
        let live = liveOperations()
        // Layer and batch norm are recognised by their op sequences and written as one node.
        let layerNorms = layerNormMatches(live), batchNorms = batchNormMatches(live)
        var skipUntil = -1
        for index in live where index > skipUntil {
            let op = operations[index]
            currentOp = op.rule.name
            currentModule = owningModule(of: op)
            if let match = layerNorms[index] {
                nodeValues[ObjectIdentifier(operations[match.last].node)] = try lowerLayerNorm(match)
                skipUntil = match.last
                continue
            }
            if let match = batchNorms[index] {
                currentModule = owningModule(of: operations[match.first])
                nodeValues[ObjectIdentifier(operations[match.last].node)] = try lowerBatchNorm(match)
                skipUntil = match.last
                continue
            }
            let result = try lower(op, secondary?.operations[index])
            nodeValues[ObjectIdentifier(op.node)] = result
        }
        currentOp = "output"
        currentModule = nil
        var result: String
        if let node = primary.output.gradFn, let value = nodeValues[ObjectIdentifier(node)] {
            result = value
        } else {
            result = try operand(primary.output, twin: secondary?.output)
        }
        if result == inputName || builder.initializers.contains(where: { $0.name == result }) {
            result = builder.node("Identity", [result])
        }
        builder.rename(result, to: outputName)
        builder.prune(keeping: [outputName])

        var graph = Onnx_GraphProto()
        graph.name = "ember"
        graph.node = builder.nodes
        graph.initializer = builder.initializers
        graph.input = [Onnx_ValueInfoProto(name: inputName, dtype: primary.input.dtype,
                                           dimensions: dimensions(primary.input, secondary?.input))]
        graph.output = [Onnx_ValueInfoProto(name: outputName, dtype: primary.output.dtype,
                                            dimensions: dimensions(primary.output, secondary?.output))]
        return graph
    }

    // MARK: Liveness

    /// Indices of the operations the output depends on, in order.
    private func liveOperations() -> [Int] {
        let operations = primary.operations
        var producers: [ObjectIdentifier: Int] = [:]
        for (index, op) in operations.enumerated() { producers[ObjectIdentifier(op.node)] = index }
        func producer(_ node: GradNode?) -> Int? { node.flatMap { producers[ObjectIdentifier($0)] } }
        var live = Set<Int>()
        var pending: [Int] = []
        if let last = producer(primary.output.gradFn) { pending.append(last) }
        while let index = pending.popLast() {
            guard live.insert(index).inserted else { continue }
            let op = operations[index]
            pending += (op.inputNodes + op.saved.map(\.gradFn)).compactMap(producer)
        }
        return live.sorted()
    }

    /// The module owning a named operand of `op` (`fc1` for `fc1.weight`), for messages.
    private func owningModule(of op: TracedOperation) -> String? {
        for tensor in op.inputs {
            if let name = tensorNames[ObjectIdentifier(tensor)] {
                let parts = name.split(separator: ".")
                return parts.count > 1 ? parts.dropLast().joined(separator: ".") : "(root)"
            }
        }
        return nil
    }

    // MARK: Errors

    func unsupported(_ detail: String) -> ONNXExportError {
        .unsupportedOperation(op: currentOp, module: currentModule, detail: detail)
    }

    func batchError(_ detail: String) -> ONNXExportError {
        .batchDependentShape(op: currentOp, module: currentModule, detail: detail)
    }

    // MARK: Shapes

    /// The graph's dimension list for a primary tensor and its secondary twin.
    private func dimensions(_ tensor: Tensor, _ twin: Tensor?) -> [GraphDimension] {
        tensor.shape.enumerated().map { d, size in
            guard let twin, twin.shape[d] != size else { return .fixed(size) }
            let batchA = primary.input.shape[0], batchB = secondary!.input.shape[0]
            if size == batchA && twin.shape[d] == batchB { return .symbolic("batch") }
            return .symbolic("\(tensor === primary.output ? outputName : inputName)_dim\(d)")
        }
    }

    /// The dimensions of `tensor` whose size depends on the batch size.
    func batchDimensions(_ tensor: Tensor, _ twin: Tensor?) throws -> Set<Int> {
        guard let twin else { return [] }
        guard twin.rank == tensor.rank else {
            throw ONNXExportError.traceMismatch(detail: "\(currentOp) gives rank \(tensor.rank) at batch size \(primary.input.shape[0]), rank \(twin.rank) at batch size \(secondary!.input.shape[0])")
        }
        return Set((0..<tensor.rank).filter { tensor.shape[$0] != twin.shape[$0] })
    }

    /// A Reshape target for `shape`: batch-dependent entries become -1 (at most one).
    func reshapeTarget(_ shape: [Int], _ twinShape: [Int]?) throws -> [Int] {
        guard let twinShape else { return shape }
        guard twinShape.count == shape.count else {
            throw ONNXExportError.traceMismatch(detail: "\(currentOp) gives shape \(shape) at one batch size and \(twinShape) at another")
        }
        let varying = shape.indices.filter { shape[$0] != twinShape[$0] }
        guard varying.count <= 1 else {
            throw batchError("reshape to \(shape) has \(varying.count) batch-dependent dimensions (\(varying))")
        }
        var target = shape
        for d in varying { target[d] = -1 }
        return target
    }

    // MARK: Operands

    /// The ONNX value of input `i` of `op`: the value of the traced op that produced it,
    /// else as `operand` resolves it. With `dtype`, converted to that dtype.
    func inputOperand(_ op: TracedOperation, _ twin: TracedOperation?, _ i: Int, as dtype: DType? = nil) throws -> String {
        if let node = op.inputNodes[i], let value = nodeValues[ObjectIdentifier(node)] {
            guard let dtype, dtype != op.inputs[i].dtype else { return value }
            return cast(value, to: dtype)
        }
        return try operand(op.inputs[i], twin: twin?.inputs[i], as: dtype)
    }

    /// The ONNX value of `tensor`, an operand no traced op produced (or a saved index or
    /// mask), adding an initializer or view ops on first use. With `dtype`, the value is
    /// converted to that dtype.
    func operand(_ tensor: Tensor, twin: Tensor?, as dtype: DType? = nil) throws -> String {
        let key = ObjectIdentifier(tensor)
        let value: String
        if let known = values[key] {
            value = known
        } else if tensorNames[key] != nil {
            value = namedValue(tensor)
        } else if let view = try viewOfNamed(tensor, twin: twin) {
            value = view
        } else if let twin, let fill = try batchSizedFill(tensor, twin: twin) {
            value = fill
        } else {
            try checkConstant(tensor, twin: twin)
            if let dtype, dtype != tensor.dtype {
                // An anonymous constant is stored already converted.
                return builder.constant(noGrad { tensor.to(dtype) })
            }
            value = builder.constant(tensor)
        }
        values[key] = value
        guard let dtype, dtype != tensor.dtype else { return value }
        return cast(value, to: dtype)
    }

    /// `value` converted to `dtype` by a Cast node (one per value and dtype).
    func cast(_ value: String, to dtype: DType) -> String {
        let key = "\(value)->\(dtype)"
        if let done = casts[key] { return done }
        let result = builder.node("Cast", [value], attributes: [.int("to", dtype.onnxElementType.rawValue)])
        casts[key] = result
        return result
    }

    /// The initializer of a named parameter or buffer, added on first use.
    private func namedValue(_ tensor: Tensor) -> String {
        let key = ObjectIdentifier(tensor)
        if let value = values[key] { return value }
        let name = tensorNames[key]!
        builder.addInitializer(named: name, tensor)
        values[key] = name
        return name
    }

    /// A tensor filled with one value whose batch-dependent dimensions have the batch's
    /// size in both traces (`Tensor.zeros([x.shape[0], n])`, an RNN's initial state)
    /// becomes that value expanded to a shape computed from the input's batch size.
    private func batchSizedFill(_ tensor: Tensor, twin: Tensor) throws -> String? {
        guard let secondary, twin.rank == tensor.rank, twin.dtype == tensor.dtype, tensor.count > 0 else { return nil }
        let batch = primary.input.shape[0], twinBatch = secondary.input.shape[0]
        let varying = (0..<tensor.rank).filter { tensor.shape[$0] != twin.shape[$0] }
        guard !varying.isEmpty, varying.allSatisfy({ tensor.shape[$0] == batch && twin.shape[$0] == twinBatch }) else {
            return nil
        }
        let values = noGrad { tensor.asArray(Double.self) }, twinValues = noGrad { twin.asArray(Double.self) }
        guard let first = values.first, values.allSatisfy({ $0 == first }), twinValues.allSatisfy({ $0 == first }) else {
            return nil
        }
        let pieces = (0..<tensor.rank).map { varying.contains($0) ? batchSize() : builder.int64s([tensor.shape[$0]]) }
        let shape = builder.node("Concat", pieces, attributes: [.int("axis", 0)])
        return builder.node("Expand", [builder.scalar(first, dtype: tensor.dtype), shape])
    }

    /// The input's batch size as a 1-D int64 value (`Shape` then `Slice`), made once.
    private func batchSize() -> String {
        if let batchSizeValue { return batchSizeValue }
        let shape = builder.node("Shape", [inputName])
        let value = builder.node("Slice", [shape, builder.int64s([0]), builder.int64s([1])])
        batchSizeValue = value
        return value
    }

    /// A constant must not depend on the input: with two traces, its twin must hold the
    /// same values.
    private func checkConstant(_ tensor: Tensor, twin: Tensor?) throws {
        guard let twin else { return }
        guard twin.shape == tensor.shape, twin.dtype == tensor.dtype, bytes(of: twin) == bytes(of: tensor) else {
            throw ONNXExportError.inputDependentConstant(
                op: currentOp, module: currentModule,
                detail: "a \(tensor.dtype) operand of shape \(tensor.shape) changes with the input (shape \(twin.shape) in a second trace); make the computation differentiable or export with dynamicBatch: false")
        }
    }

    private func bytes(of tensor: Tensor) -> Data {
        let dense = noGrad { tensor.to(.cpu).contiguous() }
        return Data(bytes: dense.storage.pointer + dense.offset * dense.dtype.itemSize, count: dense.count * dense.dtype.itemSize)
    }

    /// Views that autograd did not record (of the integer input, of a buffer): a tensor
    /// sharing a named tensor's (or the input's) storage that is a reshape of it, possibly
    /// broadcast along some dimensions, is rebuilt with Reshape (and Expand).
    private func viewOfNamed(_ tensor: Tensor, twin: Tensor?) throws -> String? {
        guard let owners = storageOwners[ObjectIdentifier(tensor.storage)] else { return nil }
        // Broadcast (stride-0) dimensions of size > 1 are collapsed to 1 in the core view.
        var coreShape = tensor.shape
        for d in 0..<tensor.rank where tensor.strides[d] == 0 && tensor.shape[d] > 1 { coreShape[d] = 1 }
        let coreCount = coreShape.reduce(1, *)
        var expected = 1
        for d in stride(from: tensor.rank - 1, through: 0, by: -1) where coreShape[d] > 1 {
            guard tensor.strides[d] == expected else { return nil }
            expected *= coreShape[d]
        }
        guard let owner = owners.first(where: { $0.offset == tensor.offset && $0.count == coreCount }) else {
            return nil
        }
        var twinCore: [Int]? = nil
        if let twin {
            var shape = twin.shape
            for d in 0..<twin.rank where twin.strides[d] == 0 && twin.shape[d] > 1 { shape[d] = 1 }
            twinCore = shape
        }
        var value = owner === primary.input ? inputName : namedValue(owner)
        if coreShape != owner.shape || twinCore.map({ $0 != coreShape }) == true {
            value = builder.node("Reshape", [value, builder.int64s(try reshapeTarget(coreShape, twinCore))])
        }
        if coreShape != tensor.shape {
            let varying = try batchDimensions(tensor, twin)
            var target = tensor.shape
            for d in varying {
                guard coreShape[d] != 1 || tensor.shape[d] == 1 else {
                    throw batchError("broadcasting a view along batch-dependent dimension \(d) of shape \(tensor.shape)")
                }
                target[d] = 1
            }
            value = builder.node("Expand", [value, builder.int64s(target)])
        }
        return value
    }
}
