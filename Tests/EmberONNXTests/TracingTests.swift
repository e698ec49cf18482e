// Ember's operation trace (`traceOperations`), the hook ONNX export is built on.
import Ember
import XCTest

final class TracingTests: XCTestCase {
    func testTraceListsRecordedOpsInOrderWithTheirTensors() {
        let x = Tensor.randn([2, 3]).requiresGrad(true)
        let (y, operations) = traceOperations { relu(x * 2).sum(dim: 1) }
        XCTAssertEqual(operations.map(\.rule.name), ["MulBackward0", "ReluBackward0", "SumBackward1"])
        XCTAssertTrue(operations[0].inputs[0] === x)
        XCTAssertEqual(operations[0].inputs[1].shape, [])
        XCTAssertTrue(operations[1].inputs[0] === operations[0].output)
        XCTAssertTrue(operations[2].output === y)
        guard case .sum(let dims, let keepDim) = operations[2].rule else { return XCTFail("\(operations[2].rule)") }
        XCTAssertEqual(dims, [1])
        XCTAssertFalse(keepDim)
    }

    func testTraceSkipsOpsAutogradDoesNotRecordAndEndsWithTheScope() {
        let x = Tensor.randn([3]).requiresGrad(true)
        let constant = Tensor.randn([3])
        let (_, operations) = traceOperations { () -> Tensor in
            _ = constant * 2                 // nothing requires grad: not recorded
            _ = noGrad { x.exp() }           // grad mode off: not recorded
            return x + 1
        }
        XCTAssertEqual(operations.map(\.rule.name), ["AddBackward0"])
        // After the scope, recording for autograd goes on but nothing is traced.
        let (_, outer) = traceOperations { () -> Tensor in
            let (_, inner) = traceOperations { sin(x) }
            XCTAssertEqual(inner.map(\.rule.name), ["SinBackward0"])
            return cos(x)
        }
        XCTAssertEqual(outer.map(\.rule.name), ["CosBackward0"])
        XCTAssertNotNil(tanh(x).gradFn)
    }

    func testTraceTurnsGradModeOnInsideNoGradAndRestoresIt() {
        let x = Tensor.randn([2]).requiresGrad(true)
        let (operations, modeAfter) = noGrad { () -> ([TracedOperation], Bool) in
            let (_, operations) = traceOperations { sigmoid(x) }
            return (operations, GradMode.isEnabled)
        }
        XCTAssertEqual(operations.map(\.rule.name), ["SigmoidBackward0"])
        XCTAssertFalse(modeAfter)
    }
}
