// Loss functions and modules: parity with PyTorch (values and input gradients, from
// Fixtures/losses.json written by scripts/make_loss_fixtures.py with PyTorch 2.13), finite
// difference gradchecks, the modules' options, buffers and printed form, and the messages
// that argument mismatches stop with (checked in a child process).
//
// Regenerate the fixture with `.venv-ref/bin/python scripts/make_loss_fixtures.py`.
import Foundation
import XCTest
import Ember
@testable import EmberNN

// MARK: - Fixture format

/// A JSON value (params are heterogeneous).
private enum LossJSON: Decodable {
    case null, bool(Bool), number(Double), string(String), array([LossJSON]), object([String: LossJSON])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let a = try? c.decode([LossJSON].self) { self = .array(a) }
        else { self = .object(try c.decode([String: LossJSON].self)) }
    }

    /// A number, reading "nan", "inf" and "-inf" as non-finite doubles.
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

private struct LossFixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// One tensor: shape, dtype name and row-major data.
private struct LossTensor: Decodable {
    let shape: [Int]
    let dtype: String
    let data: [LossJSON]
    let requires_grad: Bool?

    init(shape: [Int], dtype: String, data: [LossJSON]) {
        self.shape = shape
        self.dtype = dtype
        self.data = data
        self.requires_grad = nil
    }

    func values() throws -> [Double] {
        try data.map { v in
            guard let d = v.double else { throw LossFixtureError("non-numeric value \(v) in tensor data") }
            return d
        }
    }

    /// The tensor as an Ember leaf.
    func makeTensor() throws -> Tensor {
        let v = try values()
        switch dtype {
        case "float64": return Tensor(v, shape: shape)
        case "float32": return Tensor(v.map { Float($0) }, shape: shape)
        case "int64": return Tensor(v.map { Int64($0) }, shape: shape)
        default: throw LossFixtureError("unknown dtype \(dtype)")
        }
    }
}

private struct LossCase: Decodable {
    let name: String
    let fn: String
    let params: [String: LossJSON]
    let inputs: [LossTensor]
    let output: LossTensor
    let grad_output: LossTensor?
    let grads: [LossTensor?]?
}

private struct LossFixture: Decodable {
    let torch: String
    let cases: [LossCase]
}

/// Typed access to a case's params; a mistyped param is a test failure.
private struct LossParams {
    let raw: [String: LossJSON]

    var reduction: Reduction {
        get throws {
            guard case .string(let s)? = raw["reduction"], let r = Reduction(rawValue: s) else {
                throw LossFixtureError("param 'reduction' missing or unknown: \(String(describing: raw["reduction"]))")
            }
            return r
        }
    }

    func double(_ key: String, default value: Double) throws -> Double {
        guard let v = raw[key] else { return value }
        guard let d = v.double else { throw LossFixtureError("param '\(key)' is not a number") }
        return d
    }

    func int(_ key: String, default value: Int) throws -> Int {
        let d = try double(key, default: Double(value))
        guard d.rounded() == d else { throw LossFixtureError("param '\(key)' is not an integer: \(d)") }
        return Int(d)
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let v = raw[key] else { return value }
        guard case .bool(let b) = v else { throw LossFixtureError("param '\(key)' is not a bool") }
        return b
    }

    func tensor(_ key: String) throws -> Tensor? {
        guard let v = raw[key] else { return nil }
        guard case .object(let o) = v, case .array(let shape)? = o["shape"], case .string(let dtype)? = o["dtype"],
              case .array(let data)? = o["data"] else { throw LossFixtureError("param '\(key)' is not a tensor") }
        return try LossTensor(shape: shape.map { Int($0.double ?? -1) }, dtype: dtype, data: data).makeTensor()
    }
}

private enum LossFixtures {
    static let loaded: Result<LossFixture, Error> = Result {
        guard let url = Bundle.module.url(forResource: "losses", withExtension: "json", subdirectory: "Fixtures") else {
            throw LossFixtureError("Fixtures/losses.json is missing from the test bundle")
        }
        return try JSONDecoder().decode(LossFixture.self, from: Data(contentsOf: url))
    }
}

// MARK: - Mapping fixture cases to Ember

