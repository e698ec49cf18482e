// The vectorised float32 kernels (exp, tanh, sigmoid, erf, gelu, relu, clamp, softmax, sum) against float64
// references over wide ranges, including lengths that are not multiples of the vector width.
import Foundation
import XCTest
@testable import Ember
import CEmberRuntime

final class VectorKernelTests: XCTestCase {
    /// Values from -110 to 95 (through exp's underflow and overflow) plus specials.
    private func wideInputs(_ n: Int) -> [Float] {
        (0..<n).map { Float(-110 + 205 * Double($0) / Double(n - 1)) } + [0, -0.0, 1e-7, -1e-7, .infinity, -.infinity, .nan]
    }

    /// Compares with the float64 reference rounded to float32 (so overflow reads as inf).
    private func assertClose(_ got: [Float], _ reference: [Double], relative: Double, absolute: Double, _ what: String) {
        XCTAssertEqual(got.count, reference.count)
        let want = reference.map { Double(Float($0)) }
        for (i, (g, w)) in zip(got, want).enumerated() {
            if w.isNaN { XCTAssertTrue(g.isNaN, "\(what)[\(i)]: expected NaN, got \(g)"); continue }
            if w.isInfinite { XCTAssertEqual(Double(g), w, "\(what)[\(i)]"); continue }
            let error = Swift.abs(Double(g) - w)
            XCTAssertLessThanOrEqual(error, absolute + relative * Swift.abs(w), "\(what)[\(i)]: got \(g), want \(w)")
        }
    }

    func testExpMatchesDoublePrecisionAcrossItsRange() {
        let x = wideInputs(1001)
        let y = exp(Tensor(x)).asArray(Float.self)
        assertClose(y, x.map { Foundation.exp(Double($0)) }, relative: 3e-7, absolute: 1e-44, "exp")
    }

    func testTanhIsAccurateNearZeroAndSaturates() {
        let x = wideInputs(1001) + (0..<200).map { Float(-1 + Double($0) / 100) }
        let y = tanh(Tensor(x)).asArray(Float.self)
        assertClose(y, x.map { Foundation.tanh(Double($0)) }, relative: 5e-7, absolute: 1e-37, "tanh")
    }

    func testSigmoidMatchesDoublePrecision() {
        let x = wideInputs(777)
        let y = sigmoid(Tensor(x)).asArray(Float.self)
        assertClose(y, x.map { 1 / (1 + Foundation.exp(-Double($0))) }, relative: 5e-7, absolute: 1e-37, "sigmoid")
    }

    func testReluAndClampKeepNaNAndMatchTheirDefinitions() {
        // Vector lanes and a tail; NaN stays NaN (PyTorch's relu and clamp), infinities clamp.
        let x = wideInputs(1001)
        let relu = Ember.relu(Tensor(x)).asArray(Float.self)
        let clamped = Tensor(x).clamp(min: -3.5, max: 6).asArray(Float.self)
        for (i, v) in x.enumerated() {
            if v.isNaN { XCTAssertTrue(relu[i].isNaN && clamped[i].isNaN, "[\(i)]"); continue }
            XCTAssertEqual(relu[i], v > 0 ? v : 0, "relu(\(v))")
            XCTAssertEqual(clamped[i], Swift.min(Swift.max(v, -3.5), 6), "clamp(\(v))")
        }
    }

    func testErfMatchesDoublePrecision() {
        let x = wideInputs(1201) + (0..<400).map { Float(-4 + Double($0) / 50) }
        let y = erf(Tensor(x)).asArray(Float.self)
        assertClose(y, x.map { Foundation.erf(Double($0)) }, relative: 0, absolute: 4e-7, "erf")
    }

    func testGELUMatchesDoublePrecisionAndKeepsSmallTailsRelative() {
        let x = wideInputs(1201) + (0..<400).map { Float(-6 + Double($0) / 50) }
        let y = gelu(Tensor(x)).asArray(Float.self)
        let reference = x.map { v -> Double in
            let d = Double(v)
            return d.isNaN ? .nan : 0.5 * d * Foundation.erfc(-d / 2.0.squareRoot())
        }
        // Down to x = -6, where gelu(x) ≈ -6e-9, the error stays a small fraction of the value.
        for (value, (got, want)) in zip(x, zip(y, reference)) where value.isFinite && value >= -6 {
            XCTAssertLessThanOrEqual(Swift.abs(Double(got) - want), 4e-7 * Swift.max(1, Swift.abs(want)) + 2e-3 * Swift.abs(want),
                                     "gelu(\(value)): got \(got), want \(want)")
        }
        XCTAssertTrue(y[x.firstIndex(where: \.isNaN)!].isNaN)
        XCTAssertEqual(y[x.firstIndex(of: .infinity)!], .infinity)
    }

