// ReduceLROnPlateau: lowers the learning rate when a monitored metric stops improving.
import Ember

/// Multiplies each group's learning rate by `factor` when a metric has not improved for
/// more than `patience` steps, as `torch.optim.lr_scheduler.ReduceLROnPlateau`.
///
/// Each ``step(metric:)`` compares the metric a with the best value so far:
///
/// ```
/// better (min, rel):  a < best · (1 − threshold)
/// better (min, abs):  a < best − threshold
/// better (max, rel):  a > best · (1 + threshold)
/// better (max, abs):  a > best + threshold
/// ```
///
/// A better value becomes the best and resets the count of bad steps; otherwise the
/// count grows (it stays 0 during a cooldown). When it exceeds `patience`, every group's
/// rate becomes `max(η·factor, minLR)` (changed only if that lowers it by more than
/// `eps`), the count resets and a cooldown of `cooldown` steps begins.
///
/// ```swift
/// let scheduler = ReduceLROnPlateau(optimizer, mode: .min, factor: 0.5, patience: 5)
/// for epoch in 0..<epochs {
///     train()
///     scheduler.step(metric: validationLoss())
/// }
/// ```
public final class ReduceLROnPlateau {
    /// Whether lower or higher metric values are better.
    public enum Mode: Sendable {
        /// Lower is better (a loss).
        case min
        /// Higher is better (an accuracy).
        case max
    }

    /// How the threshold compares a metric with the best so far.
    public enum ThresholdMode: Sendable {
        /// Relative to the best value.
        case rel
        /// An absolute margin.
        case abs
    }

    /// The optimizer whose learning rates this scheduler lowers.
    public let optimizer: Optimizer
    /// Whether lower or higher is better.
    public let mode: Mode
    /// The factor (< 1) applied to the rate on a plateau.
    public let factor: Double
    /// Bad steps tolerated before lowering the rate.
    public let patience: Int
    /// The margin a metric must beat the best by to count as better.
    public let threshold: Double
    /// Whether `threshold` is relative or absolute.
    public let thresholdMode: ThresholdMode
    /// Steps to wait after lowering the rate before counting bad steps again.
    public let cooldown: Int
    /// The lowest rate of each group.
    public var minLRs: [Double]
    /// The smallest change of a rate worth making.
    public let eps: Double
    /// The best metric so far (±infinity before the first step).
    public private(set) var best: Double
    /// Consecutive steps without improvement.
    public private(set) var numBadEpochs = 0
    /// Steps left in the current cooldown.
    public private(set) var cooldownCounter = 0
    /// The number of the last step taken.
    public private(set) var lastEpoch = 0
    /// The learning rates after the last step, one per group.
    public private(set) var lastLR: [Double]

    /// Creates the scheduler.
    ///
    /// - Parameters:
    ///   - optimizer: the optimizer to schedule.
    ///   - mode: `.min` when lower metrics are better, `.max` when higher ones are.
    ///   - factor: the factor applied on a plateau (< 1).
    ///   - patience: bad steps tolerated before lowering the rate.
    ///   - threshold: the margin of improvement that counts.
    ///   - thresholdMode: `.rel` (relative to the best) or `.abs`.
    ///   - cooldown: steps to wait after lowering the rate.
    ///   - minLR: the lowest rate of every group.
    ///   - eps: the smallest change of a rate worth making.
    public init(_ optimizer: Optimizer, mode: Mode = .min, factor: Double = 0.1, patience: Int = 10,
                threshold: Double = 1e-4, thresholdMode: ThresholdMode = .rel, cooldown: Int = 0,
                minLR: Double = 0, eps: Double = 1e-8) {
        precondition(factor < 1, "ReduceLROnPlateau: Factor should be < 1.0.")
        self.optimizer = optimizer
        self.mode = mode
        self.factor = factor
        self.patience = patience
        self.threshold = threshold
        self.thresholdMode = thresholdMode
        self.cooldown = cooldown
        self.minLRs = Array(repeating: minLR, count: optimizer.paramGroups.count)
        self.eps = eps
        self.best = mode == .min ? .infinity : -.infinity
        self.lastLR = optimizer.paramGroups.map(\.lr)
    }

    /// True while a cooldown is running.
    public var inCooldown: Bool { cooldownCounter > 0 }

    /// True when `metric` beats `best` by the threshold.
    func isBetter(_ metric: Double, than best: Double) -> Bool {
        switch (mode, thresholdMode) {
        case (.min, .rel): return metric < best * (1 - threshold)
        case (.min, .abs): return metric < best - threshold
        case (.max, .rel): return metric > best * (threshold + 1)
        case (.max, .abs): return metric > best + threshold
        }
    }

    /// Records one value of the monitored metric and lowers the rates on a plateau.
    ///
    /// - Parameter metric: the metric for this step (e.g. the validation loss).
    ///
    /// ```swift
    /// scheduler.step(metric: validationLoss)
    /// ```
    public func step(metric: Double) {
        lastEpoch += 1
        if isBetter(metric, than: best) {
            best = metric
            numBadEpochs = 0
        } else {
            numBadEpochs += 1
        }
        if inCooldown {
            cooldownCounter -= 1
            numBadEpochs = 0
        }
        if numBadEpochs > patience {
            reduceLR()
            cooldownCounter = cooldown
            numBadEpochs = 0
        }
        lastLR = optimizer.paramGroups.map(\.lr)
    }

    /// Lowers every group's rate by `factor`, not below its `minLRs` entry.
    func reduceLR() {
        precondition(minLRs.count == optimizer.paramGroups.count,
                     "ReduceLROnPlateau: the optimizer has \(optimizer.paramGroups.count) parameter groups but minLRs has \(minLRs.count) entries; set minLRs to match")
        for index in optimizer.paramGroups.indices {
            let old = optimizer.paramGroups[index].lr
            let new = Swift.max(old * factor, minLRs[index])
            if old - new > eps { optimizer.paramGroups[index].lr = new }
        }
    }

    /// The scheduler's progress: `last_epoch`, `_last_lr` and the values `best`,
    /// `num_bad_epochs`, `cooldown_counter` (PyTorch's names).
    ///
    /// ```swift
    /// let saved = scheduler.stateDict()
    /// ```
    public func stateDict() -> SchedulerState {
        SchedulerState(lastEpoch: lastEpoch, stepCount: lastEpoch, baseLRs: [], lastLR: lastLR,
                       values: ["best": best, "num_bad_epochs": Double(numBadEpochs), "cooldown_counter": Double(cooldownCounter)])
    }

    /// Restores progress saved by ``stateDict()``.
    ///
    /// - Parameter state: a state from ``stateDict()``.
    public func loadStateDict(_ state: SchedulerState) {
        lastEpoch = state.lastEpoch
        lastLR = state.lastLR
        best = state.values["best"] ?? best
        numBadEpochs = Int(state.values["num_bad_epochs"] ?? 0)
        cooldownCounter = Int(state.values["cooldown_counter"] ?? 0)
    }
}
