// Gradient checks (float64, central finite differences) of the functional layers:
// linear, bilinear, batchNorm (training and evaluation), layerNorm, groupNorm, embedding,
// dropout and dropout2d.
import XCTest
@testable import Ember
@testable import EmberNN

final class LayerGradcheckTests: XCTestCase {
    override func setUp() { manualSeed(77) }

    private func leaf(_ shape: [Int], scale: Double = 1, shift: Double = 0) -> Tensor {
        let t = Tensor.randn(shape, dtype: .float64) * scale + shift
        return t.detach().requiresGrad(true)
    }

    private func check(_ name: String, _ inputs: [Tensor], file: StaticString = #filePath, line: UInt = #line,
                       _ function: @escaping ([Tensor]) -> Tensor) {
        let result = gradcheck(function, inputs: inputs)
        XCTAssertTrue(result.passed, "\(name): \(result.message)", file: file, line: line)
        XCTAssertLessThan(result.maxAbsoluteError, 1e-5, name, file: file, line: line)
    }

    func testLinearGradients() {
        check("linear", [leaf([2, 3, 4]), leaf([5, 4]), leaf([5])]) { linear($0[0], weight: $0[1], bias: $0[2]) }
        check("linear without bias", [leaf([4]), leaf([3, 4])]) { linear($0[0], weight: $0[1]) }
    }

    func testBilinearGradients() {
        check("bilinear", [leaf([3, 2]), leaf([3, 4]), leaf([5, 2, 4]), leaf([5])]) {
            bilinear($0[0], $0[1], weight: $0[2], bias: $0[3])
        }
        check("bilinear batched", [leaf([2, 2, 3]), leaf([2, 2, 2]), leaf([2, 3, 2])]) { bilinear($0[0], $0[1], weight: $0[2]) }
    }

