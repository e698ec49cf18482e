// Numerical parity with PyTorch: every case in Fixtures/parity.json (written by
// scripts/make_fixtures.py with PyTorch 2.13) is run through Ember and its forward
// outputs (values, shape, dtype) and input gradients are compared with PyTorch's.
//
// Regenerate the fixture with `bash scripts/make_fixtures.sh` (or `make fixtures`).
// One test method per op family; each fails with the case name on a mismatch, and a
// case whose op id has no Ember mapping below fails too.
import Foundation
import XCTest
@testable import Ember

// MARK: - Fixture format

/// A JSON value (params are heterogeneous).
enum ParityJSON: Decodable {
    case null, bool(Bool), number(Double), string(String), array([ParityJSON]), object([String: ParityJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([ParityJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: ParityJSON].self)) }
    }

    /// A number, reading "nan", "inf" and "-inf" strings as non-finite doubles.
    var double: Double? {
        switch self {
        case .number(let d): return d
        case .string("nan"): return .nan
        case .string("inf"): return .infinity
        case .string("-inf"): return -.infinity
        default: return nil
        }
    }
}

struct ParityError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// One tensor of a case: shape, dtype name (`float32`, ...) and row-major data.
struct ParityTensor: Decodable {
    let shape: [Int]
    let dtype: String
    let data: [ParityJSON]
    let requires_grad: Bool?
    let permute: [Int]?

    func values() throws -> [Double] {
        try data.map { v in
            guard let d = v.double else { throw ParityError("non-numeric value \(v) in tensor data") }
            return d
        }
    }

    func emberDType() throws -> DType {
        guard let d = DType(rawValue: dtype) else { throw ParityError("unknown dtype \(dtype)") }
        return d
    }

    /// The tensor as an Ember tensor (leaf, no grad).
    func makeTensor() throws -> Tensor {
        let v = try values()
        switch try emberDType() {
        case .float64: return Tensor(v, shape: shape)
        case .float32: return Tensor(v.map { Float($0) }, shape: shape)
        case .float16: return Tensor(v.map { Float($0) }, shape: shape, dtype: .float16)
        case .bfloat16: return Tensor(v.map { Float($0) }, shape: shape, dtype: .bfloat16)
        case .int64: return Tensor(v.map { Int64($0) }, shape: shape)
        case .int32: return Tensor(v.map { Int32($0) }, shape: shape)
        case .uint8: return Tensor(v.map { UInt8($0) }, shape: shape)
        case .bool: return Tensor(v.map { $0 != 0 }, shape: shape)
        }
    }
}

struct ParityCase: Decodable {
    let name: String
    let family: String
    let op: String
    let params: [String: ParityJSON]
    let inputs: [ParityTensor]
    let outputs: [ParityTensor]
    let upstream: [ParityTensor?]
    let grads: [ParityTensor?]
}

struct ParityFixture: Decodable {
    let torch_version: String
    let cases: [ParityCase]
}

/// Typed access to a case's params; a missing or mistyped param is a test failure.
struct ParityParams {
    let raw: [String: ParityJSON]

    func has(_ key: String) -> Bool {
        if let v = raw[key], case .null = v { return false }
        return raw[key] != nil
    }
    func double(_ key: String) throws -> Double {
        guard let d = raw[key]?.double else { throw ParityError("param '\(key)' missing or not a number") }
        return d
    }
    func optionalDouble(_ key: String) throws -> Double? { has(key) ? try double(key) : nil }
    func int(_ key: String) throws -> Int {
        let d = try double(key)
        guard d.rounded() == d else { throw ParityError("param '\(key)' is not an integer: \(d)") }
        return Int(d)
    }
    func optionalInt(_ key: String) throws -> Int? { has(key) ? try int(key) : nil }
    func ints(_ key: String) throws -> [Int] {
        guard case .array(let a)? = raw[key] else { throw ParityError("param '\(key)' missing or not an array") }
        return try a.map { v in
            guard let d = v.double, d.rounded() == d else { throw ParityError("param '\(key)' has a non-integer element") }
            return Int(d)
        }
    }
    func bool(_ key: String) throws -> Bool {
        guard case .bool(let b)? = raw[key] else { throw ParityError("param '\(key)' missing or not a bool") }
        return b
    }
    func optionalBool(_ key: String) throws -> Bool? { has(key) ? try bool(key) : nil }
    func string(_ key: String) throws -> String {
        guard case .string(let s)? = raw[key] else { throw ParityError("param '\(key)' missing or not a string") }
        return s
    }
}

