// The fused linear op: values equal matmul + bias (and + activation for the fused
// epilogue), gradients pass gradcheck, and the weight's gradient arrives contiguous in the
// weight's own layout.
import XCTest
@testable import Ember

final class LinearOpTests: XCTestCase {
    private func sample(_ shape: [Int], seed: UInt64) -> Tensor {
        Tensor.randn(shape, dtype: .float64, generator: Generator(seed: seed)).requiresGrad(true)
    }

    func testSmallBatchesUseAFreshTransposedWeight() {
        // ≤ 64 rows go through TransposedWeightCache; the result must follow every change
        // of the weight (in-place updates bump the storage version).
        let weight = Tensor.randn([300, 80]), bias = Tensor.randn([300])
        let x = Tensor.randn([8, 80])
        XCTAssertTrue(x.linear(weight: weight, bias: bias).allclose(x.matmul(weight.t()) + bias, atol: 1e-4))
        for step in 0..<3 {
            noGrad { _ = weight.add_(Tensor.randn([300, 80]), alpha: 0.5) }   // as an optimizer step
            XCTAssertTrue(x.linear(weight: weight).allclose(x.matmul(weight.t()), atol: 1e-4), "after update \(step)")
        }
        noGrad { _ = weight.copy_(Tensor.zeros([300, 80])) }
        XCTAssertEqual(x.linear(weight: weight).abs().max().item(Float.self), 0)
        // A view at an offset into a larger storage, and a large batch, agree with matmul too.
        let packed = Tensor.randn([600, 80]), second = packed.narrow(dim: 0, start: 300, length: 300)
        XCTAssertTrue(x.linear(weight: second).allclose(x.matmul(second.t()), atol: 1e-4))
        let big = Tensor.randn([200, 80])
        XCTAssertTrue(big.linear(weight: second).allclose(big.matmul(second.t()), atol: 1e-4))
        // Gradients are unchanged by the cached forward.
        let w = Tensor.randn([128, 160]).requiresGrad(true), xs = Tensor.randn([4, 160]).requiresGrad(true)
        (xs.linear(weight: w) * xs.linear(weight: w)).sum().backward()
        let y = xs.detach().matmul(w.detach().t())
        XCTAssertTrue(w.grad!.allclose((y * 2).t().matmul(xs.detach()), atol: 1e-3))
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

    func testFusedActivationMatchesSeparateOps() {
        // Row counts on both sides of the cached-transpose threshold (64), small and large
        // products, 3-D input, with and without bias, each activation.
        let activations: [(LinearActivation, (Tensor) -> Tensor)] = [
            (.relu, { relu($0) }), (.gelu, { gelu($0) }), (.geluTanh, { gelu($0, approximate: .tanh) })]
        for (rows, inFeatures, outFeatures) in [(3, 5, 7), (16, 128, 512), (200, 384, 96)] {
            let x = Tensor.randn([2, rows, inFeatures]), weight = Tensor.randn([outFeatures, inFeatures]) * 0.1
            for bias in [nil, Tensor.randn([outFeatures])] {
                for (activation, separate) in activations {
                    let fused = noGrad { x.linear(weight: weight, bias: bias, activation: activation) }
                    let reference = separate(x.matmul(weight.t()) + (bias ?? Tensor.zeros([outFeatures])))
                    XCTAssertEqual(fused.shape, [2, rows, outFeatures])
                    XCTAssertTrue(fused.allclose(reference, rtol: 1e-5, atol: 1e-5),
                                  "\(activation) \(rows)×\(inFeatures)→\(outFeatures) bias \(bias != nil): max diff \((fused - reference).abs().max().item(Float.self))")
                }
            }
        }
    }

    func testFusedActivationIsRecordedAsSeparateDifferentiableOps() {
        let x = sample([4, 3], seed: 5), weight = sample([6, 3], seed: 6), bias = sample([6], seed: 7)
        let y = x.linear(weight: weight, bias: bias, activation: .gelu)
        XCTAssertEqual(y.gradFnName, "GeluBackward0")
        let result = gradcheck({ $0[0].linear(weight: $0[1], bias: $0[2], activation: .geluTanh) }, inputs: [x, weight, bias])
        XCTAssertTrue(result.passed, result.message)
    }
}
