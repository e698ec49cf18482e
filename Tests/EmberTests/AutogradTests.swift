// The autograd engine's behaviour: accumulation, broadcasting, retained gradients, hooks,
// grad modes (per thread), detach, node names, functional grad, higher-order gradients,
// custom functions, and the errors for freed graphs, in-place changes and anomalies.
import Foundation
import XCTest
@testable import Ember

/// Asserts two arrays of doubles match elementwise.
private func assertClose(_ actual: [Double], _ expected: [Double], accuracy: Double = 1e-10,
                         file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count", file: file, line: line)
    for (i, (a, e)) in zip(actual, expected).enumerated() {
        XCTAssertEqual(a, e, accuracy: accuracy, "element \(i): \(actual) vs \(expected)", file: file, line: line)
    }
}

/// `x³` with its own forward and backward, saving the input.
enum Cube: CustomFunction {
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
        ctx.saveForBackward(inputs[0])
        ctx.values["calls"] = ((ctx.values["calls"] as? Int) ?? 0) + 1
        return inputs[0] * inputs[0] * inputs[0]
    }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        let x = ctx.savedTensors[0]
        return [gradOutput * 3 * x * x]
    }
}

/// `a · b + c` of two inputs with a scale kept in the context; returns nil for `c`'s gradient
/// when it does not need one.
enum ScaledProduct: CustomFunction {
    static var name: String { "ScaledProductBackward" }
    static func forward(_ ctx: FunctionContext, _ inputs: [Tensor]) -> Tensor {
        ctx.saveForBackward(inputs[0], inputs[1])
        ctx.values["scale"] = 2.0
        XCTAssertFalse(GradMode.isEnabled, "custom forward runs without recording")
        return inputs[0] * inputs[1] * 2.0
    }
    static func backward(_ ctx: FunctionContext, _ gradOutput: Tensor) -> [Tensor?] {
        let scale = ctx.values["scale"] as! Double
        let (a, b) = (ctx.savedTensors[0], ctx.savedTensors[1])
        return [gradOutput * b * scale, gradOutput * a * scale]
    }
}

final class AutogradTests: XCTestCase {
    // MARK: - Accumulation and broadcasting

    func testGradientsAccumulateAcrossBackwardCallsAndResetWithNil() {
        let x = Tensor([1.0, 2.0, 3.0], requiresGrad: true)
        (x * x).sum().backward()
        assertClose(x.grad!.asArray(Double.self), [2, 4, 6])
        (x * 3).sum().backward()
        assertClose(x.grad!.asArray(Double.self), [5, 7, 9])
        x.grad = nil
        XCTAssertNil(x.grad)
        (x * x * x).sum().backward()
        assertClose(x.grad!.asArray(Double.self), [3, 12, 27])
        // The gradient is a leaf of its own, without history.
        XCTAssertFalse(x.grad!.requiresGrad)
    }

    func testBroadcastOperandGradientsAreReducedToTheirShapes() {
        let a = Tensor([1.0, 2, 3, 4, 5, 6], shape: [2, 3], requiresGrad: true)
        let row = Tensor([10.0, 20, 30], requiresGrad: true)           // [3]
        let column = Tensor([1.0, -1], shape: [2, 1], requiresGrad: true)
        let scalar = Tensor(2.0, requiresGrad: true)                     // 0-d
        let y = (a * row + column * scalar).sum()
        y.backward()
        XCTAssertEqual(row.grad!.shape, [3])
        assertClose(row.grad!.asArray(Double.self), [5, 7, 9])           // column sums of a
        XCTAssertEqual(column.grad!.shape, [2, 1])
        assertClose(column.grad!.asArray(Double.self), [6, 6])           // 3 columns × scalar 2
        XCTAssertEqual(scalar.grad!.shape, [])
        assertClose(scalar.grad!.asArray(Double.self), [0])              // 3·1 + 3·(-1)
        XCTAssertEqual(a.grad!.shape, [2, 3])
        assertClose(a.grad!.asArray(Double.self), [10, 20, 30, 10, 20, 30])
    }

