import Foundation

/// Where the time of a computation goes: exclusive wall time and call counts per label (a builtin or a callable's
/// name from the interpreter; the same name with " (backward)" for the VJPs of the ops it recorded). Labels nest;
/// each one is charged only the time not spent in labels inside it, so the rows add up to the total.
public final class Profiler: @unchecked Sendable {
    /// The profiler collecting timings, if any (set by `measure`).
    @TaskLocal public static var active: Profiler?
    /// The label of the code running now; ops recorded on the tape remember it for their backward pass.
    @TaskLocal public static var label: String?

    /// Calls and exclusive seconds of one label.
    public struct Entry: Sendable {
        public var calls = 0
        public var seconds = 0.0
    }

    public private(set) var entries: [String: Entry] = [:]
    private var stack: [(label: String, start: UInt64, children: UInt64)] = []
    private let lock = NSLock()

    public init() {}

    /// Runs `body` with this profiler active.
    public func measure<R>(_ body: () throws -> R) rethrows -> R {
        try Profiler.$active.withValue(self) { try body() }
    }

    /// Times `body` under `label` (exclusive of nested labels) and makes `label` the current one inside it.
    public func timing<R>(_ label: String, _ body: () throws -> R) rethrows -> R {
        lock.lock()
        stack.append((label, DispatchTime.now().uptimeNanoseconds, 0))
        lock.unlock()
        defer {
            lock.lock()
            let frame = stack.removeLast()
            let elapsed = DispatchTime.now().uptimeNanoseconds - frame.start
            entries[frame.label, default: Entry()].calls += 1
            entries[frame.label, default: Entry()].seconds += Double(elapsed - Swift.min(elapsed, frame.children)) / 1e9
            if !stack.isEmpty { stack[stack.count - 1].children += elapsed }
            lock.unlock()
        }
        return try Profiler.$label.withValue(label) { try body() }
    }

    /// Runs `body` as a named section of a kernel: timed under `label` when a profiler is active, run plainly
    /// otherwise. Kernels use it to break one builtin's time into its stages.
    public static func section<R>(_ label: String, _ body: () throws -> R) rethrows -> R {
        guard let profiler = active else { return try body() }
        return try profiler.timing(label, body)
    }

    /// The entries, most expensive first, as a table with each label's share of `total` seconds.
    public func table(total: Double) -> String {
        let rows = entries.sorted { $0.value.seconds > $1.value.seconds }
        let width = Swift.max(10, rows.map(\.key.count).max() ?? 0)
        var lines = ["\("label".padding(toLength: width, withPad: " ", startingAt: 0))     calls        ms   share"]
        for (label, e) in rows {
            lines.append(label.padding(toLength: width, withPad: " ", startingAt: 0)
                         + String(format: " %9d %9.2f %6.1f%%", e.calls, e.seconds * 1000, total > 0 ? 100 * e.seconds / total : 0))
        }
        return lines.joined(separator: "\n")
    }
}
