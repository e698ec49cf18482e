// The Module base class: parameters, buffers and submodules found by reflection, train/eval
// modes, device and dtype moves, and state dicts with PyTorch's dotted names.
import Ember

/// The base class of every layer and model, as `torch.nn.Module`.
///
/// Stored properties are discovered by reflection: a `Tensor` (or `Tensor?`) is a
/// parameter, a `@Buffer` is saved untrained state, and a `Module` — alone, optional, in an
/// array or in a dictionary keyed by `String` — is a submodule. Names follow PyTorch's
/// dotted convention (`layers.0.weight`), so PyTorch checkpoints of the same architecture
/// load by name. Reflection runs only when parameters or state are asked for, never in
/// `forward`, so properties may be reassigned at any time.
///
/// ```swift
/// final class MLP: Module {
///     let fc1 = Linear(784, 128)
///     let fc2 = Linear(128, 10)
///     override func forward(_ x: Tensor) -> Tensor { fc2(relu(fc1(x))) }
/// }
/// let model = MLP()
/// model.namedParameters().map(\.0)   // ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
/// ```
open class Module: CustomStringConvertible {
    /// True in training mode (the default); `eval()` turns it off for dropout and batch norm.
    public private(set) var isTraining = true

    /// Creates an empty module; subclasses declare their parameters and submodules as stored properties.
    public init() {}

    /// Computes the module's output. Subclasses with one input override this.
    open func forward(_ input: Tensor) -> Tensor {
        fatalError("\(type(of: self)): override forward(_:) to call this module")
    }

    /// Calls `forward`, so a module is used like a function: `model(x)`.
    public func callAsFunction(_ input: Tensor) -> Tensor { forward(input) }

    // MARK: Discovery

    /// What reflection found among one module's own stored properties.
    private struct Members {
        var parameters: [(String, Tensor)] = []
        var buffers: [(String, Buffer)] = []
        var children: [(String, Module)] = []
    }

    private func members() -> Members {
        var found = Members()
        var mirror: Mirror? = Mirror(reflecting: self)
        var mirrors: [Mirror] = []
        while let m = mirror { mirrors.append(m); mirror = m.superclassMirror }
        // Base-class properties first, in declaration order.
        for m in mirrors.reversed() {
            for child in m.children {
                guard let label = child.label else { continue }
                collect(label, child.value, into: &found)
            }
        }
        return found
    }

    private func collect(_ label: String, _ value: Any, into found: inout Members) {
        switch value {
        case let tensor as Tensor:
            found.parameters.append((label, tensor))
        case let buffer as Buffer:
            let name = buffer.name ?? (label.hasPrefix("_") ? String(label.dropFirst()) : label)
            found.buffers.append((name, buffer))
        case let module as Module:
            found.children.append((label, module))
        case let modules as [Module]:
            for (i, module) in modules.enumerated() { found.children.append(("\(label).\(i)", module)) }
        case let modules as [String: Module]:
            for key in modules.keys.sorted() { found.children.append(("\(label).\(key)", modules[key]!)) }
        default:
            // Optionals: look inside a non-nil value.
            let mirror = Mirror(reflecting: value)
            if mirror.displayStyle == .optional, let wrapped = mirror.children.first?.value {
                collect(label, wrapped, into: &found)
            }
        }
    }

    /// The direct submodules with their names. Containers override this to name children
    /// by position (`0`, `1`, ...) as PyTorch does.
    open func namedChildren() -> [(String, Module)] { members().children }

    /// The direct submodules.
    public func children() -> [Module] { namedChildren().map(\.1) }

    /// This module and every submodule below it, depth first, with dotted names
    /// (`""` for this module).
    public func namedModules() -> [(String, Module)] {
        var result: [(String, Module)] = [("", self)]
        for (name, child) in namedChildren() {
            for (subname, module) in child.namedModules() {
                result.append((subname.isEmpty ? name : "\(name).\(subname)", module))
            }
        }
        return result
    }

    /// This module and all submodules.
    public func modules() -> [Module] { namedModules().map(\.1) }

