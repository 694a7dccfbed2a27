import CryoKernels
import Foundation

/// A one-line progress bar on standard error for long work (simulation, training): a bar, the count, a
/// caller-supplied status (loss, images/s) and the ETA. Redrawn in place on a terminal; when standard error
/// is not a terminal only the final line is written, so logs stay readable.
final class ProgressBar {
    private let label: String
    private let total: Int
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let interactive = isatty(STDERR_FILENO) != 0
    /// Under MPI only rank 0 draws.
    private let shown = World.isRoot

    init(_ label: String, total: Int) {
        self.label = label
        self.total = Swift.max(total, 1)
    }

    /// Shows progress `done` of `total` with `status`; the last call (done == total) ends the line.
    func update(_ done: Int, status: String = "") {
        let finished = done >= total
        guard shown, interactive || finished else { return }
        let now = Date()
        guard finished || now.timeIntervalSince(lastDraw) > 0.1 else { return }
        lastDraw = now
        let fraction = Double(done) / Double(total)
        let width = 24
        let filled = Int(fraction * Double(width))
        let elapsed = now.timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = "\(label) [\(bar)] \(done)/\(total) \(status) " + (finished ? String(format: "%.1fs", elapsed) : String(format: "ETA %.0fs", eta))
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + line + (finished ? "\n" : "")).utf8))
    }
}
