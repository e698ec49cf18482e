// In-place ops: compound assignment, the trailing-underscore methods, writes through
// views, version counters, dtype rules, and the optimizer-step pattern under noGrad.
import XCTest
@testable import Ember

final class InPlaceTests: XCTestCase {
    private func values(_ t: Tensor) -> [Float] { t.asArray(Float.self) }

    // MARK: Compound assignment

    func testPlusEqualsTensorWritesIntoTheSameObject() {
        var x = Tensor([1, 2, 3] as [Float])
        let alias = x
        x += Tensor([10, 20, 30] as [Float])
        XCTAssertTrue(x === alias)
        XCTAssertEqual(values(alias), [11, 22, 33])
    }

    func testMinusEqualsTensor() {
        var x = Tensor([5, 5, 5] as [Float])
        x -= Tensor([1, 2, 3] as [Float])
        XCTAssertEqual(values(x), [4, 3, 2])
    }

    func testTimesEqualsTensor() {
        var x = Tensor([1, 2, 3] as [Float])
        x *= Tensor([2, 3, 4] as [Float])
        XCTAssertEqual(values(x), [2, 6, 12])
    }

    func testDivideEqualsTensor() {
        var x = Tensor([1, 6, 9] as [Float])
        x /= Tensor([2, 3, 4] as [Float])
        XCTAssertEqual(values(x), [0.5, 2, 2.25])
    }

    func testCompoundAssignmentWithScalars() {
        var x = Tensor([1, 2, 3] as [Float])
        x += 1
        XCTAssertEqual(values(x), [2, 3, 4])
        x -= 0.5
        XCTAssertEqual(values(x), [1.5, 2.5, 3.5])
        x *= 2
        XCTAssertEqual(values(x), [3, 5, 7])
        x /= 4
        XCTAssertEqual(values(x), [0.75, 1.25, 1.75])
        XCTAssertEqual(x.dtype, .float32)
    }

    func testPlusEqualsBroadcastsTheOperand() {
        var x = Tensor.zeros([2, 3])
        x += Tensor([1, 2, 3] as [Float])
        XCTAssertEqual(values(x), [1, 2, 3, 1, 2, 3])
    }

    func testIntegerTensorStaysIntegerWithIntegerOperand() {
        var x = Tensor([1, 2, 3])
        x += Tensor([10, 10, 10])
        x *= 3
        XCTAssertEqual(x.dtype, .int64)
        XCTAssertEqual(x.asArray(Int.self), [33, 36, 39])
    }

    func testFloat64TensorKeepsDTypeWithFloat32Operand() {
        var x = Tensor([1.5, 2.5])
        x += Tensor([1, 1] as [Float])
        XCTAssertEqual(x.dtype, .float64)
        XCTAssertEqual(x.asArray(Double.self), [2.5, 3.5])
    }

    // MARK: Through views

    func testPlusEqualsOnRowViewChangesBase() {
        let x = Tensor.zeros([2, 2])
        var row = x[0]
        row += Tensor.ones([2])
        XCTAssertEqual(values(x), [1, 1, 0, 0])
    }

    func testTimesEqualsOnTransposedViewChangesBase() {
        let x = Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
        var column = x.t()[1]   // x[:, 1]
        column *= 10
        XCTAssertEqual(values(x), [1, 20, 3, 40])
    }

    func testMethodOnSlicedViewChangesBase() {
        let x = Tensor.arange(6, dtype: .float32)
        x.narrow(dim: 0, start: 2, length: 3).add_(Tensor(Float(100)))
        XCTAssertEqual(values(x), [0, 1, 102, 103, 104, 5])
    }

    // MARK: Version counter

    func testEachInPlaceOpIncrementsVersionByOne() {
        var x = Tensor.zeros([3])
        let v0 = x.version
        x += 1
        XCTAssertEqual(x.version, v0 + 1)
        x.mul_(2)
        XCTAssertEqual(x.version, v0 + 2)
        x.zero_()
        XCTAssertEqual(x.version, v0 + 3)
        x.copy_(Tensor.ones([3]))
        XCTAssertEqual(x.version, v0 + 4)
    }

    func testViewsShareTheVersionCounter() {
        let x = Tensor.zeros([2, 2])
        var row = x[1]
        let v0 = x.version
        row += 1
        XCTAssertEqual(x.version, v0 + 1)
        XCTAssertEqual(row.version, x.version)
    }

    func testOutOfPlaceOpsDoNotChangeVersion() {
        let x = Tensor.ones([3])
        let v0 = x.version
        _ = x + 1
        _ = x.clone()
        XCTAssertEqual(x.version, v0)
    }