    /// Every parameter with its dotted name, in registration order, each tensor once.
    ///
    /// ```swift
    /// for (name, p) in model.namedParameters() { print(name, p.shape) }
    /// ```
    public func namedParameters() -> [(String, Tensor)] {
        var seen = Set<ObjectIdentifier>()
        var result: [(String, Tensor)] = []
        for (prefix, module) in namedModules() {
            for (name, tensor) in module.members().parameters where seen.insert(ObjectIdentifier(tensor)).inserted {
                result.append((prefix.isEmpty ? name : "\(prefix).\(name)", tensor))
            }
        }
        return result
    }

    /// Every parameter, for an optimizer: `Adam(model.parameters(), lr: 1e-3)`.
    public func parameters() -> [Tensor] { namedParameters().map(\.1) }

    /// Every persistent and non-persistent buffer with its dotted name.
    public func namedBuffers() -> [(String, Tensor)] {
        namedBufferHolders().map { ($0.0, $0.1.value) }
    }

    private func namedBufferHolders() -> [(String, Buffer)] {
        var result: [(String, Buffer)] = []
        for (prefix, module) in namedModules() {
            for (name, buffer) in module.members().buffers {
                result.append((prefix.isEmpty ? name : "\(prefix).\(name)", buffer))
            }
        }
        return result
    }

    /// Total number of parameter elements.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }

    // MARK: Modes and moves

    /// Sets training mode on this module and every submodule; returns self.
    @discardableResult
    public func train(_ mode: Bool = true) -> Self {
        for module in modules() { module.isTraining = mode }
        return self
    }

    /// Sets evaluation mode (dropout off, batch norm uses running statistics); returns self.
    @discardableResult
    public func eval() -> Self { train(false) }

    /// Calls `body` on this module and every submodule (children first, as PyTorch).
    @discardableResult
    public func apply(_ body: (Module) -> Void) -> Self {
        for child in children() { child.apply(body) }
        body(self)
        return self
    }

    /// Clears every parameter's gradient.
    public func zeroGrad() {
        for p in parameters() { p.grad = nil }
    }

    /// Moves every parameter and buffer to `device`, in place (the module keeps its tensors'
    /// identities' values; optimizers must be created after moving). Returns self.
    @discardableResult
    public func to(_ device: Device) -> Self {
        convertTensors { $0.to(device) }
        return self
    }

    /// Converts floating-point parameters and buffers to `dtype`; returns self.
    @discardableResult
    public func to(_ dtype: DType) -> Self {
        precondition(dtype.isFloatingPoint, "Module.to: expected a floating-point dtype, got \(dtype)")
        convertTensors { $0.dtype.isFloatingPoint ? $0.to(dtype) : $0 }
        return self
    }

    /// Replaces each parameter's and buffer's data by `transform` of it, keeping the same
    /// `Tensor` objects where the result has the same layout, and re-creating leaves otherwise.
    private func convertTensors(_ transform: (Tensor) -> Tensor) {
        for (name, tensor) in namedParameters() {
            let converted = noGrad { transform(tensor) }
            if converted === tensor { continue }
            let leaf = converted.detach()
            leaf.requiresGrad = tensor.requiresGrad
            setParameter(named: name, to: leaf)
        }
        for (_, buffer) in namedBufferHolders() {
            buffer.value = noGrad { transform(buffer.value) }
        }
    }

    // MARK: State dicts

    /// Parameters and persistent buffers by dotted name, in registration order.
    public func stateDictEntries() -> [(String, Tensor)] {
        namedParameters().map { ($0.0, $0.1.detach()) }
            + namedBufferHolders().filter { $0.1.persistent }.map { ($0.0, $0.1.value) }
    }

    /// Parameters and persistent buffers by dotted name (`model.state_dict()`).
    ///
    /// ```swift
    /// let weights = model.stateDict()
    /// weights["fc1.weight"]!.shape   // [128, 784]
    /// ```
    public func stateDict() -> [String: Tensor] {
        Dictionary(stateDictEntries(), uniquingKeysWith: { first, _ in first })
    }

