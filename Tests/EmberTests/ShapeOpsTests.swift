// Shape ops as views and copies: which results share storage with their input, the
// shapes that -1 and negative dims resolve to, and the values of joins, sorting, one-hot,
// nonzero, einsum's implicit output and batched matmul. Values follow PyTorch.
import XCTest
@testable import Ember

final class ShapeOpsTests: XCTestCase {
    private func values(_ t: Tensor) -> [Float] { t.asArray(Float.self) }
    /// arange(n) as float32 with the given shape.
    private func range(_ shape: [Int]) -> Tensor { Tensor.arange(Double(shape.reduce(1, *)), dtype: .float32).reshape(shape) }

    // MARK: reshape / view / flatten

    func testReshapeInfersMinusOne() {
        let x = range([6])
        XCTAssertEqual(x.reshape([2, -1]).shape, [2, 3])
        XCTAssertEqual(x.reshape([-1, 1, 2]).shape, [3, 1, 2])
        XCTAssertEqual(x.reshape(-1).shape, [6])
    }

    func testReshapeOfContiguousIsView() {
        let x = range([6])
        let y = x.reshape([2, 3])
        XCTAssertTrue(y.storage === x.storage)
        y[1, 2] = Tensor(Float(-1))
        XCTAssertEqual(values(x), [0, 1, 2, 3, 4, -1])
    }

    func testReshapeOfNonContiguousCopiesInLogicalOrder() {
        let x = range([2, 3])
        let y = x.t().reshape([6])
        XCTAssertFalse(y.storage === x.storage)
        XCTAssertEqual(values(y), [0, 3, 1, 4, 2, 5])
        y.fill_(9)
        XCTAssertEqual(values(x), [0, 1, 2, 3, 4, 5])
    }

    func testViewSharesStorage() {
        let x = range([2, 3])
        let v = x.view([3, 2])
        XCTAssertTrue(v.storage === x.storage)
        XCTAssertEqual(v.shape, [3, 2])
        v.zero_()
        XCTAssertEqual(values(x), [0, 0, 0, 0, 0, 0])
    }

    func testFlattenRangeOfDimensions() {
        let x = range([2, 3, 4])
        XCTAssertEqual(x.flatten().shape, [24])
        XCTAssertEqual(x.flatten(startDim: 1).shape, [2, 12])
        XCTAssertEqual(x.flatten(startDim: 0, endDim: 1).shape, [6, 4])
        XCTAssertEqual(x.flatten(startDim: -2, endDim: -1).shape, [2, 12])
        XCTAssertEqual(Tensor(Float(3)).flatten().shape, [1])
    }

    func testUnflattenSplitsDimensionWithInferredSize() {
        let x = range([3, 6])
        let y = x.unflatten(dim: 1, sizes: [2, -1])
        XCTAssertEqual(y.shape, [3, 2, 3])
        XCTAssertEqual(y[1, 1, 0].item(Float.self), 9)
        XCTAssertEqual(x.unflatten(dim: -1, sizes: [3, 2]).shape, [3, 3, 2])
    }

    // MARK: squeeze / unsqueeze

    func testSqueezeDimOnlyRemovesSizeOne() {
        let x = Tensor.zeros([1, 3, 1])
        XCTAssertEqual(x.squeeze(dim: 0).shape, [3, 1])
        XCTAssertEqual(x.squeeze(dim: -1).shape, [1, 3])
        XCTAssertEqual(x.squeeze(dim: 1).shape, [1, 3, 1], "a dimension of size 3 stays")
        XCTAssertEqual(x.squeeze().shape, [3])
    }

    func testUnsqueezeNegativeDims() {
        let x = Tensor.zeros([2, 3])
        XCTAssertEqual(x.unsqueeze(-1).shape, [2, 3, 1])
        XCTAssertEqual(x.unsqueeze(-2).shape, [2, 1, 3])
        XCTAssertEqual(x.unsqueeze(-3).shape, [1, 2, 3])
        XCTAssertEqual(x.unsqueeze(2).shape, [2, 3, 1])
    }

    func testUnsqueezeIsView() {
        let x = range([3])
        let y = x.unsqueeze(0)
        XCTAssertTrue(y.storage === x.storage)
        XCTAssertEqual(values(y), [0, 1, 2])
    }

    // MARK: permute / transpose

