// The Optimizer base class: parameter groups, per-parameter state, step/zeroGrad, state dicts.
import Ember

/// A set of parameters optimized with their own hyperparameters, as one entry of
/// PyTorch's `optimizer.param_groups`.
///
/// Hyperparameters are stored by their PyTorch names (`"lr"`, `"momentum"`,
/// `"weight_decay"`, `"beta1"`, `"beta2"`, `"eps"`, …); flags such as `"nesterov"` or
/// `"amsgrad"` are stored as `1` or `0`. Options a group leaves out take the optimizer's
/// defaults when the group is added; schedulers add their own keys (`"initial_lr"`).
///
/// ```swift
/// let optimizer = SGD(groups: [
///     ParamGroup(backbone.parameters()),
///     ParamGroup(head.parameters(), lr: 0.1, options: ["momentum": 0.5]),
/// ], lr: 0.01, momentum: 0.9)
/// ```
public struct ParamGroup {
    /// The tensors this group updates.
    public var params: [Tensor]
    /// Hyperparameters by PyTorch name, including `"lr"`.
    public var options: [String: Double]

    /// Creates a group; `lr` and `options` override the optimizer's defaults.
    ///
    /// - Parameters:
    ///   - params: the tensors to optimize.
    ///   - lr: this group's learning rate (the optimizer's `lr` when nil).
    ///   - options: other hyperparameters by PyTorch name (`["momentum": 0.5]`).
    public init(_ params: [Tensor], lr: Double? = nil, options: [String: Double] = [:]) {
        self.params = params
        self.options = options
        if let lr { self.options["lr"] = lr }
    }

    /// The learning rate (`options["lr"]`).
    public var lr: Double {
        get {
            guard let lr = options["lr"] else { preconditionFailure("ParamGroup: no learning rate set (add the group to an optimizer first)") }
            return lr
        }
        set { options["lr"] = newValue }
    }

    /// A hyperparameter by PyTorch name, or nil when the group has none.
    public subscript(key: String) -> Double? {
        get { options[key] }
        set { options[key] = newValue }
    }

    /// A hyperparameter the optimizer relies on; stops with a message naming it if missing.
    ///
    /// ```swift
    /// let momentum = group.value("momentum")
    /// ```
    @inline(__always)
    public func value(_ key: String) -> Double {
        guard let value = options[key] else { preconditionFailure("ParamGroup: hyperparameter \"\(key)\" is missing") }
        return value
    }

    /// A flag hyperparameter (stored as 0 or 1), e.g. `group.flag("nesterov")`.
    @inline(__always)
    public func flag(_ key: String) -> Bool { value(key) != 0 }
}

/// The state an optimizer keeps for one parameter: a step count (for optimizers that
/// count steps) and named buffers such as `"momentum_buffer"`, `"exp_avg"` or
/// `"exp_avg_sq"` (PyTorch's names).
///
/// ```swift
/// let moments = optimizer.state(for: weight)?["exp_avg"]
/// ```
public struct ParamState {
    /// Steps taken for this parameter (nil for optimizers that do not count steps, e.g. SGD).
    public var step: Int?
    /// Named state tensors, each the parameter's shape.
    public var buffers: [String: Tensor]

    /// Creates a state.
    ///
    /// - Parameters:
    ///   - step: the step count, or nil.
    ///   - buffers: named state tensors.
    public init(step: Int? = nil, buffers: [String: Tensor] = [:]) {
        self.step = step
        self.buffers = buffers
    }

    /// A buffer by name.
    public subscript(name: String) -> Tensor? {
        get { buffers[name] }
        set { buffers[name] = newValue }
    }
}