    /// Copies values from `state` into this module's parameters and buffers.
    ///
    /// - Parameters:
    ///   - state: tensors by dotted name, e.g. from `stateDict()` or a checkpoint.
    ///   - strict: when true (the default), missing and unexpected keys are errors.
    /// - Throws: `StateDictError` listing every missing key, unexpected key, shape
    ///   mismatch (with both shapes) and dtype that does not convert (integers or bools for
    ///   floats; float precisions convert as in PyTorch); nothing is changed when it throws.
    ///
    /// ```swift
    /// try model.loadStateDict(checkpoint)
    /// ```
    public func loadStateDict(_ state: [String: Tensor], strict: Bool = true) throws {
        let targets = namedParameters().map { ($0.0, $0.1) } + namedBufferHolders().filter { $0.1.persistent }.map { ($0.0, $0.1.value) }
        let names = Set(targets.map(\.0))
        let missing = targets.map(\.0).filter { state[$0] == nil }
        let unexpected = state.keys.filter { !names.contains($0) }.sorted()
        var mismatched: [StateDictError.Mismatch] = []
        var wrongTypes: [StateDictError.DTypeMismatch] = []
        for (name, tensor) in targets {
            guard let source = state[name] else { continue }
            if source.shape != tensor.shape {
                mismatched.append(.init(key: name, expected: tensor.shape, found: source.shape))
            }
            // Floating-point precisions convert (as PyTorch); integers or bools for floats do not.
            if source.dtype != tensor.dtype && !(source.dtype.isFloatingPoint && tensor.dtype.isFloatingPoint) {
                wrongTypes.append(.init(key: name, expected: tensor.dtype, found: source.dtype))
            }
        }
        if !mismatched.isEmpty || !wrongTypes.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
            throw StateDictError(missingKeys: strict ? missing : [], unexpectedKeys: strict ? unexpected : [],
                                 shapeMismatches: mismatched, dtypeMismatches: wrongTypes)
        }
        noGrad {
            for (name, tensor) in targets {
                guard let source = state[name] else { continue }
                tensor.copy_(source.to(tensor.device))
            }
        }
    }

    /// Replaces the parameter at a dotted path (used by `to(_:)`).
    private func setParameter(named path: String, to tensor: Tensor) {
        let parts = path.split(separator: ".").map(String.init)
        var module: Module = self
        for part in parts.dropLast() {
            guard let next = module.namedChildren().first(where: { $0.0 == part })?.1 else { return }
            module = next
        }
        module.replaceParameter(parts.last!, with: tensor)
    }

    /// Replaces one of this module's own parameters. Modules store parameters in `var`
    /// properties; Swift offers no reflective setter, so each module that supports
    /// `to(_:)` with a layout change implements this (the standard layers do).
    open func replaceParameter(_ name: String, with tensor: Tensor) {
        // Default: copy in place when possible (same shape), which covers dtype/device moves
        // of the same layout on the CPU.
        guard let current = members().parameters.first(where: { $0.0 == name })?.1 else { return }
        if current.shape == tensor.shape && current.dtype == tensor.dtype && current.device == tensor.device {
            noGrad { _ = current.copy_(tensor) }
        } else {
            fatalError("\(type(of: self)): override replaceParameter(_:with:) to support moving parameter '\(name)' to \(tensor.dtype) on \(tensor.device)")
        }
    }

    // MARK: Printing

    /// One line describing this module's own configuration (e.g. `in_features=4, ...`).
    open var extraDescription: String { "" }

    /// The module tree, printed as PyTorch does.
    ///
    /// ```
    /// Sequential(
    ///   (0): Linear(in_features=4, out_features=8, bias=True)
    ///   (1): ReLU()
    /// )
    /// ```
    public var description: String {
        let name = String(describing: type(of: self))
        let children = namedChildren()
        if children.isEmpty { return "\(name)(\(extraDescription))" }
        var lines = ["\(name)("]
        if !extraDescription.isEmpty { lines.append("  " + extraDescription) }
        for (childName, child) in children {
            let text = child.description.split(separator: "\n", omittingEmptySubsequences: false)
                .enumerated().map { $0.offset == 0 ? String($0.element) : "  " + $0.element }.joined(separator: "\n")
            lines.append("  (\(childName)): \(text)")
        }
        lines.append(")")
        return lines.joined(separator: "\n")
    }
}

