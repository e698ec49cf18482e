// Optimizer behaviour beyond the PyTorch sequences: argument checks, groups, zeroGrad, state dicts, training.
import XCTest
import Ember
import EmberNN
@testable import EmberOptim

/// A one-layer model for end-to-end checks.
private final class Affine: Module {
    var weight = Tensor([0.5, -0.25, 1.0, 0.75, -0.5, 0.25] as [Float], shape: [2, 3], requiresGrad: true)
    var bias = Tensor([0.1, -0.1] as [Float], shape: [2], requiresGrad: true)
    override func forward(_ x: Tensor) -> Tensor { x.matmul(weight.t()) + bias }
}

/// Deterministic pseudo-gradients: step-dependent values of a parameter's shape.
private func syntheticGradient(like param: Tensor, step: Int, salt: Int) -> Tensor {
    let values = (0..<param.count).map { index in sin(Double(index * 7 + step * 3 + salt) * 0.37) + 0.2 }
    return Tensor(values, shape: param.shape, dtype: param.dtype)
}

final class OptimizerBehaviourTests: XCTestCase {
    // MARK: Argument checks (the pure validation behind each initializer's precondition)

    func testSGDArgumentChecksUsePyTorchMessages() {
        XCTAssertEqual(SGD.argumentError(in: ["lr": -1.0]), "Invalid learning rate: -1.0")
        XCTAssertEqual(SGD.argumentError(in: ["lr": 0.1, "momentum": -0.5]), "Invalid momentum value: -0.5")
        XCTAssertEqual(SGD.argumentError(in: ["lr": 0.1, "weight_decay": -0.01]), "Invalid weight_decay value: -0.01")
        XCTAssertEqual(SGD.argumentError(in: ["lr": 0.1, "momentum": 0, "nesterov": 1]),
                       "Nesterov momentum requires a momentum and zero dampening")
        XCTAssertEqual(SGD.argumentError(in: ["lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": 1]),
                       "Nesterov momentum requires a momentum and zero dampening")
        XCTAssertNil(SGD.argumentError(in: ["lr": 0.1, "momentum": 0.9, "dampening": 0, "nesterov": 1, "weight_decay": 0.01]))
        XCTAssertEqual(SGD.argumentError(in: ["lr": .nan]), "Invalid learning rate: nan")
    }

