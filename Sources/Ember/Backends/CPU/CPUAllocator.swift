// A cache of large freed CPU blocks, so that big temporaries reuse memory instead of
// mapping (and page-faulting) fresh pages on every op.
import Foundation

/// Control over the CPU allocator's cache of large blocks (≥ 128 KiB).
///
/// Freed blocks are kept, grouped by size, up to `cacheLimit` bytes, and handed out again to
/// the next allocation of the same size class — as PyTorch's CUDA caching allocator does for
/// GPU memory. Small blocks go straight to `malloc`.
///
/// ```swift
/// CPUMemory.cacheLimit = 256 << 20   // keep at most 256 MiB of freed blocks
/// CPUMemory.emptyCache()             // return every cached block to the system
/// ```
public enum CPUMemory {
    /// Bytes of freed blocks kept for reuse at most (default 1 GiB).
    public static var cacheLimit: Int {
        get { CPUAllocator.shared.withLock { CPUAllocator.shared.limit } }
        set { CPUAllocator.shared.withLock { CPUAllocator.shared.limit = max(0, newValue) }; CPUAllocator.shared.trim() }
    }
    /// Bytes currently held in the cache.
    public static var cachedBytes: Int { CPUAllocator.shared.withLock { CPUAllocator.shared.cached } }
    /// Frees every cached block.
    public static func emptyCache() {
        let limit = cacheLimit
        cacheLimit = 0
        cacheLimit = limit
    }
}

/// The allocator behind CPU storages.
final class CPUAllocator: @unchecked Sendable {
    static let shared = CPUAllocator()
    /// Blocks at least this large are cached (glibc's malloc maps blocks from 128 KiB up
    /// straight from the kernel, so each new one costs page faults on first touch).
    static let cachedMinimum = 128 << 10

    /// The cached size for a request: rounded up to 16 KiB below 1 MiB and to 64 KiB above,
    /// so that nearby sizes share blocks while wasting at most 1/8 of a block.
    static func roundedSize(_ byteCount: Int) -> Int {
        let granularity = byteCount < 1 << 20 ? 16 << 10 : 64 << 10
        return (byteCount + granularity - 1) / granularity * granularity
    }

    fileprivate var limit = 1 << 30
    fileprivate var cached = 0
    private var blocks: [Int: [UnsafeMutableRawPointer]] = [:]
    private let lock = NSLock()

    fileprivate func withLock<R>(_ body: () -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body()
    }

    /// A storage of at least `byteCount` bytes, 64-byte aligned.
    func storage(byteCount: Int) -> Storage {
        if byteCount < CPUAllocator.cachedMinimum {
            let pointer = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
            return Storage(pointer: pointer, byteCount: byteCount, device: .cpu)
        }
        let size = CPUAllocator.roundedSize(byteCount)
        let reused: UnsafeMutableRawPointer? = withLock {
            guard let pointer = blocks[size]?.popLast() else { return nil }
            cached -= size
            return pointer
        }
        let pointer = reused ?? CPUAllocator.allocateLarge(size)
        return Storage(pointer: pointer, byteCount: byteCount, device: .cpu) { [unowned self] pointer in
            self.giveBack(pointer, size: size)
        }
    }

    /// Allocates a large block aligned to 2 MiB and asks the kernel to back it with
    /// transparent huge pages (far fewer TLB misses when streaming through it; the same
    /// advice PyTorch's CPU allocator gives).
    private static func allocateLarge(_ size: Int) -> UnsafeMutableRawPointer {
        var raw: UnsafeMutableRawPointer?
        let hugePage = 2 << 20
        guard posix_memalign(&raw, size >= hugePage ? hugePage : 64, size) == 0, let pointer = raw else {
            fatalError("CPU allocator: out of memory allocating \(size) bytes")
        }
        if size >= hugePage { _ = madvise(pointer, size, MADV_HUGEPAGE) }
        return pointer
    }

    private func giveBack(_ pointer: UnsafeMutableRawPointer, size: Int) {
        let keep: Bool = withLock {
            guard cached + size <= limit else { return false }
            blocks[size, default: []].append(pointer)
            cached += size
            return true
        }
        if !keep { free(pointer) }
    }

    /// Frees cached blocks until the cache fits its limit.
    fileprivate func trim() {
        let released: [UnsafeMutableRawPointer] = withLock {
            var out: [UnsafeMutableRawPointer] = []
            for (size, list) in blocks where cached > limit {
                var list = list
                while cached > limit, let pointer = list.popLast() {
                    out.append(pointer)
                    cached -= size
                }
                blocks[size] = list
            }
            return out
        }
        for pointer in released { free(pointer) }
    }
}
