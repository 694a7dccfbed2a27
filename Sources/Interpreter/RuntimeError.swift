import DSL

/// A call frame of a running script, for tracebacks.
public struct Frame: Sendable {
    /// The function's name (`<script>` for top level).
    public let function: String
    /// Where it was called from.
    public let callSite: SourceRange
}

/// An error raised while evaluating a script: a message, where it happened, and the `.cryo` call stack.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    /// What went wrong.
    public let message: String
    /// The expression being evaluated.
    public let range: SourceRange?
    /// Active calls, outermost first.
    public let traceback: [Frame]

    /// An error with `message` at `range`.
    public init(_ message: String, at range: SourceRange?, traceback: [Frame] = []) {
        self.message = message
        self.range = range
        self.traceback = traceback
    }

    public var description: String {
        guard let range else { return "error: \(message)" }
        var text = "\(range.position): error: \(message)\n" + Diagnostic.excerpt(range)
        if !traceback.isEmpty {
            text += "\ntraceback (most recent call last):"
            for frame in traceback { text += "\n  \(frame.callSite.position) in \(frame.function)" }
        }
        return text
    }
}

/// Raised when the user interrupts evaluation (Ctrl-C); the REPL keeps its variables and returns to the prompt.
public struct InterruptedError: Error, CustomStringConvertible, Sendable {
    public var description: String { "interrupted" }
}

/// Non-local control flow, unwound through Swift's error path and caught by loops and calls.
enum ControlFlow: Error {
    case breakLoop(SourceRange)
    case continueLoop(SourceRange)
    case returnValue(Value, SourceRange)
}

/// An error thrown by builtin code that the evaluator locates at the call expression.
struct ScriptFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
