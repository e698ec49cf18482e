// Exported models of every supported op family, checked by onnx.checker and run by ONNX
// Runtime at the traced batch size and another one, against Ember's outputs (1e-5).
import Ember
import EmberNN
import EmberONNX
import XCTest

final class ONNXRuntimeTests: XCTestCase {
    override func setUp() {
        super.setUp()
        manualSeed(17)
    }

    /// Runs the cases through ONNX Runtime (skipping without Python) and asserts agreement.
    private func check(_ cases: [RuntimeCase], in directory: URL) throws {
        let results = try ONNXRuntimeChecker.check(cases, in: directory)
        assertRuntimeMatches(results, cases)
    }

    func testLinearLayersAndMatMulMatchONNXRuntime() throws {
        let dir = try temporaryFolder()
        let mlp = Sequential(Flatten(), Linear(16, 12), ReLU(), Linear(12, 5))
        // A 3-D input takes the MatMul path of `linear`; a bias-free layer and a plain matmul.
        let tokens = Sequential(Linear(8, 6), Tanh(), Linear(6, 4, bias: false))
        let w = Tensor.randn([5, 3])
        let cases = [
            try exportCase("mlp", mlp, example: Tensor.randn([2, 1, 4, 4]),
                           inputs: [Tensor.randn([2, 1, 4, 4]), Tensor.randn([5, 1, 4, 4])], in: dir),
            try exportCase("tokens", tokens, example: Tensor.randn([2, 3, 8]),
                           inputs: [Tensor.randn([2, 3, 8]), Tensor.randn([7, 3, 8])], in: dir),
            try exportCase("matmul", { $0.matmul(w) }, namedTensors: [("w", w)], example: Tensor.randn([3, 5]),
                           inputs: [Tensor.randn([3, 5]), Tensor.randn([1, 5])], in: dir),
        ]
        try check(cases, in: dir)
    }

    func testConvolutionsMatchONNXRuntime() throws {
        let dir = try temporaryFolder()
        let conv1d = Sequential(Conv1d(4, 8, kernelSize: 3, stride: 2, padding: 1, groups: 2), Sigmoid(),
                                Conv1d(8, 6, kernelSize: 3, dilation: 2))
        let conv2d = Sequential(Conv2d(3, 6, kernelSize: [3, 2], stride: [2, 1], padding: [1, 0], dilation: [1, 2]), ReLU(),
                                Conv2d(6, 6, kernelSize: 3, padding: .same, groups: 3, bias: false))
        let transposed = Sequential(ConvTranspose2d(4, 3, kernelSize: 3, stride: 2, padding: 1, outputPadding: 1), LeakyReLU(negativeSlope: 0.2),
                                    ConvTranspose2d(3, 2, kernelSize: 2, stride: 1, dilation: 2), ELU(alpha: 0.7))
        let cases = [
            try exportCase("conv1d", conv1d, example: Tensor.randn([2, 4, 21]),
                           inputs: [Tensor.randn([2, 4, 21]), Tensor.randn([3, 4, 21])], in: dir),
            try exportCase("conv2d", conv2d, example: Tensor.randn([1, 3, 9, 10]),
                           inputs: [Tensor.randn([1, 3, 9, 10]), Tensor.randn([4, 3, 9, 10])], in: dir),
            try exportCase("conv_transpose2d", transposed, example: Tensor.randn([2, 4, 5, 6]),
                           inputs: [Tensor.randn([2, 4, 5, 6]), Tensor.randn([3, 4, 5, 6])], in: dir),
        ]
        try check(cases, in: dir)
    }

    func testPoolingAndNormalizationMatchONNXRuntime() throws {
        let dir = try temporaryFolder()
        let cnn = Sequential(Conv2d(3, 8, kernelSize: 3, padding: 1), BatchNorm2d(8), ReLU(),
                             MaxPool2d(kernelSize: 3, stride: 2, padding: 1, ceilMode: true),
                             AvgPool2d(kernelSize: 2, padding: 1, countIncludePad: false),
                             AdaptiveAvgPool2d(outputSize: 1), Flatten(), Linear(8, 4), Softmax(dim: 1))
        // Non-trivial running statistics: a few training-mode batches first.
        for _ in 0..<3 { _ = noGrad { cnn(Tensor.randn([4, 3, 11, 11]) * 2 + 1) } }
        let sequence = Sequential(Linear(6, 10), LayerNorm([10]), GELU(), BatchNorm1d(10), Linear(10, 3), LogSoftmax(dim: -1))
        _ = noGrad { sequence(Tensor.randn([8, 6])) }
        let pooled1d = Sequential(MaxPool1d(kernelSize: 2), Conv1d(2, 2, kernelSize: 1))
        let plainNorm = Sequential(LayerNorm([3, 4], elementwiseAffine: false), BatchNorm2d(5, affine: false))
        _ = noGrad { plainNorm(Tensor.randn([4, 5, 3, 4]) * 3 + 2) }
        let cases = [
            try exportCase("cnn_pool_batchnorm", cnn, example: Tensor.randn([2, 3, 11, 11]),
                           inputs: [Tensor.randn([2, 3, 11, 11]), Tensor.randn([5, 3, 11, 11])], in: dir),
            try exportCase("layernorm_batchnorm1d", sequence, example: Tensor.randn([3, 6]),
                           inputs: [Tensor.randn([3, 6]), Tensor.randn([6, 6])], in: dir),
            try exportCase("layernorm_2d_plain", plainNorm, example: Tensor.randn([2, 5, 3, 4]) * 4 + 1,
                           inputs: [Tensor.randn([3, 5, 3, 4]) * 4 + 1], in: dir),
            try exportCase("maxpool1d", pooled1d, example: Tensor.randn([1, 2, 9]),
                           inputs: [Tensor.randn([1, 2, 9]), Tensor.randn([2, 2, 9])], in: dir),
        ]
        try check(cases, in: dir)
    }