/// The Ember call for a case, as a function (`viaModule == false`) or through its module.
/// Throws for an unknown `fn`, so an unmapped case fails.
private func evaluate(_ c: LossCase, _ x: [Tensor], viaModule: Bool) throws -> Tensor {
    let p = LossParams(raw: c.params)
    let reduction = try p.reduction
    switch c.fn {
    case "crossEntropy":
        let weight = try p.tensor("weight"), ignore = try p.int("ignore_index", default: -100)
        let smoothing = try p.double("label_smoothing", default: 0)
        if viaModule {
            return CrossEntropyLoss(weight: weight, ignoreIndex: ignore, reduction: reduction, labelSmoothing: smoothing)(x[0], x[1])
        }
        return crossEntropy(x[0], x[1], weight: weight, ignoreIndex: ignore, reduction: reduction, labelSmoothing: smoothing)
    case "nllLoss":
        let weight = try p.tensor("weight"), ignore = try p.int("ignore_index", default: -100)
        if viaModule { return NLLLoss(weight: weight, ignoreIndex: ignore, reduction: reduction)(x[0], x[1]) }
        return nllLoss(x[0], x[1], weight: weight, ignoreIndex: ignore, reduction: reduction)
    case "mseLoss":
        return viaModule ? MSELoss(reduction: reduction)(x[0], x[1]) : mseLoss(x[0], x[1], reduction: reduction)
    case "l1Loss":
        return viaModule ? L1Loss(reduction: reduction)(x[0], x[1]) : l1Loss(x[0], x[1], reduction: reduction)
    case "smoothL1Loss":
        let beta = try p.double("beta", default: 1)
        return viaModule ? SmoothL1Loss(reduction: reduction, beta: beta)(x[0], x[1])
                         : smoothL1Loss(x[0], x[1], reduction: reduction, beta: beta)
    case "huberLoss":
        let delta = try p.double("delta", default: 1)
        return viaModule ? HuberLoss(reduction: reduction, delta: delta)(x[0], x[1])
                         : huberLoss(x[0], x[1], reduction: reduction, delta: delta)
    case "binaryCrossEntropy":
        let weight = try p.tensor("weight")
        return viaModule ? BCELoss(weight: weight, reduction: reduction)(x[0], x[1])
                         : binaryCrossEntropy(x[0], x[1], weight: weight, reduction: reduction)
    case "binaryCrossEntropyWithLogits":
        let weight = try p.tensor("weight"), posWeight = try p.tensor("pos_weight")
        return viaModule ? BCEWithLogitsLoss(weight: weight, reduction: reduction, posWeight: posWeight)(x[0], x[1])
                         : binaryCrossEntropyWithLogits(x[0], x[1], weight: weight, posWeight: posWeight, reduction: reduction)
    case "klDiv":
        let logTarget = try p.bool("log_target", default: false)
        return viaModule ? KLDivLoss(reduction: reduction, logTarget: logTarget)(x[0], x[1])
                         : klDiv(x[0], x[1], reduction: reduction, logTarget: logTarget)
    case "cosineEmbeddingLoss":
        let margin = try p.double("margin", default: 0)
        return viaModule ? CosineEmbeddingLoss(margin: margin, reduction: reduction)(x[0], x[1], x[2])
                         : cosineEmbeddingLoss(x[0], x[1], x[2], margin: margin, reduction: reduction)
    case "marginRankingLoss":
        let margin = try p.double("margin", default: 0)
        return viaModule ? MarginRankingLoss(margin: margin, reduction: reduction)(x[0], x[1], x[2])
                         : marginRankingLoss(x[0], x[1], x[2], margin: margin, reduction: reduction)
    case "tripletMarginLoss":
        let margin = try p.double("margin", default: 1), norm = try p.double("p", default: 2)
        let eps = try p.double("eps", default: 1e-6), swap = try p.bool("swap", default: false)
        if viaModule {
            return TripletMarginLoss(margin: margin, p: norm, eps: eps, swap: swap, reduction: reduction)(x[0], x[1], x[2])
        }
        return tripletMarginLoss(x[0], x[1], x[2], margin: margin, p: norm, eps: eps, swap: swap, reduction: reduction)
    default:
        throw LossFixtureError("no Ember mapping for loss '\(c.fn)'")
    }
}

/// Every `fn` the mapping above knows.
private let mappedLosses: Set<String> = [
    "crossEntropy", "nllLoss", "mseLoss", "l1Loss", "smoothL1Loss", "huberLoss", "binaryCrossEntropy",
    "binaryCrossEntropyWithLogits", "klDiv", "cosineEmbeddingLoss", "marginRankingLoss", "tripletMarginLoss",
]

// MARK: - Tests

final class LossTests: XCTestCase {
    private func fixture() throws -> LossFixture { try LossFixtures.loaded.get() }

