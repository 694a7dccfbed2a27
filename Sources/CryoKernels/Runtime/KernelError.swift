/// The error every kernel throws on bad input: which op failed and why, in one sentence a user can act on.
public struct KernelError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The op or file-format reader that refused its input, e.g. `"matmul"` or `"read_mrcs"`.
    public let op: String
    /// What was wrong, naming the expected and the actual value.
    public let message: String

    /// Makes an error for `op` with a message such as "expected [3,4], got [3,5]".
    public init(_ op: String, _ message: String) {
        self.op = op
        self.message = message
    }

    public var description: String { "\(op): \(message)" }

    /// A shape error that names both shapes.
    static func shape(_ op: String, expected: String, got: [Int]) -> KernelError {
        KernelError(op, "expected \(expected), got \(formatShape(got))")
    }
}

/// Formats a shape the way every message in CryoScript prints it: `[2,3,4]`.
public func formatShape(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ",") + "]"
}
