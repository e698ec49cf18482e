// The fused linear op: values equal matmul + bias, gradients pass gradcheck, and the
// weight's gradient arrives contiguous in the weight's own layout.
import XCTest
@testable import Ember

final class LinearOpTests: XCTestCase {
    private func sample(_ shape: [Int], seed: UInt64) -> Tensor {
        Tensor.randn(shape, dtype: .float64, generator: Generator(seed: seed)).requiresGrad(true)
    }

    func testMatchesMatmulPlusBiasForEveryInputRank() {
        let w = sample([3, 4], seed: 1), b = sample([3], seed: 2)
        for shape in [[4], [5, 4], [2, 5, 4]] {
            let x = sample(shape, seed: 3)
            let fused = x.linear(weight: w, bias: b)
            let reference = x.matmul(w.t()) + b
            XCTAssertEqual(fused.shape, reference.shape)
            XCTAssertTrue(fused.allclose(reference, rtol: 1e-12, atol: 1e-12), "input shape \(shape)")
            XCTAssertEqual(fused.gradFn?.name, "AddmmBackward0")
        }
    }

    func testGradcheckWithAndWithoutBiasAndNonContiguousOperands() {
        let x = sample([2, 3, 4], seed: 4), w = sample([5, 4], seed: 5), b = sample([5], seed: 6)
        XCTAssertTrue(gradcheck({ $0[0].linear(weight: $0[1], bias: $0[2]) }, inputs: [x, w, b]).passed)
        XCTAssertTrue(gradcheck({ $0[0].linear(weight: $0[1]) }, inputs: [x, w]).passed)
        let xt = sample([4, 3], seed: 7), wt = sample([4, 5], seed: 8)
        let result = gradcheck({ $0[0].t().linear(weight: $0[1].t(), bias: $0[2]) }, inputs: [xt, wt, b])
        XCTAssertTrue(result.passed, result.message)
        XCTAssertTrue(gradgradcheck({ $0[0].linear(weight: $0[1], bias: $0[2]) }, inputs: [x, w, b]).passed)
    }

    func testWeightGradientIsContiguousInTheWeightsLayout() {
        let x = Tensor.randn([8, 4]), w = Tensor.randn([3, 4]).requiresGrad(true), b = Tensor.zeros([3], requiresGrad: true)
        x.linear(weight: w, bias: b).sum().backward()
        XCTAssertEqual(w.grad?.shape, [3, 4])
        XCTAssertTrue(w.grad!.isContiguous)
        XCTAssertTrue(w.grad!.allclose(Tensor.ones([3, 8]).matmul(x), atol: 1e-5))
        XCTAssertEqual(b.grad!.asArray(Float.self), [8, 8, 8])
    }
}
