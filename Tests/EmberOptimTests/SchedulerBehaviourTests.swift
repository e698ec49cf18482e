// Scheduler behaviour beyond the PyTorch sequences: initial_lr, state round trips, clipping edge cases.
import XCTest
import Ember
@testable import EmberOptim

final class SchedulerBehaviourTests: XCTestCase {
    private func makeOptimizer() -> SGD {
        SGD(groups: [ParamGroup([Tensor.zeros([2])]), ParamGroup([Tensor.zeros([2])], lr: 0.5)], lr: 0.1, momentum: 0.9)
    }

    func testCreatingASchedulerRecordsInitialLearningRates() {
        let optimizer = makeOptimizer()
        let scheduler = ExponentialLR(optimizer, gamma: 0.5)
        XCTAssertEqual(optimizer.paramGroups.map { $0["initial_lr"] }, [0.1, 0.5])
        XCTAssertEqual(scheduler.baseLRs, [0.1, 0.5])
        XCTAssertEqual(scheduler.lastEpoch, 0)
        XCTAssertEqual(scheduler.lastLR, [0.1, 0.5])
        scheduler.step()
        scheduler.step()
        XCTAssertEqual(scheduler.lastEpoch, 2)
        XCTAssertEqual(scheduler.lastLR, [0.025, 0.125])
        XCTAssertEqual(optimizer.learningRate, 0.025)
    }

    func testSchedulerFollowsAManualLearningRateChange() {
        let optimizer = makeOptimizer()
        let scheduler = StepLR(optimizer, stepSize: 2, gamma: 0.1)
        optimizer.learningRate = 1.0
        scheduler.step()   // epoch 1: unchanged
        scheduler.step()   // epoch 2: × 0.1 of the current rate
        XCTAssertEqual(scheduler.lastLR[0], 0.1, accuracy: 1e-15)
        XCTAssertEqual(scheduler.lastLR[1], 0.1, accuracy: 1e-15)
    }

    func testRestoredSchedulerContinuesTheSameSequence() {
        let optimizer = makeOptimizer()
        let scheduler = CosineAnnealingLR(optimizer, tMax: 10, etaMin: 0.01)
        for _ in 0..<4 { scheduler.step() }
        let saved = scheduler.stateDict()
        XCTAssertEqual(saved.lastEpoch, 4)
        XCTAssertEqual(saved.stepCount, 5)

        let other = makeOptimizer()
        let restored = CosineAnnealingLR(other, tMax: 10, etaMin: 0.01)
        restored.loadStateDict(saved)
        other.paramGroups[0].lr = optimizer.paramGroups[0].lr
        other.paramGroups[1].lr = optimizer.paramGroups[1].lr
        for _ in 0..<8 {
            scheduler.step()
            restored.step()
            XCTAssertEqual(restored.lastLR, scheduler.lastLR)
        }
        XCTAssertEqual(restored.lastEpoch, 12)
    }

    func testSequentialStateIncludesItsSchedulers() {
        let optimizer = makeOptimizer()
        let scheduler = SequentialLR(optimizer, schedulers: [LinearLR(optimizer, startFactor: 0.5, totalIters: 2),
                                                             ExponentialLR(optimizer, gamma: 0.9)], milestones: [2])
        for _ in 0..<5 { scheduler.step() }
        let saved = scheduler.stateDict()
        XCTAssertEqual(saved.lastEpoch, 5)
        XCTAssertEqual(saved.children.count, 2)
        XCTAssertEqual(saved.children[1].lastEpoch, 3)

        let other = makeOptimizer()
        let restored = SequentialLR(other, schedulers: [LinearLR(other, startFactor: 0.5, totalIters: 2),
                                                        ExponentialLR(other, gamma: 0.9)], milestones: [2])
        restored.loadStateDict(saved)
        XCTAssertEqual(restored.stateDict(), saved)
        for index in other.paramGroups.indices { other.paramGroups[index].lr = optimizer.paramGroups[index].lr }
        scheduler.step()
        restored.step()
        XCTAssertEqual(restored.lastLR, scheduler.lastLR)
    }

