// Checking gradients against finite differences: gradcheck and gradgradcheck, as
// torch.autograd.gradcheck and torch.autograd.gradgradcheck.

/// The outcome of `gradcheck` or `gradgradcheck`.
///
/// ```swift
/// let result = gradcheck({ tanh($0[0]) }, inputs: [x])
/// XCTAssert(result.passed, result.message)
/// ```
public struct GradcheckResult: CustomStringConvertible {
    /// True when every analytical Jacobian entry matched the numerical one within
    /// `atol + rtol · |numerical|`.
    public let passed: Bool
    /// The largest `|analytical - numerical|` over all Jacobian entries of all inputs.
    public let maxAbsoluteError: Double
    /// Which input (position in `inputs`) held the worst mismatch; nil when none mismatched.
    public let failingInput: Int?
    /// What was checked, and on failure the input index, the input and output elements of
    /// the worst entry and both values.
    public let message: String

    /// The message.
    public var description: String { message }
}

/// Checks the gradients of `function` at `inputs` against central finite differences
/// (PyTorch's `torch.autograd.gradcheck`).
///
/// For every input that requires grad, each element is perturbed by ±`eps` in place (through
/// the input's own storage and strides, so non-contiguous views work) to build the numerical
/// Jacobian `(f(x + eps) - f(x - eps)) / 2eps`. The analytical Jacobian comes from
/// `grad(of:with:gradOutputs:)` with one one-hot output gradient per output element. An entry
/// passes when `|analytical - numerical| <= atol + rtol · |numerical|`.
///
/// Inputs that require grad must be float64 (finite differences in float32 are too
/// coarse) and must not have overlapping memory (an `expand`ed tensor, for instance), since
/// perturbing one stored element would move several logical elements at once; both stop
/// with a message.
///
/// - Parameters:
///   - function: the computation to check; it must be deterministic and return one
///     floating-point tensor (any shape).
///   - inputs: the arguments; those with `requiresGrad` are checked, the rest are constants.
///   - eps: the finite-difference step.
///   - atol: absolute tolerance.
///   - rtol: tolerance relative to the numerical value.
/// - Returns: whether the Jacobians match, the largest absolute error, and a message
///   naming the input index and the worst element.
///
/// ```swift
/// let a = Tensor.randn([3, 4], dtype: .float64, requiresGrad: true)
/// let b = Tensor.randn([4], dtype: .float64, requiresGrad: true)
/// let result = gradcheck({ $0[0] * $0[1] }, inputs: [a, b])
/// precondition(result.passed, result.message)
/// ```
public func gradcheck(_ function: ([Tensor]) -> Tensor, inputs: [Tensor], eps: Double = 1e-6,
                      atol: Double = 1e-5, rtol: Double = 1e-3) -> GradcheckResult {
    precondition(eps > 0, "gradcheck: eps must be positive, got \(eps)")
    let checked = inputs.indices.filter { inputs[$0].requiresGradFlag }
    precondition(!checked.isEmpty, "gradcheck: no input requires grad; set requiresGrad on the inputs to check")
    for i in checked {
        let input = inputs[i]
        precondition(input.dtype == .float64,
                     "gradcheck: input \(i) has dtype \(input.dtype); inputs that require grad must be float64 for accurate finite differences (use .to(.float64))")
        precondition(!GradcheckSupport.hasOverlappingMemory(input),
                     "gradcheck: input \(i) of shape \(input.shape) and strides \(input.strides) has overlapping memory (e.g. an expanded tensor): perturbing one stored element would change several of its elements; pass a contiguous copy (.contiguous() or .clone())")
    }

    // Analytical Jacobian: one backward pass per output element.
    let output = enableGrad { function(inputs) }
    precondition(output.dtype.isFloatingPoint, "gradcheck: the function must return a floating-point tensor, got \(output.dtype)")
    let outputCount = output.count
    let outputShape = output.shape
    var analytical: [[Double]] = checked.map { [Double](repeating: 0, count: inputs[$0].count * outputCount) }
    if output.requiresGradFlag {
        let targets = checked.map { inputs[$0] }
        for j in 0..<outputCount {
            var oneHot = [Double](repeating: 0, count: outputCount)
            oneHot[j] = 1
            let seed = Tensor(oneHot, shape: outputShape, dtype: output.dtype, device: output.device)
            let grads = grad(of: [output], with: targets, gradOutputs: [seed], retainGraph: true, allowUnused: true)
            for (k, g) in grads.enumerated() {
                guard let g else { continue }
                let input = targets[k]
                if g.shape != input.shape {
                    return GradcheckResult(passed: false, maxAbsoluteError: .infinity, failingInput: checked[k],
                                           message: "gradcheck: the gradient for input \(checked[k]) has shape \(g.shape), but the input has shape \(input.shape)")
                }
                let values = noGrad { g.to(.float64) }.asArray(Double.self)
                for (e, v) in values.enumerated() { analytical[k][e * outputCount + j] = v }
            }
        }
    }

    // Numerical Jacobian: perturb each stored element in place, then restore it.
    var numerical: [[Double]] = checked.map { [Double](repeating: 0, count: inputs[$0].count * outputCount) }
    for (k, i) in checked.enumerated() {
        let input = inputs[i]
        let offsets = GradcheckSupport.storageOffsets(input)
        for (e, offset) in offsets.enumerated() {
            let original = GradcheckSupport.read(input, at: offset)
            GradcheckSupport.write(input, at: offset, original + eps)
            let plus = GradcheckSupport.evaluate(function, inputs, expectedShape: outputShape)
            GradcheckSupport.write(input, at: offset, original - eps)
            let minus = GradcheckSupport.evaluate(function, inputs, expectedShape: outputShape)
            GradcheckSupport.write(input, at: offset, original)
            for j in 0..<outputCount { numerical[k][e * outputCount + j] = (plus[j] - minus[j]) / (2 * eps) }
        }
    }

    // Compare.
    var maxError = 0.0
    var sawNaN = false
    var worst: (k: Int, e: Int, j: Int, excess: Double)? = nil
    for k in checked.indices {
        for index in 0..<numerical[k].count {
            let n = numerical[k][index], a = analytical[k][index]
            let error = Swift.abs(a - n)
            if error.isNaN { sawNaN = true } else { maxError = Swift.max(maxError, error) }
            let allowed = atol + rtol * Swift.abs(n)
            if !(error <= allowed) {
                let excess = error.isNaN ? .infinity : error - allowed
                if worst == nil || excess > worst!.excess {
                    worst = (k, index / outputCount, index % outputCount, excess)
                }
            }
        }
    }
    if sawNaN { maxError = .nan }
    let inputList = checked.map(String.init).joined(separator: ", ")
    guard let worst else {
        return GradcheckResult(passed: true, maxAbsoluteError: maxError, failingInput: nil,
                               message: "gradcheck passed for input(s) \(inputList): max absolute error \(maxError) (atol \(atol), rtol \(rtol))")
    }
    let input = inputs[checked[worst.k]]
    let flat = worst.e * outputCount + worst.j
    let n = numerical[worst.k][flat], a = analytical[worst.k][flat]
    let message = "gradcheck: Jacobian mismatch for input \(checked[worst.k]) (shape \(input.shape)): worst at input element \(GradcheckSupport.coordinates(worst.e, input.shape)), output element \(GradcheckSupport.coordinates(worst.j, outputShape)): numerical \(n) vs analytical \(a) (absolute error \(Swift.abs(a - n)); atol \(atol), rtol \(rtol)); max absolute error over all entries \(maxError)"
    return GradcheckResult(passed: false, maxAbsoluteError: maxError, failingInput: checked[worst.k], message: message)
}

