// The autograd surface of Tensor: requiresGrad, grad, backward, hooks, detach, grad(of:with:).

/// A handle that removes a hook registered with `Tensor.registerHook`.
public struct HookHandle {
    fileprivate let remove: () -> Void
    /// Unregisters the hook.
    public func callAsFunction() { remove() }
    /// Unregisters the hook.
    public func removeHook() { remove() }
}

nonisolated(unsafe) private var nextHookID = 0

extension Tensor {
    /// Whether gradients flow to this tensor. Setting it is allowed on leaves only, and
    /// only for floating-point dtypes.
    ///
    /// ```swift
    /// let w = Tensor.randn([3, 3])
    /// w.requiresGrad = true
    /// ```
    public var requiresGrad: Bool {
        get { requiresGradFlag }
        set {
            precondition(gradNode == nil, "requiresGrad: can only be set on leaf tensors; call detach() first (this tensor comes from \(gradNode!.name))")
            precondition(!newValue || dtype.isFloatingPoint, "requiresGrad: only floating-point tensors can require gradients, got \(dtype)")
            requiresGradFlag = newValue
        }
    }

    /// Sets `requiresGrad` and returns the tensor, for chaining (`requires_grad_()`).
    @discardableResult
    public func requiresGrad(_ flag: Bool) -> Tensor {
        requiresGrad = flag
        return self
    }

    /// The accumulated gradient, filled by `backward()` on leaves (and on non-leaves that
    /// called `retainGrad()`); settable, e.g. to nil.
    public var grad: Tensor? {
        get { gradStorage }
        set {
            if let newValue {
                precondition(newValue.shape == shape, "grad: assigned gradient has shape \(newValue.shape), tensor has \(shape)")
            }
            gradStorage = newValue
        }
    }

    /// True for tensors not produced by a recorded op (user-created, or `detach()`ed).
    public var isLeaf: Bool { gradNode == nil }

    /// The node that produced this tensor, if recorded (`grad_fn`).
    public var gradFn: GradNode? { gradNode }

    /// Keeps the gradient of this non-leaf tensor in `.grad` after backward.
    public func retainGrad() {
        guard let node = gradNode else { return }
        if !retainsGradFlag {
            retainsGradFlag = true
            node.retainedOutputs.append(WeakTensor(tensor: self))
        }
    }

    /// Registers a function called with this tensor's gradient during backward; a
    /// non-nil return value replaces the gradient.
    ///
    /// ```swift
    /// let handle = x.registerHook { g in g * 2 }   // doubles x's gradient
    /// handle.removeHook()
    /// ```
    @discardableResult
    public func registerHook(_ hook: @escaping (Tensor) -> Tensor?) -> HookHandle {
        precondition(requiresGradFlag, "registerHook: cannot register a hook on a tensor that does not require grad")
        nextHookID += 1
        let id = nextHookID
        if let node = gradNode {
            node.outputHooks.append((id, hook))
            return HookHandle { [weak node] in node?.outputHooks.removeAll { $0.id == id } }
        }
        hooks.append((id, hook))
        return HookHandle { [weak self] in self?.hooks.removeAll { $0.id == id } }
    }

    /// A tensor sharing this one's data, cut from the graph (`requiresGrad` false).
    public func detach() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset, dtype: dtype)
    }

    /// A fresh contiguous copy that owns its memory; attached to the graph only when
    /// `keepGraph` is true.
    func detachedCopy(keepGraph: Bool) -> Tensor {
        if keepGraph { return self.clone() }
        return noGrad { self.clone() }
    }

    /// Computes the gradient of this tensor with respect to the graph leaves and
    /// accumulates it into their `.grad`.
    ///
    /// - Parameters:
    ///   - gradient: d(final value)/d(self); defaults to 1 for a one-element tensor.
    ///   - retainGraph: keep the graph's saved tensors for another backward pass.
    ///   - createGraph: record the backward pass too, for higher-order derivatives.
    ///
    /// ```swift
    /// let y = (x * x).sum()
    /// y.backward()            // x.grad == 2 * x
    /// ```
    public func backward(gradient: Tensor? = nil, retainGraph: Bool? = nil, createGraph: Bool = false) {
        precondition(requiresGradFlag, "backward: tensor does not require grad and has no gradFn")
        let seed: Tensor
        if let gradient {
            precondition(gradient.shape == shape, "backward: gradient has shape \(gradient.shape), tensor has \(shape)")
            seed = gradient
        } else {
            precondition(count == 1, "backward: grad can be implicitly created only for one-element outputs; this tensor has shape \(shape) (pass gradient:)")
            seed = Tensor.onesLike(self)
        }
        _ = AutogradEngine.run(roots: [(self, seed)], retainGraph: retainGraph ?? createGraph, createGraph: createGraph)
    }

    /// Returns a copy of the autograd metadata-free view (used by printing).
    var gradFnName: String? { gradNode?.name }
}

/// Computes and returns the gradients of `outputs` with respect to `inputs` without
/// touching any `.grad` (PyTorch's `torch.autograd.grad`).
///
/// - Parameters:
///   - outputs: the tensors to differentiate.
///   - inputs: the tensors to differentiate with respect to.
///   - gradOutputs: d(final)/d(output) for each output (default: ones, one-element outputs).
///   - retainGraph: keep the graph (defaults to `createGraph`).
///   - createGraph: record the computation so the result can be differentiated again.
///   - allowUnused: return nil for an input the outputs do not depend on, instead of stopping.
///
/// ```swift
/// let y = (x * x * x).sum()
/// let dx = grad(of: [y], with: [x], createGraph: true)[0]!   // 3x²
/// let d2x = grad(of: [dx.sum()], with: [x])[0]!               // 6x
/// ```
public func grad(of outputs: [Tensor], with inputs: [Tensor], gradOutputs: [Tensor]? = nil,
                 retainGraph: Bool? = nil, createGraph: Bool = false, allowUnused: Bool = false) -> [Tensor?] {
    var roots: [(Tensor, Tensor)] = []
    for (i, output) in outputs.enumerated() {
        precondition(output.requiresGradFlag, "grad: output \(i) does not require grad and has no gradFn")
        if let gradOutputs {
            precondition(gradOutputs.count == outputs.count, "grad: \(outputs.count) outputs but \(gradOutputs.count) gradOutputs")
            precondition(gradOutputs[i].shape == output.shape, "grad: gradOutputs[\(i)] has shape \(gradOutputs[i].shape), output has \(output.shape)")
            roots.append((output, gradOutputs[i]))
        } else {
            precondition(output.count == 1, "grad: output \(i) has shape \(output.shape); pass gradOutputs for non-scalar outputs")
            roots.append((output, Tensor.onesLike(output)))
        }
    }
    for (i, input) in inputs.enumerated() {
        precondition(input.requiresGradFlag, "grad: input \(i) does not require grad")
    }
    let result = AutogradEngine.run(roots: roots, retainGraph: retainGraph ?? createGraph,
                                    createGraph: createGraph, inputs: inputs)
    if !allowUnused {
        for (i, g) in result.enumerated() {
            precondition(g != nil, "grad: input \(i) was not used in the graph of the outputs (pass allowUnused: true)")
        }
    }
    return result
}