/// Base class of Ember's optimizers, as `torch.optim.Optimizer`: it holds the parameter
/// groups and per-parameter state and runs `step()`, calling the subclass's
/// ``update(_:grad:state:group:)`` for every parameter that has a gradient.
///
/// A subclass writes only that per-parameter update (in place, under `noGrad`), its
/// defaults and its argument checks.
///
/// ```swift
/// let optimizer = Adam(model.parameters(), lr: 1e-3)
/// for (x, y) in batches {
///     optimizer.zeroGrad()
///     crossEntropy(model(x), y).backward()
///     optimizer.step()
/// }
/// ```
///
/// ### See Also
/// - ``SGD``, ``Adam``, ``AdamW``, ``RMSprop``, ``Adagrad``
/// - ``LRScheduler``
open class Optimizer {
    /// The parameter groups, each with its own hyperparameters (`param_groups`).
    public var paramGroups: [ParamGroup] = []
    /// The default hyperparameters, by PyTorch name, that groups start from.
    public let defaults: [String: Double]
    /// Per-parameter state, keyed by the parameter's identity.
    var state: [ObjectIdentifier: ParamState] = [:]

    /// Creates an optimizer over `groups`; each group's missing options come from `defaults`.
    ///
    /// - Parameters:
    ///   - groups: the parameter groups (at least one parameter in all).
    ///   - defaults: default hyperparameters by PyTorch name; must include `"lr"`.
    public init(groups: [ParamGroup], defaults: [String: Double]) {
        self.defaults = defaults
        if let message = Self.argumentError(in: defaults) { preconditionFailure(message) }
        precondition(!groups.isEmpty && groups.contains { !$0.params.isEmpty },
                     "\(Self.self): optimizer got an empty parameter list")
        for group in groups { addParamGroup(group) }
    }

    /// Creates an optimizer with one group holding `params`.
    ///
    /// - Parameters:
    ///   - params: the tensors to optimize.
    ///   - defaults: hyperparameters by PyTorch name; must include `"lr"`.
    public convenience init(_ params: [Tensor], defaults: [String: Double]) {
        self.init(groups: [ParamGroup(params)], defaults: defaults)
    }

    /// Adds a group (`add_param_group`): its missing options take the defaults; a
    /// parameter may belong to one group only.
    ///
    /// ```swift
    /// optimizer.addParamGroup(ParamGroup(newHead.parameters(), lr: 0.1))
    /// ```
    public func addParamGroup(_ group: ParamGroup) {
        var group = group
        for (key, value) in defaults where group.options[key] == nil { group.options[key] = value }
        if let message = Self.argumentError(in: group.options) { preconditionFailure(message) }
        var seen = Set(paramGroups.flatMap { $0.params.map(ObjectIdentifier.init) })
        for param in group.params {
            precondition(param.isLeaf, "\(Self.self): can't optimize a non-leaf Tensor")
            precondition(param.dtype.isFloatingPoint, "\(Self.self): can only optimize floating-point tensors, got \(param.dtype)")
            precondition(seen.insert(ObjectIdentifier(param)).inserted,
                         "\(Self.self): some parameters appear in more than one parameter group")
        }
        paramGroups.append(group)
        for param in group.params {
            if let initial = initialState(for: param, group: group, eager: true) { state[ObjectIdentifier(param)] = initial }
        }
    }

    /// Checks hyperparameters, returning PyTorch's message for the first invalid one
    /// (`"Invalid learning rate: -1.0"`) or nil. Subclasses add their own checks.
    ///
    /// - Parameter options: hyperparameters by PyTorch name.
    ///
    /// ```swift
    /// SGD.argumentError(in: ["lr": -1])   // "Invalid learning rate: -1.0"
    /// ```
    open class func argumentError(in options: [String: Double]) -> String? {
        guard let lr = options["lr"] else { return "\(self): a learning rate (\"lr\") is required" }
        if !(lr >= 0) { return "Invalid learning rate: \(lr)" }
        return nil
    }

    /// The state a parameter starts with. Called with `eager: true` when the parameter is
    /// added (return nil to wait until its first step, as most PyTorch optimizers do) and
    /// with `eager: false` before its first update.
    ///
    /// - Parameters:
    ///   - param: the parameter.
    ///   - group: its group (defaults filled in).
    ///   - eager: true when called from `addParamGroup`.
    open func initialState(for param: Tensor, group: ParamGroup, eager: Bool) -> ParamState? {
        eager ? nil : ParamState()
    }