// MARK: - Op table: fixture op id → Ember

typealias ParityOp = (_ inputs: [Tensor], _ params: ParityParams) throws -> [Tensor]

/// `x ⊕ scalar` (or `scalar ⊕ x` when `reverse`) through Ember's scalar operator overloads.
private func scalarOp(_ x: Tensor, _ p: ParityParams,
                      _ double: (Tensor, Double) -> Tensor, _ doubleReversed: (Double, Tensor) -> Tensor,
                      _ int: (Tensor, Int) -> Tensor, _ intReversed: (Int, Tensor) -> Tensor) throws -> [Tensor] {
    let value = try p.double("scalar")
    let reverse = try p.bool("reverse")
    if try p.bool("integer") {
        let i = try p.int("scalar")
        return [reverse ? intReversed(i, x) : int(x, i)]
    }
    return [reverse ? doubleReversed(value, x) : double(x, value)]
}

private func unary(_ f: @escaping (Tensor) -> Tensor) -> ParityOp { { t, _ in [f(t[0])] } }
private func binary(_ f: @escaping (Tensor, Tensor) -> Tensor) -> ParityOp { { t, _ in [f(t[0], t[1])] } }

private func dtypeParam(_ p: ParityParams, _ key: String) throws -> DType {
    let name = try p.string(key)
    guard let d = DType(rawValue: name) else { throw ParityError("unknown dtype '\(name)'") }
    return d
}

private func comparison(_ a: Tensor, _ cmp: String, tensor b: Tensor?, scalar: Double?) throws -> Tensor {
    switch (cmp, b) {
    case ("eq", let b?): return a.eq(b)
    case ("ne", let b?): return a.ne(b)
    case ("lt", let b?): return a.lt(b)
    case ("le", let b?): return a.le(b)
    case ("gt", let b?): return a.gt(b)
    case ("ge", let b?): return a.ge(b)
    default: break
    }
    guard let s = scalar else { throw ParityError("comparison without operand") }
    switch cmp {
    case "eq": return a.eq(s)
    case "ne": return a.ne(s)
    case "lt": return a.lt(s)
    case "le": return a.le(s)
    case "gt": return a.gt(s)
    case "ge": return a.ge(s)
    default: throw ParityError("unknown comparison '\(cmp)'")
    }
}