    /// Compares values elementwise (NaN matches NaN, infinities must agree).
    private func assertClose(_ actual: Tensor, _ expected: LossTensor, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) throws {
        XCTAssertEqual(actual.shape, expected.shape, "\(what): shape", file: file, line: line)
        XCTAssertEqual("\(actual.dtype)", "torch.\(expected.dtype)", "\(what): dtype", file: file, line: line)
        guard actual.shape == expected.shape else { return }
        let (rtol, atol) = expected.dtype == "float32" ? (2e-5, 2e-6) : (1e-9, 1e-11)
        let got = noGrad { actual.to(.float64) }.asArray(Double.self)
        let want = try expected.values()
        var worst: (index: Int, got: Double, want: Double)? = nil
        for (i, (g, w)) in zip(got, want).enumerated() {
            let ok: Bool
            if w.isNaN { ok = g.isNaN } else if w.isInfinite { ok = g == w } else { ok = Swift.abs(g - w) <= atol + rtol * Swift.abs(w) }
            if !ok && worst == nil { worst = (i, g, w) }
        }
        if let worst {
            XCTFail("\(what): element \(worst.index) is \(worst.got), PyTorch gives \(worst.want)", file: file, line: line)
        }
    }

    /// Runs every fixture case of `fn` through the function and through its module and
    /// compares the output and each input gradient with PyTorch's. Returns the case count.
    @discardableResult
    private func checkParity(_ fn: String, file: StaticString = #filePath, line: UInt = #line) throws -> Int {
        let cases = try fixture().cases.filter { $0.fn == fn }
        XCTAssertFalse(cases.isEmpty, "no fixture cases for \(fn)", file: file, line: line)
        for c in cases {
            for viaModule in [false, true] {
                let label = "\(c.name) (\(viaModule ? "module" : "function"))"
                let inputs = try c.inputs.map { spec -> Tensor in
                    let t = try spec.makeTensor()
                    if spec.requires_grad == true { t.requiresGrad = true }
                    return t
                }
                let output = try evaluate(c, inputs, viaModule: viaModule)
                try assertClose(output, c.output, "\(label) output", file: file, line: line)
                guard let grads = c.grads, let upstream = c.grad_output else { continue }
                output.backward(gradient: try upstream.makeTensor())
                for (i, expected) in grads.enumerated() {
                    guard let expected else { continue }
                    guard let g = inputs[i].grad else {
                        XCTFail("\(label): input \(i) has no gradient", file: file, line: line)
                        continue
                    }
                    try assertClose(g, expected, "\(label) gradient of input \(i)", file: file, line: line)
                }
            }
        }
        return cases.count
    }