    /// Updates one parameter in place from its gradient; called by ``step()`` under
    /// `noGrad` for every parameter whose `grad` is set. Subclasses override this.
    ///
    /// - Parameters:
    ///   - param: the parameter, updated in place.
    ///   - grad: its gradient.
    ///   - state: its state (buffers and step count), updated in place.
    ///   - group: its group's hyperparameters.
    open func update(_ param: Tensor, grad: Tensor, state: inout ParamState, group: ParamGroup) {
        preconditionFailure("\(Self.self): subclasses of Optimizer must override update(_:grad:state:group:)")
    }

    /// Performs one optimization step: updates every parameter that has a gradient.
    ///
    /// ```swift
    /// loss.backward()
    /// optimizer.step()
    /// ```
    open func step() {
        noGrad {
            for group in paramGroups {
                for param in group.params {
                    guard let grad = param.grad else { continue }
                    let key = ObjectIdentifier(param)
                    var paramState = state[key] ?? initialState(for: param, group: group, eager: false) ?? ParamState()
                    update(param, grad: grad, state: &paramState, group: group)
                    state[key] = paramState
                }
            }
        }
    }

    /// Re-evaluates the loss with `closure` (which should zero the gradients and call
    /// `backward()`), then performs a step; returns the loss.
    ///
    /// ```swift
    /// let loss = optimizer.step { optimizer.zeroGrad(); let l = lossFn(); l.backward(); return l }
    /// ```
    @discardableResult
    public func step(closure: () -> Tensor) -> Tensor {
        let loss = enableGrad { closure() }
        step()
        return loss
    }

    /// Clears the gradients of every parameter: sets them to nil (the default, as
    /// PyTorch's `set_to_none=True`) or fills them with zeros.
    ///
    /// - Parameter setToNil: nil gradients instead of zeroed ones.
    ///
    /// ```swift
    /// optimizer.zeroGrad()
    /// ```
    public func zeroGrad(setToNil: Bool = true) {
        for group in paramGroups {
            for param in group.params {
                if setToNil {
                    param.grad = nil
                } else if let grad = param.grad {
                    param.grad = noGrad { grad.isLeaf ? grad.zero_() : Tensor.zerosLike(grad) }
                }
            }
        }
    }

    /// The learning rate of the first group; setting it sets every group's.
    ///
    /// ```swift
    /// optimizer.learningRate = 1e-4
    /// ```
    public var learningRate: Double {
        get { paramGroups[0].lr }
        set { for index in paramGroups.indices { paramGroups[index].lr = newValue } }
    }

    /// The state of `param`, or nil before its first step.
    ///
    /// - Parameter param: a parameter of this optimizer.
    public func state(for param: Tensor) -> ParamState? { state[ObjectIdentifier(param)] }

    /// The optimizer's state: per-parameter state (by the parameter's position across
    /// the groups, as PyTorch numbers them) and each group's hyperparameters. The state
    /// tensors are the optimizer's own (not copies); ``loadStateDict(_:)`` copies them.
    ///
    /// ```swift
    /// let checkpoint = optimizer.stateDict().flattened()   // [String: Tensor]
    /// ```
    public func stateDict() -> OptimizerStateDict {
        var dict = OptimizerStateDict(state: [:], paramGroups: [])
        var index = 0
        for group in paramGroups {
            var indices: [Int] = []
            for param in group.params {
                if let paramState = state[ObjectIdentifier(param)] { dict.state[index] = paramState }
                indices.append(index)
                index += 1
            }
            dict.paramGroups.append(OptimizerStateDict.Group(options: group.options, params: indices))
        }
        return dict
    }

