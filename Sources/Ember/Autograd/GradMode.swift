// Per-thread switches for recording autograd history: noGrad, enableGrad, anomaly mode.
import CEmberRuntime

/// Whether operations on the current thread record autograd history.
///
/// ```swift
/// let y = noGrad { model(x) }     // no graph is built
/// GradMode.isEnabled               // true again here
/// ```
public enum GradMode {
    /// True when operations on this thread record history (the default).
    public static var isEnabled: Bool {
        @inline(__always) get { ember_grad_enabled() }
        set { _ = ember_set_grad_enabled(newValue) }
    }

    /// Runs `body` with grad mode set to `enabled`, restoring the previous mode afterwards.
    @inline(__always)
    public static func with<R>(enabled: Bool, _ body: () throws -> R) rethrows -> R {
        let previous = ember_set_grad_enabled(enabled)
        defer { _ = ember_set_grad_enabled(previous) }
        return try body()
    }
}

/// Runs `body` without recording autograd history (PyTorch's `torch.no_grad()`), and
/// returns its value.
///
/// ```swift
/// let prediction = noGrad { model(x).argmax(dim: 1) }
/// ```
@inline(__always)
public func noGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.with(enabled: false, body)
}

/// Runs `body` with autograd recording on, even inside `noGrad` (`torch.enable_grad()`).
///
/// ```swift
/// noGrad { enableGrad { (x * x).sum() }.backward() }
/// ```
@inline(__always)
public func enableGrad<R>(_ body: () throws -> R) rethrows -> R {
    try GradMode.with(enabled: true, body)
}

/// Anomaly detection: when on, backward checks every gradient a node produces and stops
/// with the node's name when one holds NaN or infinity (`torch.autograd.detect_anomaly`).
///
/// ```swift
/// AnomalyMode.isEnabled = true
/// loss.backward()   // stops: "Function 'DivBackward0' returned nan values in its 0th output."
/// ```
public enum AnomalyMode {
    /// Process-wide switch (off by default: the check costs a pass over every gradient).
    nonisolated(unsafe) public static var isEnabled = false

    /// Runs `body` with anomaly detection on.
    public static func with<R>(_ body: () throws -> R) rethrows -> R {
        let previous = isEnabled
        isEnabled = true
        defer { isEnabled = previous }
        return try body()
    }
}
