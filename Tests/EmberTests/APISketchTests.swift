// The spellings the project's API sketch promises, used exactly as written there, so a
// rename that would break users' code fails here first.
import XCTest
import Ember

final class APISketchTests: XCTestCase {
    func testSketchSpellingsCompileAndBehave() {
        let a = Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
        XCTAssertEqual(Tensor.zeros([2, 3]).shape, [2, 3])
        XCTAssertEqual(Tensor.randn([16]).shape, [16])
        let r = Tensor.arange(0, 6, dtype: .float32)
        XCTAssertEqual(r.asArray(Float.self), [0, 1, 2, 3, 4, 5])
        XCTAssertTrue(r.dtype == .float32)
        XCTAssertEqual(a.shape, [2, 2])
        XCTAssertEqual(a.sum().item(Double.self), 10)

        let x = Tensor([0.5, -1, 2] as [Double])
        x.requiresGrad = true
        let y = (x * x * x).sum()
        y.backward(createGraph: true)
        XCTAssertEqual(x.grad!.asArray(Double.self), [0.75, 3, 12])
        x.grad = nil
        XCTAssertNil(x.grad)

        let inference = noGrad { a.matmul(a) }
        XCTAssertEqual(inference.asArray(Float.self), [7, 10, 15, 22])
        XCTAssertEqual(a.sum(dim: 1, keepDim: true).shape, [2, 1])
        XCTAssertEqual(a.logsumexp(dim: 0).shape, [2])
        let six = Tensor.arange(0, 6, dtype: .float32)
        XCTAssertEqual(six.reshape([2, 3]).transpose(0, 1).shape, [3, 2])
        XCTAssertEqual(six.reshape([1, 2, 3]).permute(0, 2, 1).shape, [1, 3, 2])
        XCTAssertTrue(six.reshape([2, 3]).t().contiguous().isContiguous)
        XCTAssertEqual(a.to(.float64).dtype, .float64)
        if Device.cudaIsAvailable { XCTAssertEqual(a.to(.cuda(0)).device, .cuda(0)) }
        XCTAssertEqual(tanh(a).shape, [2, 2])
        XCTAssertEqual(exp(a).shape, [2, 2])
        XCTAssertEqual(relu(a).shape, [2, 2])
        XCTAssertEqual(gelu(a).shape, [2, 2])
        XCTAssertEqual(softmax(a, dim: -1).sum(dim: -1).asArray(Float.self)[0], 1, accuracy: 1e-6)

        let base = Tensor.zeros([2, 2])
        var row = base[1]
        row += Tensor([1, 2] as [Float])
        XCTAssertEqual(base.asArray(Float.self), [0, 0, 1, 2], "x += y writes through a view")
    }
}
