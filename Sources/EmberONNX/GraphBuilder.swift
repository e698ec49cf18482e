// The ONNX graph under construction: nodes in order, initializers, and fresh value names.
import Ember

/// Collects the nodes and initializers of one ONNX graph and hands out unique names.
/// Small constants (shapes, axes, scalars) are shared: each distinct value is stored once.
final class GraphBuilder {
    private(set) var nodes: [Onnx_NodeProto] = []
    private(set) var initializers: [Onnx_TensorProto] = []
    private var usedNames = Set<String>()
    private var nodeCount = 0
    private var sharedInt64s: [[Int]: String] = [:]
    private var sharedScalars: [String: String] = [:]

    /// Reserves `name` (a graph input or output) so no generated value takes it.
    func reserve(_ name: String) { usedNames.insert(name) }

    /// A name not used yet, built from `hint`.
    func freshName(_ hint: String) -> String {
        var candidate = hint
        var suffix = 1
        while usedNames.contains(candidate) {
            candidate = "\(hint)_\(suffix)"
            suffix += 1
        }
        usedNames.insert(candidate)
        return candidate
    }

    /// Appends a node and returns the names of its `outputCount` outputs.
    @discardableResult
    func addNode(_ opType: String, _ inputs: [String], attributes: [Onnx_AttributeProto] = [],
                 outputCount: Int = 1) -> [String] {
        nodeCount += 1
        var node = Onnx_NodeProto()
        node.opType = opType
        node.name = "\(opType)_\(nodeCount)"
        node.input = inputs
        node.output = (0..<outputCount).map { freshName("\(opType)_\(nodeCount)_output\(outputCount == 1 ? "" : "_\($0)")") }
        node.attribute = attributes
        nodes.append(node)
        return node.output
    }

    /// Appends a one-output node and returns its output's name.
    func node(_ opType: String, _ inputs: [String], attributes: [Onnx_AttributeProto] = []) -> String {
        addNode(opType, inputs, attributes: attributes)[0]
    }

    /// Adds an initializer named `name` (which must be free) holding `tensor`.
    func addInitializer(named name: String, _ tensor: Tensor) {
        usedNames.insert(name)
        initializers.append(Onnx_TensorProto(name: name, tensor: tensor))
    }

    /// Adds an anonymous constant initializer and returns its name.
    func constant(_ tensor: Tensor) -> String {
        let name = freshName("const_\(initializers.count)")
        initializers.append(Onnx_TensorProto(name: name, tensor: tensor))
        return name
    }

    /// A shared 1-D int64 initializer (shapes, axes, slice bounds).
    func int64s(_ values: [Int]) -> String {
        if let name = sharedInt64s[values] { return name }
        let name = constant(Tensor(values.map(Int64.init), shape: [values.count]))
        sharedInt64s[values] = name
        return name
    }

    /// A shared 0-d initializer holding `value` as `dtype`.
    func scalar(_ value: Double, dtype: DType) -> String {
        let key = "\(dtype):\(value.bitPattern)"
        if let name = sharedScalars[key] { return name }
        let name = constant(Tensor(value, dtype: dtype))
        sharedScalars[key] = name
        return name
    }

    /// Renames value `old` to `new` wherever a node produces or reads it.
    func rename(_ old: String, to new: String) {
        for i in nodes.indices {
            nodes[i].output = nodes[i].output.map { $0 == old ? new : $0 }
            nodes[i].input = nodes[i].input.map { $0 == old ? new : $0 }
        }
    }

    /// Drops nodes whose outputs nothing needs, and initializers no node reads.
    func prune(keeping outputs: [String]) {
        var needed = Set(outputs)
        var kept: [Onnx_NodeProto] = []
        for node in nodes.reversed() where node.output.contains(where: needed.contains) {
            kept.append(node)
            needed.formUnion(node.input.filter { !$0.isEmpty })
        }
        nodes = kept.reversed()
        initializers.removeAll { !needed.contains($0.name) }
    }
}
