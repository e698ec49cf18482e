// A one-line terminal progress bar for training epochs: batches/s, running loss, ETA.
import Foundation

/// Draws `[#####.....] 120/469  83.2 batch/s  loss 0.4312  ETA 4s` on one line of standard
/// error, redrawn in place when it is a terminal and at most once a second otherwise.
struct ProgressBar {
    let total: Int
    let label: String
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let interactive = isatty(STDERR_FILENO) != 0

    init(total: Int, label: String) {
        self.total = total
        self.label = label
    }

    /// Shows `done` of `total` steps with the running loss.
    mutating func update(_ done: Int, loss: Double) {
        let now = Date()
        let minimumGap = interactive ? 0.1 : 5.0
        guard done == total || now.timeIntervalSince(lastDraw) >= minimumGap else { return }
        lastDraw = now
        let elapsed = max(now.timeIntervalSince(start), 1e-9)
        let rate = Double(done) / elapsed
        let remaining = rate > 0 ? Double(total - done) / rate : 0
        let width = 24
        let filled = total > 0 ? width * done / total : width
        let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
        let line = String(format: "%@ [%@] %d/%d  %.1f batch/s  loss %.4f  ETA %@",
                          label, bar, done, total, rate, loss, formatDuration(remaining))
        FileHandle.standardError.write(((interactive ? "\r\u{1B}[K" : "") + line + (interactive ? "" : "\n")).data(using: .utf8)!)
    }

    /// Ends the bar's line.
    func finish() {
        if interactive { FileHandle.standardError.write("\n".data(using: .utf8)!) }
    }

    private func formatDuration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded())
        return s >= 60 ? "\(s / 60)m\(s % 60)s" : "\(s)s"
    }
}
