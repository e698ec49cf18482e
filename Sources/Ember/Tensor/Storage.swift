// The reference-counted memory block behind one or more tensors (views share one).

/// A block of device memory that tensors view. Views share the storage; its `version`
/// counts in-place writes so autograd can detect a saved tensor that was changed.
public final class Storage {
    /// Start of the memory (a host pointer on the CPU, a device pointer on CUDA).
    public let pointer: UnsafeMutableRawPointer
    /// Size in bytes.
    public let byteCount: Int
    /// The device that owns the memory.
    public let device: Device
    /// Incremented by every in-place write through any tensor that views this storage.
    public internal(set) var version: Int = 0
    private let release: ((UnsafeMutableRawPointer) -> Void)?

    /// Wraps memory that `release` frees when the storage dies (nil: CPU memory Ember allocated).
    init(pointer: UnsafeMutableRawPointer, byteCount: Int, device: Device,
         release: ((UnsafeMutableRawPointer) -> Void)? = nil) {
        self.pointer = pointer
        self.byteCount = byteCount
        self.device = device
        self.release = release
    }

    /// Allocates uninitialised CPU memory, 64-byte aligned for SIMD loads (large blocks
    /// come from the CPU allocator's cache).
    static func cpu(byteCount: Int) -> Storage {
        CPUAllocator.shared.storage(byteCount: byteCount)
    }

    deinit {
        if let release { release(pointer) } else { pointer.deallocate() }
    }
}