let parityOps: [String: ParityOp] = [
    // arithmetic
    "add": binary { $0 + $1 },
    "sub": binary { $0 - $1 },
    "mul": binary { $0 * $1 },
    "div": binary { $0 / $1 },
    "add_alpha": { t, p in [t[0].add(t[1], alpha: try p.double("alpha"))] },
    "add_scalar": { t, p in try scalarOp(t[0], p, { $0 + $1 }, { $0 + $1 }, { $0 + $1 }, { $0 + $1 }) },
    "sub_scalar": { t, p in try scalarOp(t[0], p, { $0 - $1 }, { $0 - $1 }, { $0 - $1 }, { $0 - $1 }) },
    "mul_scalar": { t, p in try scalarOp(t[0], p, { $0 * $1 }, { $0 * $1 }, { $0 * $1 }, { $0 * $1 }) },
    "div_scalar": { t, p in try scalarOp(t[0], p, { $0 / $1 }, { $0 / $1 }, { $0 / $1 }, { $0 / $1 }) },
    "neg": unary { -$0 },
    "pow": binary { $0.pow($1) },
    "pow_scalar": { t, p in [t[0].pow(try p.double("exponent"))] },
    "maximum": binary { Ember.maximum($0, $1) },
    "minimum": binary { Ember.minimum($0, $1) },
    "atan2": binary { Ember.atan2($0, $1) },
    "remainder": binary { $0.remainder($1) },
    "floor_divide": binary { $0.floorDivide($1) },
    // unary math
    "abs": unary { Ember.abs($0) },
    "sign": unary { Ember.sign($0) },
    "exp": unary { Ember.exp($0) },
    "log": unary { Ember.log($0) },
    "log1p": unary { Ember.log1p($0) },
    "expm1": unary { Ember.expm1($0) },
    "sqrt": unary { Ember.sqrt($0) },
    "rsqrt": unary { Ember.rsqrt($0) },
    "reciprocal": unary { Ember.reciprocal($0) },
    "square": unary { Ember.square($0) },
    "sin": unary { Ember.sin($0) },
    "cos": unary { Ember.cos($0) },
    "tan": unary { Ember.tan($0) },
    "asin": unary { Ember.asin($0) },
    "acos": unary { Ember.acos($0) },
    "atan": unary { Ember.atan($0) },
    "sinh": unary { Ember.sinh($0) },
    "cosh": unary { Ember.cosh($0) },
    "tanh": unary { Ember.tanh($0) },
    "erf": unary { Ember.erf($0) },
    "floor": unary { Ember.floor($0) },
    "ceil": unary { Ember.ceil($0) },
    "round": unary { Ember.round($0) },
    "trunc": unary { Ember.trunc($0) },
    "clamp": { t, p in [t[0].clamp(min: try p.optionalDouble("min"), max: try p.optionalDouble("max"))] },
    "isnan": unary { Ember.isNaN($0) },
    "isinf": unary { Ember.isInf($0) },
    "isfinite": unary { Ember.isFinite($0) },
    // activations
    "sigmoid": unary { Ember.sigmoid($0) },
    "relu": unary { Ember.relu($0) },
    "gelu": { t, p in
        let mode = try p.string("approximate")
        guard mode == "none" || mode == "tanh" else { throw ParityError("unknown gelu approximation '\(mode)'") }
        return [Ember.gelu(t[0], approximate: mode == "tanh" ? .tanh : .none)]
    },
    "silu": unary { Ember.silu($0) },
    "softplus": { t, p in [Ember.softplus(t[0], beta: try p.double("beta"), threshold: try p.double("threshold"))] },
    "leaky_relu": { t, p in [Ember.leakyRelu(t[0], negativeSlope: try p.double("negative_slope"))] },
    "elu": { t, p in [Ember.elu(t[0], alpha: try p.double("alpha"))] },
    "softmax": { t, p in [Ember.softmax(t[0], dim: try p.int("dim"))] },
    "log_softmax": { t, p in [t[0].logSoftmax(dim: try p.int("dim"))] },
    // comparisons and selection
    "compare": { t, p in [try comparison(t[0], try p.string("cmp"), tensor: t[1], scalar: nil)] },
    "compare_scalar": { t, p in [try comparison(t[0], try p.string("cmp"), tensor: nil, scalar: try p.double("scalar"))] },
    "logical_and": binary { $0 .& $1 },
    "logical_or": binary { $0.logicalOr($1) },
    "logical_xor": binary { $0.logicalXor($1) },
    "logical_not": unary { $0.logicalNot() },
    "where": { t, _ in [Tensor.where(t[0], t[1], t[2])] },
    "where_scalar": { t, p in [Tensor.where(t[0], t[1], try p.double("scalar"))] },
    // reductions
    "sum": { t, p in
        let dims = try p.ints("dims"), keep = try p.bool("keepdim")
        if dims.isEmpty && !keep { return [t[0].sum()] }
        if dims.count == 1 { return [t[0].sum(dim: dims[0], keepDim: keep)] }
        return [t[0].sum(dims: dims, keepDim: keep)]
    },
    "mean": { t, p in
        let dims = try p.ints("dims"), keep = try p.bool("keepdim")
        if dims.isEmpty && !keep { return [t[0].mean()] }
        if dims.count == 1 { return [t[0].mean(dim: dims[0], keepDim: keep)] }
        return [t[0].mean(dims: dims, keepDim: keep)]
    },
    "prod": { t, p in
        guard let dim = try p.optionalInt("dim") else { return [t[0].prod()] }
        return [t[0].prod(dim: dim, keepDim: try p.optionalBool("keepdim") ?? false)]
    },
    "amax": { t, p in [t[0].amax(dims: try p.ints("dims"), keepDim: try p.bool("keepdim"))] },
    "amin": { t, p in [t[0].amin(dims: try p.ints("dims"), keepDim: try p.bool("keepdim"))] },
    "max_all": unary { $0.max() },
    "min_all": unary { $0.min() },
    "max_dim": { t, p in
        let r = t[0].max(dim: try p.int("dim"), keepDim: try p.bool("keepdim"))
        return [r.values, r.indices]
    },
    "min_dim": { t, p in
        let r = t[0].min(dim: try p.int("dim"), keepDim: try p.bool("keepdim"))
        return [r.values, r.indices]
    },
    "argmax": { t, p in [t[0].argmax(dim: try p.optionalInt("dim"), keepDim: try p.optionalBool("keepdim") ?? false)] },
    "argmin": { t, p in [t[0].argmin(dim: try p.optionalInt("dim"), keepDim: try p.optionalBool("keepdim") ?? false)] },
    "var": { t, p in
        let dims = try p.ints("dims"), c = try p.int("correction"), keep = try p.bool("keepdim")
        if dims.count == 1 { return [t[0].var(dim: dims[0], correction: c, keepDim: keep)] }
        return [t[0].variance(dims: dims, correction: c, keepDim: keep)]
    },
    "std": { t, p in
        let dims = try p.ints("dims"), c = try p.int("correction"), keep = try p.bool("keepdim")
        if dims.count == 1 { return [t[0].std(dim: dims[0], correction: c, keepDim: keep)] }
        return [t[0].std(dims: dims, correction: c, keepDim: keep)]
    },
    "logsumexp": { t, p in
        let dims = try p.ints("dims"), keep = try p.bool("keepdim")
        if dims.count == 1 { return [t[0].logsumexp(dim: dims[0], keepDim: keep)] }
        return [t[0].logsumexp(dims: dims, keepDim: keep)]
    },
    "cumsum": { t, p in [t[0].cumsum(dim: try p.int("dim"))] },
    "cumprod": { t, p in [t[0].cumprod(dim: try p.int("dim"))] },
    "norm": { t, p in [t[0].norm(p: try p.double("p"), dims: try p.ints("dims"), keepDim: try p.bool("keepdim"))] },
    "all": { t, p in
        guard let dim = try p.optionalInt("dim") else { return [t[0].all()] }
        return [t[0].all(dim: dim, keepDim: try p.optionalBool("keepdim") ?? false)]
    },
    "any": { t, p in
        guard let dim = try p.optionalInt("dim") else { return [t[0].any()] }
        return [t[0].any(dim: dim, keepDim: try p.optionalBool("keepdim") ?? false)]
    },
    // linear algebra
    "matmul": binary { $0.matmul($1) },
    "mm": binary { $0.mm($1) },
    "bmm": binary { $0.bmm($1) },
    "dot": binary { $0.dot($1) },
    "outer": binary { $0.outer($1) },
    "einsum": { t, p in
        let equation = try p.string("equation")
        switch t.count {
        case 1: return [Ember.einsum(equation, t[0])]
        case 2: return [Ember.einsum(equation, t[0], t[1])]
        default: throw ParityError("einsum with \(t.count) operands")
        }
    },
    // views
    "reshape": { t, p in [t[0].reshape(try p.ints("shape"))] },
    "permute": { t, p in [t[0].permute(try p.ints("dims"))] },
    "transpose": { t, p in [t[0].transpose(try p.int("dim0"), try p.int("dim1"))] },
    "t": unary { $0.t() },
    "expand": { t, p in [t[0].expand(try p.ints("shape"))] },
    "narrow": { t, p in [t[0].narrow(dim: try p.int("dim"), start: try p.int("start"), length: try p.int("length"))] },
    "select": { t, p in [t[0].select(dim: try p.int("dim"), index: try p.int("index"))] },
    "slice": { t, p in
        [t[0].slice(dim: try p.int("dim"), start: try p.optionalInt("start"), end: try p.optionalInt("end"), step: try p.int("step"))]
    },
    "unsqueeze": { t, p in [t[0].unsqueeze(try p.int("dim"))] },
    "squeeze": { t, p in [t[0].squeeze(dim: try p.optionalInt("dim"))] },
    "flatten": { t, p in [t[0].flatten(startDim: try p.int("start_dim"), endDim: try p.int("end_dim"))] },
    "unflatten": { t, p in [t[0].unflatten(dim: try p.int("dim"), sizes: try p.ints("sizes"))] },
    "chunk": { t, p in [t[0].chunk(try p.int("chunks"), dim: try p.int("dim"))[try p.int("index")]] },
    "split": { t, p in [t[0].split(try p.int("size"), dim: try p.int("dim"))[try p.int("index")]] },
    "contiguous": unary { $0.contiguous() },
    // joining
    "cat": { t, p in [Tensor.cat(t, dim: try p.int("dim"))] },
    "stack": { t, p in [Tensor.stack(t, dim: try p.int("dim"))] },
    "flip": { t, p in [t[0].flip(try p.ints("dims"))] },
    "roll": { t, p in [t[0].roll(try p.ints("shifts"), dims: try p.ints("dims"))] },
    "repeat": { t, p in [t[0].repeat(try p.ints("repeats"))] },
    "tril": { t, p in [t[0].tril(try p.int("diagonal"))] },
    "triu": { t, p in [t[0].triu(try p.int("diagonal"))] },
    "pad": { t, p in
        let mode: PaddingMode
        switch try p.string("mode") {
        case "constant": mode = .constant
        case "reflect": mode = .reflect
        case "replicate": mode = .replicate
        case let other: throw ParityError("unknown pad mode '\(other)'")
        }
        return [t[0].pad(try p.ints("pad"), mode: mode, value: try p.double("value"))]
    },
    // indexing
    "gather": { t, p in [t[0].gather(dim: try p.int("dim"), index: t[1])] },
    "scatter": { t, p in [t[0].scatter(dim: try p.int("dim"), index: t[1], source: t[2])] },
    "scatter_value": { t, p in [t[0].scatter(dim: try p.int("dim"), index: t[1], value: try p.double("value"))] },
    "scatter_add": { t, p in [t[0].scatterAdd(dim: try p.int("dim"), index: t[1], source: t[2])] },
    "index_select": { t, p in [t[0].indexSelect(dim: try p.int("dim"), index: t[1])] },
    "index_add": { t, p in [t[0].indexAdd(dim: try p.int("dim"), index: t[1], source: t[2])] },
    "masked_fill": { t, p in [t[0].maskedFill(t[1], try p.double("value"))] },
    "masked_select": binary { $0.maskedSelect($1) },
    "sort": { t, p in
        let r = t[0].sort(dim: try p.int("dim"), descending: try p.bool("descending"))
        return [r.values, r.indices]
    },
    "argsort": { t, p in [t[0].argsort(dim: try p.int("dim"), descending: try p.bool("descending"))] },
    "topk": { t, p in
        let r = t[0].topk(try p.int("k"), dim: try p.int("dim"), largest: try p.bool("largest"))
        return [r.values, r.indices]
    },
    "one_hot": { t, p in [t[0].oneHot(numClasses: try p.optionalInt("num_classes"))] },
    "nonzero": unary { $0.nonzero() },
    // composites
    "mul_self": unary { $0 * $0 },
    "mlp_tanh": { t, _ in [Ember.tanh(t[0].matmul(t[1]) + t[2])] },
    "layer_norm_manual": { t, p in
        let x = t[0]
        let centered = x - x.mean(dim: -1, keepDim: true)
        return [centered / (x.variance(dims: [-1], correction: 0, keepDim: true) + (try p.double("eps"))).sqrt()]
    },
    "attention": { t, _ in
        let (q, k, v) = (t[0], t[1], t[2])
        let scores = q.matmul(k.transpose(-2, -1)) / Double(q.shape[q.rank - 1]).squareRoot()
        return [Ember.softmax(scores, dim: -1).matmul(v)]
    },
    "cross_entropy_manual": { t, _ in
        let (x, target) = (t[0], t[1])
        return [(x.logsumexp(dim: 1) - x.gather(dim: 1, index: target.unsqueeze(1)).squeeze(dim: 1)).mean()]
    },
    // conversions
    "to": { t, p in [t[0].to(try dtypeParam(p, "dtype"))] },
    "to_roundtrip": { t, p in [t[0].to(try dtypeParam(p, "dtype")).to(try dtypeParam(p, "back"))] },
]

