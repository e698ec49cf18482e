// SequentialLR: runs several schedulers one after another, switching at milestone epochs.
import Ember

/// Runs `schedulers` one after another, handing over at each milestone epoch, as
/// `torch.optim.lr_scheduler.SequentialLR` — typically a warm-up followed by a decay.
///
/// With milestones m₁ < m₂ < …, scheduler i is in charge for mᵢ ≤ t < mᵢ₊₁. At a
/// milestone the next scheduler starts from its own epoch 0 (its closed form at 0, so a
/// `LinearLR` starts at `startFactor·η₀`, a `CosineAnnealingLR` at η₀); between
/// milestones the scheduler in charge steps as usual.
///
/// ```swift
/// let warmUp = LinearLR(optimizer, startFactor: 0.1, totalIters: 5)
/// let decay = CosineAnnealingLR(optimizer, tMax: 95)
/// let scheduler = SequentialLR(optimizer, schedulers: [warmUp, decay], milestones: [5])
/// scheduler.step()
/// ```
public final class SequentialLR: LRScheduler {
    /// The schedulers in order.
    public let schedulers: [LRScheduler]
    /// The epochs at which the next scheduler takes over.
    public let milestones: [Int]

    /// Creates the sequence: resets the groups to their initial rates, rewinds the
    /// children by one epoch and takes the first scheduler's initial step again.
    ///
    /// - Parameters:
    ///   - optimizer: the optimizer every child schedules.
    ///   - schedulers: at least one scheduler, all of `optimizer`.
    ///   - milestones: one fewer epoch than schedulers, ascending.
    public init(_ optimizer: Optimizer, schedulers: [LRScheduler], milestones: [Int]) {
        precondition(!schedulers.isEmpty, "SequentialLR expects at least one scheduler, but got no scheduler.")
        for (index, scheduler) in schedulers.enumerated() {
            precondition(scheduler.optimizer === optimizer,
                         "SequentialLR expects all schedulers to belong to the same optimizer, but got scheduler \(type(of: scheduler)) at index \(index) with another optimizer")
        }
        precondition(milestones.count == schedulers.count - 1,
                     "Sequential Schedulers expects number of schedulers provided to be one more than the number of milestone points, but got number of schedulers \(schedulers.count) and the number of milestones to be equal to \(milestones.count)")
        self.schedulers = schedulers
        self.milestones = milestones
        super.init(optimizer: optimizer, takesInitialStep: false)
        lastEpoch = 0
        for index in optimizer.paramGroups.indices {
            optimizer.paramGroups[index].lr = optimizer.paramGroups[index].value("initial_lr")
        }
        Self.rewind(schedulers)
        let first = schedulers[Self.bisectRight(milestones, 0)]
        first.initialStep()
        lastLR = first.lastLR
    }

    /// Moves every non-sequence scheduler, at any depth, back by one epoch (`recursive_undo`).
    static func rewind(_ schedulers: [LRScheduler]) {
        for scheduler in schedulers {
            if let sequence = scheduler as? SequentialLR { rewind(sequence.schedulers) } else { scheduler.lastEpoch -= 1 }
        }
    }

    /// The number of milestones ≤ `epoch`.
    static func bisectRight(_ milestones: [Int], _ epoch: Int) -> Int {
        milestones.firstIndex { $0 > epoch } ?? milestones.count
    }

    /// Advances one epoch: the scheduler in charge steps, or the next one starts at a milestone.
    override public func step() {
        lastEpoch += 1
        let index = Self.bisectRight(milestones, lastEpoch)
        let scheduler = schedulers[index]
        if index > 0 && milestones[index - 1] == lastEpoch {
            scheduler.updateLR(epoch: 0)
        } else {
            scheduler.step()
        }
        lastLR = scheduler.lastLR
    }

    /// The scheduler in charge computes the rates.
    override public func computeLR() -> [Double] {
        schedulers[Self.bisectRight(milestones, lastEpoch)].computeLR()
    }

    /// This sequence's progress with every child's state.
    override public func stateDict() -> SchedulerState {
        var state = super.stateDict()
        state.children = schedulers.map { $0.stateDict() }
        return state
    }

    /// Restores this sequence's and every child's progress.
    override public func loadStateDict(_ state: SchedulerState) {
        super.loadStateDict(state)
        precondition(state.children.count == schedulers.count,
                     "SequentialLR.loadStateDict: state has \(state.children.count) schedulers, this sequence has \(schedulers.count)")
        for (scheduler, child) in zip(schedulers, state.children) { scheduler.loadStateDict(child) }
    }
}
