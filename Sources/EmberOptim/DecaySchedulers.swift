// Schedulers that scale the learning rate by fixed factors: StepLR, MultiStepLR, ExponentialLR, LinearLR.
import Ember
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Multiplies each group's learning rate by γ every `stepSize` epochs, as
/// `torch.optim.lr_scheduler.StepLR`:
///
/// ```
/// ηₜ = η₀ · γ^⌊t / stepSize⌋
/// ```
///
/// ```swift
/// let scheduler = StepLR(optimizer, stepSize: 30, gamma: 0.1)   // 0.1, then 0.01 from epoch 30, ...
/// scheduler.step()
/// ```
public final class StepLR: LRScheduler {
    /// Epochs between decays.
    public let stepSize: Int
    /// The decay factor γ.
    public let gamma: Double

    /// Creates the scheduler and takes its initial step.
    ///
    /// - Parameters:
    ///   - optimizer: the optimizer to schedule.
    ///   - stepSize: epochs between decays (> 0).
    ///   - gamma: the decay factor γ.
    public init(_ optimizer: Optimizer, stepSize: Int, gamma: Double = 0.1) {
        precondition(stepSize > 0, "StepLR: stepSize must be positive, got \(stepSize)")
        self.stepSize = stepSize
        self.gamma = gamma
        super.init(optimizer: optimizer)
    }

    /// The current rates, times γ when the epoch is a nonzero multiple of `stepSize`.
    override public func computeLR() -> [Double] {
        if lastEpoch == 0 || lastEpoch % stepSize != 0 { return groupLRs }
        return groupLRs.map { $0 * gamma }
    }

    /// `η₀ · γ^⌊t / stepSize⌋`.
    override public func closedFormLR() -> [Double]? {
        baseLRs.map { $0 * pow(gamma, Double(lastEpoch / stepSize)) }
    }
}

/// Multiplies each group's learning rate by γ at each milestone epoch, as
/// `torch.optim.lr_scheduler.MultiStepLR` (a milestone listed n times multiplies by γⁿ):
///
/// ```
/// ηₜ = η₀ · γ^(number of milestones ≤ t)
/// ```
///
/// ```swift
/// let scheduler = MultiStepLR(optimizer, milestones: [30, 80], gamma: 0.1)
/// scheduler.step()
/// ```
public final class MultiStepLR: LRScheduler {
    /// The epochs at which the rate decays (sorted, repeats kept).
    public let milestones: [Int]
    /// The decay factor γ.
    public let gamma: Double

    /// Creates the scheduler and takes its initial step.
    ///
    /// - Parameters:
    ///   - optimizer: the optimizer to schedule.
    ///   - milestones: epochs at which to decay.
    ///   - gamma: the decay factor γ.
    public init(_ optimizer: Optimizer, milestones: [Int], gamma: Double = 0.1) {
        self.milestones = milestones.sorted()
        self.gamma = gamma
        super.init(optimizer: optimizer)
    }

    /// The current rates, times γⁿ when the epoch is a milestone listed n times.
    override public func computeLR() -> [Double] {
        let count = milestones.lazy.filter { $0 == self.lastEpoch }.count
        if count == 0 { return groupLRs }
        return groupLRs.map { $0 * pow(gamma, Double(count)) }
    }

    /// `η₀ · γ^(number of milestones ≤ t)`.
    override public func closedFormLR() -> [Double]? {
        let passed = milestones.lazy.filter { $0 <= self.lastEpoch }.count
        return baseLRs.map { $0 * pow(gamma, Double(passed)) }
    }
}

/// Multiplies each group's learning rate by γ every epoch, as
/// `torch.optim.lr_scheduler.ExponentialLR`:
///
/// ```
/// ηₜ = η₀ · γᵗ
/// ```
///
/// ```swift
/// let scheduler = ExponentialLR(optimizer, gamma: 0.95)
/// scheduler.step()
/// ```
public final class ExponentialLR: LRScheduler {
    /// The decay factor γ.
    public let gamma: Double

    /// Creates the scheduler and takes its initial step.
    ///
    /// - Parameters:
    ///   - optimizer: the optimizer to schedule.
    ///   - gamma: the decay factor γ.
    public init(_ optimizer: Optimizer, gamma: Double) {
        self.gamma = gamma
        super.init(optimizer: optimizer)
    }

    /// The current rates times γ (unchanged on the initial step).
    override public func computeLR() -> [Double] {
        isInitial ? groupLRs : groupLRs.map { $0 * gamma }
    }

    /// `η₀ · γᵗ`.
    override public func closedFormLR() -> [Double]? {
        baseLRs.map { $0 * pow(gamma, Double(lastEpoch)) }
    }
}

/// Scales each group's learning rate by a factor that changes linearly from
/// `startFactor` to `endFactor` over `totalIters` epochs (a warm-up when
/// `startFactor < endFactor`), as `torch.optim.lr_scheduler.LinearLR`:
///
/// ```
/// ηₜ = η₀ · (s + (e − s) · min(t, T) / T)
/// ```
///
/// computed recursively as PyTorch does:
/// `ηₜ = ηₜ₋₁ · (1 + (e − s) / (T·s + (t − 1)·(e − s)))` for 0 < t ≤ T.
///
/// ```swift
/// let warmUp = LinearLR(optimizer, startFactor: 0.1, totalIters: 5)
/// warmUp.step()
/// ```
public final class LinearLR: LRScheduler {
    /// The factor s at epoch 0, in (0, 1].
    public let startFactor: Double
    /// The factor e from epoch `totalIters` on, in [0, 1].
    public let endFactor: Double
    /// The number of epochs T over which the factor changes.
    public let totalIters: Int

    /// Creates the scheduler and takes its initial step.
    ///
    /// - Parameters:
    ///   - optimizer: the optimizer to schedule.
    ///   - startFactor: factor s at epoch 0 (0 < s ≤ 1).
    ///   - endFactor: factor e at epoch T (0 ≤ e ≤ 1).
    ///   - totalIters: epochs T to go from s to e.
    public init(_ optimizer: Optimizer, startFactor: Double = 1.0 / 3, endFactor: Double = 1, totalIters: Int = 5) {
        precondition(startFactor > 0 && startFactor <= 1,
                     "LinearLR: Starting multiplicative factor expected to be greater than 0 and less or equal to 1.")
        precondition(endFactor >= 0 && endFactor <= 1, "LinearLR: Ending multiplicative factor expected to be between 0 and 1.")
        self.startFactor = startFactor
        self.endFactor = endFactor
        self.totalIters = totalIters
        super.init(optimizer: optimizer)
    }

    /// The recursive form (see the type's description).
    override public func computeLR() -> [Double] {
        if lastEpoch == 0 { return groupLRs.map { $0 * startFactor } }
        if isInitial || lastEpoch > totalIters { return groupLRs }
        let change = endFactor - startFactor
        let factor = 1.0 + change / (Double(totalIters) * startFactor + Double(lastEpoch - 1) * change)
        return groupLRs.map { $0 * factor }
    }

    /// `η₀ · (s + (e − s) · min(t, T) / T)`.
    override public func closedFormLR() -> [Double]? {
        baseLRs.map { $0 * (startFactor + (endFactor - startFactor) * Double(min(totalIters, lastEpoch)) / Double(totalIters)) }
    }
}