/// Checks second derivatives of `function` at `inputs` (PyTorch's
/// `torch.autograd.gradgradcheck`).
///
/// The first-order gradient `g(x, v) = grad(of: function(x), with: x, gradOutputs: v,
/// createGraph: true)` is itself checked with `gradcheck`, with respect to the inputs
/// and to the output gradient `v` (random, float64, fixed seed unless given): its
/// analytical Jacobian (differentiating the recorded backward pass) must match finite
/// differences of the first-order gradient.
///
/// - Parameters:
///   - function: the computation; deterministic, one floating-point result.
///   - inputs: the arguments; those with `requiresGrad` are checked (float64).
///   - gradOutput: the output gradient `v` to use (default: standard normal samples).
///   - eps: the finite-difference step.
///   - atol: absolute tolerance.
///   - rtol: tolerance relative to the numerical value.
/// - Returns: the `gradcheck` result for the first-order gradient; input index
///   `inputs.count` in its message stands for `v`.
///
/// ```swift
/// let x = Tensor.randn([2, 3], dtype: .float64, requiresGrad: true)
/// let result = gradgradcheck({ tanh($0[0]) }, inputs: [x])
/// precondition(result.passed, result.message)
/// ```
public func gradgradcheck(_ function: ([Tensor]) -> Tensor, inputs: [Tensor], gradOutput: Tensor? = nil,
                          eps: Double = 1e-6, atol: Double = 1e-5, rtol: Double = 1e-3) -> GradcheckResult {
    let checked = inputs.indices.filter { inputs[$0].requiresGradFlag }
    precondition(!checked.isEmpty, "gradgradcheck: no input requires grad; set requiresGrad on the inputs to check")
    let shape = enableGrad { function(inputs) }.shape
    let v: Tensor
    if let gradOutput {
        precondition(gradOutput.shape == shape, "gradgradcheck: gradOutput has shape \(gradOutput.shape), the function's output has \(shape)")
        v = noGrad { gradOutput.to(.float64).clone() }
    } else {
        v = Tensor.randn(shape, dtype: .float64, device: inputs[checked[0]].device, generator: Generator(seed: 0x6AD6))
    }
    v.requiresGrad = true
    let count = inputs.count
    return gradcheck({ all in
        enableGrad { () -> Tensor in
            let xs = Array(all.prefix(count))
            let output = function(xs)
            let targets = checked.map { xs[$0] }
            guard output.requiresGradFlag else {
                return Tensor.zeros([targets.reduce(0) { $0 + $1.count }], dtype: .float64, device: output.device)
            }
            let grads = grad(of: [output], with: targets, gradOutputs: [all[count]], createGraph: true, allowUnused: true)
            let pieces = zip(grads, targets).map { g, x in
                (g ?? Tensor.zeros(x.shape, dtype: x.dtype, device: x.device)).reshape([-1])
            }
            return Tensor.cat(pieces, dim: 0)
        }
    }, inputs: inputs + [v], eps: eps, atol: atol, rtol: rtol)
}

