// The initialisers of `Init` against their formulas (bounds, means, standard deviations,
// orthogonality), and PyTorch's default initialisation of the standard layers.
import XCTest
import Ember
@testable import EmberNN

final class InitTests: XCTestCase {
    override func setUp() { manualSeed(2024) }

    /// Mean, standard deviation, minimum and maximum of a tensor's values.
    private func statistics(_ t: Tensor) -> (mean: Double, std: Double, min: Double, max: Double) {
        let v = doubleValues(t)
        let mean = v.reduce(0, +) / Double(v.count)
        let variance = v.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(v.count)
        return (mean, variance.squareRoot(), v.min()!, v.max()!)
    }

    /// Checks a 𝒰(-bound, bound) sample: inside the bounds, reaching close to them, and
    /// with the uniform's standard deviation `bound / √3` (within 3%).
    private func assertUniform(_ t: Tensor, bound: Double, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        let s = statistics(t)
        XCTAssertGreaterThanOrEqual(s.min, -bound, message, file: file, line: line)
        XCTAssertLessThanOrEqual(s.max, bound, message, file: file, line: line)
        XCTAssertGreaterThan(s.max, 0.95 * bound, "\(message): reaches the upper bound", file: file, line: line)
        XCTAssertLessThan(s.min, -0.95 * bound, "\(message): reaches the lower bound", file: file, line: line)
        XCTAssertEqual(s.mean, 0, accuracy: 0.03 * bound, "\(message): mean", file: file, line: line)
        XCTAssertEqual(s.std, bound / 3.0.squareRoot(), accuracy: 0.03 * bound / 3.0.squareRoot(), "\(message): std", file: file, line: line)
    }

    /// Checks a 𝒩(0, std²) sample's mean and standard deviation (within 3%).
    private func assertNormal(_ t: Tensor, std: Double, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        let s = statistics(t)
        XCTAssertEqual(s.mean, 0, accuracy: 0.03 * std, "\(message): mean", file: file, line: line)
        XCTAssertEqual(s.std, std, accuracy: 0.03 * std, "\(message): std", file: file, line: line)
    }