    func testActivationsAndArithmeticMatchONNXRuntime() throws {
        let dir = try temporaryFolder()
        let activations: (Tensor) -> Tensor = { x in
            let a = silu(x) + softplus(x * 3) - softplus(x, beta: 2, threshold: 4) + x.clamp(min: 0, max: 6)
            let b = sigmoid(x) * tanh(x) / (x.exp() + 1) + (x.abs() + 1).log() + (x * x + 0.5).sqrt()
            let c = (x.abs() + 0.1).pow(1.5) - x.clamp(min: -0.5) + leakyRelu(x, negativeSlope: 0.1) + elu(x) + relu(x)
            return softmax(a * b, dim: 1) + logSoftmax(c, dim: 0) + gelu(x, approximate: .tanh) + gelu(x) - (-x)
        }
        // In-place ops on a non-leaf move the tensor to a new autograd node; the graph follows.
        let inPlace: (Tensor) -> Tensor = { x in
            var y = x * 2
            y += 1
            _ = y.mul_(x)
            return relu(y) - y
        }
        let cases = [
            try exportCase("in_place", inPlace, example: Tensor.randn([2, 3]), inputs: [Tensor.randn([4, 3])], in: dir),
            try exportCase("activations", activations, example: Tensor.randn([3, 7]) * 3,
                           inputs: [Tensor.randn([3, 7]) * 3, Tensor.randn([6, 7]) * 3], in: dir),
            try exportCase("gelu_opset20", Sequential(Linear(5, 5), GELU(), Linear(5, 5), GELU(approximate: .tanh)),
                           example: Tensor.randn([2, 5]), inputs: [Tensor.randn([4, 5])], in: dir, opset: 20),
        ]
        try check(cases, in: dir)
    }

    func testShapeOpsAndReductionsMatchONNXRuntime() throws {
        let dir = try temporaryFolder()
        let bias = Tensor.randn([4])
        let shapes: (Tensor) -> Tensor = { x in
            // x: [N, 3, 4]
            let t = x.permute(0, 2, 1)                                  // [N, 4, 3]
            let joined = Tensor.cat([t, t * 2, x.transpose(1, 2)], dim: 2)   // [N, 4, 9]
            let sliced = joined.narrow(dim: 2, start: 1, length: 6)      // [N, 4, 6]
            let flat = sliced.reshape([x.shape[0], -1])                  // [N, 24]
            let summed = flat.sum(dim: 1, keepDim: true) + flat.mean(dim: 1, keepDim: true)
            let peak = x.amax(dims: [2]) - x.amin(dims: [1, 2], keepDim: true).squeeze(dim: 2)   // [N, 3]
            let row = x.select(dim: 1, index: 2) + bias                  // [N, 4]
            let filled = Tensor.full([x.shape[0], 1], 0.5)              // batch-sized constant
            return Tensor.cat([flat * summed, peak, row + filled, x.unsqueeze(1).expand([x.shape[0], 2, 3, 4]).flatten(startDim: 1)], dim: 1)
        }
        let cases = [
            try exportCase("shapes", shapes, namedTensors: [("bias", bias)], example: Tensor.randn([2, 3, 4]),
                           inputs: [Tensor.randn([2, 3, 4]), Tensor.randn([5, 3, 4])], in: dir),
            // Opset 18 passes ReduceMax/ReduceMin axes as an input instead of an attribute.
            try exportCase("shapes_opset18", shapes, namedTensors: [("bias", bias)], example: Tensor.randn([2, 3, 4]),
                           inputs: [Tensor.randn([3, 3, 4])], in: dir, opset: 18),
            // A fixed batch size: every shape is the example's.
            try exportCase("shapes_static", shapes, namedTensors: [("bias", bias)], example: Tensor.randn([2, 3, 4]),
                           inputs: [Tensor.randn([2, 3, 4])], in: dir, dynamicBatch: false),
        ]
        try check(cases, in: dir)
    }

    func testEmbeddingMatchesONNXRuntimeOnInt64Tokens() throws {
        let dir = try temporaryFolder()
        let model = Sequential(Embedding(20, 6), LayerNorm([6]), Linear(6, 20))
        func tokens(_ rows: Int) -> Tensor {
            Tensor((0..<(rows * 5)).map { Int64(($0 * 7 + rows) % 20) }, shape: [rows, 5])
        }
        let cases = [try exportCase("embedding", model, example: tokens(2), inputs: [tokens(2), tokens(3), tokens(1)], in: dir)]
        try check(cases, in: dir)
    }
}
