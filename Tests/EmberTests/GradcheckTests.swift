// gradcheck (float64, central differences) for every differentiable op in Ember, with
// broadcasting for binary ops and non-contiguous inputs; gradgradcheck for a
// representative set; and tests of gradcheck itself.
import XCTest
@testable import Ember

final class GradcheckTests: XCTestCase {
    /// A fresh generator per test method (XCTest makes one instance per method), so
    /// inputs do not depend on test order.
    let rng = Generator(seed: 20_240_601)

    // MARK: - Inputs

    /// Values with magnitude in [lo, hi] (away from 0) and random sign, or positive only.
    func values(_ count: Int, lo: Double = 0.2, hi: Double = 1.5, positive: Bool = false) -> [Double] {
        let u = Tensor.rand([count], dtype: .float64, generator: rng).asArray(Double.self)
        let s = Tensor.rand([count], dtype: .float64, generator: rng).asArray(Double.self)
        return zip(u, s).map { u, s in (lo + (hi - lo) * u) * (positive || s < 0.5 ? 1 : -1) }
    }

    /// A contiguous float64 leaf that requires grad.
    func leaf(_ shape: [Int], lo: Double = 0.2, hi: Double = 1.5, positive: Bool = false) -> Tensor {
        Tensor(values(shape.reduce(1, *), lo: lo, hi: hi, positive: positive), shape: shape, requiresGrad: true)
    }

    /// A non-contiguous float64 leaf of `shape` (rank ≥ 2): a permuted view of a tensor
    /// stored in reversed dimension order.
    func transposedLeaf(_ shape: [Int], lo: Double = 0.2, hi: Double = 1.5, positive: Bool = false) -> Tensor {
        precondition(shape.count >= 2)
        let base = Tensor(values(shape.reduce(1, *), lo: lo, hi: hi, positive: positive), shape: Array(shape.reversed()))
        let view = base.permute(Array((0..<shape.count).reversed()))
        XCTAssertFalse(view.isContiguous)
        XCTAssertEqual(view.shape, shape)
        return view.requiresGrad(true)
    }

    /// A non-contiguous float64 leaf of `shape`: every other element of the last dimension
    /// of a tensor twice as wide (a strided slice, starting at element 1).
    func stridedLeaf(_ shape: [Int], lo: Double = 0.2, hi: Double = 1.5, positive: Bool = false) -> Tensor {
        var wide = shape
        wide[wide.count - 1] *= 2
        let base = Tensor(values(wide.reduce(1, *), lo: lo, hi: hi, positive: positive), shape: wide)
        let view = base.slice(dim: -1, start: 1, step: 2)
        XCTAssertFalse(view.isContiguous)
        XCTAssertEqual(view.shape, shape)
        return view.requiresGrad(true)
    }

    /// Asserts `gradcheck` passes.
    func check(_ inputs: [Tensor], _ name: String = "", eps: Double = 1e-6, atol: Double = 1e-5, rtol: Double = 1e-3,
               file: StaticString = #filePath, line: UInt = #line, _ function: ([Tensor]) -> Tensor) {
        let result = gradcheck(function, inputs: inputs, eps: eps, atol: atol, rtol: rtol)
        XCTAssertTrue(result.passed, "\(name): \(result.message)", file: file, line: line)
        XCTAssertTrue(result.maxAbsoluteError.isFinite, "\(name): \(result.message)", file: file, line: line)
    }

    /// Asserts `gradgradcheck` passes.
    func checkSecondOrder(_ inputs: [Tensor], _ name: String = "", file: StaticString = #filePath, line: UInt = #line,
                          _ function: ([Tensor]) -> Tensor) {
        let result = gradgradcheck(function, inputs: inputs)
        XCTAssertTrue(result.passed, "\(name): \(result.message)", file: file, line: line)
    }

    /// Runs a unary op through gradcheck on a contiguous, a transposed and a strided input.
    func checkUnary(_ name: String, lo: Double = 0.2, hi: Double = 1.5, positive: Bool = false,
                    file: StaticString = #filePath, line: UInt = #line, _ op: (Tensor) -> Tensor) {
        check([leaf([2, 3], lo: lo, hi: hi, positive: positive)], "\(name) contiguous", file: file, line: line) { op($0[0]) }
        check([transposedLeaf([3, 2], lo: lo, hi: hi, positive: positive)], "\(name) transposed", file: file, line: line) { op($0[0]) }
        check([stridedLeaf([2, 3], lo: lo, hi: hi, positive: positive)], "\(name) strided", file: file, line: line) { op($0[0]) }
    }