    /// Restores state saved by ``stateDict()``: groups must match in number and size; the
    /// saved hyperparameters replace each group's, and the saved state tensors are copied
    /// (converted to each parameter's dtype and device).
    ///
    /// - Throws: ``OptimizerStateError`` when the groups or tensor shapes do not match.
    ///
    /// ```swift
    /// try optimizer.loadStateDict(OptimizerStateDict(flattened: checkpoint))
    /// ```
    public func loadStateDict(_ dict: OptimizerStateDict) throws {
        guard dict.paramGroups.count == paramGroups.count else {
            throw OptimizerStateError.groupCountMismatch(expected: paramGroups.count, got: dict.paramGroups.count)
        }
        var restored: [ObjectIdentifier: ParamState] = [:]
        for (groupIndex, (saved, group)) in zip(dict.paramGroups, paramGroups).enumerated() {
            guard saved.params.count == group.params.count else {
                throw OptimizerStateError.groupSizeMismatch(group: groupIndex, expected: group.params.count, got: saved.params.count)
            }
            for (savedIndex, param) in zip(saved.params, group.params) {
                guard let savedState = dict.state[savedIndex] else { continue }
                var copy = ParamState(step: savedState.step)
                for (name, buffer) in savedState.buffers {
                    guard buffer.shape == param.shape else {
                        throw OptimizerStateError.shapeMismatch(key: "state.\(savedIndex).\(name)", expected: param.shape, got: buffer.shape)
                    }
                    copy.buffers[name] = noGrad { buffer.to(param.device, param.dtype).clone() }
                }
                restored[ObjectIdentifier(param)] = copy
            }
        }
        for index in paramGroups.indices {
            var options = dict.paramGroups[index].options
            for (key, value) in paramGroups[index].options where options[key] == nil { options[key] = value }
            paramGroups[index].options = options
        }
        state = restored
    }
}

/// An optimizer's saved state, as PyTorch's `optimizer.state_dict()`: per-parameter state
/// numbered by position across the groups, and each group's hyperparameters with the
/// numbers of its parameters.
///
/// ```swift
/// let saved = optimizer.stateDict()
/// try restoredOptimizer.loadStateDict(saved)
/// ```
public struct OptimizerStateDict {
    /// One group's saved hyperparameters and the numbers of its parameters.
    public struct Group {
        /// Hyperparameters by PyTorch name.
        public var options: [String: Double]
        /// Numbers of the group's parameters (positions across all groups).
        public var params: [Int]

        /// Creates a saved group.
        ///
        /// - Parameters:
        ///   - options: hyperparameters by PyTorch name.
        ///   - params: the parameters' numbers.
        public init(options: [String: Double], params: [Int]) {
            self.options = options
            self.params = params
        }
    }

    /// Per-parameter state by parameter number.
    public var state: [Int: ParamState]
    /// The groups in order.
    public var paramGroups: [Group]

    /// Creates a state dict.
    ///
    /// - Parameters:
    ///   - state: per-parameter state by parameter number.
    ///   - paramGroups: the groups in order.
    public init(state: [Int: ParamState], paramGroups: [Group]) {
        self.state = state
        self.paramGroups = paramGroups
    }

    /// The state as flat tensors with PyTorch-like dotted keys, for checkpoint files:
    /// `state.<n>.<buffer>`, `state.<n>.step` (a 0-d float32 tensor, as PyTorch keeps it),
    /// `param_groups.<g>.<option>` (0-d float64) and `param_groups.<g>.params` (int64).
    ///
    /// ```swift
    /// let tensors = optimizer.stateDict().flattened()   // "state.0.exp_avg", "param_groups.0.lr", ...
    /// ```
    public func flattened() -> [String: Tensor] {
        var out: [String: Tensor] = [:]
        for (index, paramState) in state {
            if let step = paramState.step { out["state.\(index).step"] = Tensor(Float(step)) }
            for (name, buffer) in paramState.buffers { out["state.\(index).\(name)"] = buffer }
        }
        for (index, group) in paramGroups.enumerated() {
            for (key, value) in group.options { out["param_groups.\(index).\(key)"] = Tensor(value) }
            out["param_groups.\(index).params"] = Tensor(group.params, shape: [group.params.count])
        }
        return out
    }