// MARK: - Tests

final class PyTorchParityTests: XCTestCase {
    /// The families that have a test method below.
    static let families = ["arithmetic", "unary", "activations", "comparison", "reductions", "linalg",
                           "views", "joining", "indexing", "promotion", "conversion", "composite"]

    static let fixture: Result<ParityFixture, Error> = Result {
        guard let url = Bundle.module.url(forResource: "parity", withExtension: "json", subdirectory: "Fixtures") else {
            throw ParityError("Fixtures/parity.json is not in the test bundle (run scripts/make_fixtures.sh)")
        }
        return try JSONDecoder().decode(ParityFixture.self, from: Data(contentsOf: url))
    }

    /// Cases where Ember deliberately differs from PyTorch in the result dtype (the values
    /// must still match): case name → the reason and Ember's dtype for each such output.
    static let deliberateDifferences: [String: (reason: String, dtypes: [Int: DType])] = [
        "pow_i64_scalar2": (
            "Swift has a single `pow(_: Double)`, so `x.pow(2)` and `x.pow(2.0)` cannot be told apart; an integral "
                + "exponent keeps an integer tensor's dtype (PyTorch's `x ** 2`), where torch.pow(x, 2.0) gives float32",
            [0: .int64]),
        "clamp_int": (
            "clamp takes Double bounds; integral bounds keep an integer tensor's dtype (PyTorch's clamp(x, -2, 4)), "
                + "where torch.clamp(x, -2.0, 4.0) gives float32",
            [0: .int64]),
    ]

