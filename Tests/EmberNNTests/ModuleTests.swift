// Parameter discovery, naming, modes and state dicts of Module.
import XCTest
import Ember
@testable import EmberNN

private final class Affine: Module {
    var weight = Tensor.ones([2, 3], requiresGrad: true)
    var bias: Tensor? = Tensor.zeros([2], requiresGrad: true)
    @Buffer var calls = Tensor.zeros([1])
    @Buffer(persistent: false) var scratch = Tensor.zeros([4])
    var scale: Double = 1   // not a tensor: ignored
    var doubled: Tensor { weight * 2 }   // computed: ignored
    override func forward(_ x: Tensor) -> Tensor { bias.map { x.matmul(weight.t()) + $0 } ?? x.matmul(weight.t()) }
}

private final class Net: Module {
    let first = Affine()
    var blocks: [Module] = [Affine(), Affine()]
    var heads: [String: Module] = ["b": Affine(), "a": Affine()]
    var optional: Affine? = nil
}

final class ModuleTests: XCTestCase {
    func testParametersBuffersAndChildrenAreFoundWithDottedNames() {
        let net = Net()
        let names = net.namedParameters().map(\.0)
        XCTAssertEqual(names, ["first.weight", "first.bias", "blocks.0.weight", "blocks.0.bias", "blocks.1.weight",
                               "blocks.1.bias", "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias"])
        XCTAssertEqual(net.namedBuffers().map(\.0).filter { $0.hasPrefix("first.") }, ["first.calls", "first.scratch"])
        XCTAssertEqual(net.parameterCount, 5 * 8)
        XCTAssertEqual(net.children().count, 5)
    }

    func testStateDictHoldsParametersAndPersistentBuffersOnly() {
        let state = Affine().stateDict()
        XCTAssertEqual(Set(state.keys), ["weight", "bias", "calls"])
    }

    func testAssigningASubmoduleAfterInitIsSeen() {
        let net = Net()
        net.optional = Affine()
        XCTAssertTrue(net.namedParameters().map(\.0).contains("optional.weight"))
    }

    func testLoadStateDictRoundTripsAndReportsEveryProblem() throws {
        let source = Affine(), target = Affine()
        source.weight = Tensor.full([2, 3], 3, requiresGrad: true)
        try target.loadStateDict(source.stateDict())
        XCTAssertEqual(target.weight.asArray(Float.self), [Float](repeating: 3, count: 6))

        var bad = source.stateDict()
        bad["weight"] = Tensor.zeros([3, 3])
        bad["extra"] = Tensor.zeros([1])
        bad["bias"] = nil
        XCTAssertThrowsError(try target.loadStateDict(bad)) { error in
            let e = error as! StateDictError
            XCTAssertEqual(e.missingKeys, ["bias"])
            XCTAssertEqual(e.unexpectedKeys, ["extra"])
            XCTAssertEqual(e.shapeMismatches, [.init(key: "weight", expected: [2, 3], found: [3, 3])])
        }
        XCTAssertEqual(target.weight.asArray(Float.self), [Float](repeating: 3, count: 6), "nothing changes on error")
    }

    func testLoadStateDictRefusesIntegerDataForFloatParametersButConvertsPrecision() throws {
        let target = Affine()
        var state = target.stateDict()
        state["weight"] = Tensor([1, 2, 3, 4, 5, 6], shape: [2, 3])   // int64
        XCTAssertThrowsError(try target.loadStateDict(state)) { error in
            let e = error as! StateDictError
            XCTAssertEqual(e.dtypeMismatches, [.init(key: "weight", expected: .float32, found: .int64)])
            XCTAssertTrue("\(e)".contains("dtype mismatch for weight: checkpoint has torch.int64, model expects torch.float32"))
        }
        state["weight"] = Tensor([1, 2, 3, 4, 5, 6] as [Double], shape: [2, 3])
        try target.loadStateDict(state)
        XCTAssertEqual(target.weight.dtype, .float32)
        XCTAssertEqual(target.weight.asArray(Float.self), [1, 2, 3, 4, 5, 6])
    }

    func testTrainAndEvalReachEverySubmodule() {
        let net = Net()
        net.eval()
        XCTAssertTrue(net.modules().allSatisfy { !$0.isTraining })
        net.train()
        XCTAssertTrue(net.modules().allSatisfy { $0.isTraining })
    }

    func testSequentialNamesChildrenByPositionAndRunsInOrder() {
        let model = Sequential { Affine(); Affine() }
        XCTAssertEqual(model.namedParameters().map(\.0), ["0.weight", "0.bias", "1.weight", "1.bias"])
        let square = Affine()
        square.weight = Tensor.full([3, 3], 0.5, requiresGrad: true)
        square.bias = nil
        let chain = Sequential(square, Affine())
        XCTAssertEqual(chain.namedParameters().map(\.0), ["0.weight", "1.weight", "1.bias"])
        // [1, 1, 1] · 0.5 → [1.5, 1.5, 1.5]; then ones(2, 3) · that → [4.5, 4.5].
        XCTAssertEqual(chain(Tensor.ones([1, 3])).asArray(Float.self), [4.5, 4.5])
    }
}
