// Behaviour of the standard layers: shapes, PyTorch parameter names and shapes, printed
// trees, train/eval behaviour of dropout and batch norm, running statistics, embedding
// padding, and a small Sequential model that learns a regression.
import XCTest
import Ember
@testable import EmberNN

/// Asserts two float arrays agree elementwise: `|actual - expected| ≤ accuracy + relative·|expected|`.
func assertValuesClose(_ actual: [Double], _ expected: [Double], accuracy: Double = 1e-6, _ message: String = "",
                 relative: Double = 0, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "\(message): count", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() where !(abs(a - e) <= accuracy + relative * abs(e)) {
        XCTFail("\(message): element \(i) is \(a), expected \(e) (±\(accuracy) + \(relative)·|expected|)", file: file, line: line)
        return
    }
}

/// The values of a tensor as doubles.
func doubleValues(_ t: Tensor) -> [Double] { noGrad { t.to(.float64) }.asArray(Double.self) }

final class LayerTests: XCTestCase {
    override func setUp() { manualSeed(1234) }

    private func shapes(_ module: Module) -> [String: [Int]] {
        Dictionary(uniqueKeysWithValues: module.stateDictEntries().map { ($0.0, $0.1.shape) })
    }

    // MARK: Linear and Bilinear

    func testLinearHasPyTorchParametersAndComputesXWTransposePlusB() {
        let layer = Linear(3, 2)
        XCTAssertEqual(layer.namedParameters().map(\.0), ["weight", "bias"])
        XCTAssertEqual(shapes(layer), ["weight": [2, 3], "bias": [2]])
        XCTAssertEqual(layer.description, "Linear(in_features=3, out_features=2, bias=True)")
        XCTAssertTrue(layer.weight.requiresGrad && layer.bias!.requiresGrad)
        layer.weight = Tensor([1, 2, 3, 0, -1, 1] as [Float], shape: [2, 3], requiresGrad: true)
        layer.bias = Tensor([0.5, -0.5] as [Float], requiresGrad: true)
        let y = layer(Tensor([1, 1, 1, 2, 0, 1] as [Float], shape: [1, 2, 3]))
        XCTAssertEqual(y.shape, [1, 2, 2])
        XCTAssertEqual(y.asArray(Float.self), [6.5, -0.5, 5.5, 0.5])
    }

    func testLinearWithoutBiasHasOnlyAWeight() {
        let layer = Linear(4, 8, bias: false)
        XCTAssertEqual(layer.namedParameters().map(\.0), ["weight"])
        XCTAssertEqual(layer.description, "Linear(in_features=4, out_features=8, bias=False)")
        XCTAssertEqual(layer(Tensor.ones([4])).shape, [8])
    }

    func testBilinearComputesX1TransposeAX2PlusB() {
        let layer = Bilinear(2, 3, 1)
        XCTAssertEqual(shapes(layer), ["weight": [1, 2, 3], "bias": [1]])
        XCTAssertEqual(layer.description, "Bilinear(in1_features=2, in2_features=3, out_features=1, bias=True)")
        layer.weight = Tensor([1, 0, 2, 0, 1, 0] as [Float], shape: [1, 2, 3], requiresGrad: true)
        layer.bias = Tensor([1] as [Float], requiresGrad: true)
        // x1 = [1, 2], x2 = [3, 4, 5]: x1ᵀ A x2 = 1·(3 + 10) + 2·4 = 21, plus 1.
        let y = layer(Tensor([1, 2] as [Float], shape: [1, 2]), Tensor([3, 4, 5] as [Float], shape: [1, 3]))
        XCTAssertEqual(y.shape, [1, 1])
        XCTAssertEqual(y.asArray(Float.self), [22])
    }

