// User-defined differentiable operations with their own forward and backward.

/// Storage shared by the forward and backward of a custom function: tensors saved for
/// backward (version-checked) and any other values.
public final class FunctionContext {
    var savedForBackward: [Tensor] = []
    /// Free-form values for backward (shapes, flags, scalars).
    public var values: [String: Any] = [:]

    /// Saves tensors that `backward` needs; they are checked for in-place changes.
    public func saveForBackward(_ tensors: Tensor...) { savedForBackward = tensors }
    /// The saved tensors, in the order saved.
    public private(set) var savedTensors: [Tensor] = []

    fileprivate func unpack(_ tensors: [Tensor]) { savedTensors = tensors }
}

/// A differentiable operation defined by the user, as `torch.autograd.Function`:
/// `forward` runs without recording, `backward` returns one gradient (or nil) per input.
///
/// ```swift
/// enum Cube: CustomFunction {
///     static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
///         ctx.saveForBackward(inputs[0]); return inputs[0] * inputs[0] * inputs[0]
///     }
///     static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
///         [gradOutput * 3 * ctx.savedTensors[0] * ctx.savedTensors[0]]
///     }
/// }
/// let y = Cube.apply(x)
/// ```
public protocol CustomFunction {
    /// The node name shown as `gradFn` (defaults to the type name + "Backward").
    static var name: String { get }
    /// Computes the output; runs with grad mode off.
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor
    /// Computes the gradient of each input from the output's gradient.
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?]
}

extension CustomFunction {
    /// The node name shown by `gradFn` (the type name followed by "Backward", as PyTorch).
    public static var name: String { "\(Self.self)Backward" }

    /// Runs the function and records it for autograd when any input requires grad.
    public static func apply(_ inputs: Tensor...) -> Tensor { apply(inputs) }

    /// Runs the function on an array of inputs.
    public static func apply(_ inputs: [Tensor]) -> Tensor {
        let ctx = FunctionContext()
        let output = noGrad { forward(ctx, inputs) }
        // Forward may return one of its inputs (or a view): give the result its own identity.
        let result = inputs.contains { $0 === output } ? output.detach() : output
        if shouldRecord(inputs) {
            let record = CustomFunctionRecord(name: name, inputCount: inputs.count) { saved, g in
                ctx.unpack(saved)
                let grads = backward(ctx, g)
                precondition(grads.count == inputs.count, "\(name): backward returned \(grads.count) gradients for \(inputs.count) inputs")
                return grads
            }
            Ember.record(result, .custom(record), inputs: inputs, saved: ctx.savedForBackward)
        }
        return result
    }
}

/// The recorded backward of one custom-function call.
public final class CustomFunctionRecord {
    /// The function's node name (`CustomFunction.name`).
    public let name: String
    let inputCount: Int
    let backward: ([Tensor], Tensor) -> [Tensor?]

    init(name: String, inputCount: Int, backward: @escaping ([Tensor], Tensor) -> [Tensor?]) {
        self.name = name
        self.inputCount = inputCount
        self.backward = backward
    }
}