    // MARK: Methods

    func testZeroReturnsSelfAndZeroes() {
        let x = Tensor([1, 2, 3] as [Float])
        XCTAssertTrue(x.zero_() === x)
        XCTAssertEqual(values(x), [0, 0, 0])
    }

    func testFillSetsEveryElement() {
        let x = Tensor.zeros([2, 2], dtype: .int32)
        XCTAssertTrue(x.fill_(7) === x)
        XCTAssertEqual(x.asArray(Int32.self), [7, 7, 7, 7])
    }

    func testFillOnIntegerTensorTruncates() {
        // torch.zeros(2, dtype=torch.int64).fill_(2.9) gives [2, 2]
        let x = Tensor.zeros([2], dtype: .int64)
        x.fill_(2.9)
        XCTAssertEqual(x.asArray(Int.self), [2, 2])
    }

    func testCopyBroadcastsSource() {
        let x = Tensor.zeros([2, 3])
        XCTAssertTrue(x.copy_(Tensor([1, 2, 3] as [Float])) === x)
        XCTAssertEqual(values(x), [1, 2, 3, 1, 2, 3])
    }

    func testCopyConvertsIntegerSourceToFloat() {
        let x = Tensor.zeros([3])
        x.copy_(Tensor([1, -2, 3]))
        XCTAssertEqual(x.dtype, .float32)
        XCTAssertEqual(values(x), [1, -2, 3])
    }

    func testCopyFloatIntoIntegerTruncatesTowardZero() {
        let x = Tensor.zeros([4], dtype: .int64)
        x.copy_(Tensor([1.7, -1.7, 2.5, -0.5]))
        XCTAssertEqual(x.asArray(Int.self), [1, -1, 2, 0])
    }