    /// Runs a binary op through gradcheck with equal shapes, with broadcasting both ways,
    /// with a scalar (0-d) operand and with non-contiguous operands.
    func checkBinary(_ name: String, lhs: (lo: Double, hi: Double, positive: Bool) = (0.2, 1.5, false),
                     rhs: (lo: Double, hi: Double, positive: Bool) = (0.2, 1.5, false),
                     file: StaticString = #filePath, line: UInt = #line, _ op: (Tensor, Tensor) -> Tensor) {
        func a(_ shape: [Int]) -> Tensor { leaf(shape, lo: lhs.lo, hi: lhs.hi, positive: lhs.positive) }
        func b(_ shape: [Int]) -> Tensor { leaf(shape, lo: rhs.lo, hi: rhs.hi, positive: rhs.positive) }
        check([a([2, 3]), b([2, 3])], "\(name) same shape", file: file, line: line) { op($0[0], $0[1]) }
        check([a([2, 3]), b([3])], "\(name) broadcast rhs [3]", file: file, line: line) { op($0[0], $0[1]) }
        check([a([2, 1]), b([1, 3])], "\(name) broadcast [2,1]x[1,3]", file: file, line: line) { op($0[0], $0[1]) }
        check([a([]), b([2, 3])], "\(name) 0-d lhs", file: file, line: line) { op($0[0], $0[1]) }
        check([a([2, 2, 3]), b([2, 1, 1])], "\(name) broadcast rank 3", file: file, line: line) { op($0[0], $0[1]) }
        check([transposedLeaf([2, 3], lo: lhs.lo, hi: lhs.hi, positive: lhs.positive),
               stridedLeaf([2, 3], lo: rhs.lo, hi: rhs.hi, positive: rhs.positive)],
              "\(name) non-contiguous", file: file, line: line) { op($0[0], $0[1]) }
        check([stridedLeaf([1, 3], lo: lhs.lo, hi: lhs.hi, positive: lhs.positive),
               stridedLeaf([2, 1], lo: rhs.lo, hi: rhs.hi, positive: rhs.positive)],
              "\(name) non-contiguous broadcast", file: file, line: line) { op($0[0], $0[1]) }
        // Only one operand requires grad.
        let constant = b([3]).detach()
        check([a([2, 3]), constant], "\(name) constant rhs", file: file, line: line) { op($0[0], $0[1]) }
    }

    // MARK: - gradcheck itself

    func testGradcheckPassesForCorrectGradient() {
        let x = leaf([2, 3])
        let result = gradcheck({ ($0[0] * $0[0]).sum(dim: 1) }, inputs: [x])
        XCTAssertTrue(result.passed, result.message)
        XCTAssertNil(result.failingInput)
        XCTAssertLessThan(result.maxAbsoluteError, 1e-7)
        XCTAssertTrue(result.message.contains("passed"), result.message)
    }