/// Why `loadStateDict` refused a state dict.
public struct StateDictError: Error, CustomStringConvertible {
    /// A key whose tensor has the wrong shape.
    public struct Mismatch: Equatable {
        /// The state-dict key.
        public let key: String
        /// The shape the module has.
        public let expected: [Int]
        /// The shape in the loaded state dict.
        public let found: [Int]
    }
    /// Keys the module has but the state dict lacks.
    public let missingKeys: [String]
    /// Keys the state dict has but the module lacks.
    public let unexpectedKeys: [String]
    /// Keys whose shapes differ.
    public let shapeMismatches: [Mismatch]
    /// A key whose tensor has a dtype that does not convert (e.g. int64 for float32).
    public struct DTypeMismatch: Equatable {
        /// The state-dict key.
        public let key: String
        /// The module's dtype.
        public let expected: DType
        /// The loaded tensor's dtype, which does not convert.
        public let found: DType
    }
    /// Keys whose dtypes do not convert.
    public let dtypeMismatches: [DTypeMismatch]

    /// Creates the error from its findings.
    public init(missingKeys: [String], unexpectedKeys: [String], shapeMismatches: [Mismatch], dtypeMismatches: [DTypeMismatch] = []) {
        self.missingKeys = missingKeys
        self.unexpectedKeys = unexpectedKeys
        self.shapeMismatches = shapeMismatches
        self.dtypeMismatches = dtypeMismatches
    }

    public var description: String {
        var parts: [String] = []
        if !missingKeys.isEmpty { parts.append("missing keys: \(missingKeys.joined(separator: ", "))") }
        if !unexpectedKeys.isEmpty { parts.append("unexpected keys: \(unexpectedKeys.joined(separator: ", "))") }
        for m in shapeMismatches {
            parts.append("size mismatch for \(m.key): checkpoint has shape \(m.found), model expects \(m.expected)")
        }
        for m in dtypeMismatches {
            parts.append("dtype mismatch for \(m.key): checkpoint has \(m.found), model expects \(m.expected)")
        }
        return "Error loading state dict: " + parts.joined(separator: "; ")
    }
}

/// Saved state of a module that is not trained (e.g. batch norm's running mean), as
/// PyTorch's `register_buffer`. Non-persistent buffers are left out of state dicts.
///
/// A buffer is named after its property unless `name` is given: Swift properties are
/// camelCase while PyTorch's buffer names are often snake_case, so `name` keeps state-dict
/// keys identical to PyTorch's (`running_mean`) without un-Swifty property names. A module
/// may also hold a `Buffer?` directly (not as a wrapper) for state that exists only in some
/// configurations; a nil one is left out, as PyTorch's `register_buffer(name, None)`.
///
/// ```swift
/// final class Counter: Module {
///     @Buffer var steps = Tensor.zeros([1])
///     @Buffer(persistent: false) var cache = Tensor.zeros([0])
///     @Buffer(name: "num_calls") var numCalls = Tensor.zeros([1])
/// }
/// ```
@propertyWrapper
public final class Buffer {
    /// The buffer's current tensor.
    public var value: Tensor
    /// Whether state dicts include it.
    public let persistent: Bool
    /// The name used in state dicts and `namedBuffers()`; nil uses the property's name.
    public let name: String?

    /// Wraps `wrappedValue`; `name` overrides the property's name in state dicts.
    public init(wrappedValue: Tensor, persistent: Bool = true, name: String? = nil) {
        self.value = wrappedValue
        self.persistent = persistent
        self.name = name
    }

    /// The buffer tensor.
    public var wrappedValue: Tensor {
        get { value }
        set { value = newValue }
    }
}