    func testEveryFixtureCaseIsMapped() throws {
        let fixture = try fixture()
        XCTAssertEqual(fixture.torch, "2.13.0+cpu")
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 140)
        let unmapped = fixture.cases.filter { !mappedLosses.contains($0.fn) }.map(\.name)
        XCTAssertEqual(unmapped, [], "fixture cases without an Ember mapping")
        XCTAssertEqual(Set(fixture.cases.map(\.fn)), mappedLosses, "every loss has fixture cases")
        // Every reduction, and every option, appears somewhere.
        let keys = Set(fixture.cases.flatMap(\.params.keys))
        XCTAssertTrue(keys.isSuperset(of: ["weight", "ignore_index", "label_smoothing", "pos_weight", "log_target",
                                           "swap", "margin", "p", "eps", "beta", "delta"]), "\(keys)")
        for reduction in Reduction.allCases {
            XCTAssertTrue(fixture.cases.contains { c in
                if case .string(reduction.rawValue)? = c.params["reduction"] { return true } else { return false }
            }, "no case with reduction \(reduction)")
        }
    }

    func testCrossEntropyMatchesPyTorch() throws { XCTAssertGreaterThan(try checkParity("crossEntropy"), 40) }
    func testNLLLossMatchesPyTorch() throws { XCTAssertGreaterThan(try checkParity("nllLoss"), 8) }
    func testMSELossMatchesPyTorch() throws { XCTAssertGreaterThan(try checkParity("mseLoss"), 3) }
    func testL1LossMatchesPyTorch() throws { XCTAssertGreaterThan(try checkParity("l1Loss"), 3) }
    func testSmoothL1LossMatchesPyTorch() throws { XCTAssertGreaterThan(try checkParity("smoothL1Loss"), 9) }
    func testHuberLossMatchesPyTorch() throws { XCTAssertGreaterThan(try checkParity("huberLoss"), 9) }
    func testBinaryCrossEntropyMatchesPyTorch() throws { XCTAssertGreaterThan(try checkParity("binaryCrossEntropy"), 8) }
    func testBinaryCrossEntropyWithLogitsMatchesPyTorch() throws {
        XCTAssertGreaterThan(try checkParity("binaryCrossEntropyWithLogits"), 12)
    }
    func testKLDivMatchesPyTorch() throws { XCTAssertGreaterThan(try checkParity("klDiv"), 8) }
    func testCosineEmbeddingLossMatchesPyTorch() throws { XCTAssertGreaterThan(try checkParity("cosineEmbeddingLoss"), 9) }
    func testMarginRankingLossMatchesPyTorch() throws { XCTAssertGreaterThan(try checkParity("marginRankingLoss"), 6) }
    func testTripletMarginLossMatchesPyTorch() throws { XCTAssertGreaterThan(try checkParity("tripletMarginLoss"), 12) }

    // MARK: Hand-checked values

    func testCrossEntropyOfUniformLogitsIsLogOfClassCount() {
        let loss = crossEntropy(Tensor.zeros([3, 4], dtype: .float64), Tensor([0, 1, 3] as [Int64]))
        XCTAssertEqual(loss.item(Double.self), Foundation.log(4.0), accuracy: 1e-12)
        // Label smoothing cannot change the loss of uniform logits.
        let smoothed = crossEntropy(Tensor.zeros([3, 4], dtype: .float64), Tensor([0, 1, 3] as [Int64]), labelSmoothing: 0.3)
        XCTAssertEqual(smoothed.item(Double.self), Foundation.log(4.0), accuracy: 1e-12)
    }

    func testWeightedMeanDividesBySummedWeightsOfUsedTargets() {
        // Per-element losses are all log 2; weights of the used targets: 3 (class 1), 1 (class 0); one ignored.
        let logits = Tensor.zeros([3, 2], dtype: .float64)
        let loss = crossEntropy(logits, Tensor([1, 0, 1] as [Int64]), weight: Tensor([1.0, 3.0]), ignoreIndex: 1)
        XCTAssertEqual(loss.item(Double.self), Foundation.log(2.0), accuracy: 1e-12)   // (1·log 2) / 1
        let summed = crossEntropy(logits, Tensor([1, 0, 1] as [Int64]), weight: Tensor([1.0, 3.0]), reduction: .sum)
        XCTAssertEqual(summed.item(Double.self), 7 * Foundation.log(2.0), accuracy: 1e-12)
    }

    func testBCEClampsLogsAndKeepsSaturatedGradientsFinite() {
        let x = Tensor([0.0, 1.0, 1.0], requiresGrad: true)
        let loss = binaryCrossEntropy(x, Tensor([1.0, 0.0, 1.0]), reduction: .none)
        XCTAssertEqual(loss.asArray(Double.self), [100, 100, 0])
        loss.sum().backward()
        // PyTorch divides by max(x(1 - x), ε) with ε the float 1e-12.
        let epsilon = Double(Float(1e-12))
        XCTAssertEqual(x.grad!.asArray(Double.self), [-1 / epsilon, 1 / epsilon, 0])
    }

    func testBCEWithLogitsIsStableForHugeLogits() {
        let loss = binaryCrossEntropyWithLogits(Tensor([1000.0, -1000.0, 1000.0]), Tensor([1.0, 0.0, 0.0]), reduction: .none)
        XCTAssertEqual(loss.asArray(Double.self), [0, 0, 1000])
    }

    func testKLDivBatchMeanDividesByBatchSize() {
        let input = Tensor([-1.0, -2.0, -0.5, -3.0], shape: [2, 2])
        let target = Tensor([0.25, 0.75, 0.5, 0.5], shape: [2, 2])
        let summed = klDiv(input, target, reduction: .sum).item(Double.self)
        XCTAssertEqual(klDiv(input, target, reduction: .batchMean).item(Double.self), summed / 2, accuracy: 1e-12)
        XCTAssertEqual(klDiv(input, target, reduction: .mean).item(Double.self), summed / 4, accuracy: 1e-12)
        XCTAssertEqual(KLDivLoss(reduction: .batchMean)(input, target).item(Double.self), summed / 2, accuracy: 1e-12)
    }

    func testFloat32LossesStayFloat32() {
        let x = Tensor.randn([4, 3], requiresGrad: true)
        for loss in [crossEntropy(x, Tensor([0, 1, 2, 0] as [Int64])), mseLoss(x, Tensor.zeros([4, 3])),
                     binaryCrossEntropyWithLogits(x, Tensor.ones([4, 3]), posWeight: Tensor([1, 2, 3] as [Float]))] {
            XCTAssertEqual(loss.dtype, .float32)
            XCTAssertEqual(loss.shape, [])
            XCTAssertTrue(loss.item(Float.self).isFinite)
        }
    }

    // MARK: Gradchecks (float64, central differences)

    private func assertGradcheck(_ name: String, _ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line,
                                 _ function: @escaping ([Tensor]) -> Tensor) {
        let result = gradcheck(function, inputs: inputs)
        XCTAssertTrue(result.passed, "\(name): \(result.message)", file: file, line: line)
        XCTAssertLessThan(result.maxAbsoluteError, 1e-5, name, file: file, line: line)
    }

    private func leaf(_ shape: [Int], scale: Double = 1, offset: Double = 0, seed: UInt64) -> Tensor {
        let g = Generator(seed: seed)
        let t = noGrad { Tensor.randn(shape, dtype: .float64, generator: g) * scale + offset }
        t.requiresGrad = true
        return t
    }

    private func uniformLeaf(_ shape: [Int], _ low: Double, _ high: Double, seed: UInt64) -> Tensor {
        let g = Generator(seed: seed)
        let t = noGrad { Tensor.rand(shape, dtype: .float64, generator: g) * (high - low) + low }
        t.requiresGrad = true
        return t
    }

    func testCrossEntropyAndNLLGradcheck() {
        let x = leaf([4, 3, 2], seed: 1)
        let t = Tensor([0, 2, 1, 1, 2, -100, 0, 1] as [Int64], shape: [4, 2])
        let w = Tensor([0.5, 2.0, 1.5])
        for reduction in [Reduction.none, .mean, .sum] {
            assertGradcheck("crossEntropy \(reduction)", [x]) {
                crossEntropy($0[0], t, weight: w, reduction: reduction, labelSmoothing: 0.2)
            }
            let nllTarget = Tensor([0, 2, 1, 1, 2, 0, 0, 1] as [Int64], shape: [4, 2])
            assertGradcheck("nllLoss \(reduction)", [x]) {
                nllLoss($0[0], nllTarget, weight: w, ignoreIndex: 1, reduction: reduction)
            }
        }
        let probabilities = uniformLeaf([4, 3], 0.1, 1, seed: 2)
        let logits = leaf([4, 3], seed: 3)
        assertGradcheck("crossEntropy probabilities (input and target)", [logits, probabilities]) {
            crossEntropy($0[0], $0[1], weight: Tensor([1.0, 0.5, 2.0]), labelSmoothing: 0.1)
        }
    }

    func testRegressionLossesGradcheck() {
        let x = leaf([3, 4], scale: 2, seed: 4), y = leaf([3, 4], seed: 5)
        for reduction in [Reduction.none, .mean, .sum] {
            assertGradcheck("mseLoss \(reduction)", [x, y]) { mseLoss($0[0], $0[1], reduction: reduction) }
            assertGradcheck("l1Loss \(reduction)", [x, y]) { l1Loss($0[0], $0[1], reduction: reduction) }
            assertGradcheck("smoothL1Loss \(reduction)", [x, y]) { smoothL1Loss($0[0], $0[1], reduction: reduction, beta: 0.7) }
            assertGradcheck("huberLoss \(reduction)", [x, y]) { huberLoss($0[0], $0[1], reduction: reduction, delta: 1.3) }
        }
    }

    func testBinaryLossesGradcheck() {
        let p = uniformLeaf([3, 4], 0.05, 0.95, seed: 6), y = uniformLeaf([3, 4], 0, 1, seed: 7)
        let logits = leaf([3, 4], scale: 3, seed: 8)
        let w = Tensor([0.5, 1.0, 2.0, 1.5]), pw = Tensor([3.0, 0.5, 1.0, 2.0])
        for reduction in [Reduction.none, .mean, .sum] {
            assertGradcheck("binaryCrossEntropy \(reduction)", [p, y]) {
                binaryCrossEntropy($0[0], $0[1], weight: w, reduction: reduction)
            }
            assertGradcheck("binaryCrossEntropyWithLogits \(reduction)", [logits, y]) {
                binaryCrossEntropyWithLogits($0[0], $0[1], weight: w, posWeight: pw, reduction: reduction)
            }
        }
        // The custom BCE backward is written in tensor ops, so it has a second derivative too.
        let second = gradgradcheck({ binaryCrossEntropy($0[0], $0[1], reduction: .sum) }, inputs: [p, y])
        XCTAssertTrue(second.passed, second.message)
    }

    func testKLDivGradcheck() {
        let x = leaf([3, 4], seed: 9)
        let y = uniformLeaf([3, 4], 0.05, 1, seed: 10), logY = leaf([3, 4], seed: 11)
        for reduction in Reduction.allCases {
            assertGradcheck("klDiv \(reduction)", [x, y]) { klDiv($0[0], $0[1], reduction: reduction) }
            assertGradcheck("klDiv logTarget \(reduction)", [x, logY]) { klDiv($0[0], $0[1], reduction: reduction, logTarget: true) }
        }
    }

    func testEmbeddingAndRankingLossesGradcheck() {
        let a = leaf([5, 3], seed: 12), b = leaf([5, 3], seed: 13), c = leaf([5, 3], seed: 14)
        let signs = Tensor([1.0, -1, -1, 1, -1])
        for reduction in [Reduction.none, .mean, .sum] {
            assertGradcheck("cosineEmbeddingLoss \(reduction)", [a, b]) {
                cosineEmbeddingLoss($0[0], $0[1], signs, margin: -0.3, reduction: reduction)
            }
            assertGradcheck("marginRankingLoss \(reduction)", [a, b]) {
                marginRankingLoss($0[0], $0[1], Tensor.ones([5, 3], dtype: .float64), margin: 0.4, reduction: reduction)
            }
            for p in [1.0, 2.0, 3.0] {
                assertGradcheck("tripletMarginLoss p=\(p) \(reduction)", [a, b, c]) {
                    tripletMarginLoss($0[0], $0[1], $0[2], margin: 2, p: p, swap: true, reduction: reduction)
                }
            }
        }
    }

    // MARK: Modules

    func testModulesPrintLikePyTorchWithNonDefaultOptions() {
        XCTAssertEqual(CrossEntropyLoss().description, "CrossEntropyLoss()")
        XCTAssertEqual(CrossEntropyLoss(weight: Tensor([1, 2] as [Float]), ignoreIndex: 0, reduction: .sum,
                                        labelSmoothing: 0.1).description,
                       "CrossEntropyLoss(reduction='sum', ignore_index=0, label_smoothing=0.1)")
        XCTAssertEqual(NLLLoss(ignoreIndex: 3).description, "NLLLoss(ignore_index=3)")
        XCTAssertEqual(MSELoss().description, "MSELoss()")
        XCTAssertEqual(L1Loss(reduction: .none).description, "L1Loss(reduction='none')")
        XCTAssertEqual(SmoothL1Loss(beta: 0.5).description, "SmoothL1Loss(beta=0.5)")
        XCTAssertEqual(HuberLoss(reduction: .sum, delta: 2).description, "HuberLoss(reduction='sum', delta=2.0)")
        XCTAssertEqual(BCELoss().description, "BCELoss()")
        XCTAssertEqual(BCEWithLogitsLoss(posWeight: Tensor([2] as [Float])).description, "BCEWithLogitsLoss()")
        XCTAssertEqual(KLDivLoss(reduction: .batchMean, logTarget: true).description,
                       "KLDivLoss(reduction='batchmean', log_target=True)")
        XCTAssertEqual(CosineEmbeddingLoss(margin: 0.5).description, "CosineEmbeddingLoss(margin=0.5)")
        XCTAssertEqual(MarginRankingLoss().description, "MarginRankingLoss()")
        XCTAssertEqual(TripletMarginLoss(margin: 2, p: 1, swap: true, reduction: .none).description,
                       "TripletMarginLoss(margin=2.0, p=1.0, swap=True, reduction='none')")
    }

    func testWeightsAreBuffersNamedAsPyTorchAndMoveWithTheModule() throws {
        let criterion = BCEWithLogitsLoss(weight: Tensor([1, 2, 3] as [Float]), posWeight: Tensor([4, 5, 6] as [Float]))
        XCTAssertEqual(criterion.namedBuffers().map(\.0), ["weight", "pos_weight"])
        XCTAssertEqual(Set(criterion.stateDict().keys), ["weight", "pos_weight"])
        XCTAssertTrue(criterion.parameters().isEmpty)
        criterion.to(.float64)
        XCTAssertEqual(criterion.weight?.dtype, .float64)
        XCTAssertEqual(criterion.posWeight?.asArray(Double.self), [4, 5, 6])

        XCTAssertTrue(CrossEntropyLoss().namedBuffers().isEmpty, "no weight, no buffer (register_buffer(None))")
        let ce = CrossEntropyLoss(weight: Tensor([1, 1] as [Float]))
        try ce.loadStateDict(["weight": Tensor([0.25, 4] as [Float])])
        XCTAssertEqual(ce.weight?.asArray(Float.self), [0.25, 4])
        XCTAssertEqual(NLLLoss(weight: Tensor([1] as [Float])).stateDict().keys.sorted(), ["weight"])
        XCTAssertEqual(BCELoss(weight: Tensor([1] as [Float])).stateDict().keys.sorted(), ["weight"])
    }

    func testModuleOptionsAreUsedAndCanChange() {
        let x = Tensor([2.0, 0.0, -1.0, 0.5, 0.5, 3.0], shape: [2, 3]), t = Tensor([0, 2] as [Int64])
        let criterion = CrossEntropyLoss(weight: Tensor([1.0, 1.0, 2.0]), labelSmoothing: 0.2)
        XCTAssertEqual(criterion(x, t).item(Double.self),
                       crossEntropy(x, t, weight: Tensor([1.0, 1.0, 2.0]), labelSmoothing: 0.2).item(Double.self))
        criterion.reduction = .none
        criterion.weight = nil
        XCTAssertEqual(criterion(x, t).asArray(Double.self),
                       crossEntropy(x, t, reduction: .none, labelSmoothing: 0.2).asArray(Double.self))
        XCTAssertTrue(criterion.namedBuffers().isEmpty)

        let triplet = TripletMarginLoss(margin: 0.5, p: 1, reduction: .sum)
        let a = Tensor([0.0, 0.0], shape: [1, 2]), p = Tensor([1.0, 1.0], shape: [1, 2]), n = Tensor([0.5, 0.0], shape: [1, 2])
        // 1-norms of x - y + eps: d(a, p) = 2 - 2eps, d(a, n) = 0.5, so 2 - 2eps - 0.5 + 0.5.
        XCTAssertEqual(triplet(a, p, n).item(Double.self), 2 - 2e-6, accuracy: 1e-12)
        triplet.swap = true   // d(p, n) = 1.5 + 2eps > d(a, n): no change
        XCTAssertEqual(triplet(a, p, n).item(Double.self), 2 - 2e-6, accuracy: 1e-12)
        triplet.margin = 0.1
        XCTAssertEqual(triplet(a, p, n).item(Double.self), 1.6 - 2e-6, accuracy: 1e-12)

        let ranking = MarginRankingLoss(margin: 1)
        XCTAssertEqual(ranking(Tensor([3.0, 1.0]), Tensor([1.0, 1.0]), Tensor([1.0, -1.0])).item(Double.self), 0.5)
        XCTAssertEqual(CosineEmbeddingLoss()(Tensor([1.0, 0]), Tensor([2.0, 0]), Tensor(1.0)).item(Double.self), 0, accuracy: 1e-12)
        XCTAssertEqual(SmoothL1Loss(beta: 0)(Tensor([3.0]), Tensor([1.0])).item(Double.self), 2)
        XCTAssertEqual(HuberLoss(delta: 0.5)(Tensor([3.0]), Tensor([1.0])).item(Double.self), 0.875)
    }

    func testLossModulesWorkInsideATrainingStep() {
        // A loss module on a small model's output gives gradients to the model's parameters.
        let weight = Tensor.randn([3, 2], dtype: .float64, requiresGrad: true)
        let x = Tensor([1.0, 2.0, -1.0, 0.5], shape: [2, 2])
        let logits = x.matmul(weight.t())
        let loss = CrossEntropyLoss()(logits, Tensor([2, 0] as [Int64]))
        loss.backward()
        XCTAssertEqual(weight.grad?.shape, [3, 2])
        // Softmax gradients of each row sum to zero across classes, so the column sums vanish.
        let columnSums = weight.grad!.sum(dim: 0).asArray(Double.self)
        XCTAssertEqual(columnSums[0], 0, accuracy: 1e-12)
        XCTAssertEqual(columnSums[1], 0, accuracy: 1e-12)
    }

    // MARK: Error messages (each stops a child process)

    func testArgumentMismatchesStopWithMessagesNamingTheLossAndShapes() throws {
        let expectations: [(String, String)] = [
            ("testMSEShapeMismatch", "mseLoss: input of shape [3, 4] and target of shape [3] must have the same shape"),
            ("testCrossEntropyTargetShape", "crossEntropy: input of shape [4, 5] needs a target of shape [4], got [3]"),
            ("testCrossEntropyTargetOutOfRange", "crossEntropy: target 7 is out of bounds for 5 classes"),
            ("testCrossEntropyWeightShape", "crossEntropy: weight must have shape [5] (one weight per class) for input of shape [4, 5], got [4]"),
            ("testBCEDtypeMismatch", "binaryCrossEntropy: input (shape [2], torch.float32) and target (shape [2], torch.float64) must have the same dtype"),
            ("testBCEInputOutOfRange", "binaryCrossEntropy: all elements of input (shape [2]) must be between 0 and 1"),
            ("testBatchMeanOutsideKLDiv", "mseLoss: reduction .batchMean is only supported by klDiv (KLDivLoss)"),
            ("testTripletRankMismatch", "tripletMarginLoss: anchor, positive and negative must have the same number of dimensions, got shapes [2, 3], [3] and [2, 3]"),
            ("testModuleCalledWithOneTensor", "CrossEntropyLoss takes an input and a target: call it as loss(input, target)"),
        ]
        for (name, message) in expectations {
            try assertLossCrash(name, message: message)
        }
    }
}