    func testModuleToFloat64ReplacesParametersAndBuffers() {
        let model = Sequential { Linear(2, 3); BatchNorm1d(3) }
        model.to(.float64)
        for (name, tensor) in model.namedParameters() {
            XCTAssertEqual(tensor.dtype, .float64, name)
            XCTAssertTrue(tensor.requiresGrad, name)
        }
        let norm = model[1] as! BatchNorm1d
        XCTAssertEqual(norm.runningMean!.dtype, .float64)
        XCTAssertEqual(norm.numBatchesTracked!.dtype, .int64, "integer buffers keep their dtype")
        XCTAssertEqual(model(Tensor.randn([4, 2], dtype: .float64)).dtype, .float64)
    }

    // MARK: Activations

    func testActivationLayersApplyTheirFunctions() {
        let x = Tensor([-2, -0.5, 0, 0.5, 3] as [Float])
        let cases: [(Module, Tensor, String)] = [
            (ReLU(), relu(x), "ReLU()"),
            (GELU(), gelu(x), "GELU(approximate='none')"),
            (GELU(approximate: .tanh), gelu(x, approximate: .tanh), "GELU(approximate='tanh')"),
            (SiLU(), silu(x), "SiLU()"),
            (Tanh(), tanh(x), "Tanh()"),
            (Sigmoid(), sigmoid(x), "Sigmoid()"),
            (Softmax(dim: 0), softmax(x, dim: 0), "Softmax(dim=0)"),
            (LogSoftmax(dim: -1), logSoftmax(x, dim: -1), "LogSoftmax(dim=-1)"),
            (LeakyReLU(), leakyRelu(x), "LeakyReLU(negative_slope=0.01)"),
            (ELU(), elu(x), "ELU(alpha=1.0)"),
            (Softplus(), softplus(x), "Softplus(beta=1.0, threshold=20.0)"),
        ]
        for (module, expected, description) in cases {
            XCTAssertEqual(module(x).asArray(Float.self), expected.asArray(Float.self), description)
            XCTAssertEqual(module.description, description)
            XCTAssertTrue(module.parameters().isEmpty, description)
        }
        XCTAssertEqual(LeakyReLU(negativeSlope: 0.2)(x).asArray(Float.self)[0], -0.4, accuracy: 1e-6)
        XCTAssertEqual(ReLU()(x).asArray(Float.self), [0, 0, 0, 0.5, 3])
    }

    // MARK: Printing

    func testSequentialPrintsAsPyTorch() {
        let model = Sequential {
            Linear(4, 8)
            ReLU()
            Dropout(p: 0.1)
            Linear(8, 2)
        }
        XCTAssertEqual(model.description, """
            Sequential(
              (0): Linear(in_features=4, out_features=8, bias=True)
              (1): ReLU()
              (2): Dropout(p=0.1, inplace=False)
              (3): Linear(in_features=8, out_features=2, bias=True)
            )
            """)
    }

    func testNestedConvolutionalNetworkHasPyTorchNamesAndTree() {
        final class Net: Module {
            let features = Sequential {
                Conv2d(1, 4, kernelSize: 3, padding: 1)
                BatchNorm2d(4)
                ReLU()
                MaxPool2d(kernelSize: 2)
            }
            let pool = AdaptiveAvgPool2d(outputSize: 1)
            let flatten = Flatten()
            let head = Linear(4, 10)
            override func forward(_ x: Tensor) -> Tensor { head(flatten(pool(features(x)))) }
        }
        let net = Net()
        XCTAssertEqual(Set(net.stateDict().keys), [
            "features.0.weight", "features.0.bias", "features.1.weight", "features.1.bias", "features.1.running_mean",
            "features.1.running_var", "features.1.num_batches_tracked", "head.weight", "head.bias",
        ])
        XCTAssertEqual(net.description, """
            Net(
              (features): Sequential(
                (0): Conv2d(1, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))
                (1): BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)
                (2): ReLU()
                (3): MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)
              )
              (pool): AdaptiveAvgPool2d(output_size=1)
              (flatten): Flatten(start_dim=1, end_dim=-1)
              (head): Linear(in_features=4, out_features=10, bias=True)
            )
            """)
        XCTAssertEqual(net(Tensor.randn([2, 1, 8, 8])).shape, [2, 10])
    }

    // MARK: Dropout

