// Splitting CPU work across cores, only above a size threshold, on OpenMP's thread pool.
import CEmberRuntime
import Foundation

/// Global CPU threading settings.
public enum Threading {
    /// Threads Ember's own CPU kernels use; they run on OpenMP's pool, which oneDNN shares
    /// (oneDNN itself follows `OMP_NUM_THREADS`). Defaults to `OMP_NUM_THREADS` when set,
    /// else the number of active cores.
    ///
    /// ```swift
    /// Threading.threadCount = 1   // run elementwise kernels single-threaded
    /// ```
    public static var threadCount: Int = {
        if let value = ProcessInfo.processInfo.environment["OMP_NUM_THREADS"], let n = Int(value), n > 0 { return n }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    /// Elements below which an elementwise kernel stays on the calling thread.
    public static var minimumParallelElements = 1 << 16
}

/// Calls `body` on disjoint chunks that cover `0..<total`, in parallel when `total`
/// reaches `minimum` and more than one thread is configured.
@inline(__always)
func parallelChunks(_ total: Int, minimum: Int = Threading.minimumParallelElements,
                    _ body: (Range<Int>) -> Void) {
    let threads = Threading.threadCount
    if threads <= 1 || total < minimum {
        body(0..<total)
        return
    }
    let chunks = min(threads, (total + minimum / 2 - 1) / max(minimum / 2, 1))
    let perChunk = (total + chunks - 1) / chunks
    runChunks(chunks, threads: threads) { chunk in
        let start = chunk * perChunk
        let end = min(total, start + perChunk)
        if start < end { body(start..<end) }
    }
}

/// The closure a parallel region runs, reachable from C through an opaque pointer.
private final class ChunkJob {
    let body: (Int) -> Void
    init(_ body: @escaping (Int) -> Void) { self.body = body }
}

/// Runs `body(chunk)` for every chunk in `0..<chunks` on up to `threads` OpenMP threads.
private func runChunks(_ chunks: Int, threads: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { body in
        let job = ChunkJob(body)
        withExtendedLifetime(job) {
            ember_parallel_for(chunks, UInt32(threads), { context, chunk in
                Unmanaged<ChunkJob>.fromOpaque(context!).takeUnretainedValue().body(chunk)
            }, Unmanaged.passUnretained(job).toOpaque())
        }
    }
}

/// Like `parallelChunks`, but also passes each chunk's index (0 ..< the returned count)
/// so callers can keep per-chunk partial results.
func parallelChunksIndexed(_ total: Int, minimum: Int = Threading.minimumParallelElements,
                           _ body: (Int, Range<Int>) -> Void) -> Int {
    let threads = Threading.threadCount
    if threads <= 1 || total < minimum {
        body(0, 0..<total)
        return 1
    }
    let chunks = min(threads, (total + minimum / 2 - 1) / max(minimum / 2, 1))
    let perChunk = (total + chunks - 1) / chunks
    runChunks(chunks, threads: threads) { chunk in
        let start = chunk * perChunk
        body(chunk, start..<min(total, start + perChunk))
    }
    return chunks
}

extension Threading {
    /// Runs `body(index)` once for every index in `0..<count`, spread over up to
    /// `threadCount` threads of OpenMP's pool (thread `t` takes indices `t, t + threads, …`).
    ///
    /// For coarse, independent work items (e.g. whole batches of a model's inference): inside
    /// `body`, Ember's kernels and oneDNN run single-threaded (nested parallel regions are
    /// serial), so the threads never wait for each other until the end. Grad mode is per
    /// thread: wrap the work in `noGrad { }` inside `body` when it should not record.
    ///
    /// ```swift
    /// var sums = [Float](repeating: 0, count: parts.count)
    /// sums.withUnsafeMutableBufferPointer { out in
    ///     Threading.concurrentPerform(parts.count) { i in out[i] = noGrad { parts[i].sum().item() } }
    /// }
    /// ```
    public static func concurrentPerform(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        runChunks(count, threads: min(threadCount, count), body)
    }
}