    /// A custom function whose backward is off by a factor of 2 for its second input.
    enum WrongMul: CustomFunction {
        static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
            ctx.saveForBackward(inputs[0], inputs[1])
            return inputs[0] * inputs[1]
        }
        static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
            let (a, b) = (ctx.savedTensors[0], ctx.savedTensors[1])
            return [gradOutput * b, gradOutput * a * 2]
        }
    }

    func testGradcheckReportsWrongGradientNamingInputAndElement() {
        let a = leaf([3]), b = leaf([3])
        let result = gradcheck({ WrongMul.apply($0[0], $0[1]) }, inputs: [a, b])
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.failingInput, 1)
        XCTAssertTrue(result.message.contains("input 1"), result.message)
        XCTAssertTrue(result.message.contains("input element ["), result.message)
        XCTAssertTrue(result.message.contains("output element ["), result.message)
        // The analytical entry is 2a where the numerical one is a: the error is max |a|.
        let expected = a.asArray(Double.self).map { Swift.abs($0) }.max()!
        XCTAssertEqual(result.maxAbsoluteError, expected, accuracy: 1e-6)
    }

    func testGradcheckDetectsMissingGradient() {
        // cumprod-like silent non-recording is caught: detach() drops the gradient.
        let x = leaf([3])
        let result = gradcheck({ $0[0].detach() * 2 + $0[0] }, inputs: [x])
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.failingInput, 0)
    }

    func testGradcheckRestoresInputsAndHandlesNonContiguousInput() {
        let x = transposedLeaf([3, 2])
        let before = x.asArray(Double.self)
        let versionBefore = x.version
        let result = gradcheck({ ($0[0] * Tensor([1.0, 2.0], shape: [1, 2])).sum(dim: 0) }, inputs: [x])
        XCTAssertTrue(result.passed, result.message)
        XCTAssertEqual(x.asArray(Double.self), before)
        XCTAssertEqual(x.version, versionBefore)
    }

    func testGradcheckIgnoresInputsWithoutGrad() {
        let x = leaf([2, 2])
        let c = Tensor([1.0, 2, 3, 4], shape: [2, 2])
        let result = gradcheck({ $0[0].matmul($0[1]) }, inputs: [x, c])
        XCTAssertTrue(result.passed, result.message)
        XCTAssertTrue(result.message.contains("input(s) 0:"), result.message)
    }

    func testGradgradcheckReportsWrongSecondDerivative() {
        // First derivative right, second wrong: backward uses a detached saved tensor.
        enum DetachedSquare: CustomFunction {
            static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
                ctx.saveForBackward(inputs[0]); return inputs[0] * inputs[0]
            }
            static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
                [gradOutput * ctx.savedTensors[0].detach() * 2]
            }
        }
        let x = leaf([3])
        XCTAssertTrue(gradcheck({ DetachedSquare.apply($0[0]) }, inputs: [x]).passed)
        let result = gradgradcheck({ DetachedSquare.apply($0[0]) }, inputs: [x])
        XCTAssertFalse(result.passed)
        XCTAssertEqual(result.failingInput, 0)
    }

    // MARK: - Arithmetic

    func testAdd() { checkBinary("add") { $0 + $1 } }
    func testSub() { checkBinary("sub") { $0 - $1 } }
    func testMul() { checkBinary("mul") { $0 * $1 } }
    func testDiv() { checkBinary("div") { $0 / $1 } }
    func testAddSubAlpha() {
        checkBinary("add alpha") { $0.add($1, alpha: 0.5) }
        checkBinary("sub alpha") { $0.sub($1, alpha: -2) }
    }
    func testScalarOperands() {
        checkUnary("x + 2") { $0 + 2.0 }
        checkUnary("3 - x") { 3.0 - $0 }
        checkUnary("x * 1.5") { $0 * 1.5 }
        checkUnary("2 / x") { 2.0 / $0 }
        checkUnary("x / 4") { $0 / 4 }
    }
    func testNeg() { checkUnary("neg") { -$0 } }
    func testPowTensor() {
        checkBinary("pow", lhs: (0.3, 2, true), rhs: (0.2, 2, false)) { $0.pow($1) }
    }
    func testPowScalar() {
        checkUnary("pow 3") { $0.pow(3) }
        checkUnary("pow 2.5", positive: true) { $0.pow(2.5) }
        checkUnary("pow -1.5", positive: true) { $0.pow(-1.5) }
        checkUnary("pow 0") { $0.pow(0) }
        checkUnary("free pow") { pow($0, 2) }
    }
    func testRemainder() {
        // Keep a/b away from integers (where remainder jumps): a in [0.2, 0.8], b in [1, 1.5].
        checkBinary("remainder", lhs: (0.2, 0.8, false), rhs: (1.0, 1.5, true)) { $0.remainder($1) }
    }
    func testWhere() {
        let condition = Tensor([true, false, true, false, false, true], shape: [2, 3])
        check([leaf([2, 3]), leaf([2, 3])], "where") { Tensor.where(condition, $0[0], $0[1]) }
        check([leaf([3]), leaf([2, 1])], "where broadcast") { Tensor.where(condition, $0[0], $0[1]) }
        check([transposedLeaf([2, 3]), stridedLeaf([2, 3])], "where non-contiguous") { Tensor.where(condition, $0[0], $0[1]) }
        check([leaf([2, 3])], "where scalar") { Tensor.where(condition, $0[0], 0.5) }
        check([leaf([2, 3])], "where self mask") { let x = $0[0]; return Tensor.where(x.gt(0), x * 2, x * x) }
    }
    func testMaximumMinimum() {
        checkBinary("maximum") { maximum($0, $1) }
        checkBinary("minimum") { minimum($0, $1) }
    }
    func testAtan2() { checkBinary("atan2") { atan2($0, $1) } }

    // MARK: - Unary math

    func testAbs() { checkUnary("abs") { $0.abs() }; checkUnary("abs free") { abs($0) } }
    func testSqrt() { checkUnary("sqrt", positive: true) { $0.sqrt() } }
    func testExp() { checkUnary("exp") { $0.exp() } }
    func testLog() { checkUnary("log", positive: true) { $0.log() } }
    func testSquare() { checkUnary("square") { $0.square() } }
    func testClamp() {
        // Values are at least 0.2 away from 0, so ±0.1 bounds are never within eps.
        checkUnary("clamp both") { $0.clamp(min: -0.1, max: 0.1) }
        checkUnary("clamp min") { $0.clamp(min: 0.1) }
        checkUnary("clamp max") { clamp($0, max: -0.1) }
    }
    func testZeroGradientOps() {
        // Values stay away from integers and from 0 (sign): the derivative is 0 everywhere checked.
        checkUnary("sign") { sign($0) }
        checkUnary("floor", lo: 0.2, hi: 0.8) { floor($0) }
        checkUnary("ceil", lo: 0.2, hi: 0.8) { ceil($0) }
        checkUnary("round", lo: 0.1, hi: 0.4) { round($0) }
        checkUnary("trunc", lo: 0.2, hi: 0.8) { trunc($0) }
        let x = leaf([3])
        XCTAssertEqual(sign(x).gradFn?.name, "SignBackward0")
    }
    func testLog1pExpm1() {
        checkUnary("log1p", lo: 0, hi: 0.9) { log1p($0) }
        checkUnary("expm1") { expm1($0) }
    }
    func testRsqrtReciprocal() {
        checkUnary("rsqrt", positive: true) { rsqrt($0) }
        checkUnary("reciprocal") { reciprocal($0) }
    }
    func testTrigonometry() {
        checkUnary("sin") { sin($0) }
        checkUnary("cos") { cos($0) }
        checkUnary("tan", hi: 1.2) { tan($0) }
        checkUnary("asin", lo: 0.1, hi: 0.9) { asin($0) }
        checkUnary("acos", lo: 0.1, hi: 0.9) { acos($0) }
        checkUnary("atan") { atan($0) }
    }
    func testHyperbolic() {
        checkUnary("sinh") { sinh($0) }
        checkUnary("cosh") { cosh($0) }
        checkUnary("tanh") { tanh($0) }
    }
    func testErf() { checkUnary("erf") { erf($0) } }

    // MARK: - Activations

    func testRelu() { checkUnary("relu") { relu($0) } }
    func testSigmoid() { checkUnary("sigmoid") { sigmoid($0) } }
    func testGelu() {
        checkUnary("gelu") { gelu($0) }
        checkUnary("gelu tanh") { gelu($0, approximate: .tanh) }
    }
    func testSilu() { checkUnary("silu") { silu($0) } }
    func testSoftplus() {
        checkUnary("softplus") { softplus($0) }
        checkUnary("softplus beta 2") { softplus($0, beta: 2) }
        // Linear branch: beta·x above the threshold (x ≥ 0.2 → 4x ≥ 0.8 > 0.5).
        checkUnary("softplus linear branch", positive: true) { softplus($0, beta: 4, threshold: 0.5) }
    }
    func testLeakyRelu() { checkUnary("leakyRelu") { leakyRelu($0, negativeSlope: 0.1) } }
    func testElu() {
        checkUnary("elu") { elu($0) }
        checkUnary("elu alpha") { elu($0, alpha: 0.5) }
    }
    func testSoftmax() {
        checkUnary("softmax last") { softmax($0, dim: -1) }
        checkUnary("softmax dim 0") { $0.softmax(dim: 0) }
        check([leaf([2, 2, 3])], "softmax middle dim") { softmax($0[0], dim: 1) }
    }
    func testCausalSoftmax() {
        check([leaf([2, 3, 4])], "causalSoftmax") { causalSoftmax($0[0]) }
        check([leaf([2, 3])], "causalSoftmax offset 1") { causalSoftmax($0[0], offset: 1) }
        let second = gradgradcheck({ causalSoftmax($0[0], offset: 2) * $0[0] }, inputs: [leaf([3, 5])])
        XCTAssertTrue(second.passed, "causalSoftmax gradgradcheck: \(second.message)")
        // Equal to the masked fill + softmax it replaces, float32 and float64, square and
        // cached-key shapes (L < S, offset S − L), one row wider than a vector register.
        for dtype in [DType.float32, .float64] {
            for (l, s, offset) in [(5, 5, 0), (3, 7, 4), (4, 33, 29), (6, 6, 2)] {
                let x = Tensor.randn([2, l, s], dtype: dtype)
                var keep = [Bool](repeating: false, count: l * s)
                for i in 0..<l { for j in 0..<s where j <= i + offset { keep[i * s + j] = true } }
                let mask = Tensor(keep, shape: [l, s])
                let reference = softmax(x.maskedFill(mask.logicalNot(), -.infinity), dim: -1)
                XCTAssertTrue(causalSoftmax(x, offset: offset).allclose(reference, atol: 1e-6), "\(dtype) \(l)×\(s) offset \(offset)")
            }
        }
    }
    func testLogSoftmax() {
        checkUnary("logSoftmax last") { logSoftmax($0, dim: -1) }
        checkUnary("logSoftmax dim 0") { $0.logSoftmax(dim: 0) }
        check([leaf([2, 2, 3])], "logSoftmax middle dim") { logSoftmax($0[0], dim: 1) }
    }

    // MARK: - Copies and views

    func testToDType() {
        // float64 → float32 → float64 rounds to float32 (~6e-8 relative): a larger step
        // keeps the finite difference accurate for this linear function.
        check([leaf([2, 3])], "to float32", eps: 1e-2, atol: 1e-4) { ($0[0].to(.float32) * 3).to(.float64) }
        let x = leaf([2])
        XCTAssertEqual(x.to(.float32).gradFn?.name, "ToCopyBackward0")
    }
    func testToDeviceSameDeviceIsIdentity() {
        let x = leaf([2])
        XCTAssertTrue(x.to(.cpu) === x)
        check([x], "to cpu") { $0[0].to(.cpu) * 2 }
    }
    func testCloneAndContiguous() {
        checkUnary("clone") { $0.clone() * 2 }
        checkUnary("contiguous") { $0.contiguous() * 2 }
        XCTAssertEqual(transposedLeaf([2, 3]).contiguous().gradFn?.name, "CloneBackward0")
    }
    func testReshapeFamily() {
        checkUnary("reshape") { $0.reshape([3, 2]) }
        checkUnary("reshape -1") { $0.reshape([-1]) }
        check([leaf([2, 3])], "view") { $0[0].view([6]) }
        checkUnary("flatten") { $0.flatten() }
        check([transposedLeaf([2, 2, 3])], "flatten start 1") { $0[0].flatten(startDim: 1) }
        check([leaf([2, 6])], "unflatten") { $0[0].unflatten(dim: 1, sizes: [2, -1]) }
        checkUnary("unsqueeze") { $0.unsqueeze(1) }
        check([transposedLeaf([2, 1, 3])], "squeeze dim") { $0[0].squeeze(dim: 1) }
        check([stridedLeaf([1, 2, 1, 3])], "squeeze all") { $0[0].squeeze() }
    }
    func testPermuteFamily() {
        check([leaf([2, 3, 4])], "permute") { $0[0].permute(2, 0, 1) }
        check([transposedLeaf([2, 3, 4])], "permute non-contiguous") { $0[0].permute([1, 2, 0]) }
        checkUnary("transpose") { $0.transpose(0, 1) }
        checkUnary("t") { $0.t() }
        checkUnary("T") { $0.T }
    }
    func testExpand() {
        check([leaf([3, 1])], "expand") { $0[0].expand([2, 3, 4]) }
        check([stridedLeaf([1, 3])], "expand non-contiguous") { $0[0].expand(4, -1) }
        let target = Tensor.zeros([2, 3])
        check([leaf([3])], "expandAs") { $0[0].expandAs(target) }
    }
    func testSliceNarrowSelect() {
        check([leaf([4, 5])], "slice step 2") { $0[0].slice(dim: 1, start: 1, end: 5, step: 2) }
        check([transposedLeaf([4, 5])], "slice non-contiguous") { $0[0].slice(dim: 0, start: -3, step: 2) }
        check([leaf([4, 5])], "narrow") { $0[0].narrow(dim: 0, start: 1, length: 2) }
        check([transposedLeaf([4, 5])], "select") { $0[0].select(dim: 1, index: -1) }
        check([stridedLeaf([3, 4])], "select strided") { $0[0].select(dim: 0, index: 1) }
    }
    func testSplitChunkUnbind() {
        check([leaf([5, 2])], "split") { x in let p = x[0].split(2); return p[0] * 1 + p[1] * 2 + p[2].sum() }
        check([transposedLeaf([2, 5])], "split sizes") { x in let p = x[0].split(sizes: [2, 3], dim: 1); return p[0].sum(dim: 1) * p[1].sum(dim: 1) }
        check([leaf([4, 3])], "chunk") { x in let p = x[0].chunk(2); return p[0] * p[1] }
        check([stridedLeaf([3, 2])], "unbind") { x in let p = x[0].unbind(dim: 0); return p[0] * p[1] - p[2] }
    }
    func testSliceScatter() {
        check([leaf([2, 3])], "sliceScatter") { $0[0].sliceScatter(into: [2, 7], dim: 1, start: 1, step: 2) }
        check([transposedLeaf([2, 3])], "sliceScatter non-contiguous") { $0[0].sliceScatter(into: [5, 3], dim: 0, start: 1, step: 3) }
    }
    func testCat() {
        check([leaf([2, 3]), leaf([1, 3]), transposedLeaf([3, 3])], "cat dim 0") { Tensor.cat($0, dim: 0) }
        check([stridedLeaf([2, 2]), leaf([2, 3])], "cat dim 1") { Tensor.cat($0, dim: -1) }
        let constant = Tensor.ones([2, 1], dtype: .float64)
        check([leaf([2, 2])], "cat with constant") { Tensor.cat([$0[0], constant, $0[0] * 2], dim: 1) }
    }
    func testStack() {
        check([leaf([2, 3]), transposedLeaf([2, 3])], "stack dim 0") { Tensor.stack($0, dim: 0) }
        check([leaf([3]), stridedLeaf([3])], "stack dim 1") { Tensor.stack($0, dim: 1) }
    }
    func testFlipRoll() {
        check([leaf([2, 3])], "flip") { $0[0].flip([0, 1]) }
        check([transposedLeaf([3, 4])], "flip non-contiguous") { $0[0].flip([1]) }
        check([leaf([2, 3])], "roll") { $0[0].roll([1, -1], dims: [0, 1]) }
        check([stridedLeaf([2, 3])], "roll flat") { $0[0].roll([2]) }
    }
    func testTrilTriu() {
        check([leaf([3, 4])], "tril") { $0[0].tril() }
        check([transposedLeaf([3, 4])], "tril -1") { $0[0].tril(-1) }
        check([leaf([2, 3, 3])], "triu") { $0[0].triu() }
        check([stridedLeaf([3, 3])], "triu 1") { $0[0].triu(1) }
    }
    func testPad() {
        check([leaf([2, 3])], "pad constant") { $0[0].pad([1, 2], value: 0.5) }
        check([transposedLeaf([2, 3])], "pad constant 2 dims") { $0[0].pad([1, 0, 0, 1]) }
        check([leaf([2, 4])], "pad reflect") { $0[0].pad([2, 1], mode: .reflect) }
        check([transposedLeaf([3, 3])], "pad reflect 2 dims") { $0[0].pad([1, 1, 1, 2], mode: .reflect) }
        check([leaf([2, 3])], "pad replicate") { $0[0].pad([2, 2], mode: .replicate) }
        check([stridedLeaf([2, 2])], "pad replicate 2 dims") { $0[0].pad([1, 2, 2, 1], mode: .replicate) }
    }
    func testRepeat() {
        check([leaf([2, 3])], "repeat") { $0[0].repeat([2, 1]) }
        check([transposedLeaf([2, 2])], "repeat with new dim") { $0[0].repeat([2, 1, 3]) }
    }

    // MARK: - Reductions

    func testSum() {
        checkUnary("sum all") { $0.sum() }
        checkUnary("sum dim") { $0.sum(dim: 1) }
        checkUnary("sum keepDim") { $0.sum(dim: 0, keepDim: true) }
        check([transposedLeaf([2, 3, 2])], "sum dims") { $0[0].sum(dims: [0, 2]) }
    }
    func testMean() {
        checkUnary("mean all") { $0.mean() }
        checkUnary("mean dim") { $0.mean(dim: -1) }
        check([transposedLeaf([2, 3, 2])], "mean dims keepDim") { $0[0].mean(dims: [0, 2], keepDim: true) }
    }
    func testProd() {
        checkUnary("prod all") { $0.prod() }
        checkUnary("prod dim") { $0.prod(dim: 1) }
        check([leaf([2, 3])], "prod keepDim") { $0[0].prod(dim: 0, keepDim: true) }
        // With zeros the gradient is the product of the other elements.
        let withZero = Tensor([0.0, 1.5, -0.7, 0.9, 0.0, 0.0], shape: [2, 3], requiresGrad: true)
        check([withZero], "prod with zeros dim") { $0[0].prod(dim: 1) }
        let oneZero = Tensor([0.5, 0.0, -1.2, 0.8], shape: [2, 2]).t().requiresGrad(true)
        check([oneZero], "prod with one zero all") { $0[0].prod() }
    }
    func testAmaxAmin() {
        checkUnary("max all") { $0.max() }
        checkUnary("min all") { $0.min() }
        checkUnary("amax dim") { $0.amax(dims: [1]) }
        checkUnary("amin dim keepDim") { $0.amin(dims: [0], keepDim: true) }
    }
    func testMaxMinDim() {
        checkUnary("max(dim:)") { $0.max(dim: 1).values }
        checkUnary("min(dim:) keepDim") { $0.min(dim: 0, keepDim: true).values }
    }
    func testVarianceStd() {
        checkUnary("var all") { $0.var() }
        checkUnary("var dim") { $0.var(dim: 1) }
        check([transposedLeaf([3, 4])], "variance population keepDim") { $0[0].variance(dims: [0], correction: 0, keepDim: true) }
        checkUnary("std all") { $0.std() }
        checkUnary("std dim") { $0.std(dim: 0) }
    }
    func testLogsumexp() {
        checkUnary("logsumexp dim 1") { $0.logsumexp(dim: 1) }
        checkUnary("logsumexp dim 0 keepDim") { $0.logsumexp(dim: 0, keepDim: true) }
        check([leaf([2, 3, 2])], "logsumexp dims") { $0[0].logsumexp(dims: [0, 2]) }
    }
    func testNorms() {
        checkUnary("norm 2") { $0.norm() }
        checkUnary("norm 2 dim") { $0.norm(dims: [1]) }
        checkUnary("norm 1") { $0.norm(p: 1) }
        checkUnary("norm 1 dim keepDim") { $0.norm(p: 1, dims: [0], keepDim: true) }
        checkUnary("norm 3") { $0.norm(p: 3) }
        checkUnary("norm 3 dim") { $0.norm(p: 3, dims: [1]) }
        checkUnary("norm inf") { $0.norm(p: .infinity) }
        checkUnary("norm inf dim") { $0.norm(p: .infinity, dims: [1]) }
    }
    func testCumsum() {
        checkUnary("cumsum dim 0") { $0.cumsum(dim: 0) }
        checkUnary("cumsum dim 1") { $0.cumsum(dim: 1) }
    }
    func testCumprod() {
        checkUnary("cumprod dim 1") { $0.cumprod(dim: 1) }
        checkUnary("cumprod dim 0") { $0.cumprod(dim: 0) }
        let withZeros = Tensor([0.5, 0.0, -1.2, 0.8, 0.0, 0.0, 1.1, 0.7], shape: [2, 4], requiresGrad: true)
        check([withZeros], "cumprod with zeros") { $0[0].cumprod(dim: 1) }
        XCTAssertEqual(withZeros.cumprod(dim: 1).gradFn?.name, "CumprodBackward0")
    }

    // MARK: - Linear algebra

    func testMatmul2D() {
        check([leaf([2, 3]), leaf([3, 4])], "matmul") { $0[0].matmul($0[1]) }
        check([transposedLeaf([2, 3]), transposedLeaf([3, 4])], "matmul transposed") { $0[0].matmul($0[1]) }
        check([stridedLeaf([2, 3]), leaf([3, 2])], "mm strided") { $0[0].mm($0[1]) }
    }
    func testMatmulVectors() {
        check([leaf([3]), leaf([3, 4])], "vector · matrix") { $0[0].matmul($0[1]) }
        check([transposedLeaf([2, 3]), stridedLeaf([3])], "matrix · vector") { $0[0].matmul($0[1]) }
        check([leaf([4]), stridedLeaf([4])], "dot") { $0[0].dot($0[1]) }
        check([leaf([2, 2, 3]), leaf([3])], "batched matrix · vector") { $0[0].matmul($0[1]) }
        check([leaf([3]), leaf([2, 3, 2])], "vector · batched matrix") { $0[0].matmul($0[1]) }
    }
    func testMatmulBatchedBroadcast() {
        check([leaf([2, 2, 3]), leaf([3, 4])], "batched · matrix") { $0[0].matmul($0[1]) }
        check([transposedLeaf([2, 2, 3]), leaf([3, 2])], "batched transposed · matrix") { $0[0].matmul($0[1]) }
        check([leaf([2, 1, 2, 3]), leaf([3, 3, 2])], "batch broadcast") { $0[0].matmul($0[1]) }
        check([leaf([2, 2, 3]), transposedLeaf([2, 3, 2])], "bmm") { $0[0].bmm($0[1]) }
    }
    func testOuter() {
        check([leaf([3]), stridedLeaf([4])], "outer") { $0[0].outer($0[1]) }
    }
    func testEinsum() {
        check([leaf([2, 3]), leaf([3, 4])], "ij,jk->ik") { einsum("ij,jk->ik", $0[0], $0[1]) }
        check([transposedLeaf([2, 2, 3]), leaf([2, 3, 2])], "bij,bjk->bik") { einsum("bij,bjk->bik", $0[0], $0[1]) }
        check([leaf([3]), stridedLeaf([4])], "i,j->ij") { einsum("i,j->ij", $0[0], $0[1]) }
        check([transposedLeaf([2, 3])], "ij->ji") { einsum("ij->ji", $0[0]) }
        check([leaf([2, 3])], "ij->j") { einsum("ij->j", $0[0]) }
        check([leaf([2, 3]), leaf([2, 3])], "ij,ij->i") { einsum("ij,ij->i", $0[0], $0[1]) }
        check([leaf([2, 3]), leaf([3])], "ij,j->i") { einsum("ij,j->i", $0[0], $0[1]) }
        check([leaf([2, 3]), leaf([3, 2])], "implicit ij,jk") { einsum("ij,jk", $0[0], $0[1]) }
        check([leaf([2, 3, 2]), leaf([2, 2])], "bij,bk->bjk with summed i") { einsum("bij,bk->bjk", $0[0], $0[1]) }
    }

    // MARK: - Indexing

    func testGather() {
        let index = Tensor([0, 2, 1, 1, 0, 0] as [Int], shape: [2, 3])
        check([leaf([2, 3])], "gather dim 1") { $0[0].gather(dim: 1, index: index) }
        check([transposedLeaf([3, 3])], "gather dim 0 non-contiguous") { $0[0].gather(dim: 0, index: index) }
        check([stridedLeaf([2, 4])], "gather dim 1 strided") { $0[0].gather(dim: 1, index: index) }
    }
    func testScatter() {
        let index = Tensor([2, 0, 1, 2] as [Int], shape: [2, 2])   // no repeats within a row
        check([leaf([2, 3]), leaf([2, 2])], "scatter") { $0[0].scatter(dim: 1, index: index, source: $0[1]) }
        check([transposedLeaf([2, 3]), stridedLeaf([2, 2])], "scatter non-contiguous") { $0[0].scatter(dim: 1, index: index, source: $0[1]) }
        check([leaf([2, 3])], "scatter value") { $0[0].scatter(dim: 1, index: index, value: 0.25) }
    }
    func testScatterAdd() {
        let index = Tensor([0, 0, 2, 1, 1, 1] as [Int], shape: [2, 3])   // repeats accumulate
        check([leaf([2, 3]), leaf([2, 3])], "scatterAdd") { $0[0].scatterAdd(dim: 1, index: index, source: $0[1]) }
        check([transposedLeaf([3, 3]), stridedLeaf([2, 3])], "scatterAdd dim 0") { $0[0].scatterAdd(dim: 0, index: index, source: $0[1]) }
    }
    func testIndexSelect() {
        let index = Tensor([2, 0, 2] as [Int])
        check([leaf([3, 2])], "indexSelect dim 0") { $0[0].indexSelect(dim: 0, index: index) }
        check([transposedLeaf([2, 3])], "indexSelect dim 1") { $0[0].indexSelect(dim: 1, index: index) }
    }
    func testIndexAdd() {
        let index = Tensor([1, 0, 1] as [Int])
        check([leaf([2, 3]), leaf([3, 3])], "indexAdd dim 0") { $0[0].indexAdd(dim: 0, index: index, source: $0[1]) }
        check([transposedLeaf([3, 2]), stridedLeaf([3, 3])], "indexAdd dim 1") { $0[0].indexAdd(dim: 1, index: index, source: $0[1]) }
    }
    func testMaskedFillAndSelect() {
        let mask = Tensor([true, false, false, true, true, false], shape: [2, 3])
        check([leaf([2, 3])], "maskedFill") { $0[0].maskedFill(mask, -1) }
        check([transposedLeaf([2, 3])], "maskedFill broadcast mask") { $0[0].maskedFill(Tensor([false, true, false]), 2) }
        check([stridedLeaf([2, 3])], "maskedSelect") { $0[0].maskedSelect(mask) }
    }
    func testSortAndTopk() {
        checkUnary("sort values") { $0.sort(dim: -1).values }
        checkUnary("sort descending dim 0") { $0.sort(dim: 0, descending: true).values }
        checkUnary("topk") { $0.topk(2, dim: 1).values }
        checkUnary("topk smallest") { $0.topk(1, dim: 0, largest: false).values }
    }

    // MARK: - Subscripts and in-place ops (when present)

    func testSubscriptRead() {
        check([leaf([3, 4])], "x[1]") { $0[0][1] }
        check([transposedLeaf([3, 4])], "x[.all, 1..<3]") { $0[0][TensorIndex.all, 1..<3] }
        check([stridedLeaf([3, 2])], "x[int tensor]") { $0[0][Tensor([2, 0, 2] as [Int])] }
        let mask = Tensor([true, false, true, true, false, false], shape: [3, 2])
        check([transposedLeaf([3, 2])], "x[bool mask]") { $0[0][mask] }
    }

    func testCopyInto() {
        // copy_ from a tensor that requires grad records CopyBackwards (with broadcasting).
        check([leaf([3])], "copy_") { x in
            let target = Tensor.zeros([2, 3], dtype: .float64)
            target.copy_(x[0])
            return target * 2
        }
        check([stridedLeaf([2, 3])], "copy_ non-contiguous source") { x in Tensor.zeros([2, 3], dtype: .float64).copy_(x[0]) * x[0] }
    }

    func testInPlaceOnNonLeaf() {
        check([leaf([2, 3]), leaf([3])], "in-place add and mul") { x in
            var y = x[0] * 1
            y += x[1]
            y *= x[1]
            return y
        }
        check([leaf([2, 3]), leaf([2, 3], positive: true)], "in-place sub_, div_, mul_") { x in
            let y = x[0] * 1
            y.sub_(x[1], alpha: 2).div_(x[1]).mul_(x[0])
            return y
        }
        check([leaf([2, 3])], "in-place clamp_") { x in (x[0] * 1).clamp_(min: -0.1, max: 0.1) * 2 }
    }

    // MARK: - Composite expressions

    func testCompositeExpression() {
        // A small MLP-like expression mixing several ops and broadcasting.
        check([leaf([2, 3]), transposedLeaf([3, 4]), leaf([4])], "mlp") { x in
            logSoftmax(tanh(x[0].matmul(x[1]) + x[2]), dim: 1).mean()
        }
    }

    // MARK: - Second derivatives

    func testGradgradMul() { checkSecondOrder([leaf([2, 3]), leaf([3])], "mul") { $0[0] * $0[1] } }
    func testGradgradDiv() { checkSecondOrder([leaf([2, 3]), leaf([3], positive: true)], "div") { $0[0] / $0[1] } }
    func testGradgradExp() { checkSecondOrder([transposedLeaf([2, 3])], "exp") { $0[0].exp() } }
    func testGradgradTanh() { checkSecondOrder([leaf([2, 3])], "tanh") { tanh($0[0]) } }
    func testGradgradSigmoid() { checkSecondOrder([stridedLeaf([2, 3])], "sigmoid") { sigmoid($0[0]) } }
    func testGradgradSoftmax() { checkSecondOrder([leaf([2, 3])], "softmax") { softmax($0[0], dim: 1) } }
    func testGradgradLogSoftmax() { checkSecondOrder([transposedLeaf([2, 3])], "logSoftmax") { logSoftmax($0[0], dim: 0) } }
    func testGradgradMatmul() { checkSecondOrder([leaf([2, 3]), transposedLeaf([3, 2])], "matmul") { $0[0].matmul($0[1]) } }
    func testGradgradPow() {
        checkSecondOrder([leaf([2, 3], positive: true), leaf([3])], "pow tensor") { $0[0].pow($0[1]) }
        checkSecondOrder([leaf([2, 3])], "pow scalar") { $0[0].pow(3) }
    }
    func testGradgradGelu() {
        checkSecondOrder([leaf([2, 3])], "gelu") { gelu($0[0]) }
        checkSecondOrder([leaf([2, 3])], "gelu tanh") { gelu($0[0], approximate: .tanh) }
    }
    func testGradgradSum() { checkSecondOrder([leaf([2, 3])], "sum of cube") { ($0[0] * $0[0] * $0[0]).sum(dim: 1) } }
    func testGradgradMean() { checkSecondOrder([transposedLeaf([2, 3])], "mean of square") { ($0[0] * $0[0]).mean(dim: 0) } }
    func testGradgradCumsum() { checkSecondOrder([leaf([2, 3])], "cumsum of square") { ($0[0] * $0[0]).cumsum(dim: 1) } }
    func testGradgradCumprod() { checkSecondOrder([leaf([2, 3])], "cumprod") { $0[0].cumprod(dim: 1) } }
    func testGradgradSlice() { checkSecondOrder([leaf([2, 4])], "slice of square") { ($0[0] * $0[0]).slice(dim: 1, start: 1, step: 2) } }
}