    func testCalculateGainMatchesPyTorch() {
        XCTAssertEqual(Init.calculateGain(.linear), 1)
        XCTAssertEqual(Init.calculateGain(.conv2d), 1)
        XCTAssertEqual(Init.calculateGain(.sigmoid), 1)
        XCTAssertEqual(Init.calculateGain(.tanh), 5.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(Init.calculateGain(.relu), 2.0.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(Init.calculateGain(.leakyRelu), (2 / (1 + 0.0001)).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(Init.calculateGain(.leakyRelu, param: 0.2), (2 / 1.04).squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(Init.calculateGain(.selu), 0.75)
    }

    func testFansCountTheReceptiveField() {
        let fans = Init.calculateFans(Tensor.empty([16, 3, 5, 5]))
        XCTAssertEqual(fans.fanIn, 75)
        XCTAssertEqual(fans.fanOut, 400)
        let linear = Init.calculateFans(Tensor.empty([8, 4]))
        XCTAssertEqual(linear.fanIn, 4)
        XCTAssertEqual(linear.fanOut, 8)
    }

    func testUniformStaysInItsBounds() {
        let t = Init.uniform(Tensor.empty([200, 100]), a: 1, b: 3)
        let s = statistics(t)
        XCTAssertGreaterThanOrEqual(s.min, 1)
        XCTAssertLessThan(s.max, 3)
        XCTAssertEqual(s.mean, 2, accuracy: 0.02)
        XCTAssertEqual(s.std, 2 / 12.0.squareRoot(), accuracy: 0.01)
    }

    func testNormalHasTheRequestedMeanAndStd() {
        let t = Init.normal(Tensor.empty([200, 100]), mean: 3, std: 0.5)
        let s = statistics(t)
        XCTAssertEqual(s.mean, 3, accuracy: 0.01)
        XCTAssertEqual(s.std, 0.5, accuracy: 0.01)
    }

    func testConstantZerosAndOnesFillInPlace() {
        let p = Tensor.empty([2, 3]).requiresGrad(true)
        XCTAssertTrue(Init.constant(p, 0.25) === p, "returns the same tensor")
        XCTAssertEqual(doubleValues(p), [Double](repeating: 0.25, count: 6))
        Init.zeros(p)
        XCTAssertEqual(doubleValues(p), [Double](repeating: 0, count: 6))
        Init.ones(p)
        XCTAssertEqual(doubleValues(p), [Double](repeating: 1, count: 6))
        XCTAssertTrue(p.requiresGrad && p.isLeaf, "a parameter stays a trainable leaf")
    }

    func testXavierUniformBoundIsGainTimesRootSixOverFanSum() {
        let t = Init.xavierUniform(Tensor.empty([300, 200]), gain: 2)
        assertUniform(t, bound: 2 * (6.0 / 500).squareRoot(), "xavier uniform")
    }

    func testXavierNormalStdIsGainTimesRootTwoOverFanSum() {
        let t = Init.xavierNormal(Tensor.empty([64, 32, 3, 3]))
        assertNormal(t, std: (2.0 / Double(32 * 9 + 64 * 9)).squareRoot(), "xavier normal")
    }

    func testKaimingUniformBoundIsGainTimesRootThreeOverFan() {
        let fanIn = Init.kaimingUniform(Tensor.empty([300, 200]), nonlinearity: .relu)
        assertUniform(fanIn, bound: (6.0 / 200).squareRoot(), "kaiming uniform, fan in")
        let fanOut = Init.kaimingUniform(Tensor.empty([300, 200]), mode: .fanOut, nonlinearity: .relu)
        assertUniform(fanOut, bound: (6.0 / 300).squareRoot(), "kaiming uniform, fan out")
        let leaky = Init.kaimingUniform(Tensor.empty([300, 200]), a: 5.0.squareRoot())
        assertUniform(leaky, bound: 1 / 200.0.squareRoot(), "a = √5 gives 1/√fanIn")
    }

    func testKaimingNormalStdIsGainOverRootFan() {
        let t = Init.kaimingNormal(Tensor.empty([128, 64, 3, 3]), mode: .fanOut, nonlinearity: .relu)
        assertNormal(t, std: (2.0 / Double(128 * 9)).squareRoot(), "kaiming normal, fan out")
        let defaults = Init.kaimingNormal(Tensor.empty([300, 200]))
        assertNormal(defaults, std: Init.calculateGain(.leakyRelu, param: 0) / 200.0.squareRoot(), "kaiming normal defaults")
    }

    func testOrthogonalGivesOrthonormalRowsOrColumns() {
        let wide = Init.orthogonal(Tensor.empty([4, 10]), gain: 2)
        let rows = noGrad { wide.matmul(wide.t()) / 4 }   // (2Q)(2Q)ᵀ = 4I
        assertValuesClose(doubleValues(rows), doubleValues(Tensor.eye(4)), accuracy: 1e-5, "wide: orthonormal rows")
        let tall = Init.orthogonal(Tensor.empty([10, 4]))
        assertValuesClose(doubleValues(noGrad { tall.t().matmul(tall) }), doubleValues(Tensor.eye(4)), accuracy: 1e-5, "tall: orthonormal columns")
        let kernel = Init.orthogonal(Tensor.empty([3, 2, 2, 2], dtype: .float64))
        let flat = kernel.reshape([3, 8])
        assertValuesClose(doubleValues(flat.matmul(flat.t())), doubleValues(Tensor.eye(3)), accuracy: 1e-12, "4-D: rows of the [3, 8] view")
    }

    func testInitialisersFollowTheGeneratorAndManualSeed() {
        let a = Init.kaimingNormal(Tensor.empty([5, 5]), generator: Generator(seed: 9))
        let b = Init.kaimingNormal(Tensor.empty([5, 5]), generator: Generator(seed: 9))
        XCTAssertEqual(doubleValues(a), doubleValues(b))
        manualSeed(11)
        let c = Init.orthogonal(Tensor.empty([3, 3]))
        manualSeed(11)
        let d = Init.orthogonal(Tensor.empty([3, 3]))
        XCTAssertEqual(doubleValues(c), doubleValues(d))
    }

    // MARK: PyTorch defaults of the layers

    func testLinearDefaultInitIsUniformOverRootFanIn() {
        let layer = Linear(400, 300)
        assertUniform(layer.weight, bound: 1 / 400.0.squareRoot(), "Linear weight")
        let bias = statistics(Linear(400, 3000).bias!)
        XCTAssertLessThanOrEqual(max(-bias.min, bias.max), 1 / 400.0.squareRoot())
        XCTAssertGreaterThan(bias.max, 0.95 / 400.0.squareRoot())
    }

    func testConvolutionDefaultInitIsUniformOverRootFanIn() {
        let conv = Conv2d(32, 256, kernelSize: 3)
        assertUniform(conv.weight, bound: 1 / Double(32 * 9).squareRoot(), "Conv2d weight")
        let bias = statistics(conv.bias!)
        XCTAssertLessThanOrEqual(max(-bias.min, bias.max), 1 / Double(32 * 9).squareRoot())
        let grouped = Conv1d(64, 256, kernelSize: 5, groups: 4)
        assertUniform(grouped.weight, bound: 1 / Double(16 * 5).squareRoot(), "grouped Conv1d weight (fan in per group)")
        let up = ConvTranspose2d(256, 64, kernelSize: 4)
        assertUniform(up.weight, bound: 1 / Double(64 * 16).squareRoot(), "ConvTranspose2d: fan from weight dim 1")
    }

    func testOtherLayersDefaultInit() {
        let bilinear = Bilinear(100, 30, 40)
        assertUniform(bilinear.weight, bound: 0.1, "Bilinear weight: 1/√in1")
        assertNormal(Embedding(500, 100).weight, std: 1, "Embedding weight is 𝒩(0, 1)")
        let norm = BatchNorm2d(3)
        XCTAssertEqual(doubleValues(norm.weight!), [1, 1, 1])
        XCTAssertEqual(doubleValues(norm.bias!), [0, 0, 0])
        XCTAssertEqual(doubleValues(GroupNorm(numGroups: 1, numChannels: 2).weight!), [1, 1])
        XCTAssertEqual(doubleValues(LayerNorm(2).bias!), [0, 0])
    }
}
