// Learning-rate schedulers and gradient clipping against PyTorch's sequences and results.
import XCTest
import Ember
@testable import EmberOptim

final class SchedulerParityTests: XCTestCase {
    /// SGD (momentum 0.9) or Adam with two groups, lr 0.1 and 0.05, as the fixture script builds them.
    func twoGroupOptimizer(_ kind: String) -> Optimizer {
        let groups = [ParamGroup([Tensor.zeros([2])]), ParamGroup([Tensor.zeros([3])], lr: 0.05)]
        return kind == "SGD" ? SGD(groups: groups, lr: 0.1, momentum: 0.9) : Adam(groups: groups, lr: 0.1)
    }

    /// Builds the scheduler a case names; nil for an unmapped name.
    func makeScheduler(_ name: String, args: [String: Any], optimizer: Optimizer) -> LRScheduler? {
        func value(_ key: String) -> Double { number(args[key]) }
        func int(_ key: String) -> Int { Int(number(args[key])) }
        switch name {
        case "step_lr":
            return StepLR(optimizer, stepSize: int("step_size"), gamma: value("gamma"))
        case "multi_step_lr":
            return MultiStepLR(optimizer, milestones: ints(args["milestones"]), gamma: value("gamma"))
        case "exponential_lr":
            return ExponentialLR(optimizer, gamma: value("gamma"))
        case "cosine_annealing_lr", "cosine_annealing_lr_long":
            return CosineAnnealingLR(optimizer, tMax: int("T_max"), etaMin: value("eta_min"))
        case "linear_lr", "linear_lr_decay":
            return LinearLR(optimizer, startFactor: value("start_factor"), endFactor: value("end_factor"),
                            totalIters: int("total_iters"))
        case "one_cycle_lr_cos", "one_cycle_lr_linear_three_phase":
            let strategy: OneCycleLR.AnnealStrategy = args["anneal_strategy"] as? String == "linear" ? .linear : .cos
            let maxLRs = numbers(args["max_lr"])
            let baseMomentum = args["base_momentum"].map(number) ?? 0.85
            let maxMomentum = args["max_momentum"].map(number) ?? 0.95
            if Set(maxLRs).count == 1 {
                return OneCycleLR(optimizer, maxLR: maxLRs[0], totalSteps: int("total_steps"), pctStart: value("pct_start"),
                                  annealStrategy: strategy, baseMomentum: baseMomentum, maxMomentum: maxMomentum,
                                  divFactor: value("div_factor"), finalDivFactor: value("final_div_factor"),
                                  threePhase: args["three_phase"] as? Bool ?? false)
            }
            return OneCycleLR(optimizer, maxLRs: maxLRs, totalSteps: int("total_steps"), pctStart: value("pct_start"),
                              annealStrategy: strategy, baseMomentum: baseMomentum, maxMomentum: maxMomentum,
                              divFactor: value("div_factor"), finalDivFactor: value("final_div_factor"),
                              threePhase: args["three_phase"] as? Bool ?? false)
        case "sequential_linear_cosine":
            let warmUp = LinearLR(optimizer, startFactor: 0.1, totalIters: 5)
            let decay = CosineAnnealingLR(optimizer, tMax: 20)
            return SequentialLR(optimizer, schedulers: [warmUp, decay], milestones: ints(args["milestones"]))
        case "sequential_three":
            let warmUp = LinearLR(optimizer, startFactor: 0.5, totalIters: 4)
            let exponential = ExponentialLR(optimizer, gamma: 0.9)
            let steps = StepLR(optimizer, stepSize: 3, gamma: 0.5)
            return SequentialLR(optimizer, schedulers: [warmUp, exponential, steps], milestones: ints(args["milestones"]))
        default:
            return nil
        }
    }

