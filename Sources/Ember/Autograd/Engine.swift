// The backward pass: walks the recorded graph from the roots and accumulates gradients.

/// Runs backward passes over the graph that recorded ops built.
enum AutogradEngine {
    /// Propagates `gradients` from `roots` through the graph.
    ///
    /// - Parameters:
    ///   - roots: tensors to differentiate, each with the gradient of the final value w.r.t. it.
    ///   - retainGraph: keep saved tensors so the graph can be walked again.
    ///   - createGraph: record the backward computation itself (for higher-order gradients).
    ///   - inputs: when given (functional `grad`), gradients for these tensors are returned
    ///     and no leaf's `.grad` is touched.
    /// - Returns: one gradient per entry of `inputs` (nil where the input is unreachable).
    static func run(roots: [(Tensor, Tensor)], retainGraph: Bool, createGraph: Bool,
                    inputs: [Tensor]? = nil) -> [Tensor?] {
        GradMode.with(enabled: createGraph) {
            execute(roots: roots, retainGraph: retainGraph, createGraph: createGraph, inputs: inputs)
        }
    }

    private static func execute(roots: [(Tensor, Tensor)], retainGraph: Bool, createGraph: Bool,
                                inputs: [Tensor]?) -> [Tensor?] {
        var captured = [Tensor?](repeating: nil, count: inputs?.count ?? 0)
        // Which captured inputs hang off which node / are which leaf.
        var captureByNode: [ObjectIdentifier: [Int]] = [:]
        var captureByLeaf: [ObjectIdentifier: [Int]] = [:]
        for (i, input) in (inputs ?? []).enumerated() {
            if let node = input.gradNode {
                captureByNode[ObjectIdentifier(node), default: []].append(i)
            } else {
                captureByLeaf[ObjectIdentifier(input), default: []].append(i)
            }
        }

        var pending: [ObjectIdentifier: Tensor] = [:]
        // Gradients reaching each leaf are summed first and delivered once at the end, so a
        // leaf's hooks see its total gradient (as PyTorch's AccumulateGrad does).
        var leafGradients: [(leaf: Tensor, gradient: Tensor)] = []
        var leafSlot: [ObjectIdentifier: Int] = [:]
        func pendLeaf(_ gradient: Tensor, _ leaf: Tensor) {
            let id = ObjectIdentifier(leaf)
            if let slot = leafSlot[id] {
                leafGradients[slot].gradient = leafGradients[slot].gradient + gradient
            } else {
                leafSlot[id] = leafGradients.count
                leafGradients.append((leaf, gradient))
            }
        }
        var rootNodes: [GradNode] = []
        for (tensor, gradient) in roots {
            if let node = tensor.gradNode {
                let id = ObjectIdentifier(node)
                if pending[id] == nil { rootNodes.append(node) }
                pending[id] = pending[id].map { $0 + gradient } ?? gradient
            } else if tensor.requiresGradFlag {
                pendLeaf(gradient, tensor)
            }
        }

        // Count, for every reachable node, how many edges point at it.
        var dependencies: [ObjectIdentifier: Int] = [:]
        var visited: [GradNode] = []
        var seen = Set<ObjectIdentifier>()
        var stack = rootNodes
        for node in rootNodes { seen.insert(ObjectIdentifier(node)) }
        while let node = stack.popLast() {
            visited.append(node)
            for edge in node.edges {
                if case .node(let next) = edge {
                    let id = ObjectIdentifier(next)
                    dependencies[id, default: 0] += 1
                    if seen.insert(id).inserted { stack.append(next) }
                }
            }
        }

        var ready = rootNodes.filter { dependencies[ObjectIdentifier($0), default: 0] == 0 }
        var readySet = Set(ready.map { ObjectIdentifier($0) })
        /// One edge into `next` has been handled; it runs once all have.
        func release(_ next: GradNode) {
            let nextID = ObjectIdentifier(next)
            let remaining = dependencies[nextID, default: 1] - 1
            dependencies[nextID] = remaining
            if remaining == 0 && readySet.insert(nextID).inserted { ready.append(next) }
        }
        while !ready.isEmpty {
            // Among ready nodes, run the most recently created first (as PyTorch does).
            var pick = 0
            for i in 1..<ready.count where ready[i].sequence > ready[pick].sequence { pick = i }
            let node = ready.remove(at: pick)
            let id = ObjectIdentifier(node)
            readySet.remove(id)
            guard var gradient = pending.removeValue(forKey: id) else {
                // No gradient reached this node; its inputs still stop waiting for it.
                for edge in node.edges {
                    if case .node(let next) = edge { release(next) }
                }
                continue
            }

            for entry in node.outputHooks { if let replaced = entry.hook(gradient) { gradient = replaced } }
            for weak in node.retainedOutputs {
                if let tensor = weak.tensor, tensor.gradNode === node {
                    tensor.gradStorage = tensor.gradStorage.map { $0 + gradient } ?? gradient.detachedCopy(keepGraph: createGraph)
                }
            }
            if let indices = captureByNode[id] {
                for i in indices { captured[i] = captured[i].map { $0 + gradient } ?? gradient }
            }

            let inputGradients = Derivatives.backward(node, gradient)
            if AnomalyMode.isEnabled { checkAnomaly(node, inputGradients) }

            for (index, edge) in node.edges.enumerated() {
                if case .none = edge { continue }
                let shaped = inputGradients[index].map {
                    conform($0, shape: node.inputShapes[index], dtype: node.inputDTypes[index], node: node)
                }
                switch edge {
                case .none: break
                case .leaf(let leaf):
                    if let shaped { pendLeaf(shaped, leaf) }
                case .node(let next):
                    if let shaped {
                        let nextID = ObjectIdentifier(next)
                        pending[nextID] = pending[nextID].map { $0 + shaped } ?? shaped
                    }
                    release(next)
                }
            }
        }
        for (leaf, gradient) in leafGradients {
            deliver(gradient, toLeaf: leaf, captureByLeaf: captureByLeaf, captured: &captured,
                    capturing: inputs != nil, createGraph: createGraph)
        }
        if !retainGraph { for node in visited { node.release() } }
        return captured
    }

