import Foundation

/// What a script printed, with the accessors the figure checks read: a number after a label, the lines that start
/// with a phrase, and the rows of the Markdown tables the scripts print (`| a | b |`).
struct ScriptOutput {
    /// The standard output, whole.
    let text: String

    /// The printed lines, in order.
    var lines: [Line] { text.split(separator: "\n", omittingEmptySubsequences: false).map { Line(text: String($0)) } }

    /// The first line that starts with `prefix` (leading spaces ignored).
    func line(startingWith prefix: String) -> Line? {
        lines.first { $0.text.drop { $0 == " " }.hasPrefix(prefix) }
    }

    /// Every line that starts with `prefix`.
    func lines(startingWith prefix: String) -> [Line] {
        lines.filter { $0.text.drop { $0 == " " }.hasPrefix(prefix) }
    }

    /// The number printed after the first occurrence of `label` anywhere in the output.
    func number(after label: String) -> Double? {
        Line(text: text).number(after: label)
    }

    /// The cells of every table row (separator rows `| --- |` left out), trimmed.
    var tableRows: [[String]] {
        lines.compactMap { line -> [String]? in
            let t = line.text.trimmingCharacters(in: .whitespaces)
            guard t.hasPrefix("|"), t.hasSuffix("|"), t.count > 1 else { return nil }
            let cells = t.dropFirst().dropLast().split(separator: "|", omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            return cells.allSatisfy({ $0.allSatisfy { $0 == "-" } && !$0.isEmpty }) ? nil : cells
        }
    }

    /// The table row whose leading cells are `key` (e.g. `row("particle", "paper GCN")`).
    func row(_ key: String...) -> [String]? {
        tableRows.first { $0.count >= key.count && Array($0.prefix(key.count)) == key }
    }

    /// One printed line.
    struct Line {
        let text: String

        /// Every number in the line, in order (`nan` and `inf` included, so a non-finite figure is seen, not skipped).
        var numbers: [Double] { ScriptOutput.numbers(in: text) }

        /// The first number printed after `label` (spaces, `=` and `:` between them skipped).
        func number(after label: String) -> Double? {
            guard let range = text.range(of: label) else { return nil }
            let rest = text[range.upperBound...].drop { $0 == " " || $0 == "=" || $0 == ":" }
            let token = rest.prefix { !$0.isWhitespace && $0 != "," && $0 != ";" && $0 != "%" && $0 != ")" && $0 != "}" }
            return Double(token)
        }

        /// The numbers printed after the first occurrence of `label`, in order.
        func numbers(after label: String) -> [Double] {
            guard let range = text.range(of: label) else { return [] }
            return ScriptOutput.numbers(in: String(text[range.upperBound...]))
        }

        /// The number printed right before `label` (`number(before: "images")` in "128 images").
        func number(before label: String) -> Double? {
            guard let range = text.range(of: label) else { return nil }
            let head = text[..<range.lowerBound].reversed().drop { $0 == " " }
            return Double(String(head.prefix { !$0.isWhitespace && $0 != "(" && $0 != "[" }.reversed()))
        }
    }

    /// The numbers in `text` (a table cell such as `4.62 (2)` or `1.89 / 3.31`, or a whole line).
    static func numbers(in text: String) -> [Double] {
        let pattern = #"(?<![A-Za-z0-9_.])-?(?:[0-9]+(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?|nan|inf)(?![A-Za-z0-9_])"#
        let regex = try! NSRegularExpression(pattern: pattern)
        let ns = text as NSString
        return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).compactMap { Double(ns.substring(with: $0.range)) }
    }
}