    func testSchedulerSequencesMatchPyTorch() {
        let cases = OptimFixture.cases("schedulers")
        XCTAssertGreaterThanOrEqual(cases.count, 8)
        for testCase in cases {
            let name = testCase["name"] as! String
            let kind = testCase["optimizer"] as! String
            let optimizer = twoGroupOptimizer(kind)
            guard let scheduler = makeScheduler(name, args: testCase["args"] as! [String: Any], optimizer: optimizer) else {
                XCTFail("\(name): unmapped scheduler case")
                continue
            }
            let expected = (testCase["lrs"] as! [Any]).map(numbers)
            let momenta = (testCase["momenta"] as? [Any])?.map(numbers)
            XCTAssertGreaterThanOrEqual(expected.count, 31, name)
            let momentumKey = kind == "SGD" ? "momentum" : "beta1"
            for (epoch, rates) in expected.enumerated() {
                if epoch > 0 {
                    optimizer.step()
                    scheduler.step()
                }
                assertClose(scheduler.lastLR, rates, tolerance: 1e-12, floor: 1e-12, "\(name) epoch \(epoch)")
                assertClose(optimizer.paramGroups.map(\.lr), rates, tolerance: 1e-12, floor: 1e-12, "\(name) epoch \(epoch) group lr")
                if let momenta {
                    assertClose(optimizer.paramGroups.map { $0[momentumKey]! }, momenta[epoch], tolerance: 1e-12,
                                "\(name) epoch \(epoch) momentum")
                }
            }
        }
    }

    func testReduceLROnPlateauMatchesPyTorch() {
        for testCase in OptimFixture.cases("plateau") {
            let name = testCase["name"] as! String
            let args = testCase["args"] as! [String: Any]
            let optimizer = twoGroupOptimizer("SGD")
            let scheduler = ReduceLROnPlateau(
                optimizer, mode: args["mode"] as? String == "max" ? .max : .min, factor: number(args["factor"]),
                patience: Int(number(args["patience"])), threshold: number(args["threshold"]),
                thresholdMode: args["threshold_mode"] as? String == "abs" ? .abs : .rel,
                cooldown: Int(number(args["cooldown"])), minLR: number(args["min_lr"]))
            let metrics = numbers(testCase["metrics"])
            let expected = (testCase["lrs"] as! [Any]).map(numbers)
            XCTAssertEqual(metrics.count, expected.count, name)
            for (step, metric) in metrics.enumerated() {
                optimizer.step()
                scheduler.step(metric: metric)
                assertClose(scheduler.lastLR, expected[step], tolerance: 1e-12, floor: 1e-12, "\(name) step \(step + 1)")
            }
        }
    }

    func testGradientClippingMatchesPyTorch() {
        for testCase in OptimFixture.cases("clip") {
            let name = testCase["name"] as! String
            let args = testCase["args"] as! [String: Any]
            let shapes = (testCase["shapes"] as! [Any]).map(ints)
            let params = shapes.map { Tensor.zeros($0, requiresGrad: true) }
            for (param, grad) in zip(params, (testCase["grads"] as! [Any]).map(numbers)) {
                param.grad = Tensor(grad, shape: param.shape, dtype: .float32)
            }
            switch testCase["kind"] as? String {
            case "norm":
                let normType = args["norm_type"] as? String == "inf" ? Double.infinity : number(args["norm_type"])
                let total = clipGradNorm(params, maxNorm: number(args["max_norm"]), normType: normType)
                XCTAssertEqual(total.shape, [], name)
                assertClose([total.item(Double.self)], [number(testCase["total_norm"])], tolerance: 1e-6, "\(name) total norm")
            case "value":
                clipGradValue(params, clipValue: number(args["clip_value"]))
            default:
                XCTFail("\(name): unmapped clipping case")
                continue
            }
            for (param, expected) in zip(params, (testCase["clipped"] as! [Any]).map(numbers)) {
                XCTAssertEqual(param.grad?.dtype, .float32, name)
                assertClose(param.grad!.doubles, expected, tolerance: 1e-6, "\(name) gradient")
            }
        }
    }
}