    /// Rebuilds a state dict from ``flattened()``'s tensors.
    ///
    /// - Parameter tensors: tensors under `state.…` and `param_groups.…` keys.
    /// - Throws: ``OptimizerStateError/malformedKey(_:)`` for a key of another form, and
    ///   ``OptimizerStateError/missingParams(group:)`` when a group lacks its `params`.
    public init(flattened tensors: [String: Tensor]) throws {
        var state: [Int: ParamState] = [:]
        var options: [Int: [String: Double]] = [:]
        var params: [Int: [Int]] = [:]
        for (key, tensor) in tensors {
            let parts = key.split(separator: ".", maxSplits: 2).map(String.init)
            guard parts.count == 3, let index = Int(parts[1]), index >= 0, !parts[2].isEmpty else {
                throw OptimizerStateError.malformedKey(key)
            }
            switch parts[0] {
            case "state":
                if parts[2] == "step" {
                    guard tensor.count == 1 else { throw OptimizerStateError.malformedKey(key) }
                    state[index, default: ParamState()].step = Int(tensor.item(Double.self))
                } else {
                    state[index, default: ParamState()].buffers[parts[2]] = tensor
                }
            case "param_groups":
                if parts[2] == "params" {
                    guard tensor.rank == 1 else { throw OptimizerStateError.malformedKey(key) }
                    params[index] = tensor.asArray(Int.self)
                } else {
                    guard tensor.count == 1 else { throw OptimizerStateError.malformedKey(key) }
                    options[index, default: [:]][parts[2]] = tensor.item(Double.self)
                }
            default:
                throw OptimizerStateError.malformedKey(key)
            }
        }
        let groupCount = Set(options.keys).union(params.keys).count
        var groups: [Group] = []
        for index in 0..<groupCount {
            guard let groupParams = params[index] else { throw OptimizerStateError.missingParams(group: index) }
            groups.append(Group(options: options[index] ?? [:], params: groupParams))
        }
        self.init(state: state, paramGroups: groups)
    }
}

/// Why an optimizer state could not be loaded.
public enum OptimizerStateError: Error, Equatable, CustomStringConvertible {
    /// The saved state has another number of parameter groups.
    case groupCountMismatch(expected: Int, got: Int)
    /// A saved group has another number of parameters.
    case groupSizeMismatch(group: Int, expected: Int, got: Int)
    /// A saved state tensor's shape differs from its parameter's.
    case shapeMismatch(key: String, expected: [Int], got: [Int])
    /// A flattened key is not `state.<n>.<name>` or `param_groups.<g>.<name>`, or its value has the wrong size.
    case malformedKey(String)
    /// A flattened group has no `param_groups.<g>.params` entry.
    case missingParams(group: Int)

    /// A message naming what was expected and what came.
    public var description: String {
        switch self {
        case let .groupCountMismatch(expected, got):
            return "loadStateDict: loaded state dict has \(got) parameter groups, the optimizer has \(expected)"
        case let .groupSizeMismatch(group, expected, got):
            return "loadStateDict: parameter group \(group) has \(got) parameters in the loaded state dict, the optimizer's has \(expected)"
        case let .shapeMismatch(key, expected, got):
            return "loadStateDict: \(key) has shape \(got), its parameter has shape \(expected)"
        case let .malformedKey(key):
            return "OptimizerStateDict: unexpected key or value for \"\(key)\" (expected state.<n>.<name> or param_groups.<g>.<name>)"
        case let .missingParams(group):
            return "OptimizerStateDict: param_groups.\(group).params is missing"
        }
    }
}

/// Checks `value >= 0` (false for NaN), the common form of PyTorch's argument checks.
@inline(__always)
func isNonNegative(_ value: Double?) -> Bool { value.map { $0 >= 0 } ?? true }
