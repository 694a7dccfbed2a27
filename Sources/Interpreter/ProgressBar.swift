import CryoKernels
import Foundation

/// A one-line progress bar on standard error for long work (simulation, training): a bar, the count, a
/// caller-supplied status (loss, images/s) and the ETA. Redrawn in place on a terminal; when standard error
/// is not a terminal (a batch job's log) a line is written once a minute and at the end, so logs stay readable
/// and still show a long job moving.
final class ProgressBar {
    private let label: String
    private let total: Int
    private let start = Date()
    private var lastDraw = Date.distantPast
    private let interactive: Bool
    /// Seconds between the lines written to a log (standard error not a terminal).
    private let logInterval: TimeInterval
    private let write: (String) -> Void
    /// Under MPI only rank 0 draws.
    private let shown = World.isRoot

    /// A bar for `total` units of work on standard error (tests give `interactive`, `logInterval` and `write`).
    init(_ label: String, total: Int, interactive: Bool = isatty(STDERR_FILENO) != 0, logInterval: TimeInterval = 60,
         write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.label = label
        self.total = Swift.max(total, 1)
        (self.interactive, self.logInterval, self.write) = (interactive, logInterval, write)
    }

    /// Shows progress `done` of `total` with `status`; the last call (done == total) ends the line.
    func update(_ done: Int, status: String = "") {
        let finished = done >= total
        guard shown else { return }
        let now = Date()
        // A log's first line comes one interval after the start, not at once.
        let since = now.timeIntervalSince(interactive ? lastDraw : max(lastDraw, start))
        guard finished || since > (interactive ? 0.1 : logInterval) else { return }
        lastDraw = now
        let fraction = Double(done) / Double(total)
        let width = 24
        let filled = Int(fraction * Double(width))
        let elapsed = now.timeIntervalSince(start)
        let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
        let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
        let line = "\(label) [\(bar)] \(done)/\(total) \(status) " + (finished ? String(format: "%.1fs", elapsed) : String(format: "ETA %.0fs", eta))
        write((interactive ? "\r\u{1B}[K" : "") + line + (finished || !interactive ? "\n" : ""))
    }
}