    func testPermuteReordersDimensionsAsView() {
        let x = range([2, 3, 4])
        let y = x.permute(2, 0, 1)
        XCTAssertEqual(y.shape, [4, 2, 3])
        XCTAssertEqual(y.strides, [1, 12, 4])
        XCTAssertTrue(y.storage === x.storage)
        XCTAssertFalse(y.isContiguous)
        // y[k, i, j] == x[i, j, k]
        XCTAssertEqual(y[3, 1, 2].item(Float.self), x[1, 2, 3].item(Float.self))
        XCTAssertEqual(y[3, 1, 2].item(Float.self), 23)
    }

    func testPermuteWithNegativeDims() {
        XCTAssertEqual(range([2, 3, 4]).permute(-1, -3, -2).shape, [4, 2, 3])
    }

    func testTransposeSwapsTwoDims() {
        let y = range([2, 3, 4]).transpose(0, 2)
        XCTAssertEqual(y.shape, [4, 3, 2])
        XCTAssertEqual(values(y[1]), [1, 13, 5, 17, 9, 21])
    }

    func testTOfMatrixAndVector() {
        let m = range([2, 3])
        XCTAssertEqual(m.t().shape, [3, 2])
        XCTAssertEqual(values(m.t()), [0, 3, 1, 4, 2, 5])
        let v = range([3])
        XCTAssertTrue(v.t() === v)
    }

    func testCapitalTReversesAllDims() {
        let x = range([2, 3, 4])
        XCTAssertEqual(x.T.shape, [4, 3, 2])
        XCTAssertEqual(x.T[3, 2, 1].item(Float.self), x[1, 2, 3].item(Float.self))
    }

    // MARK: expand

