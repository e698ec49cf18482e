// Containers of modules: Sequential (with a result builder), ModuleList and ModuleDict.
import Ember

/// Builds a list of modules from a block, for `Sequential { ... }`.
@resultBuilder
public enum ModuleBuilder {
    public static func buildExpression(_ module: Module) -> [Module] { [module] }
    public static func buildBlock(_ parts: [Module]...) -> [Module] { parts.flatMap { $0 } }
    public static func buildOptional(_ part: [Module]?) -> [Module] { part ?? [] }
    public static func buildEither(first: [Module]) -> [Module] { first }
    public static func buildEither(second: [Module]) -> [Module] { second }
    public static func buildArray(_ parts: [[Module]]) -> [Module] { parts.flatMap { $0 } }
}

/// Runs modules one after another (`torch.nn.Sequential`); children are named `0`, `1`, ...
///
/// ```swift
/// let model = Sequential {
///     Linear(4, 8)
///     ReLU()
///     Linear(8, 3)
/// }
/// let y = model(x)
/// ```
public final class Sequential: Module {
    /// The modules, in order.
    public var layers: [Module]

    /// Creates a sequence from a builder block.
    public init(@ModuleBuilder _ build: () -> [Module]) {
        layers = build()
        super.init()
    }

    /// Creates a sequence from modules given as arguments.
    public init(_ modules: Module...) {
        layers = modules
        super.init()
    }

    /// Creates a sequence from an array of modules.
    public init(_ modules: [Module]) {
        layers = modules
        super.init()
    }

    public override func forward(_ input: Tensor) -> Tensor {
        layers.reduce(input) { $1($0) }
    }

    public override func namedChildren() -> [(String, Module)] {
        layers.enumerated().map { (String($0.offset), $0.element) }
    }

    /// The module at `index`.
    public subscript(index: Int) -> Module { layers[index] }
    /// Number of modules.
    public var count: Int { layers.count }
    /// Appends a module.
    public func append(_ module: Module) { layers.append(module) }
}

/// A list of modules whose parameters are registered (`torch.nn.ModuleList`); children
/// are named `0`, `1`, ...
///
/// ```swift
/// let blocks = ModuleList((0..<4).map { _ in Linear(64, 64) })
/// for block in blocks.modulesInOrder { x = block(x) }
/// ```
public final class ModuleList: Module {
    /// The modules, in order.
    public var modulesInOrder: [Module]

    public init(_ modules: [Module] = []) {
        modulesInOrder = modules
        super.init()
    }

    public override func namedChildren() -> [(String, Module)] {
        modulesInOrder.enumerated().map { (String($0.offset), $0.element) }
    }

    /// The module at `index`.
    public subscript(index: Int) -> Module { modulesInOrder[index] }
    /// Number of modules.
    public var count: Int { modulesInOrder.count }
    /// Appends a module.
    public func append(_ module: Module) { modulesInOrder.append(module) }
}

/// Modules by name (`torch.nn.ModuleDict`); children keep insertion order.
///
/// ```swift
/// let heads = ModuleDict(["cls": Linear(64, 10), "box": Linear(64, 4)])
/// let logits = heads["cls"]!(features)
/// ```
public final class ModuleDict: Module {
    private var keys: [String] = []
    private var values: [String: Module] = [:]

    public init(_ modules: KeyValuePairs<String, Module> = [:]) {
        super.init()
        for (key, module) in modules { self[key] = module }
    }

    /// The module stored under `key`.
    public subscript(key: String) -> Module? {
        get { values[key] }
        set {
            if values[key] == nil, newValue != nil { keys.append(key) }
            if newValue == nil { keys.removeAll { $0 == key } }
            values[key] = newValue
        }
    }

    public override func namedChildren() -> [(String, Module)] {
        keys.map { ($0, values[$0]!) }
    }
}