// MARK: - Crash cases (run only in a child process)

/// Bodies that must stop; each runs only when `LOSS_CRASH_CASE` names it, in a child process
/// started by `assertLossCrash`.
final class LossTestsCrashCases: XCTestCase {
    private func armed(_ function: String = #function) throws {
        let name = function.replacingOccurrences(of: "()", with: "")
        guard ProcessInfo.processInfo.environment[lossCrashVariable] == name else {
            throw XCTSkip("crash case \(name) runs only in a child process started by LossTests")
        }
    }

    func testMSEShapeMismatch() throws { try armed(); _ = mseLoss(Tensor.zeros([3, 4]), Tensor.zeros([3])) }
    func testCrossEntropyTargetShape() throws {
        try armed(); _ = crossEntropy(Tensor.zeros([4, 5]), Tensor([0, 1, 2] as [Int64]))
    }
    func testCrossEntropyTargetOutOfRange() throws {
        try armed(); _ = crossEntropy(Tensor.zeros([2, 5]), Tensor([1, 7] as [Int64]))
    }
    func testCrossEntropyWeightShape() throws {
        try armed(); _ = crossEntropy(Tensor.zeros([4, 5]), Tensor([0, 1, 2, 3] as [Int64]), weight: Tensor.ones([4]))
    }
    func testBCEDtypeMismatch() throws {
        try armed(); _ = binaryCrossEntropy(Tensor([0.5, 0.5] as [Float]), Tensor([0.0, 1.0]))
    }
    func testBCEInputOutOfRange() throws {
        try armed(); _ = binaryCrossEntropy(Tensor([0.5, 1.5]), Tensor([0.0, 1.0]))
    }
    func testBatchMeanOutsideKLDiv() throws {
        try armed(); _ = mseLoss(Tensor.zeros([2]), Tensor.zeros([2]), reduction: .batchMean)
    }
    func testTripletRankMismatch() throws {
        try armed(); _ = tripletMarginLoss(Tensor.zeros([2, 3]), Tensor.zeros([3]), Tensor.zeros([2, 3]))
    }
    func testModuleCalledWithOneTensor() throws { try armed(); _ = CrossEntropyLoss()(Tensor.zeros([2, 3])) }
}