    func testExpandWithMinusOneKeepsSize() {
        let x = Tensor([1, 2, 3] as [Float], shape: [3, 1])
        let y = x.expand([-1, 4])
        XCTAssertEqual(y.shape, [3, 4])
        XCTAssertEqual(y.strides, [1, 0])
        XCTAssertTrue(y.storage === x.storage)
        XCTAssertEqual(values(y), [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
    }

    func testExpandAddsLeadingDims() {
        let y = Tensor([1, 2] as [Float]).expand(3, 2)
        XCTAssertEqual(y.shape, [3, 2])
        XCTAssertEqual(y.strides, [0, 1])
        XCTAssertEqual(values(y), [1, 2, 1, 2, 1, 2])
    }

    // MARK: chunk / split / unbind

    func testChunkSizesAndSharedStorage() {
        let x = range([7])
        let parts = x.chunk(3)
        XCTAssertEqual(parts.map(\.shape), [[3], [3], [1]])
        XCTAssertEqual(values(parts[2]), [6])
        parts[1].fill_(-1)
        XCTAssertEqual(values(x), [0, 1, 2, -1, -1, -1, 6])
    }

    func testChunkMayReturnFewerPieces() {
        // torch.arange(6).chunk(4) gives three chunks of two
        XCTAssertEqual(range([6]).chunk(4).map(\.shape), [[2], [2], [2]])
    }

    func testSplitBySizesAlongDimShareStorage() {
        let x = range([2, 3])
        let parts = x.split(sizes: [1, 2], dim: 1)
        XCTAssertEqual(parts.map(\.shape), [[2, 1], [2, 2]])
        XCTAssertEqual(values(parts[1]), [1, 2, 4, 5])
        XCTAssertTrue(parts[1].storage === x.storage)
        parts[0].fill_(7)
        XCTAssertEqual(values(x), [7, 1, 2, 7, 4, 5])
    }

    func testSplitBySizeLastPieceSmaller() {
        XCTAssertEqual(range([5]).split(2).map { values($0) }, [[0, 1], [2, 3], [4]])
    }

    func testUnbindRemovesDimensionAndSharesStorage() {
        let x = range([2, 3])
        let columns = x.unbind(dim: 1)
        XCTAssertEqual(columns.count, 3)
        XCTAssertEqual(columns.map(\.shape), [[2], [2], [2]])
        XCTAssertEqual(values(columns[2]), [2, 5])
        columns[0].fill_(-5)
        XCTAssertEqual(values(x), [-5, 1, 2, -5, 4, 5])
    }

    // MARK: contiguous

    func testContiguousReturnsSelfWhenAlreadyContiguous() {
        let x = range([2, 3])
        XCTAssertTrue(x.contiguous() === x)
    }

    func testContiguousCopiesNonContiguous() {
        let x = range([2, 3])
        let y = x.t().contiguous()
        XCTAssertTrue(y.isContiguous)
        XCTAssertEqual(y.strides, [2, 1])
        XCTAssertFalse(y.storage === x.storage)
        XCTAssertEqual(values(y), [0, 3, 1, 4, 2, 5])
    }

    // MARK: nonzero / oneHot / topk / sort

    func testNonzeroListsIndexRows() {
        let x = Tensor([0, 1, 2, 0] as [Float], shape: [2, 2])
        let nz = x.nonzero()
        XCTAssertEqual(nz.shape, [2, 2])
        XCTAssertEqual(nz.dtype, .int64)
        XCTAssertEqual(nz.asArray(Int.self), [0, 1, 1, 0])
    }

    func testNonzeroOfVectorAndOfAllZeros() {
        XCTAssertEqual(Tensor([0, 3, 0, 4]).nonzero().shape, [2, 1])
        XCTAssertEqual(Tensor([0, 3, 0, 4]).nonzero().asArray(Int.self), [1, 3])
        XCTAssertEqual(Tensor.zeros([2, 3]).nonzero().shape, [0, 2])
    }

    func testOneHotInfersNumberOfClasses() {
        let h = Tensor([0, 2, 1]).oneHot()
        XCTAssertEqual(h.shape, [3, 3])
        XCTAssertEqual(h.dtype, .int64)
        XCTAssertEqual(h.asArray(Int.self), [1, 0, 0, 0, 0, 1, 0, 1, 0])
    }

    func testOneHotOfMatrixAddsTrailingDimension() {
        let h = Tensor([1, 0, 3, 1], shape: [2, 2]).oneHot(numClasses: 5)
        XCTAssertEqual(h.shape, [2, 2, 5])
        XCTAssertEqual(h[1, 0].asArray(Int.self), [0, 0, 0, 1, 0])
        XCTAssertEqual(h.sum().item(Int.self), 4)
    }

    func testTopkSmallest() {
        let (v, i) = Tensor([5, 1, 4, 2, 3] as [Float]).topk(2, largest: false)
        XCTAssertEqual(values(v), [1, 2])
        XCTAssertEqual(i.asArray(Int.self), [1, 3])
    }

    func testTopkLargestAlongRows() {
        let x = Tensor([1, 9, 3, 8, 2, 7] as [Float], shape: [2, 3])
        let (v, i) = x.topk(2, dim: 1)
        XCTAssertEqual(v.shape, [2, 2])
        XCTAssertEqual(values(v), [9, 3, 8, 7])
        XCTAssertEqual(i.asArray(Int.self), [1, 2, 0, 2])
    }

    func testSortIsStableWithTies() {
        let (v, i) = Tensor([2, 1, 2, 1, 0] as [Float]).sort()
        XCTAssertEqual(values(v), [0, 1, 1, 2, 2])
        XCTAssertEqual(i.asArray(Int.self), [4, 1, 3, 0, 2])
    }

    func testDescendingSortIsStableWithTies() {
        // torch.sort(x, descending=True, stable=True)
        let (v, i) = Tensor([2, 1, 2, 1, 0] as [Float]).sort(descending: true)
        XCTAssertEqual(values(v), [2, 2, 1, 1, 0])
        XCTAssertEqual(i.asArray(Int.self), [0, 2, 1, 3, 4])
    }

    func testSortAlongFirstDimension() {
        let x = Tensor([3, 1, 1, 2, 2, 0], shape: [3, 2])
        let (v, i) = x.sort(dim: 0)
        XCTAssertEqual(v.asArray(Int.self), [1, 0, 2, 1, 3, 2])
        XCTAssertEqual(i.asArray(Int.self), [1, 2, 2, 0, 0, 1])
    }

    func testSortPutsNaNLast() {
        // torch.sort(tensor([nan, 1., 0.])) gives values [0., 1., nan], indices [2, 1, 0]
        let (v, i) = Tensor([.nan, 1, 0] as [Float]).sort()
        let sorted = values(v)
        XCTAssertEqual(Array(sorted[..<2]), [0, 1])
        XCTAssertTrue(sorted[2].isNaN)
        XCTAssertEqual(i.asArray(Int.self), [2, 1, 0])
    }

    func testDescendingSortPutsNaNFirst() {
        let (v, i) = Tensor([.nan, 1, 0] as [Float]).sort(descending: true)
        XCTAssertTrue(values(v)[0].isNaN)
        XCTAssertEqual(Array(values(v)[1...]), [1, 0])
        XCTAssertEqual(i.asArray(Int.self), [0, 1, 2])
    }

    func testTopkTreatsNaNAsLargest() {
        // torch.tensor([nan, 1., 0., 3.]).topk(2) gives indices [0, 3]
        let (_, i) = Tensor([.nan, 1, 0, 3] as [Float]).topk(2)
        XCTAssertEqual(i.asArray(Int.self), [0, 3])
    }

    func testNonzeroCountsNaN() {
        XCTAssertEqual(Tensor([0, .nan] as [Float]).nonzero().asArray(Int.self), [1])
    }

    // MARK: einsum / matmul

    func testEinsumImplicitOutputIsMatrixProduct() {
        let a = range([2, 3]), b = range([3, 2])
        let y = einsum("ij,jk", a, b)
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(values(y), values(a.matmul(b)))
        XCTAssertEqual(values(y), [10, 13, 28, 40])
    }

    func testEinsumImplicitOutputSortsIndicesAlphabetically() {
        // torch.einsum("ji", a) is a.T
        let a = range([2, 3])
        let y = einsum("ji", a)
        XCTAssertEqual(y.shape, [3, 2])
        XCTAssertEqual(values(y), [0, 3, 1, 4, 2, 5])
    }

    func testEinsumImplicitOutputOfDotIsScalar() {
        let y = einsum("i,i", Tensor([1, 2, 3] as [Float]), Tensor([4, 5, 6] as [Float]))
        XCTAssertEqual(y.shape, [])
        XCTAssertEqual(y.item(Float.self), 32)
    }

    func testMatmulBroadcastsBatchDimensions() {
        let a = range([2, 1, 3, 4]), b = range([5, 4, 6])
        let y = a.matmul(b)
        XCTAssertEqual(y.shape, [2, 5, 3, 6])
        // y[1, 4, 2, 5] = a[1, 0, 2, :] · b[4, :, 5]
        var expected: Float = 0
        for k in 0..<4 {
            let left = Float(20 + k), right = Float(101 + 6 * k)
            expected += left * right
        }
        XCTAssertEqual(y[1, 4, 2, 5].item(Float.self), expected)
    }

    func testMatmulVectorWithBatchDropsVectorDimension() {
        let v = Tensor([1, 1, 1, 1] as [Float])
        let y = v.matmul(range([2, 4, 5]))
        XCTAssertEqual(y.shape, [2, 5])
        XCTAssertEqual(values(y[0]), [30, 34, 38, 42, 46])
        let z = range([2, 3, 4]).matmul(v)
        XCTAssertEqual(z.shape, [2, 3])
        XCTAssertEqual(values(z), [6, 22, 38, 54, 70, 86])
    }

    // MARK: cat / stack

    func testCatPromotesIntegerAndFloat() {
        let y = Tensor.cat([Tensor([1, 2]), Tensor([0.5] as [Float])])
        XCTAssertEqual(y.dtype, .float32)
        XCTAssertEqual(values(y), [1, 2, 0.5])
    }

    func testCatPromotesIntegerWidths() {
        let y = Tensor.cat([Tensor([1] as [Int32]), Tensor([Int(1) << 40])])
        XCTAssertEqual(y.dtype, .int64)
        XCTAssertEqual(y.asArray(Int.self), [1, 1 << 40])
    }

    func testCatAlongNegativeDim() {
        let y = Tensor.cat([range([2, 1]), range([2, 2])], dim: -1)
        XCTAssertEqual(y.shape, [2, 3])
        XCTAssertEqual(values(y), [0, 0, 1, 1, 2, 3])
    }

    func testCatSkipsEmptyPieces() {
        XCTAssertEqual(values(Tensor.cat([Tensor.zeros([0]), Tensor.ones([2])])), [1, 1])
    }

    func testCatPromotesBoolToInteger() {
        let y = Tensor.cat([Tensor([true]), Tensor([2])])
        XCTAssertEqual(y.dtype, .int64)
        XCTAssertEqual(y.asArray(Int.self), [1, 2])
    }

    func testStackAlongNegativeDim() {
        let a = Tensor([1, 2] as [Float]), b = Tensor([3, 4] as [Float])
        let y = Tensor.stack([a, b], dim: -1)
        XCTAssertEqual(y.shape, [2, 2])
        XCTAssertEqual(values(y), [1, 3, 2, 4])
        XCTAssertEqual(values(Tensor.stack([a, b])), [1, 2, 3, 4])
    }

    func testStackResultDoesNotShareStorage() {
        let a = Tensor([1, 2] as [Float])
        let y = Tensor.stack([a, a])
        y.fill_(0)
        XCTAssertEqual(values(a), [1, 2])
    }
}
