// Splitting CPU work across cores, only above a size threshold.
import Dispatch
import Foundation

/// Global CPU threading settings.
public enum Threading {
    /// Threads Ember's own CPU kernels use (oneDNN follows `OMP_NUM_THREADS`).
    /// Defaults to the number of active cores.
    ///
    /// ```swift
    /// Threading.threadCount = 1   // run elementwise kernels single-threaded
    /// ```
    public static var threadCount: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)

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
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = chunk * perChunk
            let end = min(total, start + perChunk)
            if start < end { body(start..<end) }
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
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let start = chunk * perChunk
            body(chunk, start..<min(total, start + perChunk))
        }
    }
    return chunks
}
