// OneCycleLR: the 1cycle policy — warm up to a maximum rate, then anneal far below the start; momentum cycles inversely.
import Ember
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The 1cycle learning-rate policy, as `torch.optim.lr_scheduler.OneCycleLR`; step it
/// after every batch, `totalSteps` times in all.
///
/// Each group starts at η_init = η_max / `divFactor`, rises to η_max over the first
/// `pctStart` of the steps, then falls to η_min = η_init / `finalDivFactor`. With
/// `threePhase`, it first falls back to η_init (mirroring the rise) and only then to
/// η_min. Within a phase from a to b spanning steps s₀…s₁, at step t with
/// p = (t − s₀)/(s₁ − s₀):
///
/// ```
/// cos:     η = b + (a − b) · (1 + cos(π·p)) / 2
/// linear:  η = a + (b − a) · p
/// phase ends (two phases):   s = pctStart·N − 1,  N − 1
/// phase ends (three phases): s = pctStart·N − 1,  2·pctStart·N − 2,  N − 1
/// ```
///
/// When `cycleMomentum` is true, the momentum (SGD's `"momentum"`, Adam's `"beta1"`)
/// moves inversely between `maxMomentum` and `baseMomentum` along the same phases.
///
/// ```swift
/// let scheduler = OneCycleLR(optimizer, maxLR: 0.1, totalSteps: epochs * batchesPerEpoch)
/// for batch in batches { train(batch); optimizer.step(); scheduler.step() }
/// ```
public final class OneCycleLR: LRScheduler {
    /// How a phase interpolates between its start and end values.
    public enum AnnealStrategy: Sendable {
        /// Half a cosine.
        case cos
        /// A straight line.
        case linear
    }

    /// One phase: where it ends and which group keys hold its start and end values.
    struct Phase {
        let endStep: Double
        let startLR: String, endLR: String
        let startMomentum: String, endMomentum: String
    }

    /// The total number of steps N in the cycle.
    public let totalSteps: Int
    /// The interpolation used within each phase.
    public let annealStrategy: AnnealStrategy
    /// Whether the momentum cycles inversely to the learning rate.
    public let cycleMomentum: Bool
    /// True when the optimizer's momentum is Adam's β₁ (`"beta1"`).
    let usesBeta1: Bool
    let phases: [Phase]

    /// Creates the scheduler: sets each group's `"initial_lr"`, `"max_lr"` and `"min_lr"`
    /// (and, when cycling momentum, its momentum to `maxMomentum`), then takes its initial step.
    ///
    /// - Parameters:
    ///   - optimizer: the optimizer to schedule.
    ///   - maxLR: the peak learning rate η_max of every group.
    ///   - totalSteps: steps N in the cycle (> 0).
    ///   - pctStart: the fraction of steps spent rising (0…1).
    ///   - annealStrategy: `.cos` or `.linear`.
    ///   - cycleMomentum: cycle the momentum inversely to the rate.
    ///   - baseMomentum: the momentum at the peak rate.
    ///   - maxMomentum: the momentum at the start and end.
    ///   - divFactor: η_init = η_max / divFactor.
    ///   - finalDivFactor: η_min = η_init / finalDivFactor.
    ///   - threePhase: fall back to η_init before annealing to η_min.
    public convenience init(_ optimizer: Optimizer, maxLR: Double, totalSteps: Int, pctStart: Double = 0.3,
                            annealStrategy: AnnealStrategy = .cos, cycleMomentum: Bool = true,
                            baseMomentum: Double = 0.85, maxMomentum: Double = 0.95, divFactor: Double = 25,
                            finalDivFactor: Double = 1e4, threePhase: Bool = false) {
        self.init(optimizer, maxLRs: Array(repeating: maxLR, count: optimizer.paramGroups.count), totalSteps: totalSteps,
                  pctStart: pctStart, annealStrategy: annealStrategy, cycleMomentum: cycleMomentum,
                  baseMomentum: baseMomentum, maxMomentum: maxMomentum, divFactor: divFactor,
                  finalDivFactor: finalDivFactor, threePhase: threePhase)
    }