    func testDropoutZeroesAboutPAndScalesTheRestInTraining() {
        let layer = Dropout(p: 0.25)
        let y = layer(Tensor.ones([100, 100])).asArray(Float.self)
        let zeros = y.filter { $0 == 0 }.count
        XCTAssertTrue(y.allSatisfy { $0 == 0 || abs($0 - 4.0 / 3) < 1e-6 }, "kept elements are scaled by 1/(1-p)")
        XCTAssertEqual(Double(zeros) / 10_000, 0.25, accuracy: 0.02)
        XCTAssertEqual(layer.description, "Dropout(p=0.25, inplace=False)")
    }

    func testDropoutIsTheIdentityInEvalMode() {
        let layer = Dropout(p: 0.5)
        layer.eval()
        let x = Tensor.randn([10, 10])
        XCTAssertEqual(layer(x).asArray(Float.self), x.asArray(Float.self))
        XCTAssertEqual(dropout(x, p: 0.9, training: false).asArray(Float.self), x.asArray(Float.self))
    }

    func testDropoutFollowsManualSeedAndExtremeProbabilities() {
        let x = Tensor.ones([64])
        manualSeed(7)
        let first = dropout(x, p: 0.5).asArray(Float.self)
        manualSeed(7)
        let second = dropout(x, p: 0.5).asArray(Float.self)
        XCTAssertEqual(first, second)
        let a = dropout(x, p: 0.5, generator: Generator(seed: 3)).asArray(Float.self)
        let b = dropout(x, p: 0.5, generator: Generator(seed: 3)).asArray(Float.self)
        XCTAssertEqual(a, b)
        XCTAssertEqual(dropout(x, p: 0).asArray(Float.self), x.asArray(Float.self))
        XCTAssertEqual(dropout(x, p: 1).asArray(Float.self), [Float](repeating: 0, count: 64))
    }

    func testDropoutGradientFlowsThroughKeptElementsOnly() {
        let x = Tensor.ones([200], requiresGrad: true)
        let y = dropout(x, p: 0.5)
        y.sum().backward()
        XCTAssertEqual(x.grad!.asArray(Float.self), y.asArray(Float.self), "dy/dx is the scaled mask")
    }

    func testDropout2dZeroesWholeChannels() {
        let layer = Dropout2d(p: 0.5)
        let y = layer(Tensor.ones([4, 8, 3, 3]))
        let planes = y.reshape([32, 9]).asArray(Float.self)
        var dropped = 0
        for plane in 0..<32 {
            let row = Array(planes[(plane * 9)..<(plane * 9 + 9)])
            XCTAssertTrue(row.allSatisfy { $0 == row[0] } && (row[0] == 0 || row[0] == 2), "plane \(plane): \(row)")
            if row[0] == 0 { dropped += 1 }
        }
        XCTAssertTrue(dropped > 4 && dropped < 28, "about half the planes dropped, got \(dropped)")
        XCTAssertEqual(layer.description, "Dropout2d(p=0.5, inplace=False)")
        layer.eval()
        XCTAssertEqual(layer(Tensor.ones([4, 8, 3, 3])).asArray(Float.self), [Float](repeating: 1, count: 288))
    }

    // MARK: Batch normalisation

