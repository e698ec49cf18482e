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

        // Gradients reaching each leaf are summed first and delivered once at the end, so a
        // leaf's hooks see its total gradient (as PyTorch's AccumulateGrad does).
        var leafGradients: [(leaf: Tensor, gradient: Tensor)] = []
        var leafSlot: [ObjectIdentifier: Int] = [:]
        // Sums the engine allocated itself (nothing else holds them), keyed by node or leaf:
        // without createGraph, further gradients are added into these in place.
        var ownedSums = Set<ObjectIdentifier>()
        /// `sum + gradient`, in place when the engine owns `sum`.
        func accumulate(_ sum: Tensor, _ gradient: Tensor, key: ObjectIdentifier) -> Tensor {
            if !createGraph && ownedSums.contains(key) && sum.shape == gradient.shape && sum.dtype == gradient.dtype {
                return sum.add_(gradient)
            }
            let result = sum + gradient
            if !createGraph { ownedSums.insert(key) }
            return result
        }
        func pendLeaf(_ gradient: Tensor, _ leaf: Tensor) {
            let id = ObjectIdentifier(leaf)
            if let slot = leafSlot[id] {
                leafGradients[slot].gradient = accumulate(leafGradients[slot].gradient, gradient, key: id)
            } else {
                leafSlot[id] = leafGradients.count
                leafGradients.append((leaf, gradient))
            }
        }
        /// The engine-owned sum for a node or leaf input, made (zeros, or a copy of what
        /// arrived so far) when there is none yet.
        func ownedSum(for input: GradInput, device: Device) -> Tensor {
            func fresh(_ existing: Tensor?) -> Tensor {
                existing.map { $0.detachedCopy(keepGraph: false) }
                    ?? Tensor.zeros(input.shape, dtype: input.dtype, device: device)
            }
            switch input.edge {
            case .node(let next):
                let key = ObjectIdentifier(next)
                if let sum = next.pendingGradient, ownedSums.contains(key) { return sum }
                let sum = fresh(next.pendingGradient)
                next.pendingGradient = sum
                ownedSums.insert(key)
                return sum
            case .leaf(let leaf):
                let key = ObjectIdentifier(leaf)
                if let slot = leafSlot[key] {
                    if !ownedSums.contains(key) {
                        leafGradients[slot].gradient = fresh(leafGradients[slot].gradient)
                        ownedSums.insert(key)
                    }
                    return leafGradients[slot].gradient
                }
                let sum = fresh(nil)
                leafSlot[key] = leafGradients.count
                leafGradients.append((leaf, sum))
                ownedSums.insert(key)
                return sum
            case .none:
                preconditionFailure("ownedSum: no edge")
            }
        }
        // Every node the pass reaches; their scratch state is reset at the end.
        var visited: [GradNode] = []
        defer {
            for node in visited {
                node.pendingGradient = nil
                node.waitingEdges = 0
                node.isVisited = false
                node.isQueued = false
            }
        }
        var rootNodes: [GradNode] = []
        for (tensor, gradient) in roots {
            if let node = tensor.gradNode {
                if !node.isVisited {
                    node.isVisited = true
                    visited.append(node)
                    rootNodes.append(node)
                }
                node.pendingGradient = node.pendingGradient.map { $0 + gradient } ?? gradient
            } else if tensor.requiresGradFlag {
                pendLeaf(gradient, tensor)
            }
        }

        // Count, for every reachable node, how many edges point at it.
        var stack = rootNodes
        while let node = stack.popLast() {
            for input in node.inputs {
                if case .node(let next) = input.edge {
                    next.waitingEdges += 1
                    if !next.isVisited {
                        next.isVisited = true
                        visited.append(next)
                        stack.append(next)
                    }
                }
            }
        }

        var ready = rootNodes.filter { $0.waitingEdges == 0 }
        for node in ready { node.isQueued = true }
        /// One edge into `next` has been handled; it runs once all have.
        func release(_ next: GradNode) {
            next.waitingEdges -= 1
            if next.waitingEdges == 0 && !next.isQueued {
                next.isQueued = true
                ready.append(next)
            }
        }
        while !ready.isEmpty {
            // Among ready nodes, run the most recently created first (as PyTorch does).
            var pick = ready.count - 1
            for i in 0..<ready.count where ready[i].sequence > ready[pick].sequence { pick = i }
            let node = pick == ready.count - 1 ? ready.removeLast() : ready.remove(at: pick)
            guard var gradient = node.pendingGradient else {
                // No gradient reached this node; its inputs still stop waiting for it.
                for input in node.inputs {
                    if case .node(let next) = input.edge { release(next) }
                }
                continue
            }
            node.pendingGradient = nil

            for entry in node.outputHooks { if let replaced = entry.hook(gradient) { gradient = replaced } }
            for weak in node.retainedOutputs {
                if let tensor = weak.tensor, tensor.gradNode === node {
                    tensor.gradStorage = tensor.gradStorage.map { $0 + gradient } ?? gradient.detachedCopy(keepGraph: createGraph)
                }
            }
            if !captureByNode.isEmpty, let indices = captureByNode[ObjectIdentifier(node)] {
                for i in indices { captured[i] = captured[i].map { $0 + gradient } ?? gradient }
            }

            // select/slice: add the gradient into its region of the input's sum instead of
            // scattering it into a full-size tensor of zeros first (unbind, chunk and
            // per-step indexing would otherwise cost O(steps²)).
            if !createGraph && !AnomalyMode.isEnabled && node.inputs.count == 1,
               let input = node.inputs.first, input.dtype == gradient.dtype,
               let region = sliceRegion(node.rule, gradientShape: gradient.shape) {
                switch input.edge {
                case .none: break
                case .leaf, .node:
                    region(ownedSum(for: input, device: gradient.device)).add_(gradient)
                }
                if case .node(let next) = input.edge { release(next) }
                continue
            }

            let inputGradients = Derivatives.backward(node, gradient)
            if AnomalyMode.isEnabled { checkAnomaly(node, inputGradients) }

            for (index, input) in node.inputs.enumerated() {
                if case .none = input.edge { continue }
                let shaped = inputGradients[index].map {
                    conform($0, shape: input.shape, dtype: input.dtype, node: node)
                }
                switch input.edge {
                case .none: break
                case .leaf(let leaf):
                    if let shaped { pendLeaf(shaped, leaf) }
                case .node(let next):
                    if let shaped {
                        next.pendingGradient = next.pendingGradient.map {
                            accumulate($0, shaped, key: ObjectIdentifier(next))
                        } ?? shaped
                    }
                    release(next)
                }
            }
        }
        while !leafGradients.isEmpty {
            let (leaf, gradient) = leafGradients.removeLast()
            deliver(gradient, toLeaf: leaf, captureByLeaf: captureByLeaf, captured: &captured,
                    capturing: inputs != nil, createGraph: createGraph)
        }
        if !retainGraph { for node in visited { node.release() } }
        return captured
    }

    /// Accumulates a gradient into a leaf's `.grad` (or captures it for functional `grad`).
    private static func deliver(_ gradient: consuming Tensor, toLeaf leaf: Tensor, captureByLeaf: [ObjectIdentifier: [Int]],
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
        } else if createGraph {
            leaf.gradStorage = gradient.detachedCopy(keepGraph: true)
        } else if gradient.ownsStorage && gradient.isContiguous && !gradient.isWrappedNumber
                    && gradient.gradNode == nil && isKnownUniquelyReferenced(&gradient) {
            // A fresh result nothing else holds: adopt it instead of copying.
            leaf.gradStorage = gradient
        } else {
            leaf.gradStorage = gradient.detachedCopy(keepGraph: false)
        }
    }

    /// For a select or slice node, the view of an input-shaped tensor that the node's output
    /// was read from (where its gradient belongs); nil for every other rule.
    private static func sliceRegion(_ rule: BackwardRule, gradientShape: [Int]) -> ((Tensor) -> Tensor)? {
        switch rule {
        case .select(let dim, let index):
            return { $0.select(dim: dim, index: index) }
        case .slice(let dim, let start, let step):
            let length = gradientShape[dim]
            guard length > 0 else { return nil }
            return { $0.slice(dim: dim, start: start, end: start + (length - 1) * step + 1, step: step) }
        default:
            return nil
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
