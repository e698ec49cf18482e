// Optimizers against PyTorch: 20 steps from fixed parameters and gradients, compared after every step.
import XCTest
import Ember
@testable import EmberOptim

final class OptimizerParityTests: XCTestCase {
    /// The optimizers the fixture may name; a case naming another fails.
    static let families = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"]

    /// Builds the optimizer a case describes, with the public initializers (one group) or
    /// the group initializers.
    func makeOptimizer(_ testCase: [String: Any], params: [Tensor]) -> Optimizer? {
        let kwargs = testCase["kwargs"] as? [String: Any] ?? [:]
        func value(_ key: String) -> Double? { kwargs[key].map(number) }
        func flag(_ key: String) -> Bool { (kwargs[key] as? Bool) ?? false }
        let betas = kwargs["betas"].map(numbers).map { ($0[0], $0[1]) } ?? (0.9, 0.999)

        if let groupList = testCase["groups"] as? [[String: Any]] {
            let groups = groupList.map { group -> ParamGroup in
                var options: [String: Double] = [:]
                for (key, raw) in group["options"] as? [String: Any] ?? [:] {
                    if key == "betas" {
                        let pair = numbers(raw)
                        options["beta1"] = pair[0]
                        options["beta2"] = pair[1]
                    } else if let flag = raw as? Bool {
                        options[key] = flag ? 1 : 0
                    } else {
                        options[key] = number(raw)
                    }
                }
                return ParamGroup(ints(group["params"]).map { params[$0] }, options: options)
            }
            switch testCase["optimizer"] as? String {
            case "SGD":
                return SGD(groups: groups, lr: value("lr")!, momentum: value("momentum") ?? 0, dampening: value("dampening") ?? 0,
                           weightDecay: value("weight_decay") ?? 0, nesterov: flag("nesterov"), maximize: flag("maximize"))
            case "Adam":
                return Adam(groups: groups, lr: value("lr") ?? 1e-3, betas: betas, eps: value("eps") ?? 1e-8,
                            weightDecay: value("weight_decay") ?? 0, amsgrad: flag("amsgrad"), maximize: flag("maximize"))
            case "Adagrad":
                return Adagrad(groups: groups, lr: value("lr") ?? 1e-2, lrDecay: value("lr_decay") ?? 0,
                               weightDecay: value("weight_decay") ?? 0,
                               initialAccumulatorValue: value("initial_accumulator_value") ?? 0,
                               eps: value("eps") ?? 1e-10, maximize: flag("maximize"))
            default:
                return nil
            }
        }

        switch testCase["optimizer"] as? String {
        case "SGD":
            return SGD(params, lr: value("lr")!, momentum: value("momentum") ?? 0, dampening: value("dampening") ?? 0,
                       weightDecay: value("weight_decay") ?? 0, nesterov: flag("nesterov"), maximize: flag("maximize"))
        case "Adam":
            return Adam(params, lr: value("lr") ?? 1e-3, betas: betas, eps: value("eps") ?? 1e-8,
                        weightDecay: value("weight_decay") ?? 0, amsgrad: flag("amsgrad"), maximize: flag("maximize"))
        case "AdamW":
            return AdamW(params, lr: value("lr") ?? 1e-3, betas: betas, eps: value("eps") ?? 1e-8,
                         weightDecay: value("weight_decay") ?? 1e-2, amsgrad: flag("amsgrad"), maximize: flag("maximize"))
        case "RMSprop":
            return RMSprop(params, lr: value("lr") ?? 1e-2, alpha: value("alpha") ?? 0.99, eps: value("eps") ?? 1e-8,
                           weightDecay: value("weight_decay") ?? 0, momentum: value("momentum") ?? 0,
                           centered: flag("centered"), maximize: flag("maximize"))
        case "Adagrad":
            return Adagrad(params, lr: value("lr") ?? 1e-2, lrDecay: value("lr_decay") ?? 0,
                           weightDecay: value("weight_decay") ?? 0,
                           initialAccumulatorValue: value("initial_accumulator_value") ?? 0,
                           eps: value("eps") ?? 1e-10, maximize: flag("maximize"))
        default:
            return nil
        }
    }

    /// Runs every fixture case of `family`, comparing the parameters after each step.
    func checkFamily(_ family: String) {
        let cases = OptimFixture.cases("optimizers").filter { $0["optimizer"] as? String == family }
        XCTAssertFalse(cases.isEmpty, "no fixture cases for \(family)")
        for testCase in cases {
            let name = testCase["name"] as! String
            let dtype: DType = testCase["dtype"] as? String == "float32" ? .float32 : .float64
            // float64 runs agree to rounding (measured ≤ 1e-12; checked at 1e-10, well inside the
            // 1e-6 asked for); float32 runs differ by PyTorch's fused kernels' roundings (about
            // one float32 ulp of the parameter per step, so near-zero elements are compared
            // relative to 0.1).
            let tolerance = dtype == .float64 ? 1e-10 : 1e-5
            let floor = dtype == .float64 ? 1e-3 : 0.1
            let shapes = (testCase["shapes"] as! [Any]).map(ints)
            let initial = (testCase["initial"] as! [Any]).map(numbers)
            let params = zip(initial, shapes).map { Tensor($0, shape: $1, dtype: dtype).requiresGrad(true) }
            guard let optimizer = makeOptimizer(testCase, params: params) else {
                XCTFail("\(name): unmapped optimizer case")
                continue
            }
            let grads = testCase["grads"] as! [[Any]]
            let expected = testCase["params"] as! [[Any]]
            XCTAssertEqual(grads.count, 20, name)
            for (step, stepGrads) in grads.enumerated() {
                for (param, grad) in zip(params, stepGrads) {
                    param.grad = grad is NSNull ? nil : Tensor(numbers(grad), shape: param.shape, dtype: dtype)
                }
                optimizer.step()
                for (index, param) in params.enumerated() {
                    assertClose(param.doubles, numbers(expected[step][index]), tolerance: tolerance, floor: floor,
                                "\(name) step \(step + 1) parameter \(index)")
                }
            }
        }
    }

    func testEveryOptimizerCaseIsMapped() {
        for testCase in OptimFixture.cases("optimizers") {
            let family = testCase["optimizer"] as? String ?? "?"
            XCTAssertTrue(Self.families.contains(family), "\(testCase["name"] ?? "?"): unmapped optimizer \(family)")
            let params = [Tensor.zeros([2, 3], dtype: .float64), Tensor.zeros([4], dtype: .float64)]
            XCTAssertNotNil(makeOptimizer(testCase, params: params), "\(testCase["name"] ?? "?"): cannot be built")
        }
    }

    func testSGDMatchesPyTorch() { checkFamily("SGD") }
    func testAdamMatchesPyTorch() { checkFamily("Adam") }
    func testAdamWMatchesPyTorch() { checkFamily("AdamW") }
    func testRMSpropMatchesPyTorch() { checkFamily("RMSprop") }
    func testAdagradMatchesPyTorch() { checkFamily("Adagrad") }
}