    func testBatchNormHasPyTorchStateDictNamesAndShapes() {
        let norm = BatchNorm1d(3)
        XCTAssertEqual(norm.stateDictEntries().map(\.0), ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
        XCTAssertEqual(shapes(norm), ["weight": [3], "bias": [3], "running_mean": [3], "running_var": [3], "num_batches_tracked": []])
        XCTAssertEqual(norm.numBatchesTracked!.dtype, .int64)
        XCTAssertEqual(doubleValues(norm.weight!), [1, 1, 1])
        XCTAssertEqual(doubleValues(norm.runningVar!), [1, 1, 1])
        XCTAssertEqual(norm.description, "BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)")
        XCTAssertEqual(BatchNorm2d(2, affine: false).stateDictEntries().map(\.0), ["running_mean", "running_var", "num_batches_tracked"])
        let untracked = BatchNorm2d(2, momentum: nil, trackRunningStats: false)
        XCTAssertEqual(untracked.stateDictEntries().map(\.0), ["weight", "bias"])
        XCTAssertNil(untracked.runningMean)
        XCTAssertEqual(untracked.description,
                       "BatchNorm2d(2, eps=1e-05, momentum=None, affine=True, bias=True, track_running_stats=False)")
    }

    func testBufferNameOverridesThePropertyNameInStateDicts() {
        final class Counter: Module {
            @Buffer(name: "num_calls") var numCalls = Tensor.zeros([1])
            @Buffer var plain = Tensor.zeros([2])
        }
        let counter = Counter()
        XCTAssertEqual(counter.namedBuffers().map(\.0), ["num_calls", "plain"])
        XCTAssertEqual(counter.stateDictEntries().map(\.0), ["num_calls", "plain"])
        counter.numCalls = Tensor.ones([1])
        XCTAssertEqual(doubleValues(counter.stateDict()["num_calls"]!), [1])
    }

    func testBatchNormTrainingUsesBatchStatisticsAndUpdatesRunningOnesWithUnbiasedVariance() {
        let norm = BatchNorm1d(1)
        // Batch [1, 3]: mean 2, biased variance 1, unbiased variance 2.
        let y = norm(Tensor([1, 3] as [Float], shape: [2, 1]))
        assertValuesClose(doubleValues(y), [-1 / (1 + 1e-5).squareRoot(), 1 / (1 + 1e-5).squareRoot()], accuracy: 1e-6, "output")
        assertValuesClose(doubleValues(norm.runningMean!), [0.2], "running mean = 0.9·0 + 0.1·2")
        assertValuesClose(doubleValues(norm.runningVar!), [1.1], "running var = 0.9·1 + 0.1·2")
        XCTAssertEqual(norm.numBatchesTracked!.item(Int64.self), 1)
        _ = norm(Tensor([1, 3] as [Float], shape: [2, 1]))
        assertValuesClose(doubleValues(norm.runningMean!), [0.38], accuracy: 1e-6, "second step: 0.9·0.2 + 0.1·2")
        XCTAssertEqual(norm.numBatchesTracked!.item(Int64.self), 2)
    }

    func testBatchNormEvalUsesRunningStatisticsAndLeavesThemAlone() {
        let norm = BatchNorm2d(2, eps: 0)
        norm.runningMean = Tensor([1, -1] as [Float])
        norm.runningVar = Tensor([4, 0.25] as [Float])
        norm.eval()
        let y = norm(Tensor([3, 3, 0, 0] as [Float], shape: [1, 2, 2, 1]))
        assertValuesClose(doubleValues(y), [1, 1, 2, 2], "(x - mean) / sqrt(var)")
        assertValuesClose(doubleValues(norm.runningMean!), [1, -1], "eval leaves running statistics unchanged")
        XCTAssertEqual(norm.numBatchesTracked!.item(Int64.self), 0)
    }

    func testBatchNormWithCumulativeMomentumAveragesAllBatches() {
        let norm = BatchNorm1d(1, momentum: nil)
        _ = norm(Tensor([0, 2] as [Float], shape: [2, 1]))   // mean 1
        _ = norm(Tensor([4, 6] as [Float], shape: [2, 1]))   // mean 5
        assertValuesClose(doubleValues(norm.runningMean!), [3], "equal-weight average of 1 and 5")
        assertValuesClose(doubleValues(norm.runningVar!), [2], "equal-weight average of unbiased variances 2 and 2")
    }

    func testBatchNormLoadsAPyTorchStateDictByName() throws {
        let norm = BatchNorm2d(2)
        try norm.loadStateDict([
            "weight": Tensor([2, 3] as [Float]), "bias": Tensor([0, 1] as [Float]),
            "running_mean": Tensor([5, 6] as [Float]), "running_var": Tensor([7, 8] as [Float]),
            "num_batches_tracked": Tensor(Int64(9)),
        ])
        XCTAssertEqual(doubleValues(norm.runningVar!), [7, 8])
        XCTAssertEqual(norm.numBatchesTracked!.item(Int64.self), 9)
        XCTAssertEqual(doubleValues(norm.weight!), [2, 3])
    }

    func testBatchNormResetRunningStats() {
        let norm = BatchNorm1d(2)
        _ = norm(Tensor.randn([4, 2]) * 3 + 1)
        norm.resetRunningStats()
        XCTAssertEqual(doubleValues(norm.runningMean!), [0, 0])
        XCTAssertEqual(doubleValues(norm.runningVar!), [1, 1])
        XCTAssertEqual(norm.numBatchesTracked!.item(Int64.self), 0)
    }

    // MARK: Layer and group normalisation

    func testLayerNormNormalisesTrailingDimensions() {
        let norm = LayerNorm(4)
        XCTAssertEqual(shapes(norm), ["weight": [4], "bias": [4]])
        XCTAssertEqual(norm.description, "LayerNorm((4,), eps=1e-05, elementwise_affine=True, bias=True)")
        let y = norm(Tensor([1, 2, 3, 4, 10, 10, 10, 14] as [Float], shape: [2, 4]))
        // Row 1: mean 2.5, variance 1.25.
        let s = (1.25 + 1e-5).squareRoot()
        assertValuesClose(Array(doubleValues(y).prefix(4)), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s], accuracy: 1e-5, "row 1")
        // Row 2: mean 11, variance 3.
        let t = (3 + 1e-5).squareRoot()
        assertValuesClose(Array(doubleValues(y).suffix(4)), [-1 / t, -1 / t, -1 / t, 3 / t], accuracy: 1e-5, "row 2")
        XCTAssertEqual(LayerNorm([2, 3], elementwiseAffine: false).description,
                       "LayerNorm((2, 3), eps=1e-05, elementwise_affine=False, bias=False)")
        XCTAssertTrue(LayerNorm([2, 3], elementwiseAffine: false).parameters().isEmpty)
        XCTAssertEqual(LayerNorm(4, bias: false).namedParameters().map(\.0), ["weight"])
    }