    func testGELUGradientKernelMatchesDoublePrecision() {
        let values = (0..<1000).map { Float(-8 + 16 * Double($0) / 999) } + [0, -0.0, 1e-7]
        let x = Tensor(values).requiresGrad(true)
        let weights = (0..<values.count).map { Float(1 + $0 % 7) * 0.25 }
        (gelu(x) * Tensor(weights)).sum().backward()
        let got = x.grad!.asArray(Float.self)
        for (i, v) in values.enumerated() {
            let d = Double(v)
            let derivative = 0.5 * Foundation.erfc(-d / 2.0.squareRoot()) + d * Foundation.exp(-d * d / 2) / (2 * Double.pi).squareRoot()
            let want = derivative * Double(weights[i])
            XCTAssertEqual(Double(got[i]), want, accuracy: 1e-6 * Swift.max(1, Swift.abs(want)), "gelu'(\(v))")
        }
    }

    func testSqrtIsCorrectlyRounded() {
        let x: [Float] = (0..<1000).map { Float($0) * 0.37 + 1e-30 } + [0, -0.0, .infinity, -1, .nan]
        let y = sqrt(Tensor(x)).asArray(Float.self)
        for (value, root) in zip(x, y) {
            let want = Float(Foundation.sqrt(Double(value)))
            if want.isNaN { XCTAssertTrue(root.isNaN, "sqrt(\(value))") } else { XCTAssertEqual(root, want, "sqrt(\(value))") }
        }
    }

    func testSoftmaxRowsSumToOneAndHandleInfinityAndNaN() {
        let columns = 37
        var values: [Float] = (0..<(3 * columns)).map { Float(sin(Double($0)) * 30) }
        values[columns + 5] = -.infinity          // row 1: one masked entry
        values[2 * columns + 7] = .nan            // row 2: NaN poisons the row
        let x = Tensor(values, shape: [3, columns])
        let p = softmax(x, dim: 1).asArray(Float.self)
        let logP = logSoftmax(x, dim: 1).asArray(Float.self)
        for row in 0..<2 {
            let slice = Array(values[(row * columns)..<((row + 1) * columns)]).map(Double.init)
            let peak = slice.filter { !$0.isInfinite }.max()!
            let total = slice.map { Foundation.exp($0 - peak) }.reduce(0, +)
            let want = slice.map { Foundation.exp($0 - peak) / total }
            assertClose(Array(p[(row * columns)..<((row + 1) * columns)]), want, relative: 1e-6, absolute: 1e-12, "softmax row \(row)")
            let wantLog = slice.map { $0 - peak - Foundation.log(total) }
            assertClose(Array(logP[(row * columns)..<((row + 1) * columns)]), wantLog, relative: 1e-6, absolute: 1e-5, "logSoftmax row \(row)")
        }
        XCTAssertTrue(p[(2 * columns)..<(3 * columns)].allSatisfy { $0.isNaN })
        XCTAssertTrue(logP[(2 * columns)..<(3 * columns)].allSatisfy { $0.isNaN })
    }

    func testSoftmaxOfAllNegativeInfinityRowIsNaNLikePyTorch() {
        // exp(-inf - 0) sums to 0, so 0/0: PyTorch gives NaN for a fully masked row.
        let p = softmax(Tensor([-Float.infinity, -.infinity], shape: [1, 2]), dim: 1).asArray(Float.self)
        XCTAssertTrue(p.allSatisfy { $0.isNaN })
    }

    func testLargeFloatSumMatchesDoubleSum() {
        let n = 1_000_003
        let values = (0..<n).map { Float(($0 % 1000) - 500) * 0.001 + 0.25 }
        let want = values.reduce(0.0) { $0 + Double($1) }
        let got = Tensor(values).sum().item(Double.self)
        XCTAssertEqual(got, want, accuracy: Swift.abs(want) * 1e-5)
    }

    func testKernelInstructionSetIsReported() {
        XCTAssertTrue(["avx512", "avx2", "sse2"].contains(String(cString: ember_kernel_isa())))
    }
}
