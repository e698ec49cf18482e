// Numerical parity of the layers with PyTorch: every case in Fixtures/layers.json (written
// by scripts/make_nn_fixtures.py with PyTorch 2.13) builds the Ember layer, loads PyTorch's
// state dict by name, runs the same steps in the same mode, and compares the output, the
// gradients of the inputs and parameters, and the state dict afterwards (running statistics).
//
// Regenerate with `.venv-ref/bin/python scripts/make_nn_fixtures.py`. A case whose layer has
// no mapping below fails.
import Foundation
import XCTest
import Ember
@testable import EmberNN

/// A JSON value for the heterogeneous `config` objects.
private enum FixtureValue: Decodable {
    case null, bool(Bool), number(Double), array([FixtureValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let d = try? c.decode(Double.self) { self = .number(d) }
        else { self = .array(try c.decode([FixtureValue].self)) }
    }
}

private struct FixtureTensor: Decodable {
    let shape: [Int]
    let dtype: String
    let data: [Double]

    func tensor(_ floatType: DType) -> Tensor {
        switch dtype {
        case "int64": return Tensor(data.map { Int64($0) }, shape: shape)
        case "float32", "float64": return Tensor(data, shape: shape).to(floatType)
        default: preconditionFailure("unexpected fixture dtype \(dtype)")
        }
    }
}

private struct FixtureCase: Decodable {
    let name: String
    let layer: String
    let config: [String: FixtureValue]
    let dtype: String
    let mode: String
    let steps: Int
    let state: [String: FixtureTensor]
    let earlier_inputs: [[FixtureTensor]]
    let inputs: [FixtureTensor]
    let output: FixtureTensor
    let grad_output: FixtureTensor
    let grads: [String: FixtureTensor]
    let state_after: [String: FixtureTensor]

    func int(_ key: String) throws -> Int {
        guard case .number(let v)? = config[key] else { throw FixtureError("\(name): config \(key) missing") }
        return Int(v)
    }
    func double(_ key: String, _ fallback: Double) -> Double {
        if case .number(let v)? = config[key] { return v }
        return fallback
    }
    func bool(_ key: String, _ fallback: Bool) -> Bool {
        if case .bool(let v)? = config[key] { return v }
        return fallback
    }
    /// `momentum`: absent → 0.1, null → nil (cumulative average).
    var momentum: Double? {
        switch config["momentum"] {
        case nil: return 0.1
        case .null?: return nil
        case .number(let v)?: return v
        default: return 0.1
        }
    }
    func ints(_ key: String) throws -> [Int] {
        guard case .array(let items)? = config[key] else { throw FixtureError("\(name): config \(key) missing") }
        return items.compactMap { if case .number(let v) = $0 { return Int(v) } else { return nil } }
    }
}

private struct FixtureFile: Decodable {
    let torch_version: String
    let cases: [FixtureCase]
}

private struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ message: String) { description = message }
}

/// A layer under test and how to call it with the case's inputs.
private struct LayerUnderTest {
    let module: Module
    let call: ([Tensor]) -> Tensor
}

final class LayerParityTests: XCTestCase {
    private static let handledLayers: Set<String> = ["Linear", "Bilinear", "BatchNorm1d", "BatchNorm2d", "LayerNorm",
                                                     "GroupNorm", "Embedding"]

    private func loadFixture() throws -> FixtureFile {
        guard let url = Bundle.module.url(forResource: "layers", withExtension: "json", subdirectory: "Fixtures") else {
            throw FixtureError("Fixtures/layers.json is missing from the test bundle")
        }
        return try JSONDecoder().decode(FixtureFile.self, from: Data(contentsOf: url))
    }