    func testGroupNormNormalisesEachGroupOfChannels() {
        let norm = GroupNorm(numGroups: 2, numChannels: 4, eps: 0)
        XCTAssertEqual(shapes(norm), ["weight": [4], "bias": [4]])
        XCTAssertEqual(norm.description, "GroupNorm(2, 4, eps=0.0, affine=True, bias=True)")
        // Group 1 = channels 0, 1: values 0, 2 → mean 1, variance 1. Group 2: 5, 5, 7, 7 → mean 6.
        let y = norm(Tensor([0, 0, 2, 2, 5, 5, 7, 7] as [Float], shape: [1, 4, 2]))
        assertValuesClose(doubleValues(y), [-1, -1, 1, 1, -1, -1, 1, 1], accuracy: 1e-6, "group norm")
        XCTAssertEqual(GroupNorm(numGroups: 1, numChannels: 3).description, "GroupNorm(1, 3, eps=1e-05, affine=True, bias=True)")
    }

    // MARK: Embedding

    func testEmbeddingLooksUpRowsAndHasPyTorchShape() {
        let table = Embedding(10, 3)
        XCTAssertEqual(shapes(table), ["weight": [10, 3]])
        XCTAssertEqual(table.description, "Embedding(10, 3)")
        let ids = Tensor([1, 4, 4, 9] as [Int64], shape: [2, 2])
        let y = table(ids)
        XCTAssertEqual(y.shape, [2, 2, 3])
        XCTAssertEqual(doubleValues(y[0, 1]), doubleValues(table.weight[4]))
        XCTAssertEqual(doubleValues(y[1, 1]), doubleValues(table.weight[9]))
    }

    func testEmbeddingPaddingRowStartsAtZeroAndGetsNoGradient() {
        let table = Embedding(5, 2, paddingIdx: -1)
        XCTAssertEqual(table.paddingIdx, 4)
        XCTAssertEqual(table.description, "Embedding(5, 2, padding_idx=4)")
        XCTAssertEqual(doubleValues(table.weight[4]), [0, 0])
        let y = table(Tensor([4, 1, 1, 4, 0] as [Int64]))
        (y * Tensor([1, 2] as [Float])).sum().backward()
        let grad = doubleValues(table.weight.grad!)
        XCTAssertEqual(grad, [1, 2, 2, 4, 0, 0, 0, 0, 0, 0], "row 1 twice, row 0 once, padding row 4 none")
    }