    func testArithmetic() throws { try checkFamily("arithmetic") }
    func testUnaryMath() throws { try checkFamily("unary") }
    func testActivations() throws { try checkFamily("activations") }
    func testComparisonsAndWhere() throws { try checkFamily("comparison") }
    func testReductions() throws { try checkFamily("reductions") }
    func testLinearAlgebra() throws { try checkFamily("linalg") }
    func testViews() throws { try checkFamily("views") }
    func testJoining() throws { try checkFamily("joining") }
    func testIndexing() throws { try checkFamily("indexing") }
    func testTypePromotion() throws { try checkFamily("promotion") }
    func testConversions() throws { try checkFamily("conversion") }
    func testComposites() throws { try checkFamily("composite") }

    /// Every case belongs to a family with a test method and has a mapped op id, so no
    /// case is silently skipped.
    func testEveryCaseIsCovered() throws {
        let fixture = try Self.fixture.get()
        XCTAssertGreaterThan(fixture.cases.count, 0, "parity.json has no cases")
        var names = Set<String>()
        for c in fixture.cases {
            XCTAssertTrue(Self.families.contains(c.family), "[\(c.name)] family '\(c.family)' has no test method")
            XCTAssertNotNil(parityOps[c.op], "[\(c.name)] op id '\(c.op)' is not mapped to Ember")
            XCTAssertTrue(names.insert(c.name).inserted, "duplicate case name \(c.name)")
        }
    }