    private func makeLayer(_ c: FixtureCase) throws -> LayerUnderTest {
        switch c.layer {
        case "Linear":
            let m = Linear(try c.int("inFeatures"), try c.int("outFeatures"), bias: c.bool("bias", true))
            return LayerUnderTest(module: m) { m($0[0]) }
        case "Bilinear":
            let m = Bilinear(try c.int("in1Features"), try c.int("in2Features"), try c.int("outFeatures"), bias: c.bool("bias", true))
            return LayerUnderTest(module: m) { m($0[0], $0[1]) }
        case "BatchNorm1d", "BatchNorm2d":
            let n = try c.int("numFeatures"), eps = c.double("eps", 1e-5)
            let affine = c.bool("affine", true), track = c.bool("trackRunningStats", true)
            let m: BatchNorm = c.layer == "BatchNorm1d"
                ? BatchNorm1d(n, eps: eps, momentum: c.momentum, affine: affine, trackRunningStats: track)
                : BatchNorm2d(n, eps: eps, momentum: c.momentum, affine: affine, trackRunningStats: track)
            return LayerUnderTest(module: m) { m($0[0]) }
        case "LayerNorm":
            let m = LayerNorm(try c.ints("normalizedShape"), eps: c.double("eps", 1e-5),
                              elementwiseAffine: c.bool("elementwiseAffine", true), bias: c.bool("bias", true))
            return LayerUnderTest(module: m) { m($0[0]) }
        case "GroupNorm":
            let m = GroupNorm(numGroups: try c.int("numGroups"), numChannels: try c.int("numChannels"),
                              eps: c.double("eps", 1e-5), affine: c.bool("affine", true))
            return LayerUnderTest(module: m) { m($0[0]) }
        case "Embedding":
            let padding: Int? = c.config["paddingIdx"].flatMap { if case .number(let v) = $0 { return Int(v) } else { return nil } }
            let m = Embedding(try c.int("numEmbeddings"), try c.int("embeddingDim"), paddingIdx: padding)
            return LayerUnderTest(module: m) { m($0[0]) }
        default:
            throw FixtureError("\(c.name): layer \(c.layer) has no Ember mapping in LayerParityTests")
        }
    }

    private func compare(_ actual: Tensor?, _ expected: FixtureTensor, _ what: String, tolerance: (atol: Double, rtol: Double)) {
        guard let actual else { return XCTFail("\(what): missing") }
        XCTAssertEqual(actual.shape, expected.shape, "\(what): shape")
        assertValuesClose(doubleValues(actual), expected.data, accuracy: tolerance.atol, what, relative: tolerance.rtol)
    }

    private func run(_ c: FixtureCase) throws {
        let dtype: DType = c.dtype == "float32" ? .float32 : .float64
        let tolerance = dtype == .float32 ? (atol: 1e-5, rtol: 1e-4) : (atol: 1e-10, rtol: 1e-9)
        let layer = try makeLayer(c)
        layer.module.to(dtype)
        // Loading PyTorch's state dict strictly checks every name and shape.
        try layer.module.loadStateDict(c.state.mapValues { $0.tensor(dtype) })
        layer.module.train(c.mode == "train")
        XCTAssertEqual(c.earlier_inputs.count, c.steps - 1, "\(c.name): earlier inputs")
        for batch in c.earlier_inputs { _ = noGrad { layer.call(batch.map { $0.tensor(dtype) }) } }
        let inputs = c.inputs.map { $0.tensor(dtype) }
        for input in inputs where input.dtype.isFloatingPoint { input.requiresGrad = true }
        let output = layer.call(inputs)
        compare(output, c.output, "\(c.name): output", tolerance: tolerance)
        output.backward(gradient: c.grad_output.tensor(dtype))
        let parameters = Dictionary(uniqueKeysWithValues: layer.module.namedParameters())
        XCTAssertEqual(Set(c.grads.keys.filter { !$0.hasPrefix("input") }), Set(parameters.keys), "\(c.name): parameters")
        for (key, expected) in c.grads {
            if key.hasPrefix("input"), let i = Int(key.dropFirst(5)) {
                compare(inputs[i].grad, expected, "\(c.name): gradient of \(key)", tolerance: tolerance)
            } else {
                compare(parameters[key]?.grad, expected, "\(c.name): gradient of \(key)", tolerance: tolerance)
            }
        }
        let after = layer.module.stateDict()
        XCTAssertEqual(Set(after.keys), Set(c.state_after.keys), "\(c.name): state dict keys")
        for (key, expected) in c.state_after {
            compare(after[key], expected, "\(c.name): \(key) after \(c.steps) step(s)", tolerance: tolerance)
        }
    }

    func testEveryFixtureCaseIsMapped() throws {
        let fixture = try loadFixture()
        XCTAssertGreaterThanOrEqual(fixture.cases.count, 20)
        for c in fixture.cases where !Self.handledLayers.contains(c.layer) {
            XCTFail("\(c.name): layer \(c.layer) has no Ember mapping")
        }
    }

    private func runCases(_ layers: Set<String>) throws {
        let cases = try loadFixture().cases.filter { layers.contains($0.layer) }
        XCTAssertFalse(cases.isEmpty, "no fixture cases for \(layers)")
        for c in cases { try run(c) }
    }

    func testLinearAndBilinearMatchPyTorch() throws { try runCases(["Linear", "Bilinear"]) }
    func testBatchNormMatchesPyTorchInTrainingAndEvaluation() throws { try runCases(["BatchNorm1d", "BatchNorm2d"]) }
    func testLayerNormAndGroupNormMatchPyTorch() throws { try runCases(["LayerNorm", "GroupNorm"]) }
    func testEmbeddingMatchesPyTorch() throws { try runCases(["Embedding"]) }
}