    func testEmbeddingFromPretrainedCopiesAndFreezes() {
        let pretrained = Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [3, 2])
        let frozen = Embedding.fromPretrained(pretrained)
        XCTAssertFalse(frozen.weight.requiresGrad)
        XCTAssertEqual(doubleValues(frozen(Tensor([2, 0] as [Int64]))), [5, 6, 1, 2])
        XCTAssertEqual(frozen.description, "Embedding(3, 2)")
        let trainable = Embedding.fromPretrained(pretrained, freeze: false, paddingIdx: 0)
        XCTAssertTrue(trainable.weight.requiresGrad)
        XCTAssertEqual(doubleValues(trainable.weight[0]), [1, 2], "a pretrained padding row keeps its values")
        noGrad { _ = trainable.weight.fill_(0) }
        XCTAssertEqual(doubleValues(pretrained), [1, 2, 3, 4, 5, 6], "the pretrained tensor is copied")
    }

    // MARK: Shape layers

    func testFlattenUnflattenAndIdentity() {
        let x = Tensor.randn([2, 3, 4, 5])
        XCTAssertEqual(Flatten()(x).shape, [2, 60])
        XCTAssertEqual(Flatten(startDim: 0, endDim: 1)(x).shape, [6, 4, 5])
        XCTAssertEqual(Unflatten(dim: 1, sizes: [3, 20])(Flatten()(x)).shape, [2, 3, 20])
        XCTAssertEqual(doubleValues(Unflatten(dim: 1, sizes: [3, 4, 5])(Flatten()(x))), doubleValues(x))
        XCTAssertTrue(Identity()(x) === x)
        XCTAssertEqual(Flatten().description, "Flatten(start_dim=1, end_dim=-1)")
        XCTAssertEqual(Unflatten(dim: 1, sizes: [2, 5]).description, "Unflatten(dim=1, unflattened_size=(2, 5))")
        XCTAssertEqual(Identity().description, "Identity()")
    }

    // MARK: Convolution and pooling

    func testConvolutionLayersHavePyTorchParametersShapesAndReprs() {
        let conv1 = Conv1d(2, 3, kernelSize: 3)
        XCTAssertEqual(shapes(conv1), ["weight": [3, 2, 3], "bias": [3]])
        XCTAssertEqual(conv1.description, "Conv1d(2, 3, kernel_size=(3,), stride=(1,))")
        XCTAssertEqual(conv1(Tensor.randn([4, 2, 10])).shape, [4, 3, 8])

        let grouped = Conv2d(2, 4, kernelSize: 3, stride: 2, padding: 1, groups: 2, bias: false)
        XCTAssertEqual(shapes(grouped), ["weight": [4, 1, 3, 3]])
        XCTAssertEqual(grouped.description, "Conv2d(2, 4, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), groups=2, bias=False)")
        XCTAssertEqual(grouped(Tensor.randn([1, 2, 8, 8])).shape, [1, 4, 4, 4])

        let same = Conv2d(2, 4, kernelSize: [3, 5], padding: .same, dilation: 2)
        XCTAssertEqual(shapes(same), ["weight": [4, 2, 3, 5], "bias": [4]])
        XCTAssertEqual(same.description, "Conv2d(2, 4, kernel_size=(3, 5), stride=(1, 1), padding=same, dilation=(2, 2))")
        XCTAssertEqual(same(Tensor.randn([1, 2, 9, 11])).shape, [1, 4, 9, 11])

        let up = ConvTranspose2d(2, 3, kernelSize: 3, stride: 2, outputPadding: 1)
        XCTAssertEqual(shapes(up), ["weight": [2, 3, 3, 3], "bias": [3]])
        XCTAssertEqual(up.description, "ConvTranspose2d(2, 3, kernel_size=(3, 3), stride=(2, 2), output_padding=(1, 1))")
        XCTAssertEqual(up(Tensor.randn([1, 2, 4, 4])).shape, [1, 3, 10, 10])
    }

    func testConv2dModuleMatchesFunctionalConvolution() {
        let conv = Conv2d(1, 1, kernelSize: 2, bias: true)
        conv.weight = Tensor([1, 0, 0, 1] as [Float], shape: [1, 1, 2, 2], requiresGrad: true)
        conv.bias = Tensor([10] as [Float], requiresGrad: true)
        let x = Tensor([1, 2, 3, 4, 5, 6, 7, 8, 9] as [Float], shape: [1, 1, 3, 3])
        // Each output is x[i][j] + x[i+1][j+1] + 10.
        XCTAssertEqual(conv(x).asArray(Float.self), [16, 18, 22, 24])
    }

    func testPoolingLayersComputeAndPrintAsPyTorch() {
        let x = Tensor([1, 5, 2, 0, 3, 4, 8, 6, 0, 1, 2, 3, 9, 7, 4, 2] as [Float], shape: [1, 1, 4, 4])
        let maxPool = MaxPool2d(kernelSize: 2)
        XCTAssertEqual(maxPool(x).asArray(Float.self), [5, 8, 9, 4])
        XCTAssertEqual(maxPool.description, "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)")
        XCTAssertEqual(MaxPool2d(kernelSize: 3, stride: 2, padding: 1, ceilMode: true).description,
                       "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)")
        let avgPool = AvgPool2d(kernelSize: 2)
        XCTAssertEqual(avgPool(x).asArray(Float.self), [3.25, 4, 4.25, 2.75])
        XCTAssertEqual(avgPool.description, "AvgPool2d(kernel_size=2, stride=2, padding=0)")
        let adaptive = AdaptiveAvgPool2d(outputSize: 1)
        XCTAssertEqual(adaptive(x).shape, [1, 1, 1, 1])
        XCTAssertEqual(adaptive(x).item(Float.self), 57.0 / 16, accuracy: 1e-6)
        XCTAssertEqual(adaptive.description, "AdaptiveAvgPool2d(output_size=1)")
        XCTAssertEqual(AdaptiveAvgPool2d(outputSize: [1, 1]).description, "AdaptiveAvgPool2d(output_size=(1, 1))")
        let pool1d = MaxPool1d(kernelSize: 2)
        XCTAssertEqual(pool1d(Tensor([1, 3, 2, 0, 5, 4] as [Float], shape: [1, 1, 6])).asArray(Float.self), [3, 2, 5])
        XCTAssertEqual(pool1d.description, "MaxPool1d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)")
    }

    // MARK: Training

    func testSequentialOfStandardLayersLearnsARegression() {
        manualSeed(42)
        let model = Sequential {
            Linear(2, 32)
            BatchNorm1d(32)
            GELU()
            Dropout(p: 0.05)
            Linear(32, 16)
            LayerNorm(16)
            Tanh()
            Linear(16, 1)
        }
        let x = Tensor.rand([128, 2]) * 4 - 2
        let x0 = x[.all, 0..<1], x1 = x[.all, 1..<2]
        let target = sin(x0) + x0 * x1 * 0.5 - x1 * 0.3
        func loss() -> Tensor { (model(x) - target).square().mean() }
        let initial = noGrad { model.eval(); defer { model.train() }; return loss().item(Float.self) }
        let learningRate = 0.1
        for _ in 0..<300 {
            model.zeroGrad()
            loss().backward()
            noGrad {
                for p in model.parameters() { _ = p.sub_(p.grad!, alpha: learningRate) }
            }
        }
        model.eval()
        let final = noGrad { loss().item(Float.self) }
        XCTAssertLessThan(final, 0.02, "eval-mode loss after training (initial \(initial))")
        XCTAssertGreaterThan(initial, 0.3)
        XCTAssertEqual((model[1] as! BatchNorm1d).numBatchesTracked!.item(Int64.self), 300)
    }
}