    func testCopyIntoNonContiguousView() {
        let x = Tensor.zeros([2, 3])
        x.t().copy_(Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [3, 2]))
        XCTAssertEqual(values(x), [1, 3, 5, 2, 4, 6])
    }

    func testClampWithBothBounds() {
        let x = Tensor([-2, 0.5, 3] as [Float])
        XCTAssertTrue(x.clamp_(min: 0, max: 1) === x)
        XCTAssertEqual(values(x), [0, 0.5, 1])
    }

    func testClampWithOneBound() {
        let low = Tensor([-2, 0.5, 3] as [Float])
        low.clamp_(min: 0)
        XCTAssertEqual(values(low), [0, 0.5, 3])
        let high = Tensor([-2, 0.5, 3] as [Float])
        high.clamp_(max: 0)
        XCTAssertEqual(values(high), [-2, 0, 0])
    }

    func testClampOnAViewWritesThroughAndKeepsNaN() {
        // Without autograd the clamp runs where the elements lie: through a transposed view,
        // leaving NaN as NaN (as PyTorch's clamp_), integers with integer bounds alike.
        let base = Tensor([-2, .nan, 3, 7, 0.5, -0.25] as [Float], shape: [2, 3])
        let view = base.t()
        XCTAssertTrue(view.clamp_(min: 0, max: 6) === view)
        let got = values(base)
        XCTAssertEqual(got[0], 0); XCTAssertTrue(got[1].isNaN)
        XCTAssertEqual(Array(got[2...]), [3, 6, 0.5, 0])
        // A contiguous float32 tensor takes the vector kernel (16 lanes, then a tail of 5).
        var numbers = (0..<37).map { Float($0) * 0.5 - 8 }
        numbers[3] = .nan; numbers[34] = .nan; numbers[20] = -.infinity; numbers[21] = .infinity
        let clamped = Tensor(numbers).clamp_(min: -1, max: 6)
        for (got, x) in zip(values(clamped), numbers) {
            if x.isNaN { XCTAssertTrue(got.isNaN) } else { XCTAssertEqual(got, Swift.min(Swift.max(x, -1), 6)) }
        }
        XCTAssertEqual(values(Tensor(numbers).clamp(min: 2)).filter { !$0.isNaN }.min(), 2)
        let integers = Tensor([-5, 2, 9] as [Int64])
        integers.clamp_(min: 0, max: 4)
        XCTAssertEqual(integers.asArray(Int64.self), [0, 2, 4])
    }

    func testAddWithAlpha() {
        let x = Tensor([1, 2] as [Float])
        XCTAssertTrue(x.add_(Tensor([10, 20] as [Float]), alpha: 0.5) === x)
        XCTAssertEqual(values(x), [6, 12])
    }

    func testSubWithAlpha() {
        let x = Tensor([1, 2] as [Float])
        x.sub_(Tensor([10, 20] as [Float]), alpha: 0.1)
        XCTAssertEqual(values(x), [0, 0])
    }

    func testMulWithTensorAndScalar() {
        let x = Tensor([1, 2, 3] as [Float])
        x.mul_(Tensor([2, 2, 2] as [Float])).mul_(0.5)
        XCTAssertEqual(values(x), [1, 2, 3])
        x.mul_(-3)
        XCTAssertEqual(values(x), [-3, -6, -9])
    }

    func testDivWithTensor() {
        let x = Tensor([3, 6] as [Float])
        x.div_(Tensor([2, 4] as [Float]))
        XCTAssertEqual(values(x), [1.5, 1.5])
    }

    func testUniformStaysInRange() {
        let x = Tensor.zeros([10_000])
        x.uniform_(-2, 3, generator: Generator(seed: 1))
        let v = values(x)
        XCTAssertGreaterThanOrEqual(v.min()!, -2)
        XCTAssertLessThan(v.max()!, 3)
        let mean = v.reduce(0, +) / Float(v.count)
        XCTAssertEqual(mean, 0.5, accuracy: 0.05)
        XCTAssertLessThan(v.min()!, -1.9, "samples cover the low end")
        XCTAssertGreaterThan(v.max()!, 2.9, "samples cover the high end")
    }

    func testNormalHasRequestedMeanAndStd() {
        let x = Tensor.zeros([20_000], dtype: .float64)
        x.normal_(mean: 5, std: 2, generator: Generator(seed: 2))
        XCTAssertEqual(x.mean().item(Double.self), 5, accuracy: 0.05)
        XCTAssertEqual(x.std().item(Double.self), 2, accuracy: 0.05)
        XCTAssertEqual(x.dtype, .float64)
    }

    func testUniformIsReproducibleWithSeededGenerator() {
        let a = Tensor.zeros([5]).uniform_(generator: Generator(seed: 9))
        let b = Tensor.zeros([5]).uniform_(generator: Generator(seed: 9))
        XCTAssertEqual(values(a), values(b))
    }

    // MARK: Autograd interplay

    func testOptimizerStepUnderNoGradUpdatesLeaf() {
        var w = Tensor([1, 2] as [Float], requiresGrad: true)
        (w * w).sum().backward()
        let g = w.grad!
        XCTAssertEqual(values(g), [2, 4])
        noGrad {
            w -= g * 0.5
        }
        XCTAssertEqual(values(w), [0, 0])
        XCTAssertTrue(w.isLeaf)
        XCTAssertTrue(w.requiresGrad)
        XCTAssertNil(w.gradFn)
    }

    func testMethodsUnderNoGradOnLeafThatRequiresGrad() {
        let w = Tensor([1, 2] as [Float], requiresGrad: true)
        noGrad {
            w.mul_(3).add_(Tensor([1, 1] as [Float]), alpha: 2).clamp_(max: 7)
        }
        XCTAssertEqual(values(w), [5, 7])
        XCTAssertTrue(w.isLeaf)
        XCTAssertTrue(w.requiresGrad)
    }

    // MARK: Refusals (checked in a child process)

    func testFloatScalarIntoIntegerTensorIsRefused() throws {
        try assertCrashes("testInPlaceFloatScalarOnIntTensor",
                          messages: ["mul_: result type torch.float32 can't be cast to the desired output type torch.int64"])
    }

    func testFloatTensorIntoIntegerTensorIsRefused() throws {
        try assertCrashes("testInPlaceFloatTensorOnIntTensor",
                          messages: ["add_: result type torch.float32 can't be cast to the desired output type torch.int32"])
    }

    func testTrueDivisionIntoIntegerTensorIsRefused() throws {
        try assertCrashes("testInPlaceDivOnIntTensor",
                          messages: ["div_: result type torch.float32 can't be cast to the desired output type torch.int64"])
    }

    func testInPlaceResultMustKeepShape() throws {
        try assertCrashes("testInPlaceBroadcastGrowsShape",
                          messages: ["add_: output with shape [3] doesn't match the broadcast shape [2, 3]"])
    }
}

extension CrashCases {
    func testInPlaceFloatScalarOnIntTensor() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        var x = Tensor([1, 2, 3])
        x *= 2.5
    }
    func testInPlaceFloatTensorOnIntTensor() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        var x = Tensor([1, 2] as [Int32])
        x += Tensor([0.5, 0.5] as [Float])
    }
    func testInPlaceDivOnIntTensor() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        var x = Tensor([4, 6])
        x /= Tensor([2, 2])
    }
    func testInPlaceBroadcastGrowsShape() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        var x = Tensor.zeros([3])
        x += Tensor.zeros([2, 3])
    }
}
