// Stand-in for the CUDA backend: Ember loads CUDA at run time; until that backend lands,
// no CUDA device is reported and asking for one stops with a clear message.

/// Entry point to the CUDA backend. `shared` is nil when CUDA cannot be loaded (always,
/// until the CUDA backend is implemented), so `Device.cudaIsAvailable` is false.
enum CUDABackend {
    /// The process-wide CUDA backend, or nil when unavailable.
    static let shared: Backend? = nil
    /// Number of visible CUDA devices.
    static var deviceCount: Int { 0 }
}