    /// Creates the scheduler with a peak learning rate per group (see the other initializer).
    ///
    /// - Parameters:
    ///   - optimizer: the optimizer to schedule.
    ///   - maxLRs: the peak learning rate η_max of each group.
    ///   - totalSteps: steps N in the cycle (> 0).
    ///   - pctStart: the fraction of steps spent rising (0…1).
    ///   - annealStrategy: `.cos` or `.linear`.
    ///   - cycleMomentum: cycle the momentum inversely to the rate.
    ///   - baseMomentum: the momentum at the peak rate.
    ///   - maxMomentum: the momentum at the start and end.
    ///   - divFactor: η_init = η_max / divFactor.
    ///   - finalDivFactor: η_min = η_init / finalDivFactor.
    ///   - threePhase: fall back to η_init before annealing to η_min.
    public init(_ optimizer: Optimizer, maxLRs: [Double], totalSteps: Int, pctStart: Double = 0.3,
                annealStrategy: AnnealStrategy = .cos, cycleMomentum: Bool = true,
                baseMomentum: Double = 0.85, maxMomentum: Double = 0.95, divFactor: Double = 25,
                finalDivFactor: Double = 1e4, threePhase: Bool = false) {
        precondition(totalSteps > 0, "OneCycleLR: Expected positive integer total_steps, but got \(totalSteps)")
        precondition(pctStart >= 0 && pctStart <= 1, "OneCycleLR: Expected float between 0 and 1 pct_start, but got \(pctStart)")
        precondition(maxLRs.count == optimizer.paramGroups.count,
                     "OneCycleLR: expected \(optimizer.paramGroups.count) values for max_lr, got \(maxLRs.count)")
        self.totalSteps = totalSteps
        self.annealStrategy = annealStrategy
        self.cycleMomentum = cycleMomentum
        let steps = Double(totalSteps)
        if threePhase {
            phases = [
                Phase(endStep: pctStart * steps - 1, startLR: "initial_lr", endLR: "max_lr",
                      startMomentum: "max_momentum", endMomentum: "base_momentum"),
                Phase(endStep: 2 * pctStart * steps - 2, startLR: "max_lr", endLR: "initial_lr",
                      startMomentum: "base_momentum", endMomentum: "max_momentum"),
                Phase(endStep: steps - 1, startLR: "initial_lr", endLR: "min_lr",
                      startMomentum: "max_momentum", endMomentum: "max_momentum"),
            ]
        } else {
            phases = [
                Phase(endStep: pctStart * steps - 1, startLR: "initial_lr", endLR: "max_lr",
                      startMomentum: "max_momentum", endMomentum: "base_momentum"),
                Phase(endStep: steps - 1, startLR: "max_lr", endLR: "min_lr",
                      startMomentum: "base_momentum", endMomentum: "max_momentum"),
            ]
        }
        for (index, maxLR) in maxLRs.enumerated() {
            optimizer.paramGroups[index]["initial_lr"] = maxLR / divFactor
            optimizer.paramGroups[index]["max_lr"] = maxLR
            optimizer.paramGroups[index]["min_lr"] = maxLR / divFactor / finalDivFactor
        }
        usesBeta1 = optimizer.defaults["beta1"] != nil
        if cycleMomentum {
            precondition(optimizer.defaults["momentum"] != nil || usesBeta1,
                         "OneCycleLR: optimizer must support momentum or beta1 with `cycleMomentum` option enabled")
            for index in optimizer.paramGroups.indices {
                optimizer.paramGroups[index][usesBeta1 ? "beta1" : "momentum"] = maxMomentum
                optimizer.paramGroups[index]["max_momentum"] = maxMomentum
                optimizer.paramGroups[index]["base_momentum"] = baseMomentum
            }
        }
        super.init(optimizer: optimizer)
    }

    /// Interpolates from `start` to `end` at fraction `pct` of a phase.
    func anneal(_ start: Double, _ end: Double, _ pct: Double) -> Double {
        switch annealStrategy {
        case .cos: return end + (start - end) / 2.0 * (cos(Double.pi * pct) + 1)
        case .linear: return (end - start) * pct + start
        }
    }

    /// The rates at the current step (and, when cycling, sets each group's momentum).
    override public func computeLR() -> [Double] {
        let stepNumber = Double(lastEpoch)
        precondition(lastEpoch <= totalSteps,
                     "OneCycleLR: Tried to step \(lastEpoch) times. The specified number of total steps is \(totalSteps)")
        var rates: [Double] = []
        for index in optimizer.paramGroups.indices {
            let group = optimizer.paramGroups[index]
            var startStep = 0.0
            for (phaseIndex, phase) in phases.enumerated() {
                if stepNumber <= phase.endStep || phaseIndex == phases.count - 1 {
                    let pct = (stepNumber - startStep) / (phase.endStep - startStep)
                    rates.append(anneal(group.value(phase.startLR), group.value(phase.endLR), pct))
                    if cycleMomentum {
                        optimizer.paramGroups[index][usesBeta1 ? "beta1" : "momentum"] =
                            anneal(group.value(phase.startMomentum), group.value(phase.endMomentum), pct)
                    }
                    break
                }
                startStep = phase.endStep
            }
        }
        return rates
    }
}