private let lossCrashVariable = "LOSS_CRASH_CASE"

/// Runs `LossTestsCrashCases.<name>` in a child copy of this test executable and asserts that
/// it trapped with `message` on its standard error.
private func assertLossCrash(_ name: String, message: String, file: StaticString = #filePath, line: UInt = #line) throws {
    #if os(Linux)
    let path = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = ["EmberNNTests.LossTestsCrashCases/\(name)"]
    var environment = ProcessInfo.processInfo.environment
    environment[lossCrashVariable] = name
    environment["SWIFT_BACKTRACE"] = "enable=no"
    process.environment = environment
    let errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("loss-crash-\(getpid())-\(name).txt")
    FileManager.default.createFile(atPath: errorFile.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: errorFile) }
    let errorHandle = try FileHandle(forWritingTo: errorFile)
    process.standardError = errorHandle
    process.standardOutput = errorHandle
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try errorHandle.close()
    let output = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
    XCTAssertEqual(process.terminationReason, .uncaughtSignal,
                   "\(name) did not trap (status \(process.terminationStatus)):\n\(output.suffix(2000))", file: file, line: line)
    XCTAssertTrue(output.contains("LossTestsCrashCases.\(name)"), "\(name) did not run in the child:\n\(output.suffix(2000))",
                  file: file, line: line)
    XCTAssertTrue(output.contains(message), "\(name): output lacks \"\(message)\":\n\(output.suffix(2000))", file: file, line: line)
    #else
    throw XCTSkip("crash tests re-run the test executable, which is set up for Linux only")
    #endif
}
