import CryoKernels
import Foundation

/// Limits for running a program nobody has read (the fuzzer's inputs, generated test programs): only the builtins
/// of `topics` (less `excluded`, the ones that touch files) exist, `import` is refused, and evaluation stops with
/// `BudgetExceeded` after `steps` steps (each loop iteration and each call is one), `seconds` of wall time, or once
/// the process's resident memory has grown by `residentBytes`; no tensor, list or string may have more than
/// `tensorElements` elements (a larger one is a located error).
public struct Sandbox: Hashable, Sendable {
    /// Evaluation steps: loop iterations and calls.
    public var steps: Int
    /// Wall-clock seconds, checked at every step.
    public var seconds: Double
    /// Growth of the process's resident memory over its size when the run started, in bytes (Linux only).
    public var residentBytes: Int
    /// Elements of any one tensor (and items of a list, bytes of a string).
    public var tensorElements: Int
    /// The help topics whose builtins exist.
    public var topics: Set<String>
    /// Builtins of those topics that do not exist: every one that reads or writes a file.
    public var excluded: Set<String>

    /// The fuzzer's sandbox: the language and the in-memory builtins whose cost grows with their tensors (tensors,
    /// math, autodiff, utilities, geometry, losses, models, physics); no files, data sets, structures, training,
    /// pose search, plots or analysis. Tensors of at most 2^16 elements keep the quadratic builtins (neighbour
    /// graphs) under a second. (`toy_protein` is left out for its cost: its loop relaxation took half the fuzzing
    /// time under the fuzzer's instrumentation.)
    public static let fuzzing = Sandbox(
        steps: 5_000, seconds: 2, residentBytes: 512 << 20, tensorElements: 1 << 16,
        topics: ["tensors", "math", "autodiff", "utilities", "geometry", "losses", "models", "physics"],
        excluded: ["file_exists"])

    /// True when `builtin` exists in this sandbox.
    func allows(_ builtin: Builtin) -> Bool {
        topics.contains(builtin.topic) && !excluded.contains(builtin.name)
    }
}

/// Raised when a sandboxed program has used up one of its budgets.
public struct BudgetExceeded: Error, CustomStringConvertible, Sendable {
    /// The budget that ran out, e.g. "20000 steps".
    public let budget: String
    public var description: String { "stopped: the sandbox's budget of \(budget) ran out" }
}

/// Counts one sandboxed run's steps and checks its wall time and memory growth against the sandbox's budgets.
final class SandboxMeter {
    private let sandbox: Sandbox
    private var steps = 0
    private let start = DispatchTime.now().uptimeNanoseconds
    private let baseline = SandboxMeter.residentBytes()

    init(_ sandbox: Sandbox) { self.sandbox = sandbox }

    /// Counts one step; throws `BudgetExceeded` when a budget has run out. Memory is read every 64 steps (a step
    /// adds at most a few values, and no value may exceed `tensorElements` elements).
    func charge() throws {
        steps += 1
        if steps > sandbox.steps { throw BudgetExceeded(budget: "\(sandbox.steps) steps") }
        if Double(DispatchTime.now().uptimeNanoseconds - start) > sandbox.seconds * 1e9 {
            throw BudgetExceeded(budget: "\(ValueFormatter.number(sandbox.seconds)) s")
        }
        if steps % 64 == 0, SandboxMeter.residentBytes() - baseline > sandbox.residentBytes {
            throw BudgetExceeded(budget: "\(sandbox.residentBytes >> 20) MB of memory")
        }
    }

    /// The process's resident set in bytes (from /proc/self/statm), or 0 where that file does not exist.
    static func residentBytes() -> Int {
        let fd = open("/proc/self/statm", O_RDONLY)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 96)
        let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 95) }
        guard n > 0 else { return 0 }
        let fields = String(decoding: buffer[0..<n], as: UTF8.self).split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }
}