    func testAdaptiveOptimizerArgumentChecksUsePyTorchMessages() {
        XCTAssertEqual(Adam.argumentError(in: ["lr": -0.001]), "Invalid learning rate: -0.001")
        XCTAssertEqual(Adam.argumentError(in: ["lr": 0.001, "eps": -1e-8]), "Invalid epsilon value: -1e-08")
        XCTAssertEqual(Adam.argumentError(in: ["lr": 0.001, "beta1": 1.0, "beta2": 0.999]), "Invalid beta parameter at index 0: 1.0")
        XCTAssertEqual(Adam.argumentError(in: ["lr": 0.001, "beta1": 0.9, "beta2": -0.1]), "Invalid beta parameter at index 1: -0.1")
        XCTAssertEqual(AdamW.argumentError(in: ["lr": 0.001, "weight_decay": -1]), "Invalid weight_decay value: -1.0")
        XCTAssertNil(AdamW.argumentError(in: ["lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.01]))
        XCTAssertEqual(RMSprop.argumentError(in: ["lr": 0.01, "alpha": -0.9]), "Invalid alpha value: -0.9")
        XCTAssertEqual(RMSprop.argumentError(in: ["lr": 0.01, "momentum": -0.9]), "Invalid momentum value: -0.9")
        XCTAssertEqual(Adagrad.argumentError(in: ["lr": 0.01, "lr_decay": -1]), "Invalid lr_decay value: -1.0")
        XCTAssertEqual(Adagrad.argumentError(in: ["lr": 0.01, "initial_accumulator_value": -0.5]),
                       "Invalid initial_accumulator_value value: -0.5")
        XCTAssertEqual(Optimizer.argumentError(in: [:]), "Optimizer: a learning rate (\"lr\") is required")
    }

    // MARK: Parameter groups and learning rate

    func testGroupsTakeDefaultsForOptionsTheyLeaveOut() {
        let a = Tensor.zeros([2], requiresGrad: true), b = Tensor.zeros([3], requiresGrad: true)
        let optimizer = SGD(groups: [ParamGroup([a]), ParamGroup([b], lr: 0.01, options: ["momentum": 0.5])],
                            lr: 0.1, momentum: 0.9, weightDecay: 1e-4)
        XCTAssertEqual(optimizer.paramGroups.count, 2)
        XCTAssertEqual(optimizer.paramGroups[0].lr, 0.1)
        XCTAssertEqual(optimizer.paramGroups[0]["momentum"], 0.9)
        XCTAssertEqual(optimizer.paramGroups[1].lr, 0.01)
        XCTAssertEqual(optimizer.paramGroups[1]["momentum"], 0.5)
        XCTAssertEqual(optimizer.paramGroups[1]["weight_decay"], 1e-4)
        XCTAssertEqual(optimizer.paramGroups[1]["nesterov"], 0)
        XCTAssertTrue(optimizer.paramGroups[1].params[0] === b)
    }

    func testLearningRateSetsEveryGroupAndReadsTheFirst() {
        let optimizer = Adam(groups: [ParamGroup([Tensor.zeros([2])]), ParamGroup([Tensor.zeros([2])], lr: 0.5)], lr: 1e-3)
        XCTAssertEqual(optimizer.learningRate, 1e-3)
        optimizer.learningRate = 0.02
        XCTAssertEqual(optimizer.paramGroups.map(\.lr), [0.02, 0.02])
        XCTAssertEqual(optimizer.learningRate, 0.02)
    }

    func testAddParamGroupFillsDefaultsAndSteps() {
        let a = Tensor([1.0, 2.0], shape: [2]), b = Tensor([3.0], shape: [1])
        let optimizer = SGD([a], lr: 0.5)
        optimizer.addParamGroup(ParamGroup([b], lr: 0.25))
        a.grad = Tensor([1.0, 1.0], shape: [2])
        b.grad = Tensor([2.0], shape: [1])
        optimizer.step()
        XCTAssertEqual(a.asArray(Double.self), [0.5, 1.5])
        XCTAssertEqual(b.asArray(Double.self), [2.5])
        XCTAssertEqual(optimizer.paramGroups[1]["momentum"], 0)
    }

    func testParametersWithoutGradientAreLeftAlone() {
        let a = Tensor([1.0, 2.0], shape: [2]), b = Tensor([3.0], shape: [1])
        let optimizer = Adam([a, b], lr: 0.1)
        a.grad = Tensor([1.0, -1.0], shape: [2])
        optimizer.step()
        XCTAssertEqual(b.asArray(Double.self), [3.0])
        XCTAssertNil(optimizer.state(for: b))
        XCTAssertEqual(optimizer.state(for: a)?.step, 1)
        // The first Adam step moves every element by lr (m̂/√v̂ = ±1).
        let moved = a.asArray(Double.self)
        XCTAssertEqual(moved[0], 0.9, accuracy: 1e-7)
        XCTAssertEqual(moved[1], 2.1, accuracy: 1e-7)
    }

    func testAdamWithZeroLearningRateLeavesParametersFinite() {
        let a = Tensor([1.0, 2.0, 3.0], shape: [3])
        let optimizer = Adam([a], lr: 0)
        a.grad = Tensor([0.0, 1.0, -2.0], shape: [3])
        optimizer.step()
        optimizer.step()
        XCTAssertEqual(a.asArray(Double.self), [1.0, 2.0, 3.0])
        XCTAssertEqual(optimizer.state(for: a)?.step, 2)
        XCTAssertEqual(optimizer.state(for: a)?["exp_avg"]?.asArray(Double.self)[1] ?? 0, 0.19, accuracy: 1e-12)
    }

    // MARK: zeroGrad

    func testZeroGradSetsGradientsToNilByDefault() {
        let model = Affine()
        let optimizer = SGD(model.parameters(), lr: 0.1)
        model(Tensor.ones([4, 3])).sum().backward()
        XCTAssertNotNil(model.weight.grad)
        optimizer.zeroGrad()
        XCTAssertNil(model.weight.grad)
        XCTAssertNil(model.bias.grad)
    }

    func testZeroGradCanKeepZeroFilledGradients() {
        let model = Affine()
        let optimizer = SGD(model.parameters(), lr: 0.1)
        model(Tensor.ones([4, 3])).sum().backward()
        XCTAssertEqual(model.bias.grad?.asArray(Float.self), [4, 4])
        optimizer.zeroGrad(setToNil: false)
        XCTAssertEqual(model.weight.grad?.shape, [2, 3])
        XCTAssertEqual(model.weight.grad?.asArray(Float.self), [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(model.bias.grad?.asArray(Float.self), [0, 0])
        // Gradients accumulate from zero again.
        model(Tensor.ones([1, 3])).sum().backward()
        XCTAssertEqual(model.bias.grad?.asArray(Float.self), [1, 1])
    }

    // MARK: Training end to end

    func testSGDWithNesterovReducesALeastSquaresLoss() {
        let model = Affine()
        let optimizer = SGD(model.parameters(), lr: 0.1, momentum: 0.9, dampening: 0, weightDecay: 0.01, nesterov: true)
        let x = Tensor([1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1] as [Float], shape: [4, 3])
        let y = Tensor([1, 2, 3, 4, 5, 6, 7, 8] as [Float], shape: [4, 2])
        func loss() -> Tensor { ((model(x) - y) * (model(x) - y)).mean() }
        let initial = loss().item(Double.self)
        for _ in 0..<50 {
            optimizer.zeroGrad()
            loss().backward()
            optimizer.step()
        }
        let final = loss().item(Double.self)
        XCTAssertLessThan(final, initial * 0.1, "loss went from \(initial) to \(final)")
        XCTAssertTrue(model.weight.requiresGrad && model.weight.isLeaf)
    }

    func testAdamStepWithClosureReturnsTheLoss() {
        let model = Affine()
        let optimizer = Adam(model.parameters(), lr: 1e-3)
        let x = Tensor.ones([2, 3])
        let before = model.weight.asArray(Float.self)
        let loss = optimizer.step {
            optimizer.zeroGrad()
            let value = model(x).sum()
            value.backward()
            return value
        }
        XCTAssertEqual(loss.item(Double.self), 2 * (0.5 - 0.25 + 1.0) + 2 * (0.75 - 0.5 + 0.25) + 2 * (0.1 - 0.1), accuracy: 1e-5)
        // Every weight had gradient 2 > 0, so the first step lowers each by lr.
        for (old, new) in zip(before, model.weight.asArray(Float.self)) { XCTAssertEqual(new, old - 1e-3, accuracy: 1e-6) }
    }

    // MARK: State dicts

    /// Runs `steps` steps of synthetic gradients starting at `start`.
    private func run(_ optimizer: Optimizer, _ params: [Tensor], steps: Range<Int>) {
        for step in steps {
            for (index, param) in params.enumerated() { param.grad = syntheticGradient(like: param, step: step, salt: index) }
            optimizer.step()
        }
    }

    private func makeParams() -> [Tensor] {
        [Tensor((0..<6).map { Double($0) * 0.3 - 0.7 }, shape: [2, 3]), Tensor([0.5, -1.5, 2.5, 0.1], shape: [4])]
    }

    private let factories: [(String, ([Tensor]) -> Optimizer)] = [
        ("SGD", { SGD($0, lr: 0.05, momentum: 0.9, weightDecay: 0.01, nesterov: true) }),
        ("Adam", { Adam($0, lr: 0.01, weightDecay: 0.1, amsgrad: true) }),
        ("AdamW", { AdamW($0, lr: 0.01) }),
        ("RMSprop", { RMSprop($0, lr: 0.01, momentum: 0.5, centered: true) }),
        ("Adagrad", { Adagrad($0, lr: 0.1, lrDecay: 0.01, initialAccumulatorValue: 0.1) }),
    ]

    func testRestoredOptimizerContinuesIdentically() throws {
        for (name, make) in factories {
            let original = makeParams()
            let optimizer = make(original)
            run(optimizer, original, steps: 0..<5)

            let copies = original.map { $0.clone() }
            let restored = make(copies)
            try restored.loadStateDict(optimizer.stateDict())
            // The restored state is a copy: stepping one optimizer leaves the other's alone.
            run(optimizer, original, steps: 5..<10)
            run(restored, copies, steps: 5..<10)
            for (a, b) in zip(original, copies) {
                XCTAssertEqual(a.asArray(Double.self), b.asArray(Double.self), "\(name): restored optimizer diverged")
            }
            XCTAssertEqual(restored.state(for: copies[0])?.step, optimizer.state(for: original[0])?.step, name)
        }
    }

    func testFlattenedStateDictRoundTripsThroughTensors() throws {
        for (name, make) in factories {
            let original = makeParams()
            let optimizer = make(original)
            run(optimizer, original, steps: 0..<3)
            let flat = optimizer.stateDict().flattened()
            XCTAssertEqual(flat["param_groups.0.params"]?.asArray(Int.self), [0, 1], name)
            XCTAssertEqual(flat["param_groups.0.lr"]?.item(Double.self), optimizer.learningRate, name)

            let copies = original.map { $0.clone() }
            let restored = make(copies)
            try restored.loadStateDict(OptimizerStateDict(flattened: flat))
            run(optimizer, original, steps: 3..<6)
            run(restored, copies, steps: 3..<6)
            for (a, b) in zip(original, copies) {
                XCTAssertEqual(a.asArray(Double.self), b.asArray(Double.self), "\(name): restored from flat tensors diverged")
            }
        }
    }

    func testFlattenedKeysFollowPyTorchNames() {
        let params = makeParams()
        let optimizer = Adam(params, lr: 0.01)
        run(optimizer, params, steps: 0..<2)
        let flat = optimizer.stateDict().flattened()
        XCTAssertEqual(flat["state.0.step"]?.item(Double.self), 2)
        XCTAssertEqual(flat["state.0.step"]?.dtype, .float32)
        XCTAssertEqual(flat["state.1.exp_avg"]?.shape, [4])
        XCTAssertEqual(flat["state.1.exp_avg_sq"]?.shape, [4])
        XCTAssertEqual(flat["param_groups.0.beta1"]?.item(Double.self), 0.9)
        XCTAssertEqual(flat["param_groups.0.eps"]?.item(Double.self), 1e-8)
        XCTAssertNil(flat["state.0.max_exp_avg_sq"])
    }

    func testAdagradStateExistsBeforeTheFirstStep() {
        let params = makeParams()
        let optimizer = Adagrad(params, lr: 0.1, initialAccumulatorValue: 0.25)
        let state = optimizer.stateDict()
        XCTAssertEqual(state.state.count, 2)
        XCTAssertEqual(state.state[1]?.step, 0)
        XCTAssertEqual(state.state[1]?["sum"]?.asArray(Double.self), [0.25, 0.25, 0.25, 0.25])
    }

    func testLoadStateDictRejectsMismatchedGroups() {
        let optimizer = SGD(makeParams(), lr: 0.1, momentum: 0.9)
        let twoGroups = SGD(groups: [ParamGroup([Tensor.zeros([2])]), ParamGroup([Tensor.zeros([2])])], lr: 0.1)
        XCTAssertThrowsError(try optimizer.loadStateDict(twoGroups.stateDict())) { error in
            XCTAssertEqual(error as? OptimizerStateError, .groupCountMismatch(expected: 1, got: 2))
        }
        let oneParam = SGD([Tensor.zeros([2])], lr: 0.1)
        XCTAssertThrowsError(try optimizer.loadStateDict(oneParam.stateDict())) { error in
            XCTAssertEqual(error as? OptimizerStateError, .groupSizeMismatch(group: 0, expected: 2, got: 1))
        }
        XCTAssertThrowsError(try OptimizerStateDict(flattened: ["weights.0": Tensor.zeros([1])])) { error in
            XCTAssertEqual(error as? OptimizerStateError, .malformedKey("weights.0"))
        }
        XCTAssertThrowsError(try OptimizerStateDict(flattened: ["param_groups.0.lr": Tensor(0.1)])) { error in
            XCTAssertEqual(error as? OptimizerStateError, .missingParams(group: 0))
        }
    }

    func testLoadStateDictRejectsBuffersOfTheWrongShape() throws {
        let params = makeParams()
        let optimizer = SGD(params, lr: 0.1, momentum: 0.9)
        run(optimizer, params, steps: 0..<1)
        var saved = optimizer.stateDict()
        saved.state[1]?["momentum_buffer"] = Tensor.zeros([5], dtype: .float64)
        let other = SGD(makeParams(), lr: 0.1, momentum: 0.9)
        XCTAssertThrowsError(try other.loadStateDict(saved)) { error in
            XCTAssertEqual(error as? OptimizerStateError, .shapeMismatch(key: "state.1.momentum_buffer", expected: [4], got: [5]))
        }
    }

    func testLoadStateDictRestoresHyperparameters() throws {
        let optimizer = SGD(makeParams(), lr: 0.1, momentum: 0.9)
        optimizer.learningRate = 0.0125
        let restored = SGD(makeParams(), lr: 0.1, momentum: 0.9)
        try restored.loadStateDict(optimizer.stateDict())
        XCTAssertEqual(restored.learningRate, 0.0125)
    }

    // MARK: The fused float32 Adam update

    func testFusedAdamStepMatchesTheOpByOpUpdate() {
        // A contiguous parameter takes the fused pass; the same values as a transposed view
        // (not contiguous) take the op-by-op path. Both must agree at every step, for Adam and
        // AdamW, coupled decay, maximize, and β₁ on both sides of the lerp switch at 0.5.
        let configurations: [(String, ([Tensor]) -> Adam)] = [
            ("AdamW", { AdamW($0, lr: 1e-2, betas: (0.9, 0.99), weightDecay: 0.1) }),
            ("Adam coupled decay", { Adam($0, lr: 3e-3, betas: (0.8, 0.999), weightDecay: 0.05) }),
            ("Adam maximize, beta1 0.3", { Adam($0, lr: 1e-2, betas: (0.3, 0.9), maximize: true) }),
        ]
        for (name, make) in configurations {
            let values = Tensor.randn([6, 5], generator: Generator(seed: 3))
            let fusedParam = values.clone().requiresGrad(true)
            let viewParam = values.t().contiguous().t().requiresGrad(true)   // strides [1, 6]
            XCTAssertFalse(viewParam.isContiguous)
            let fused = make([fusedParam]), reference = make([viewParam])
            for step in 0..<5 {
                let gradient = syntheticGradient(like: fusedParam, step: step, salt: 1).to(.float32)
                fusedParam.grad = gradient
                viewParam.grad = gradient
                fused.step()
                reference.step()
                XCTAssertTrue(fusedParam.allclose(viewParam, rtol: 1e-6, atol: 1e-7),
                              "\(name), step \(step): max diff \((fusedParam - viewParam).abs().max().item(Float.self))")
            }
            let moments = (fused.state(for: fusedParam)?["exp_avg_sq"], reference.state(for: viewParam)?["exp_avg_sq"])
            XCTAssertTrue(moments.0!.allclose(moments.1!, rtol: 1e-6, atol: 1e-9), name)
        }
    }
}
