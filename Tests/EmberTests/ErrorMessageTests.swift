// Programmer errors stop the process with a message naming the op and its operands.
// Each `ErrorMessageTests` test re-runs this test executable filtered to one
// `CrashCases` method (see CrashTestSupport.swift) and checks the child's stderr.
import XCTest
@testable import Ember

/// Bodies that must stop the process. Each runs only in a child process armed with
/// `EMBER_CRASH_CASE=<method name>`; in an ordinary run each one skips.
final class CrashCases: XCTestCase {
    // Ops
    func testMatmulShapeMismatch() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        _ = Tensor.zeros([32, 784]).matmul(Tensor.zeros([512, 10]))
    }
    func testBroadcastMismatch() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        _ = Tensor.zeros([2, 3]) + Tensor.zeros([4])
    }
    func testBroadcastMismatchInMul() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        _ = Tensor.ones([4, 2, 3]) * Tensor.ones([5, 1, 3])
    }
    func testViewOnNonContiguous() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        _ = Tensor.zeros([2, 3]).t().view([6])
    }
    func testSelectOutOfRange() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        _ = Tensor.zeros([3, 4]).select(dim: 0, index: 5)
    }
    func testGatherOutOfRange() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        _ = Tensor.zeros([2, 3]).gather(dim: 1, index: Tensor([0, 3] as [Int], shape: [2, 1]))
    }
    // Autograd
    func testSavedTensorModifiedInPlace() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        let x = Tensor([0.5, 1.0, 1.5], requiresGrad: true)
        let y = x.exp()          // ExpBackward0 saves its output y
        y.mul_(2)
        y.sum().backward()
    }
    func testFunctionalGradTwice() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = (x * x).sum()
        _ = grad(of: [y], with: [x])
        _ = grad(of: [y], with: [x])
    }
    func testAnomalyLogOfZero() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        AnomalyMode.isEnabled = true
        let x = Tensor([0.0, 1.0], requiresGrad: true)
        (x.log() * 0.0).sum().backward()
    }
    func testRequiresGradOnNonLeaf() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        (x * 2).requiresGrad = false
    }
    func testBackwardOnNonScalarWithoutGradient() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        (x * 2).backward()
    }
    func testInPlaceOnLeafThatRequiresGrad() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        var x = Tensor([1.0, 2.0], requiresGrad: true)
        x += 1
    }
    func testGradOfUnusedInput() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        let x = Tensor([1.0, 2.0], requiresGrad: true), unused = Tensor([3.0], requiresGrad: true)
        _ = grad(of: [(x * x).sum()], with: [x, unused])
    }
    // gradcheck's own checks
    func testGradcheckRejectsExpandedInput() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        let x = Tensor([1.0, 2.0]).expand([3, 2]).requiresGrad(true)
        _ = gradcheck({ $0[0] * 2 }, inputs: [x])
    }
    func testGradcheckRejectsFloat32Input() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        let x = Tensor([1, 2] as [Float], requiresGrad: true)
        _ = gradcheck({ $0[0] * 2 }, inputs: [x])
    }
    // Used by AutogradTests.
    func testBackwardTwiceWithoutRetainGraph() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = (x * x).sum()
        y.backward()
        y.backward()
    }
    func testInPlaceAddOnSavedInput() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        let x = Tensor([0.5, 1.0, 1.5], requiresGrad: true)
        var y = x * 1
        let z = sin(y)           // SinBackward0 saves its input y
        y += 1
        z.sum().backward()
    }
    func testAnomalySqrtAtZero() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        AnomalyMode.isEnabled = true
        let x = Tensor([0.0, 4.0], requiresGrad: true)
        (x.sqrt() * 0.0).sum().backward()
    }
}

final class ErrorMessageTests: XCTestCase {
    func testCrashCasesSkipWhenNotArmed() {
        // In this process no crash case is armed: a crash body must skip, not pass.
        XCTAssertNil(ProcessInfo.processInfo.environment[CrashTestSupport.variable])
        XCTAssertThrowsError(try CrashTestSupport.armed("testMatmulShapeMismatch")) { error in
            XCTAssertTrue(error is XCTSkip, "\(error)")
        }
    }

    func testMatmulShapeMismatch() throws {
        try assertCrashes("testMatmulShapeMismatch", messages: ["matmul: shapes [32, 784] and [512, 10] do not match: 784 ≠ 512"])
    }

    func testBroadcastMismatchNamesBothShapes() throws {
        try assertCrashes("testBroadcastMismatch", messages: ["add: shapes [2, 3] and [4] cannot be broadcast together: dimension 1 is 3 vs 4"])
        try assertCrashes("testBroadcastMismatchInMul", messages: ["mul: shapes [4, 2, 3] and [5, 1, 3] cannot be broadcast together"])
    }

    func testViewOnNonContiguous() throws {
        try assertCrashes("testViewOnNonContiguous",
                          messages: ["view: size is not compatible with the input's strides [1, 3] (shape [3, 2]); use reshape(...) instead"])
    }

    func testSelectOutOfRange() throws {
        try assertCrashes("testSelectOutOfRange", messages: ["select: index 5 out of range for dimension 0 of size 3"])
    }

    func testGatherOutOfRange() throws {
        try assertCrashes("testGatherOutOfRange", messages: ["gather: index 3 out of range for dimension 1 of size 3"])
    }

    func testSavedTensorModifiedInPlace() throws {
        try assertCrashes("testSavedTensorModifiedInPlace", messages: [
            "one of the tensors needed for gradient computation has been modified by an in-place operation",
            "a tensor of shape [3] saved by ExpBackward0 is at version 1; expected version 0 instead",
        ])
    }

    func testFunctionalGradTwice() throws {
        try assertCrashes("testFunctionalGradTwice", messages: [
            "backward: trying to backward through the graph a second time",
            "Pass retainGraph: true",
        ])
    }

    func testAnomalyNamesNode() throws {
        try assertCrashes("testAnomalyLogOfZero", messages: ["Function 'LogBackward0' returned nan values in its 0th output."])
    }

    func testRequiresGradOnNonLeaf() throws {
        try assertCrashes("testRequiresGradOnNonLeaf", messages: ["requiresGrad: can only be set on leaf tensors", "MulBackward0"])
    }

    func testBackwardOnNonScalarWithoutGradient() throws {
        try assertCrashes("testBackwardOnNonScalarWithoutGradient",
                          messages: ["backward: grad can be implicitly created only for one-element outputs; this tensor has shape [2]"])
    }

    func testInPlaceOnLeafThatRequiresGrad() throws {
        try assertCrashes("testInPlaceOnLeafThatRequiresGrad",
                          messages: ["add_: a leaf tensor that requires grad is being used in an in-place operation"])
    }

    func testGradOfUnusedInput() throws {
        try assertCrashes("testGradOfUnusedInput", messages: ["grad: input 1 was not used in the graph of the outputs (pass allowUnused: true)"])
    }

    func testGradcheckRejectsOverlappingAndFloat32Inputs() throws {
        try assertCrashes("testGradcheckRejectsExpandedInput",
                          messages: ["gradcheck: input 0 of shape [3, 2] and strides [0, 1] has overlapping memory"])
        try assertCrashes("testGradcheckRejectsFloat32Input",
                          messages: ["gradcheck: input 0 has dtype ", "float32; inputs that require grad must be float64"])
    }
}
