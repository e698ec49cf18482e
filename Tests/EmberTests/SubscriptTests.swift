// Python-style subscripts on tensors: every index component, view semantics of reads,
// assignment with broadcasting, boolean masks and integer index tensors. Expected values
// are what the same subscript gives in PyTorch (`x[...]` on `torch.arange(12.).reshape(3, 4)`).
import XCTest
@testable import Ember

final class SubscriptTests: XCTestCase {
    /// [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] as float32.
    private func grid() -> Tensor { Tensor.arange(12, dtype: .float32).reshape([3, 4]) }
    /// arange(24) as float32, shape [2, 3, 4].
    private func cube() -> Tensor { Tensor.arange(24, dtype: .float32).reshape([2, 3, 4]) }
    private func values(_ t: Tensor) -> [Float] { t.asArray(Float.self) }

    // MARK: Integers

    func testIntegerSelectsRowAndRemovesDimension() {
        let row = grid()[1]
        XCTAssertEqual(row.shape, [4])
        XCTAssertEqual(values(row), [4, 5, 6, 7])
    }

    func testTwoIntegersSelectZeroDimensionalElement() {
        let element = grid()[1, 2]
        XCTAssertEqual(element.shape, [])
        XCTAssertEqual(element.item(Float.self), 6)
    }

    func testNegativeIntegerCountsFromTheEnd() {
        XCTAssertEqual(values(grid()[-1]), [8, 9, 10, 11])
        XCTAssertEqual(grid()[-1, -2].item(Float.self), 10)
    }

    // MARK: Ranges and strides

    func testRangeSlicesRows() {
        let rows = grid()[0..<2]
        XCTAssertEqual(rows.shape, [2, 4])
        XCTAssertEqual(values(rows), [0, 1, 2, 3, 4, 5, 6, 7])
    }

    func testRangeAfterAllSlicesColumns() {
        let columns = grid()[.all, 1..<3]
        XCTAssertEqual(columns.shape, [3, 2])
        XCTAssertEqual(values(columns), [1, 2, 5, 6, 9, 10])
    }

    func testClosedRangeIncludesUpperBound() {
        XCTAssertEqual(values(grid()[.all, 1...2]), [1, 2, 5, 6, 9, 10])
    }

    func testClosedRangeEndingAtMinusOneReachesTheEnd() {
        // x[:, -2:] in PyTorch
        XCTAssertEqual(values(grid()[.all, (-2)...(-1)]), [2, 3, 6, 7, 10, 11])
        // x[:, -3:-1]
        XCTAssertEqual(values(grid()[.all, (-3)...(-2)]), [1, 2, 5, 6, 9, 10])
    }

    func testPartialRangeFrom() {
        let rows = grid()[1...]
        XCTAssertEqual(rows.shape, [2, 4])
        XCTAssertEqual(values(rows), [4, 5, 6, 7, 8, 9, 10, 11])
    }

    func testPartialRangeUpToKeepsDimension() {
        let rows = grid()[..<1]
        XCTAssertEqual(rows.shape, [1, 4])
        XCTAssertEqual(values(rows), [0, 1, 2, 3])
    }

    func testPartialRangeThrough() {
        XCTAssertEqual(grid()[...1].shape, [2, 4])
        // x[:, :-1]
        XCTAssertEqual(values(grid()[.all, ...(-2)]), [0, 1, 2, 4, 5, 6, 8, 9, 10])
        // x[:, :] (...-1 reaches the end)
        XCTAssertEqual(values(grid()[.all, ...(-1)]), values(grid()))
    }

    func testRangePastTheEndIsClamped() {
        // x[2:10] has one row
        XCTAssertEqual(values(grid()[2..<10]), [8, 9, 10, 11])
        XCTAssertEqual(grid()[3..<10].shape, [0, 4])
    }

    func testNegativePartialRangeFromTakesLastRows() {
        // x[-1:]
        let last = grid()[(-1)...]
        XCTAssertEqual(last.shape, [1, 4])
        XCTAssertEqual(values(last), [8, 9, 10, 11])
    }

    func testEmptyAndReversedRangesGiveZeroLength() {
        XCTAssertEqual(grid()[2..<2].shape, [0, 4])
        // x[3:1]
        XCTAssertEqual(grid()[.slice(3, 1)].shape, [0, 4])
    }