    func testBatchNormTrainingGradients() {
        check("batch_norm training 2-D", [leaf([5, 3]), leaf([3]), leaf([3])]) {
            batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true)
        }
        check("batch_norm training 4-D", [leaf([2, 3, 2, 2]), leaf([3]), leaf([3])]) {
            batchNorm($0[0], runningMean: nil, runningVar: nil, weight: $0[1], bias: $0[2], training: true)
        }
    }

    func testBatchNormEvaluationGradients() {
        let mean = Tensor.randn([3], dtype: .float64), variance = Tensor.rand([3], dtype: .float64) + 0.5
        check("batch_norm eval", [leaf([4, 3, 2]), leaf([3]), leaf([3])]) {
            batchNorm($0[0], runningMean: mean, runningVar: variance, weight: $0[1], bias: $0[2], training: false)
        }
    }

    func testFusedLSTMCellGradients() {
        check("lstmCellUpdate hidden", [leaf([3, 8]), leaf([3, 2])]) { lstmCellUpdate(gates: $0[0], cell: $0[1]).hidden }
        check("lstmCellUpdate cell", [leaf([3, 8]), leaf([3, 2])]) { lstmCellUpdate(gates: $0[0], cell: $0[1]).cell }
        let second = gradgradcheck({ let (h, c) = lstmCellUpdate(gates: $0[0], cell: $0[1]); return h * 2 + c },
                                   inputs: [leaf([2, 12]), leaf([2, 3])])
        XCTAssertTrue(second.passed, "lstmCellUpdate gradgradcheck: \(second.message)")
        // The float32 kernel against the composite formula, forward and backward (odd width).
        let gates = Tensor.randn([5, 4 * 19]).requiresGrad(true), cell = Tensor.randn([5, 19]).requiresGrad(true)
        let (h, c) = lstmCellUpdate(gates: gates, cell: cell)
        let parts = gates.chunk(4, dim: 1)
        let c2 = sigmoid(parts[1]) * cell + sigmoid(parts[0]) * tanh(parts[2])
        let h2 = sigmoid(parts[3]) * tanh(c2)
        XCTAssertTrue(h.allclose(h2, atol: 1e-6) && c.allclose(c2, atol: 1e-6))
        let weights = Tensor.randn([5, 19])
        let fused = grad(of: [(h * weights + c).sum()], with: [gates, cell])
        let composite = grad(of: [(h2 * weights + c2).sum()], with: [gates, cell])
        XCTAssertTrue(fused[0]!.allclose(composite[0]!, atol: 1e-5) && fused[1]!.allclose(composite[1]!, atol: 1e-5))
    }

    func testFusedLSTMLayerGradients() {
        // All seven inputs, both directions, outputs and final states together; scaled down
        // so the gates stay away from saturation.
        func inputs() -> [Tensor] {
            [leaf([3, 2, 3], scale: 0.5), leaf([2, 2], scale: 0.5), leaf([2, 2], scale: 0.5),
             leaf([8, 3], scale: 0.5), leaf([8, 2], scale: 0.5), leaf([8], scale: 0.5), leaf([8], scale: 0.5)]
        }
        for reverse in [false, true] {
            check("lstmLayer reverse=\(reverse)", inputs()) {
                let (out, h, c) = lstmLayer(input: $0[0], hidden: $0[1], cell: $0[2], weightIH: $0[3], weightHH: $0[4],
                                            biasIH: $0[5], biasHH: $0[6], reverse: reverse)
                return Tensor.cat([out.reshape([-1]), h.reshape([-1]) * 2, c.reshape([-1]) * 3], dim: 0)
            }
        }
        check("lstmLayer with b_hh only, one step", [leaf([1, 3, 2]), leaf([3, 1]), leaf([3, 1]), leaf([4, 2]), leaf([4, 1]), leaf([4])]) {
            let (out, _, c) = lstmLayer(input: $0[0], hidden: $0[1], cell: $0[2], weightIH: $0[3], weightHH: $0[4],
                                        biasIH: nil, biasHH: $0[5])
            return out + c
        }
        check("lstmLayer with b_ih only", [leaf([2, 3, 2]), leaf([3, 1]), leaf([3, 1]), leaf([4, 2]), leaf([4, 1]), leaf([4])]) {
            lstmLayer(input: $0[0], hidden: $0[1], cell: $0[2], weightIH: $0[3], weightHH: $0[4], biasIH: $0[5], biasHH: nil).output
        }
        check("lstmLayer without biases", [leaf([2, 3, 2]), leaf([3, 1]), leaf([3, 1]), leaf([4, 2]), leaf([4, 1])]) {
            lstmLayer(input: $0[0], hidden: $0[1], cell: $0[2], weightIH: $0[3], weightHH: $0[4], biasIH: nil, biasHH: nil).output
        }
        // Second derivatives go through the recorded (createGraph) backward pass.
        let second = gradgradcheck({
            let (out, h, c) = lstmLayer(input: $0[0], hidden: $0[1], cell: $0[2], weightIH: $0[3], weightHH: $0[4],
                                        biasIH: $0[5], biasHH: $0[6], reverse: true)
            return out.sum(dim: 0) + h * c
        }, inputs: inputs())
        XCTAssertTrue(second.passed, "lstmLayer gradgradcheck: \(second.message)")
    }

    func testFusedLSTMLayerMatchesStepByStep() {
        // float32, sizes like a real layer (odd width); a batch of 20 is split across threads
        // (rows 0..<10 and 10..<20 with two threads). The input is a strided [T, B, I] view
        // (as a batch-first LSTM passes it) or contiguous. With a zero h₀ that needs no
        // gradient (as `LSTM` passes when given no state), the fused layer skips the products
        // with h₀.
        let cases = [(false, (7, 5, 19), false), (true, (7, 5, 19), false), (false, (6, 20, 12), false),
                     (true, (6, 20, 12), false), (false, (6, 20, 12), true), (true, (7, 5, 19), true)]
        for (reverse, (steps, batch, width), zeroStart) in cases {
            let inputSize = 9
            let x = zeroStart ? Tensor.randn([steps, batch, inputSize]) : Tensor.randn([batch, steps, inputSize]).transpose(0, 1)
            let hidden = zeroStart ? Tensor.zeros([batch, width]) : Tensor.randn([batch, width])
            let inputs = [x, hidden, Tensor.randn([batch, width]), Tensor.randn([4 * width, inputSize]) * 0.3,
                          Tensor.randn([4 * width, width]) * 0.3, Tensor.randn([4 * width]), Tensor.randn([4 * width])]
                .enumerated().map { index, tensor in zeroStart && index == 1 ? tensor : tensor.requiresGrad(true) }
            let differentiated = zeroStart ? [inputs[0]] + Array(inputs[2...]) : inputs
            func run(_ fused: Bool) -> (Tensor, [Tensor?]) {
                let layer = fused
                    ? lstmLayer(input: inputs[0], hidden: inputs[1], cell: inputs[2], weightIH: inputs[3], weightHH: inputs[4],
                                biasIH: inputs[5], biasHH: inputs[6], reverse: reverse)
                    : lstmLayerStepByStep(projected: inputs[0].linear(weight: inputs[3], bias: inputs[5]), hidden: inputs[1],
                                          cell: inputs[2], weightHH: inputs[4], biasHH: inputs[6], reverse: reverse)
                let value = Tensor.cat([layer.output.reshape([-1]), layer.hidden.reshape([-1]), layer.cell.reshape([-1])], dim: 0)
                let weights = Tensor.linspace(-1, 1, steps: value.count)
                return (value, grad(of: [(value * weights).sum()], with: differentiated))
            }
            let (fused, fusedGradients) = run(true), (reference, referenceGradients) = run(false)
            let label = "reverse=\(reverse), zeroStart=\(zeroStart)"
            XCTAssertTrue(fused.allclose(reference, atol: 1e-5), "outputs, \(label)")
            XCTAssertEqual(fusedGradients.count, differentiated.count)
            for (i, (a, b)) in zip(fusedGradients, referenceGradients).enumerated() {
                XCTAssertTrue(a!.allclose(b!, rtol: 1e-4, atol: 1e-4), "gradient \(i), \(label): max diff \((a! - b!).abs().max().item(Float.self))")
            }
        }
    }

    func testLayerNormGradients() {
        check("layer_norm", [leaf([2, 3, 4]), leaf([3, 4]), leaf([3, 4])]) {
            layerNorm($0[0], normalizedShape: [3, 4], weight: $0[1], bias: $0[2])
        }
        check("layer_norm without affine", [leaf([3, 5], scale: 2, shift: 1)]) { layerNorm($0[0], normalizedShape: [5]) }
        // The fused core: second derivatives (recorded backward) and the float32 kernel.
        let x = leaf([3, 6], scale: 2, shift: 1)
        let second = gradgradcheck({ $0[0].normalizeLastDims(1, eps: 1e-5) }, inputs: [x])
        XCTAssertTrue(second.passed, "normalizeLastDims gradgradcheck: \(second.message)")
        let g = Tensor.randn([3, 6], dtype: .float64)
        let reference = grad(of: [x.normalizeLastDims(1, eps: 1e-5)], with: [x], gradOutputs: [g])[0]!
        let x32 = x.detach().to(.float32).requiresGrad(true)
        let fused = grad(of: [x32.normalizeLastDims(1, eps: 1e-5)], with: [x32], gradOutputs: [g.to(.float32)])[0]!
        XCTAssertTrue(fused.to(.float64).allclose(reference, atol: 1e-5), "float32 kernel gradient")
        XCTAssertTrue(x32.normalizeLastDims(1, eps: 1e-5).to(.float64).allclose(x.normalizeLastDims(1, eps: 1e-5), atol: 1e-5))
    }

    func testGroupNormGradients() {
        check("group_norm", [leaf([2, 4, 3]), leaf([4]), leaf([4])]) {
            groupNorm($0[0], numGroups: 2, weight: $0[1], bias: $0[2])
        }
        check("group_norm 4-D, one group", [leaf([2, 2, 2, 2])]) { groupNorm($0[0], numGroups: 1) }
    }

    func testEmbeddingGradients() {
        let ids = Tensor([0, 3, 3, 1, 4, 0] as [Int64], shape: [2, 3])
        check("embedding with repeated indices", [leaf([5, 2])]) { embedding(ids, weight: $0[0]) }
    }

    func testEmbeddingPaddingRowGetsAZeroGradientAndOthersTheRightOne() {
        let weight = leaf([4, 2])
        let ids = Tensor([1, 2, 2, 0] as [Int64])
        let y = embedding(ids, weight: weight, paddingIdx: 2)
        XCTAssertEqual(doubleValues(y[1]), doubleValues(weight[2]), "the padding row's value is returned")
        let upstream = Tensor([1, 2, 3, 4, 5, 6, 7, 8] as [Double], shape: [4, 2])
        y.backward(gradient: upstream)
        XCTAssertEqual(doubleValues(weight.grad!), [7, 8, 1, 2, 0, 0, 0, 0])
    }

    func testDropoutGradients() {
        check("dropout", [leaf([4, 5])]) { dropout($0[0], p: 0.3, generator: Generator(seed: 5)) }
        check("dropout2d", [leaf([2, 3, 2, 2])]) { dropout2d($0[0], p: 0.5, generator: Generator(seed: 6)) }
    }
}