/// Element access and memory-layout helpers for `gradcheck`.
enum GradcheckSupport {
    /// The storage offset of every element of `t`, in row-major logical order.
    static func storageOffsets(_ t: Tensor) -> [Int] {
        var offsets = [t.offset]
        for (size, stride) in zip(t.shape, t.strides) {
            var next: [Int] = []
            next.reserveCapacity(offsets.count * size)
            for base in offsets {
                for i in 0..<size { next.append(base + i * stride) }
            }
            offsets = next
        }
        return t.count == 0 ? [] : offsets
    }

    /// True when two elements of `t` share a storage location.
    static func hasOverlappingMemory(_ t: Tensor) -> Bool {
        for (size, stride) in zip(t.shape, t.strides) where size > 1 && stride == 0 { return true }
        let offsets = storageOffsets(t)
        return Set(offsets).count != offsets.count
    }

    /// A 0-d raw view of the element at storage `offset`.
    private static func element(_ t: Tensor, _ offset: Int) -> Tensor {
        Tensor(storage: t.storage, shape: [], strides: [], offset: offset, dtype: t.dtype)
    }

    /// Reads the element at storage `offset` as a Double.
    static func read(_ t: Tensor, at offset: Int) -> Double {
        if t.device == .cpu && t.dtype == .float64 {
            return (t.storage.pointer.assumingMemoryBound(to: Double.self) + offset).pointee
        }
        return noGrad { element(t, offset).item(Double.self) }
    }

    /// Writes `value` at storage `offset` without bumping the version counter (the
    /// change is undone before anything that saved the tensor can run backward).
    static func write(_ t: Tensor, at offset: Int, _ value: Double) {
        if t.device == .cpu && t.dtype == .float64 {
            (t.storage.pointer.assumingMemoryBound(to: Double.self) + offset).pointee = value
            return
        }
        let source = Tensor([value], shape: [], dtype: t.dtype)
        t.device.backend.copy(source, into: element(t, offset))
    }

    /// Evaluates `function` and returns its values in row-major order.
    static func evaluate(_ function: ([Tensor]) -> Tensor, _ inputs: [Tensor], expectedShape: [Int]) -> [Double] {
        // Grad mode stays on: the function may itself differentiate (gradgradcheck does).
        let output = enableGrad { function(inputs) }
        precondition(output.shape == expectedShape,
                     "gradcheck: the function returned shape \(output.shape) for a perturbed input but \(expectedShape) before; it must be deterministic")
        return noGrad { output.to(.float64) }.asArray(Double.self)
    }

    /// The multi-index of row-major position `flat` in `shape`.
    static func coordinates(_ flat: Int, _ shape: [Int]) -> [Int] {
        var rest = flat
        var index = [Int](repeating: 0, count: shape.count)
        for d in stride(from: shape.count - 1, through: 0, by: -1) where shape[d] > 0 {
            index[d] = rest % shape[d]
            rest /= shape[d]
        }
        return index
    }
}