    func testStrideSelectsEveryStepWithStridedView() {
        let x = grid()
        let even = x[.all, stride(from: 0, to: 4, by: 2)]
        XCTAssertEqual(even.shape, [3, 2])
        XCTAssertEqual(even.strides, [4, 2])
        XCTAssertEqual(values(even), [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(values(Tensor.arange(10, dtype: .float32)[stride(from: 1, to: 10, by: 3)]), [1, 4, 7])
    }

    func testSliceComponentWithStep() {
        // x[::2]
        XCTAssertEqual(values(grid()[.slice(nil, nil, step: 2)]), [0, 1, 2, 3, 8, 9, 10, 11])
        // x[:, 1::2]
        XCTAssertEqual(values(grid()[.all, .slice(1, step: 2)]), [1, 3, 5, 7, 9, 11])
        // x[:, -3:-1]
        XCTAssertEqual(values(grid()[.all, .slice(-3, -1)]), [1, 2, 5, 6, 9, 10])
    }

    // MARK: Ellipsis and new axes

    func testEllipsisBeforeIndexSelectsLastDimension() {
        let first = cube()[.ellipsis, 0]
        XCTAssertEqual(first.shape, [2, 3])
        XCTAssertEqual(values(first), [0, 4, 8, 12, 16, 20])
    }

    func testEllipsisAfterIndexKeepsTrailingDimensions() {
        let first = cube()[0, .ellipsis]
        XCTAssertEqual(first.shape, [3, 4])
        XCTAssertEqual(values(first), Array(0..<12).map(Float.init))
    }

    func testEllipsisInTheMiddle() {
        // x[..., 1, :]
        let middle = cube()[.ellipsis, 1, .all]
        XCTAssertEqual(middle.shape, [2, 4])
        XCTAssertEqual(values(middle), [4, 5, 6, 7, 16, 17, 18, 19])
    }

    func testNewAxisInsertsSizeOneDimension() {
        let x = grid()
        XCTAssertEqual(x[.newAxis].shape, [1, 3, 4])
        XCTAssertEqual(x[.all, .newAxis].shape, [3, 1, 4])
        XCTAssertEqual(x[.ellipsis, .newAxis].shape, [3, 4, 1])
        XCTAssertEqual(values(x[.ellipsis, .newAxis]), values(x))
    }

    func testNewAxisCombinesWithIntegerAndRange() {
        // x[1, None, 1:3]
        let y = grid()[1, .newAxis, 1..<3]
        XCTAssertEqual(y.shape, [1, 2])
        XCTAssertEqual(values(y), [5, 6])
    }

    // MARK: Views

    func testIntegerReadIsViewSharingStorage() {
        let x = grid()
        let row = x[1]
        XCTAssertTrue(row.storage === x.storage)
        row.fill_(-1)
        XCTAssertEqual(values(x), [0, 1, 2, 3, -1, -1, -1, -1, 8, 9, 10, 11])
    }

    func testStridedColumnViewWritesThroughToBase() {
        let x = grid()
        let column = x[.all, 1]
        XCTAssertTrue(column.storage === x.storage)
        column.copy_(Tensor([100, 200, 300] as [Float]))
        XCTAssertEqual(values(x), [0, 100, 2, 3, 4, 200, 6, 7, 8, 300, 10, 11])
    }

    func testSteppedSliceViewWritesThroughToBase() {
        let x = Tensor.zeros([6])
        x[stride(from: 1, to: 6, by: 2)].fill_(1)
        XCTAssertEqual(values(x), [0, 1, 0, 1, 0, 1])
    }

    // MARK: Assignment

    func testAssignRangeInRow() {
        let x = grid()
        x[0, 1..<3] = Tensor([70, 80] as [Float])
        XCTAssertEqual(values(x), [0, 70, 80, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    }

    func testAssignScalarTensorBroadcastsOverColumn() {
        let x = grid()
        x[.all, 0] = Tensor(Float(-1))
        XCTAssertEqual(values(x), [-1, 1, 2, 3, -1, 5, 6, 7, -1, 9, 10, 11])
    }

    func testAssignRowBroadcastsOverRows() {
        let x = grid()
        x[1...] = Tensor([1, 2, 3, 4] as [Float])
        XCTAssertEqual(values(x), [0, 1, 2, 3, 1, 2, 3, 4, 1, 2, 3, 4])
    }

    func testAssignConvertsValueDType() {
        let x = Tensor.zeros([3])
        x[1] = Tensor(7)   // int64 into float32
        XCTAssertEqual(x.dtype, .float32)
        XCTAssertEqual(values(x), [0, 7, 0])
    }

    func testAssignBumpsVersion() {
        let x = grid()
        let before = x.version
        x[0] = Tensor(Float(0))
        XCTAssertEqual(x.version, before + 1)
    }

    // MARK: Boolean masks

    func testBoolMaskReadGivesOneDimensionalCopy() {
        let x = grid()
        let picked = x[x .> 5]
        XCTAssertEqual(picked.shape, [6])
        XCTAssertEqual(values(picked), [6, 7, 8, 9, 10, 11])
        picked.fill_(0)
        XCTAssertEqual(values(x)[11], 11, "a mask read is a copy")
    }

    func testBoolMaskOverFirstDimensionSelectsRows() {
        let rows = grid()[Tensor([true, false, true])]
        XCTAssertEqual(rows.shape, [2, 4])
        XCTAssertEqual(values(rows), [0, 1, 2, 3, 8, 9, 10, 11])
    }

    func testBoolMaskOnSecondDimension() {
        // x[:, tensor([False, True, False, True])]
        let columns = grid()[.all, Tensor([false, true, false, true])]
        XCTAssertEqual(columns.shape, [3, 2])
        XCTAssertEqual(values(columns), [1, 3, 5, 7, 9, 11])
    }

    func testBoolMaskWriteWithScalar() {
        let x = Tensor([-1, 2, -3, 4] as [Float])
        x[x .< 0] = Tensor(Float(0))
        XCTAssertEqual(values(x), [0, 2, 0, 4])
    }

    func testBoolMaskWriteWithOneValuePerSelectedElement() {
        let x = grid()
        x[x .>= 10] = Tensor([-10, -11] as [Float])
        XCTAssertEqual(values(x), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, -10, -11])
    }

    func testAllFalseMaskReadIsEmpty() {
        let picked = grid()[grid() .> 100]
        XCTAssertEqual(picked.shape, [0])
    }

    // MARK: Integer index tensors

    func testIntegerTensorGathersRowsInOrder() {
        let x = grid()
        let rows = x[Tensor([2, 0])]
        XCTAssertEqual(rows.shape, [2, 4])
        XCTAssertEqual(values(rows), [8, 9, 10, 11, 0, 1, 2, 3])
        rows.fill_(0)
        XCTAssertEqual(values(x)[0..<4].map { $0 }, [0, 1, 2, 3], "an index-tensor read is a copy")
    }

    func testIntegerTensorWithRepeatsAndNegativeIndex() {
        // x[tensor([1, 1, -1])]
        XCTAssertEqual(values(grid()[Tensor([1, 1, -1])]), [4, 5, 6, 7, 4, 5, 6, 7, 8, 9, 10, 11])
    }

    func testMultiDimensionalIndexTensorShapesTheResult() {
        let picked = grid()[Tensor([0, 1, 2, 2], shape: [2, 2])]
        XCTAssertEqual(picked.shape, [2, 2, 4])
        XCTAssertEqual(values(picked), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 8, 9, 10, 11])
    }

    func testIntegerTensorOnSecondDimension() {
        let picked = grid()[.all, Tensor([3, 0])]
        XCTAssertEqual(picked.shape, [3, 2])
        XCTAssertEqual(values(picked), [3, 0, 7, 4, 11, 8])
    }

    func testInt32IndexTensor() {
        XCTAssertEqual(values(grid()[Tensor([2] as [Int32])]), [8, 9, 10, 11])
    }

    func testIntegerTensorWriteSetsRows() {
        let x = grid()
        x[Tensor([0, 2])] = Tensor(Float(5))
        XCTAssertEqual(values(x), [5, 5, 5, 5, 4, 5, 6, 7, 5, 5, 5, 5])
    }

    func testIntegerTensorWriteOnColumnsWithValues() {
        let x = grid()
        x[.all, Tensor([1, 3])] = Tensor([-1, -3] as [Float])
        XCTAssertEqual(values(x), [0, -1, 2, -3, 4, -1, 6, -3, 8, -1, 10, -3])
    }

    // MARK: Errors

    func testTooManyIndicesStops() throws {
        try assertCrashes("testSubscriptTooManyIndices", messages: ["index: too many indices for a tensor of rank 2 (got 3)"])
    }
}

extension CrashCases {
    func testSubscriptTooManyIndices() throws {
        try CrashTestSupport.armed(#function.replacingOccurrences(of: "()", with: ""))
        _ = Tensor.zeros([2, 3])[0, 0, 0]
    }
}