    // MARK: Harness

    func checkFamily(_ family: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let fixture = try Self.fixture.get()
        let cases = fixture.cases.filter { $0.family == family }
        XCTAssertFalse(cases.isEmpty, "no parity cases for family \(family)", file: file, line: line)
        var failed = 0
        for c in cases {
            let problems: [String]
            do { problems = try check(c) } catch { problems = ["\(error)"] }
            if !problems.isEmpty { failed += 1 }
            for problem in problems {
                XCTFail("[\(c.name)] op \(c.op): \(problem)", file: file, line: line)
            }
        }
        print("PyTorch parity (\(fixture.torch_version)) \(family): \(cases.count - failed)/\(cases.count) cases match")
    }

    /// Runs one case; returns a description of every mismatch.
    func check(_ c: ParityCase) throws -> [String] {
        guard let op = parityOps[c.op] else { return ["op id '\(c.op)' is not mapped to an Ember function"] }
        var problems: [String] = []
        let leaves = try c.inputs.map { spec -> Tensor in
            let t = try spec.makeTensor()
            if spec.requires_grad == true { t.requiresGrad = true }
            return t
        }
        let used = zip(leaves, c.inputs).map { leaf, spec in spec.permute.map { leaf.permute($0) } ?? leaf }
        let outputs = try op(used, ParityParams(raw: c.params))
        guard outputs.count == c.outputs.count else {
            return ["Ember gives \(outputs.count) outputs, PyTorch \(c.outputs.count)"]
        }
        let exact = c.op == "to" || c.op == "to_roundtrip"
        let difference = Self.deliberateDifferences[c.name]
        for (i, (out, expected)) in zip(outputs, c.outputs).enumerated() {
            problems += compare(out, expected, what: "output \(i)", exact: exact, emberDType: difference?.dtypes[i])
        }

        // Backward with the fixture's upstream gradients.
        var roots: [(Tensor, Tensor)] = []
        for (i, up) in c.upstream.enumerated() {
            guard let up, i < outputs.count else { continue }
            if !outputs[i].requiresGrad {
                problems.append("output \(i) does not require grad in Ember, but PyTorch differentiates it")
                continue
            }
            roots.append((outputs[i], try up.makeTensor()))
        }
        if roots.count == 1 {
            roots[0].0.backward(gradient: roots[0].1)
        } else if roots.count > 1 {
            roots.map { ($0.0 * $0.1).sum() }.reduce(Tensor(0.0), +).backward()
        }
        for (i, (leaf, expected)) in zip(leaves, c.grads).enumerated() where c.inputs[i].requires_grad == true {
            if let expected {
                guard let g = leaf.grad else {
                    problems.append("input \(i) has no gradient in Ember")
                    continue
                }
                problems += compare(g, expected, what: "gradient of input \(i)", exact: false)
            } else if let g = leaf.grad {
                let values = g.asArray(Double.self)
                if values.contains(where: { $0 != 0 }) {
                    problems.append("input \(i): PyTorch gives no gradient, Ember a nonzero one \(values)")
                }
            }
        }
        return problems
    }