    /// Accumulates a gradient into a leaf's `.grad` (or captures it for functional `grad`).
    private static func deliver(_ gradient: Tensor, toLeaf leaf: Tensor, captureByLeaf: [ObjectIdentifier: [Int]],
                                captured: inout [Tensor?], capturing: Bool, createGraph: Bool) {
        var gradient = gradient
        for entry in leaf.hooks { if let replaced = entry.hook(gradient) { gradient = replaced } }
        if capturing {
            for i in captureByLeaf[ObjectIdentifier(leaf)] ?? [] {
                captured[i] = captured[i].map { $0 + gradient } ?? gradient
            }
            return
        }
        if let existing = leaf.gradStorage {
            leaf.gradStorage = createGraph ? existing + gradient : noGrad { existing + gradient }
        } else {
            leaf.gradStorage = gradient.detachedCopy(keepGraph: createGraph)
        }
    }

    /// Reduces a gradient over broadcast dimensions and casts it to the input's dtype.
    private static func conform(_ gradient: Tensor, shape: [Int], dtype: DType, node: GradNode) -> Tensor {
        var result = gradient
        if result.shape != shape {
            result = result.sumToShape(shape, op: node.name)
        }
        if result.dtype != dtype { result = result.to(dtype) }
        return result
    }

    private static func checkAnomaly(_ node: GradNode, _ gradients: [Tensor?]) {
        for (index, gradient) in gradients.enumerated() {
            guard let gradient, gradient.dtype.isFloatingPoint else { continue }
            let finite = noGrad { isFinite(gradient).all().item(Bool.self) }
            if !finite {
                let hasNaN = noGrad { isNaN(gradient).any().item(Bool.self) }
                fatalError("Function '\(node.name)' returned \(hasNaN ? "nan" : "inf") values in its \(index)th output.")
            }
        }
    }
}
