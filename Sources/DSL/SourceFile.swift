/// A named piece of source text (a script file, a REPL entry or a `-e` expression).
public final class SourceFile: Sendable {
    /// The name shown in diagnostics: a path, `<repl>` or `<expr>`.
    public let name: String
    /// The text, as UTF-8 bytes (all positions are byte offsets into it).
    public let bytes: [UInt8]
    private let lineStarts: [Int]

    /// Wraps `text` under `name`.
    public init(name: String, text: String) {
        self.name = name
        bytes = Array(text.utf8)
        var starts = [0]
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") { starts.append(i + 1) }
        lineStarts = starts
    }

    /// 1-based line and column (in characters) of a byte offset.
    public func location(of offset: Int) -> (line: Int, column: Int) {
        var lo = 0, hi = lineStarts.count - 1
        while lo < hi {
            let mid = (lo + hi + 1) / 2
            if lineStarts[mid] <= offset { lo = mid } else { hi = mid - 1 }
        }
        let start = lineStarts[lo]
        let prefix = bytes[start..<min(max(offset, start), bytes.count)]
        return (lo + 1, String(decoding: prefix, as: UTF8.self).count + 1)
    }

    /// The text of 1-based line `line`, without its newline.
    public func lineText(_ line: Int) -> String {
        guard line >= 1 && line <= lineStarts.count else { return "" }
        let start = lineStarts[line - 1]
        var end = start
        while end < bytes.count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }
}

/// A span of source text: the byte offsets `start..<end` in `file`.
public struct SourceRange: Sendable {
    /// The file the span lies in.
    public let file: SourceFile
    /// First byte of the span.
    public let start: Int
    /// One past the last byte of the span.
    public let end: Int

    /// The span `start..<end` of `file`.
    public init(file: SourceFile, start: Int, end: Int) {
        self.file = file
        self.start = start
        self.end = max(end, start)
    }

    /// The smallest span covering both.
    public func union(_ other: SourceRange) -> SourceRange {
        SourceRange(file: file, start: min(start, other.start), end: max(end, other.end))
    }

    /// `file:line:column` of the start.
    public var position: String {
        let (line, column) = file.location(of: start)
        return "\(file.name):\(line):\(column)"
    }
}