    /// Compares shape, dtype and values within the tolerance of the dtype.
    /// `emberDType` replaces PyTorch's dtype for a documented deliberate difference.
    func compare(_ actual: Tensor, _ expected: ParityTensor, what: String, exact: Bool, emberDType: DType? = nil) -> [String] {
        if actual.shape != expected.shape {
            return ["\(what): shape \(actual.shape), expected \(expected.shape)"]
        }
        let expectedDType = emberDType?.rawValue ?? expected.dtype
        if actual.dtype.rawValue != expectedDType {
            return ["\(what): dtype \(actual.dtype.rawValue), expected \(expectedDType)"]
        }
        guard let want = try? expected.values() else { return ["\(what): bad fixture data"] }
        let got = actual.asArray(Double.self)
        let (rtol, atolScale): (Double, Double)
        switch actual.dtype {
        case _ where exact: (rtol, atolScale) = (0, 0)
        case .float64: (rtol, atolScale) = (1e-9, 1e-11)
        case .float32: (rtol, atolScale) = (1e-5, 1e-6)
        case .float16: (rtol, atolScale) = (1e-3, 1e-4)
        case .bfloat16: (rtol, atolScale) = (8e-3, 1e-3)
        default: (rtol, atolScale) = (0, 0)
        }
        let scale = max(1, want.filter(\.isFinite).map { Swift.abs($0) }.max() ?? 1)
        var bad: [String] = []
        // Exact comparisons happen in the tensor's own precision: fixtures keep 9 significant
        // digits for float32 and the half types, which round-trips them.
        let narrow = exact && actual.dtype != .float64
        for (i, (a, b)) in zip(got, want).enumerated() {
            let ok: Bool
            if a.isNaN || b.isNaN { ok = a.isNaN && b.isNaN }
            else if narrow { ok = Float(a) == Float(b) }
            else if !a.isFinite || !b.isFinite { ok = a == b }
            else { ok = Swift.abs(a - b) <= rtol * Swift.abs(b) + atolScale * scale }
            if !ok { bad.append("[\(i)] \(a) vs \(b)") }
        }
        if bad.isEmpty { return [] }
        return ["\(what) (\(actual.dtype.rawValue), \(bad.count)/\(want.count) differ): " + bad.prefix(6).joined(separator: ", ")]
    }
}