    func testExpandGradientIsSummed() {
        let x = Tensor([1.0, 2.0], shape: [2, 1], requiresGrad: true)
        (x.expand([2, 4]) * Tensor([1.0, 2, 3, 4])).sum().backward()
        assertClose(x.grad!.asArray(Double.self), [10, 10])
    }

    // MARK: - Retained gradients and hooks

    func testRetainGradOnNonLeaf() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 3
        let z = x * 5
        y.retainGrad()
        (y * y + z).sum().backward()
        XCTAssertNotNil(y.grad)
        assertClose(y.grad!.asArray(Double.self), [6, 12])              // 2y
        XCTAssertNil(z.grad, "a non-leaf without retainGrad() keeps no gradient")
        assertClose(x.grad!.asArray(Double.self), [23, 41])             // 18x + 5
    }

    func testHookOnLeafReplacesGradientAndCanBeRemoved() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        var seen: [[Double]] = []
        let handle = x.registerHook { g in
            seen.append(g.asArray(Double.self))
            return g * 10
        }
        (x * x).sum().backward()
        XCTAssertEqual(seen, [[2, 4]])
        assertClose(x.grad!.asArray(Double.self), [20, 40])
        handle.removeHook()
        x.grad = nil
        (x * x).sum().backward()
        XCTAssertEqual(seen.count, 1, "the removed hook must not run")
        assertClose(x.grad!.asArray(Double.self), [2, 4])
    }

    func testHookOnNonLeafChangesUpstreamGradient() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * x
        var observed: [Double] = []
        let handle = y.registerHook { g in observed = g.asArray(Double.self); return nil }   // observe only
        let doubler = y.registerHook { g in g * 2 }
        (y * 3).sum().backward()
        assertClose(observed, [3, 3])
        assertClose(x.grad!.asArray(Double.self), [12, 24])              // 2 · 3 · 2x
        handle()
        doubler.removeHook()
        x.grad = nil
        observed = []
        let y2 = x * x
        (y2 * 3).sum().backward()
        assertClose(x.grad!.asArray(Double.self), [6, 12])
        XCTAssertEqual(observed, [], "hooks belong to their tensor only")
    }

    // MARK: - Grad modes

    func testNoGradReturnsValueAndRecordsNothing() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let (y, flag) = noGrad { (x * x + 1, GradMode.isEnabled) }
        XCTAssertFalse(flag)
        XCTAssertTrue(GradMode.isEnabled, "grad mode is restored after noGrad")
        XCTAssertFalse(y.requiresGrad)
        XCTAssertNil(y.gradFn)
        XCTAssertTrue(y.isLeaf)
        assertClose(y.asArray(Double.self), [2, 5])
        let n: Int = noGrad { 42 }
        XCTAssertEqual(n, 42)
    }

    func testEnableGradInsideNoGrad() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let (inner, outer) = noGrad { () -> (Tensor, Tensor) in
            let recorded = enableGrad { (x * x).sum() }
            XCTAssertFalse(GradMode.isEnabled, "noGrad is restored after enableGrad")
            return (recorded, x * 2)
        }
        XCTAssertTrue(inner.requiresGrad)
        XCTAssertEqual(inner.gradFn?.name, "SumBackward0")
        XCTAssertFalse(outer.requiresGrad)
        inner.backward()
        assertClose(x.grad!.asArray(Double.self), [2, 4])
    }

    func testGradModeIsPerThread() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let inside = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        let threadSawDisabled = ThreadFlag(false)
        let threadResultRecorded = ThreadFlag(true)
        let thread = Thread {
            noGrad {
                threadSawDisabled.value = !GradMode.isEnabled
                inside.signal()
                release.wait()                       // stay inside noGrad while the main thread checks
                threadResultRecorded.value = (x * 2).requiresGrad
            }
            done.signal()
        }
        thread.start()
        XCTAssertEqual(inside.wait(timeout: .now() + 30), .success)
        // The other thread is inside noGrad right now; this thread still records.
        XCTAssertTrue(GradMode.isEnabled)
        let y = x * 3
        XCTAssertTrue(y.requiresGrad)
        XCTAssertEqual(y.gradFn?.name, "MulBackward0")
        release.signal()
        XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        XCTAssertTrue(threadSawDisabled.value)
        XCTAssertFalse(threadResultRecorded.value)
        XCTAssertTrue(GradMode.isEnabled)
    }

    func testNewThreadStartsWithGradEnabledEvenInsideNoGrad() {
        let done = DispatchSemaphore(value: 0)
        let enabledOnThread = ThreadFlag(false)
        noGrad {
            Thread { enabledOnThread.value = GradMode.isEnabled; done.signal() }.start()
            XCTAssertEqual(done.wait(timeout: .now() + 30), .success)
        }
        XCTAssertTrue(enabledOnThread.value)
    }

    // MARK: - detach, leaves, node names

    func testDetachSharesStorageAndCutsTheGraph() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = x * 2
        let d = y.detach()
        XCTAssertFalse(d.requiresGrad)
        XCTAssertTrue(d.isLeaf)
        XCTAssertNil(d.gradFn)
        XCTAssertTrue(d.storage === y.storage)
        assertClose(d.asArray(Double.self), [2, 4])
        // Gradient flows through y but not through its detached copy.
        (y * d).sum().backward()
        assertClose(x.grad!.asArray(Double.self), [4, 8])                // d · 2, not 8x
    }

    func testIsLeafAndGradFnNames() {
        let x = Tensor([1.0, 2.0, 3.0, 4.0], shape: [2, 2], requiresGrad: true)
        let c = Tensor([1.0, 2.0, 3.0, 4.0], shape: [2, 2])
        XCTAssertTrue(x.isLeaf)
        XCTAssertNil(x.gradFn)
        XCTAssertTrue(c.isLeaf)
        XCTAssertFalse((c * 2).requiresGrad, "ops on tensors without grad record nothing")
        let cases: [(Tensor, String)] = [
            (x * 2, "MulBackward0"), (x + c, "AddBackward0"), (x - c, "SubBackward0"), (x / 2, "DivBackward0"),
            (-x, "NegBackward0"), (x.pow(2), "PowBackward0"), (x.exp(), "ExpBackward0"), (x.log(), "LogBackward0"),
            (tanh(x), "TanhBackward0"), (relu(x), "ReluBackward0"), (sigmoid(x), "SigmoidBackward0"),
            (x.sum(), "SumBackward0"), (x.sum(dim: 0), "SumBackward1"), (x.matmul(x), "MmBackward0"),
            (x.reshape([4]), "ViewBackward0"), (x.t(), "PermuteBackward0"), (x.select(dim: 0, index: 1), "SelectBackward0"),
            (softmax(x, dim: 1), "SoftmaxBackward0"), (logSoftmax(x, dim: 1), "LogSoftmaxBackward0"),
            (x.clone(), "CloneBackward0"), (Tensor.cat([x, x]), "CatBackward0"), (x.cumsum(dim: 0), "CumsumBackward0"),
        ]
        for (tensor, name) in cases {
            XCTAssertFalse(tensor.isLeaf, name)
            XCTAssertTrue(tensor.requiresGrad, name)
            XCTAssertEqual(tensor.gradFn?.name, name)
        }
        XCTAssertEqual(x.detach().requiresGrad(true).isLeaf, true)
    }

    // MARK: - Functional grad

    func testFunctionalGradLeavesDotGradUntouched() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let w = Tensor([3.0, 4.0], requiresGrad: true)
        let y = (x * w).sum()
        let grads = grad(of: [y], with: [x])
        assertClose(grads[0]!.asArray(Double.self), [3, 4])
        XCTAssertNil(x.grad)
        XCTAssertNil(w.grad, "inputs not asked for get nothing either")
        // An existing .grad is not changed.
        x.grad = Tensor([100.0, 100.0])
        let y2 = (x * x).sum()
        assertClose(grad(of: [y2], with: [x])[0]!.asArray(Double.self), [2, 4])
        assertClose(x.grad!.asArray(Double.self), [100, 100])
    }

    func testFunctionalGradOfNonLeafAndUnusedInputs() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let h = x * 2
        let unused = Tensor([5.0], requiresGrad: true)
        let y = (h * h).sum()
        let grads = grad(of: [y], with: [h, unused, x], allowUnused: true)
        assertClose(grads[0]!.asArray(Double.self), [4, 8])              // 2h
        XCTAssertNil(grads[1])
        assertClose(grads[2]!.asArray(Double.self), [8, 16])             // 8x
    }

    // MARK: - Higher order

    func testSecondAndThirdDerivativeOfCube() {
        let x = Tensor([-1.0, 0.5, 2.0], requiresGrad: true)
        let y = (x * x * x).sum()
        let first = grad(of: [y], with: [x], createGraph: true)[0]!
        assertClose(first.asArray(Double.self), [3, 0.75, 12])           // 3x²
        XCTAssertTrue(first.requiresGrad)
        let second = grad(of: [first.sum()], with: [x], createGraph: true)[0]!
        assertClose(second.asArray(Double.self), [-6, 3, 12])            // 6x
        let third = grad(of: [second.sum()], with: [x])[0]!
        assertClose(third.asArray(Double.self), [6, 6, 6])
        XCTAssertNil(x.grad)
    }

    func testBackwardWithCreateGraphGivesDifferentiableGrad() {
        let x = Tensor([1.0, 3.0], requiresGrad: true)
        (x * x * x).sum().backward(createGraph: true)
        let g = x.grad!
        XCTAssertTrue(g.requiresGrad)
        assertClose(g.asArray(Double.self), [3, 27])
        let second = grad(of: [g.sum()], with: [x])[0]!
        assertClose(second.asArray(Double.self), [6, 18])
    }

    func testHessianVectorProduct() {
        // f(x) = Σ exp(x) + (Σ x)²: H = diag(exp x) + 2·11ᵀ, so Hv = exp(x)·v + 2·Σv.
        let xs = [0.1, -0.5, 0.3]
        let vs = [1.0, 2.0, -1.0]
        let x = Tensor(xs, requiresGrad: true)
        let v = Tensor(vs)
        let f = x.exp().sum() + x.sum() * x.sum()
        let g = grad(of: [f], with: [x], createGraph: true)[0]!
        let hv = grad(of: [(g * v).sum()], with: [x])[0]!
        let expected = zip(xs, vs).map { Foundation.exp($0) * $1 + 2 * vs.reduce(0, +) }
        assertClose(hv.asArray(Double.self), expected, accuracy: 1e-12)
        // Also through gradOutputs: the vector–Jacobian product of the gradient.
        let g2 = grad(of: [x.exp().sum() + x.sum() * x.sum()], with: [x], createGraph: true)[0]!
        let hv2 = grad(of: [g2], with: [x], gradOutputs: [v])[0]!
        assertClose(hv2.asArray(Double.self), expected, accuracy: 1e-12)
    }

    func testGradientPenaltyIsDifferentiable() {
        // penalty(w) = ‖∂/∂x Σ tanh(x·w)‖ (as in WGAN-GP), differentiated with respect to w.
        let x = Tensor([0.3, -0.2, 0.5, 0.1, 0.4, -0.6], shape: [2, 3], requiresGrad: true)
        let w = Tensor([0.7, -0.4, 0.2], shape: [3, 1], requiresGrad: true)
        func penalty(_ w: Tensor) -> Tensor {
            let out = tanh(x.matmul(w)).sum()
            let gx = grad(of: [out], with: [x], createGraph: true)[0]!
            return gx.norm()
        }
        let p = penalty(w)
        XCTAssertEqual(p.gradFn?.name, "NormBackward1")
        p.backward()
        let analytical = w.grad!.asArray(Double.self)
        // Finite differences of the penalty in w.
        let base = w.detach().asArray(Double.self)
        let eps = 1e-6
        for i in 0..<3 {
            var plus = base, minus = base
            plus[i] += eps
            minus[i] -= eps
            let fp = penalty(Tensor(plus, shape: [3, 1], requiresGrad: true)).item(Double.self)
            let fm = penalty(Tensor(minus, shape: [3, 1], requiresGrad: true)).item(Double.self)
            XCTAssertEqual(analytical[i], (fp - fm) / (2 * eps), accuracy: 1e-6, "w[\(i)]")
        }
        XCTAssertTrue(gradcheck({ penalty($0[0]) }, inputs: [w.detach().requiresGrad(true)]).passed)
    }

    // MARK: - Custom functions

    func testCustomFunctionForwardBackwardAndSavedTensors() {
        let x = Tensor([1.0, -2.0, 0.5], requiresGrad: true)
        let y = Cube.apply(x)
        assertClose(y.asArray(Double.self), [1, -8, 0.125])
        XCTAssertEqual(y.gradFn?.name, "CubeBackward")
        XCTAssertFalse(y.isLeaf)
        y.sum().backward()
        assertClose(x.grad!.asArray(Double.self), [3, 12, 0.75])
        XCTAssertTrue(gradcheck({ Cube.apply($0[0]) }, inputs: [Tensor([0.3, -1.1], requiresGrad: true)]).passed)
        // Without grad, nothing is recorded.
        let z = noGrad { Cube.apply(x) }
        XCTAssertNil(z.gradFn)
        assertClose(z.asArray(Double.self), [1, -8, 0.125])
    }

    func testCustomFunctionWithTwoInputsAndContextValues() {
        let a = Tensor([1.0, 2.0], requiresGrad: true)
        let b = Tensor([3.0, 4.0])                         // a constant
        let y = ScaledProduct.apply(a, b)
        XCTAssertEqual(y.gradFn?.name, "ScaledProductBackward")
        assertClose(y.asArray(Double.self), [6, 16])
        (y * y).sum().backward()                           // d/da (2ab)² = 8ab²
        assertClose(a.grad!.asArray(Double.self), [72, 256])
        XCTAssertNil(b.grad)
        let check = gradcheck({ ScaledProduct.apply($0[0], $0[1]) },
                              inputs: [Tensor([0.5, 1.5], requiresGrad: true), Tensor([2.0, -1.0], shape: [2], requiresGrad: true)])
        XCTAssertTrue(check.passed, check.message)
    }

    func testCustomFunctionComposesWithBuiltInOps() {
        let x = Tensor([0.5, 1.0], requiresGrad: true)
        let y = tanh(Cube.apply(x * 2)).sum()             // d/dx tanh((2x)³) = (1 - tanh²)·3(2x)²·2
        y.backward()
        let expected = [0.5, 1.0].map { v -> Double in
            let u = Foundation.pow(2 * v, 3)
            return (1 - Foundation.tanh(u) * Foundation.tanh(u)) * 3 * (2 * v) * (2 * v) * 2
        }
        assertClose(x.grad!.asArray(Double.self), expected, accuracy: 1e-12)
    }

    // MARK: - retainGraph, in-place checks, anomaly mode

    func testSliceGradientsGatherIntoOneSum() {
        // unbind, chunk, strided slices and indexing of a leaf and of a non-leaf, mixed with
        // a dense use of the same tensor: the engine adds slice gradients in place.
        let x = Tensor.randn([6, 4]).requiresGrad(true)
        let y = x * 2
        var total = y.sum() * 0.5
        for (t, row) in y.unbind(dim: 0).enumerated() { total = total + row.sum() * Double(t + 1) }
        let parts = x.chunk(2, dim: 1)
        total = total + (parts[0] * 3).sum() + parts[1].sum()
        total = total + x.slice(dim: 0, start: 1, end: 6, step: 2).sum() * 10
        total = total + x[2].sum()
        total.backward()
        var want = [[Double]](repeating: [Double](repeating: 0, count: 4), count: 6)
        for i in 0..<6 {
            for j in 0..<4 {
                want[i][j] = 1 + 2 * Double(i + 1) + (j < 2 ? 3 : 1) + (i % 2 == 1 ? 10 : 0) + (i == 2 ? 1 : 0)
            }
        }
        assertClose(x.grad!.asArray(Double.self), want.flatMap { $0 }, accuracy: 1e-5)
        // The same graph with createGraph keeps the gradient differentiable.
        let z = Tensor.randn([3, 2]).requiresGrad(true)
        let rows = (z * z).unbind(dim: 0)
        let g = grad(of: [rows[0].sum() + rows[2].sum()], with: [z], createGraph: true)[0]!
        let expected = z.detach() * 2 * Tensor([1, 0, 1] as [Float], shape: [3, 1])
        assertClose(g.asArray(Double.self), expected.asArray(Double.self), accuracy: 1e-6)
        XCTAssertNotNil(g.gradFn)
    }

    func testBackwardTwiceWithRetainGraphAccumulates() {
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        let y = (x * x).sum()
        y.backward(retainGraph: true)
        y.backward()
        assertClose(x.grad!.asArray(Double.self), [4, 8])
    }

    func testBackwardTwiceWithoutRetainGraphStops() throws {
        try assertCrashes("testBackwardTwiceWithoutRetainGraph", messages: [
            "backward: trying to backward through the graph a second time (or to use saved tensors after they were freed). Pass retainGraph: true",
        ])
    }

    func testVersionCounterCountsInPlaceWrites() {
        let x = Tensor([1.0, 2.0])
        let view = x.slice(dim: 0, start: 1)
        let before = x.version
        x.mul_(2)
        XCTAssertEqual(x.version, before + 1)
        XCTAssertEqual(view.version, before + 1, "views share the storage's counter")
        assertClose(view.asArray(Double.self), [4])
    }

    func testInPlaceChangeOfUnsavedTensorIsAllowed() {
        // add saves nothing, so changing its input afterwards is fine.
        let x = Tensor([1.0, 2.0], requiresGrad: true)
        var h = x * 1
        let y = h + 3
        h += 10
        y.sum().backward()
        assertClose(x.grad!.asArray(Double.self), [1, 1])
        assertClose(h.asArray(Double.self), [11, 12])
        // In-place ops on a non-leaf are recorded: the gradient flows through them.
        let x2 = Tensor([1.0, 2.0], requiresGrad: true)
        var h2 = x2 * 2
        h2 *= x2
        h2.sum().backward()
        assertClose(x2.grad!.asArray(Double.self), [4, 8])               // d/dx 2x² = 4x
    }

    func testInPlaceModificationOfSavedTensorStops() throws {
        try assertCrashes("testInPlaceAddOnSavedInput", messages: [
            "modified by an in-place operation",
            "a tensor of shape [3] saved by SinBackward0 is at version 1; expected version 0 instead.",
        ])
    }

    func testAnomalyModeNamesTheNodeThatProducedNaN() throws {
        try assertCrashes("testAnomalySqrtAtZero", messages: ["Function 'SqrtBackward0' returned nan values in its 0th output."])
    }

    func testWithoutAnomalyModeNaNGradientsFlowSilently() {
        XCTAssertFalse(AnomalyMode.isEnabled)
        let x = Tensor([0.0, 4.0], requiresGrad: true)
        (x.sqrt() * 0.0).sum().backward()
        let g = x.grad!.asArray(Double.self)
        XCTAssertTrue(g[0].isNaN)
        XCTAssertEqual(g[1], 0)
        // AnomalyMode.with restores the previous setting, and finite gradients pass the check.
        AnomalyMode.with {
            XCTAssertTrue(AnomalyMode.isEnabled)
            let y = Tensor([1.0, 4.0], requiresGrad: true)
            y.sqrt().sum().backward()
            assertClose(y.grad!.asArray(Double.self), [0.5, 0.25])
        }
        XCTAssertFalse(AnomalyMode.isEnabled)
    }
}

/// A flag written by another thread and read after a semaphore handshake (which orders the
/// accesses), so it needs no lock of its own.
private final class ThreadFlag: @unchecked Sendable {
    var value: Bool
    init(_ value: Bool) { self.value = value }
}
