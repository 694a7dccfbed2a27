/// An error located in source text, rendered as `file:line:column: error: message`, the source line,
/// and a caret under the offending span.
public struct Diagnostic: Error, CustomStringConvertible, Sendable {
    /// What went wrong and, where it helps, what was expected.
    public let message: String
    /// Where it went wrong.
    public let range: SourceRange
    /// True when the input simply ended too early (the REPL then asks for another line).
    public let isIncompleteInput: Bool

    /// A diagnostic at `range`.
    public init(_ message: String, at range: SourceRange, incompleteInput: Bool = false) {
        self.message = message
        self.range = range
        isIncompleteInput = incompleteInput
    }

    public var description: String { "\(range.position): error: \(message)\n" + Diagnostic.excerpt(range) }

    /// The source line of `range`'s start with `^~~~` under the span (clipped to that line).
    public static func excerpt(_ range: SourceRange) -> String {
        let (line, column) = range.file.location(of: range.start)
        let text = range.file.lineText(line)
        let (endLine, endColumn) = range.file.location(of: range.end)
        let width = endLine == line ? max(1, endColumn - column) : max(1, text.count - column + 1)
        let gutter = "\(line) | "
        return gutter + text + "\n" + String(repeating: " ", count: gutter.count + column - 1)
            + "^" + String(repeating: "~", count: max(0, width - 1))
    }
}
