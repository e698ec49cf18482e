// CosineAnnealingLR: the learning rate follows a cosine from its initial value down to a minimum.
import Ember
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Anneals each group's learning rate along a cosine from its initial value η₀ to
/// `etaMin` over `tMax` epochs, as `torch.optim.lr_scheduler.CosineAnnealingLR`:
///
/// ```
/// ηₜ = η_min + (η₀ − η_min) · (1 + cos(π·t / T_max)) / 2
/// ```
///
/// Like PyTorch, each step computes the rate from the current one (the recursive form
/// below), so the sequence matches PyTorch's exactly, also past `tMax` (where the
/// cosine climbs back) and when something else changed the rate in between:
///
/// ```
/// ηₜ = η_min + (ηₜ₋₁ − η_min) · (1 + cos(π·t / T_max)) / (1 + cos(π·(t − 1) / T_max))
/// ηₜ = ηₜ₋₁ + (η₀ − η_min) · (1 − cos(π / T_max)) / 2      when (t − 1 − T_max) mod 2T_max = 0
/// ```
///
/// ```swift
/// let scheduler = CosineAnnealingLR(optimizer, tMax: 100, etaMin: 1e-5)
/// scheduler.step()
/// ```
public final class CosineAnnealingLR: LRScheduler {
    /// Epochs T_max of a half cosine period.
    public let tMax: Int
    /// The minimum learning rate η_min.
    public let etaMin: Double

    /// Creates the scheduler and takes its initial step.
    ///
    /// - Parameters:
    ///   - optimizer: the optimizer to schedule.
    ///   - tMax: epochs T_max from η₀ down to η_min (> 0).
    ///   - etaMin: the minimum learning rate η_min.
    public init(_ optimizer: Optimizer, tMax: Int, etaMin: Double = 0) {
        precondition(tMax > 0, "CosineAnnealingLR: tMax must be positive, got \(tMax)")
        self.tMax = tMax
        self.etaMin = etaMin
        super.init(optimizer: optimizer)
    }

    /// The recursive form (see the type's description).
    override public func computeLR() -> [Double] {
        let current = groupLRs
        let period = Double(tMax)
        if isInitial { return current }
        if stepCount == 1 && lastEpoch > 0 {
            return baseLRs.map { etaMin + ($0 - etaMin) * (1 + cos(Double(lastEpoch) * Double.pi / period)) / 2 }
        }
        if (lastEpoch - 1 - tMax) % (2 * tMax) == 0 {
            return zip(baseLRs, current).map { base, lr in lr + (base - etaMin) * (1 - cos(Double.pi / period)) / 2 }
        }
        let ratio = (1 + cos(Double.pi * Double(lastEpoch) / period)) / (1 + cos(Double.pi * Double(lastEpoch - 1) / period))
        return current.map { ratio * ($0 - etaMin) + etaMin }
    }

    /// `η_min + (η₀ − η_min) · (1 + cos(π·t / T_max)) / 2`.
    override public func closedFormLR() -> [Double]? {
        baseLRs.map { etaMin + ($0 - etaMin) * (1 + cos(Double.pi * Double(lastEpoch) / Double(tMax))) / 2 }
    }
}