    func testReduceLROnPlateauStateRoundTrips() {
        let optimizer = makeOptimizer()
        let scheduler = ReduceLROnPlateau(optimizer, factor: 0.5, patience: 1, cooldown: 2)
        for metric in [1.0, 0.5, 0.6, 0.7, 0.8] { scheduler.step(metric: metric) }
        XCTAssertEqual(scheduler.best, 0.5)
        XCTAssertEqual(scheduler.lastLR, [0.05, 0.25])
        XCTAssertTrue(scheduler.inCooldown)

        let saved = scheduler.stateDict()
        XCTAssertEqual(saved.values["best"], 0.5)
        XCTAssertEqual(saved.values["cooldown_counter"], 1)
        let other = makeOptimizer()
        other.paramGroups[0].lr = 0.05
        other.paramGroups[1].lr = 0.25
        let restored = ReduceLROnPlateau(other, factor: 0.5, patience: 1, cooldown: 2)
        restored.loadStateDict(saved)
        for metric in [0.9, 0.9, 0.9, 0.9, 0.1] {
            scheduler.step(metric: metric)
            restored.step(metric: metric)
            XCTAssertEqual(restored.lastLR, scheduler.lastLR)
        }
        XCTAssertEqual(restored.best, 0.1)
    }

    func testReduceLROnPlateauNeverGoesBelowMinLR() {
        let optimizer = makeOptimizer()
        let scheduler = ReduceLROnPlateau(optimizer, factor: 0.1, patience: 0, minLR: 0.02)
        for _ in 0..<6 { scheduler.step(metric: 1.0) }
        XCTAssertEqual(scheduler.lastLR, [0.02, 0.02])
    }

    func testOneCycleCyclesAdamBeta1() {
        let optimizer = Adam([Tensor.zeros([2])], lr: 0.1, betas: (0.9, 0.99))
        let scheduler = OneCycleLR(optimizer, maxLR: 1.0, totalSteps: 10, pctStart: 0.5, annealStrategy: .linear,
                                   baseMomentum: 0.8, maxMomentum: 0.9)
        XCTAssertEqual(optimizer.paramGroups[0]["beta1"], 0.9)
        XCTAssertEqual(optimizer.learningRate, 0.04)
        for _ in 0..<4 { scheduler.step() }
        XCTAssertEqual(optimizer.learningRate, 1.0, accuracy: 1e-12)
        XCTAssertEqual(optimizer.paramGroups[0]["beta1"]!, 0.8, accuracy: 1e-12)
        XCTAssertEqual(optimizer.paramGroups[0]["beta2"], 0.99)
        for _ in 0..<5 { scheduler.step() }
        XCTAssertEqual(optimizer.learningRate, 0.04 / 1e4, accuracy: 1e-15)
        XCTAssertEqual(optimizer.paramGroups[0]["beta1"]!, 0.9, accuracy: 1e-12)
    }

    func testClipGradNormSkipsParametersWithoutGradients() {
        let a = Tensor.zeros([2]), b = Tensor.zeros([2])
        a.grad = Tensor([3, 4] as [Float], shape: [2])
        let total = clipGradNorm([a, b], maxNorm: 1)
        XCTAssertEqual(total.item(Double.self), 5, accuracy: 1e-6)
        XCTAssertNil(b.grad)
        let clipped = a.grad!.asArray(Float.self)
        XCTAssertEqual(clipped[0], 0.6, accuracy: 1e-6)
        XCTAssertEqual(clipped[1], 0.8, accuracy: 1e-6)
        XCTAssertEqual(clipGradNorm([b], maxNorm: 1).item(Double.self), 0)
    }

    func testClipGradNormWithInfinityUsesTheLargestMagnitude() {
        let a = Tensor.zeros([3]), b = Tensor.zeros([1])
        a.grad = Tensor([1, -6, 2] as [Float], shape: [3])
        b.grad = Tensor([3] as [Float], shape: [1])
        let total = clipGradNorm([a, b], maxNorm: 3, normType: .infinity)
        XCTAssertEqual(total.item(Double.self), 6)
        XCTAssertEqual(a.grad!.asArray(Float.self)[1], -3, accuracy: 1e-5)
        XCTAssertEqual(b.grad!.asArray(Float.self)[0], 1.5, accuracy: 1e-5)
    }
}
