// Contiguous transposed copies of linear-layer weights for small batches on the CPU.
import Foundation

/// oneDNN's sgemm multiplies `x · Wᵀ` (the weight read transposed, as every linear layer
/// does) 1.5–2.2× slower than `x · Wᵗ` with `Wᵗ` stored contiguously when the batch has
/// few rows (≤ 64: a decoding step, an LSTM step); from a few hundred rows on the two
/// are within 10%. `Tensor.linear` therefore multiplies small batches by a cached,
/// contiguous transpose of the weight.
///
/// An entry is valid while its weight's storage is alive (held weakly: a freed storage
/// whose address is reused never matches) and unchanged: every in-place write bumps the
/// storage's `version`, so an optimizer step or `copy_` makes the next use re-transpose.
/// A weight is transposed on its second use (a one-off product, such as one sentence through
/// a big model, would only pay for the copy), and the cache keeps at most `capacityBytes` of
/// copies, evicting the least recently used.
final class TransposedWeightCache: @unchecked Sendable {
    static let shared = TransposedWeightCache()
    /// Batches with at most this many rows use the cache.
    static let maximumRows = 64
    /// Weights smaller than this many elements are not worth caching.
    static let minimumElements = 1 << 14
    /// The most bytes of transposed copies kept.
    static let capacityBytes = 32 << 20

    private struct Key: Hashable {
        let storage: ObjectIdentifier
        let offset: Int
    }

    private final class Entry {
        weak var storage: Storage?
        let shape: [Int], strides: [Int], version: Int
        let transposed: Tensor?
        var lastUse: Int
        init(_ weight: Tensor, transposed: Tensor?, use: Int) {
            storage = weight.storage
            shape = weight.shape
            strides = weight.strides
            version = weight.storage.version
            self.transposed = transposed
            lastUse = use
        }
    }

    private var entries: [Key: Entry] = [:]
    private var bytes = 0
    private var clock = 0
    private let lock = NSLock()

    /// The contiguous `[in, out]` transpose of a contiguous float32 CPU weight `[out, in]`
    /// from its second use on (nil on the first use, and the first after each change).
    func transposed(_ weight: Tensor) -> Tensor? {
        let key = Key(storage: ObjectIdentifier(weight.storage), offset: weight.offset)
        lock.lock()
        clock += 1
        let use = clock
        let entry = entries[key]
        let current = entry.map {
            $0.storage === weight.storage && $0.version == weight.storage.version
                && $0.shape == weight.shape && $0.strides == weight.strides
        } ?? false
        if let entry, current, let transposed = entry.transposed {
            entry.lastUse = use
            lock.unlock()
            return transposed
        }
        if !current {
            // First sight of this weight (or of its new value): remember it, no copy yet.
            if let old = entries.updateValue(Entry(weight, transposed: nil, use: use), forKey: key) { bytes -= Self.size(old) }
            lock.unlock()
            return nil
        }
        lock.unlock()
        let copy = noGrad { weight.detach().t().contiguous() }
        lock.lock()
        defer { lock.unlock() }
        if let old = entries.updateValue(Entry(weight, transposed: copy, use: use), forKey: key) { bytes -= Self.size(old) }
        bytes += copy.count * copy.dtype.itemSize
        while bytes > Self.capacityBytes,
              let victim = entries.filter({ $0.value.transposed != nil }).min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries[victim.key] = nil
            bytes -= Self.size(victim.value)
        }
        if entries.count > 4096 {   // forget weights seen once long ago
            for (k, e) in entries where e.transposed == nil && use - e.lastUse > 4096 { entries[k] = nil }
        }
        return copy
    }

    private static func size(_ entry: Entry) -> Int {
        entry.transposed.map { $0.count * $0.dtype.itemSize } ?? 0
    }
}
