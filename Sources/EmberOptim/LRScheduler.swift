// The LRScheduler base class: epoch counting, the initial step, writing learning rates into groups, state.
import Ember

/// Base class of the learning-rate schedulers that change the rate once per `step()`, as
/// `torch.optim.lr_scheduler.LRScheduler`.
///
/// Creating a scheduler records each group's starting rate as `"initial_lr"` (kept if
/// already there), then takes an initial step to epoch 0, so ``lastLR`` holds the first
/// rates at once. Each ``step()`` advances ``lastEpoch`` by one, computes the new rates
/// (most schedulers from the current ones, recursively, as PyTorch does, so that
/// sequences match it exactly) and writes them into the optimizer's groups. Call it after
/// `optimizer.step()`.
///
/// Subclasses override ``computeLR()`` (PyTorch's `get_lr`) and, where a closed form
/// exists, ``closedFormLR()``.
///
/// ```swift
/// let scheduler = StepLR(optimizer, stepSize: 30, gamma: 0.1)
/// for _ in 0..<100 {
///     train(epoch)
///     scheduler.step()
/// }
/// ```
///
/// ### See Also
/// - ``StepLR``, ``MultiStepLR``, ``ExponentialLR``, ``CosineAnnealingLR``, ``LinearLR``,
///   ``OneCycleLR``, ``SequentialLR``, ``ReduceLROnPlateau``
open class LRScheduler {
    /// The optimizer whose learning rates this scheduler sets.
    public let optimizer: Optimizer
    /// Each group's `"initial_lr"` when the scheduler was created.
    public internal(set) var baseLRs: [Double]
    /// The number of the last epoch (step) taken; 0 after creation.
    public internal(set) var lastEpoch: Int
    /// The learning rates written by the last step, one per group (`get_last_lr()`).
    public internal(set) var lastLR: [Double] = []
    /// Calls of `step()`, the initial one included.
    var stepCount = 0
    /// True during the initial step taken on creation.
    var isInitial = false

    /// Records `"initial_lr"` in each group and takes the initial step; a subclass sets
    /// its own properties first, then calls this.
    ///
    /// - Parameter optimizer: the optimizer to schedule.
    public init(optimizer: Optimizer) {
        self.optimizer = optimizer
        baseLRs = Self.recordInitialLRs(optimizer)
        lastEpoch = -1
        initialStep()
    }

    /// Records `"initial_lr"` in each group, then takes the initial step unless told not to
    /// (``SequentialLR`` takes it on a child instead).
    init(optimizer: Optimizer, takesInitialStep: Bool) {
        self.optimizer = optimizer
        baseLRs = Self.recordInitialLRs(optimizer)
        lastEpoch = -1
        if takesInitialStep { initialStep() }
    }

    /// Sets each group's `"initial_lr"` to its rate unless already set; returns them all.
    static func recordInitialLRs(_ optimizer: Optimizer) -> [Double] {
        for index in optimizer.paramGroups.indices where optimizer.paramGroups[index]["initial_lr"] == nil {
            optimizer.paramGroups[index]["initial_lr"] = optimizer.paramGroups[index].lr
        }
        return optimizer.paramGroups.map { $0.value("initial_lr") }
    }

    /// Takes the step to epoch 0 that creation performs (`_initial_step`).
    func initialStep() {
        stepCount = 0
        isInitial = true
        step()
        isInitial = false
    }

    /// The current learning rate of every group.
    var groupLRs: [Double] { optimizer.paramGroups.map(\.lr) }

    /// Advances to the next epoch and writes the new learning rates into the optimizer.
    ///
    /// ```swift
    /// optimizer.step()
    /// scheduler.step()
    /// ```
    open func step() {
        stepCount += 1
        updateLR(epoch: nil)
    }

    /// Moves to `epoch` (closed form where the scheduler has one) or to the next epoch
    /// (recursive form), and writes the rates into the groups.
    func updateLR(epoch: Int?) {
        let values: [Double]
        if let epoch {
            lastEpoch = epoch
            values = closedFormLR() ?? computeLR()
        } else {
            lastEpoch += 1
            values = computeLR()
        }
        precondition(values.count == optimizer.paramGroups.count,
                     "\(Self.self): computed \(values.count) learning rates for \(optimizer.paramGroups.count) parameter groups")
        for (index, value) in values.enumerated() { optimizer.paramGroups[index].lr = value }
        lastLR = groupLRs
    }

    /// The learning rates for ``lastEpoch``, usually from the groups' current rates
    /// (PyTorch's `get_lr`). Subclasses override this.
    open func computeLR() -> [Double] {
        preconditionFailure("\(Self.self): subclasses of LRScheduler must override computeLR()")
    }

    /// The learning rates at ``lastEpoch`` from ``baseLRs`` alone, or nil when the
    /// scheduler has no closed form (PyTorch's `_get_closed_form_lr`).
    open func closedFormLR() -> [Double]? { nil }

    /// The scheduler's progress (epoch, step count, base and last rates), as PyTorch's
    /// `state_dict()`; its settings (gamma, milestones, …) are not included.
    ///
    /// ```swift
    /// let saved = scheduler.stateDict()
    /// restored.loadStateDict(saved)
    /// ```
    open func stateDict() -> SchedulerState {
        SchedulerState(lastEpoch: lastEpoch, stepCount: stepCount, baseLRs: baseLRs, lastLR: lastLR)
    }

    /// Restores progress saved by ``stateDict()``. The optimizer's rates are not changed
    /// (restore the optimizer's own state for those).
    ///
    /// - Parameter state: a state from ``stateDict()``.
    open func loadStateDict(_ state: SchedulerState) {
        lastEpoch = state.lastEpoch
        stepCount = state.stepCount
        baseLRs = state.baseLRs
        lastLR = state.lastLR
    }
}

/// A scheduler's saved progress: PyTorch's `last_epoch`, `_step_count`, `base_lrs` and
/// `_last_lr`, plus scheduler-specific values (``ReduceLROnPlateau``'s `best`, …) and
/// the states of child schedulers (``SequentialLR``).
///
/// ```swift
/// let saved: SchedulerState = scheduler.stateDict()
/// ```
public struct SchedulerState: Equatable {
    /// The last epoch taken.
    public var lastEpoch: Int
    /// Calls of `step()`.
    public var stepCount: Int
    /// The groups' initial learning rates.
    public var baseLRs: [Double]
    /// The learning rates of the last step.
    public var lastLR: [Double]
    /// Scheduler-specific values by PyTorch name.
    public var values: [String: Double]
    /// The states of child schedulers, in order.
    public var children: [SchedulerState]

    /// Creates a state.
    ///
    /// - Parameters:
    ///   - lastEpoch: the last epoch taken.
    ///   - stepCount: calls of `step()`.
    ///   - baseLRs: the initial learning rates.
    ///   - lastLR: the last learning rates.
    ///   - values: scheduler-specific values.
    ///   - children: child schedulers' states.
    public init(lastEpoch: Int, stepCount: Int, baseLRs: [Double], lastLR: [Double],
                values: [String: Double] = [:], children: [SchedulerState] = []) {
        self.lastEpoch = lastEpoch
        self.stepCount = stepCount
        self.baseLRs = baseLRs
        self.lastLR = lastLR
        self.values = values
        self.children = children
    }
}
