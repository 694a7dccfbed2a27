import Foundation
import Synchronization

/// The most elements one tensor may have. Shapes are checked against it (`elementCount`) before storage is
/// allocated, so asking for more than the machine holds is a `KernelError` naming the op and the shape, not a crash.
/// The default is the physical memory in Float32s; a sandbox lowers it while its program runs (`withLimit`). The
/// limit is process-wide.
public enum ElementLimit {
    private static let current = Atomic<Int>(ElementLimit.machine)

    /// The physical memory in Float32 elements.
    public static let machine = max(1 << 20, Int(clamping: ProcessInfo.processInfo.physicalMemory / 4))

    /// The limit in force.
    public static var value: Int { current.load(ordering: .relaxed) }

    /// Runs `body` with the limit lowered to `limit` elements (never raised), then restores it.
    public static func withLimit<T>(_ limit: Int, _ body: () throws -> T) rethrows -> T {
        let previous = current.exchange(min(limit, value), ordering: .relaxed)
        defer { current.store(previous, ordering: .relaxed) }
        return try body()
    }
}
