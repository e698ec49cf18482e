// Where a tensor's memory lives: the CPU or one CUDA device.

/// A compute device, as `torch.device`.
///
/// ```swift
/// let x = Tensor.ones([3])            // on .cpu
/// if Device.cudaIsAvailable { let y = x.to(.cuda(0)) }
/// ```
public enum Device: Hashable, Sendable, CustomStringConvertible {
    /// The host CPU (oneDNN and Swift SIMD kernels).
    case cpu
    /// The CUDA device with the given index.
    case cuda(Int)

    /// True when a CUDA backend could be loaded and has at least one device.
    public static var cudaIsAvailable: Bool { CUDABackend.shared != nil }

    /// `cpu` or `cuda:N`, as PyTorch prints devices.
    public var description: String {
        switch self {
        case .cpu: return "cpu"
        case .cuda(let index): return "cuda:\(index)"
        }
    }

    /// The backend that runs kernels for this device; stops with a clear message when the
    /// device is not available.
    var backend: Backend {
        switch self {
        case .cpu: return CPUBackend.shared
        case .cuda(let index):
            guard let cuda = CUDABackend.shared else {
                fatalError("Device \(self): Ember has no CUDA backend on this machine (no libcuda.so.1 or no GPU); Device.cudaIsAvailable is false")
            }
            precondition(index >= 0 && index < CUDABackend.deviceCount,
                         "Device \(self): index out of range (\(CUDABackend.deviceCount) CUDA devices)")
            return cuda
        }
    }
}
