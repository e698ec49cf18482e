// Preparing batches ahead on worker threads, delivered strictly in order.
import Foundation
import Ember

/// Produces the batches of one epoch, in order. With workers, threads claim batches in
/// order and prepare them while the consumer works; at most `capacity` batches are
/// in flight or waiting ahead of the consumer (a bounded prefetch queue). The result of
/// each batch depends only on its position, so the order of delivery and the contents
/// never depend on scheduling.
final class BatchPipeline<Batch>: @unchecked Sendable {
    private let batches: [[Int]]
    private let produce: (Int, [Int]) -> Batch
    private let workerCount: Int
    private let capacity: Int
    private let condition = NSCondition()
    // Guarded by `condition`:
    private var ready: [Int: Batch] = [:]
    private var nextToClaim = 0
    private var nextToDeliver = 0
    private var cancelled = false

    init(batches: [[Int]], workers: Int, capacity: Int, produce: @escaping (Int, [Int]) -> Batch) {
        self.batches = batches
        self.produce = produce
        self.workerCount = min(workers, batches.count)
        self.capacity = max(capacity, 1)
        for w in 0..<workerCount {
            let thread = Thread { [self] in self.work() }
            thread.name = "ember.data.worker.\(w)"
            thread.start()
        }
    }

    /// A worker: claims the next batch when the queue has room, prepares it, hands it in.
    private func work() {
        while true {
            condition.lock()
            while !cancelled && nextToClaim < batches.count && nextToClaim >= nextToDeliver + capacity {
                condition.wait()
            }
            if cancelled || nextToClaim >= batches.count {
                condition.unlock()
                return
            }
            let k = nextToClaim
            nextToClaim += 1
            condition.unlock()

            let batch = produce(k, batches[k])

            condition.lock()
            if !cancelled { ready[k] = batch }
            condition.broadcast()
            condition.unlock()
        }
    }

    /// The next batch in order, waiting for a worker if needed; nil after the last.
    func next() -> Batch? {
        if workerCount == 0 {
            guard nextToDeliver < batches.count else { return nil }
            defer { nextToDeliver += 1 }
            return produce(nextToDeliver, batches[nextToDeliver])
        }
        condition.lock()
        defer { condition.unlock() }
        guard nextToDeliver < batches.count else { return nil }
        while ready[nextToDeliver] == nil { condition.wait() }
        let batch = ready.removeValue(forKey: nextToDeliver)!
        nextToDeliver += 1
        condition.broadcast()
        return batch
    }

    /// Stops the workers after the batches they are preparing; drops what is queued.
    func cancel() {
        condition.lock()
        cancelled = true
        ready.removeAll()
        condition.broadcast()
        condition.unlock()
    }
}

/// Owned by an iterator only: when the iterator goes away (the loop ended or was left
/// early), the workers are told to stop.
final class BatchPipelineHandle<Batch> {
    let pipeline: BatchPipeline<Batch>
    init(_ pipeline: BatchPipeline<Batch>) { self.pipeline = pipeline }
    deinit { pipeline.cancel() }
}
