/// The checks of one script's printed figures: each `expect` that fails adds a message naming the figure, the range
/// it had to fall in and the value printed (or that it was not printed at all).
struct FigureChecks {
    /// What the script printed.
    let output: ScriptOutput
    /// Every failed check, in order.
    private(set) var failures: [String] = []

    init(_ output: ScriptOutput) { self.output = output }

    /// `value` (named `what`) was printed and lies in `range` (so it is finite).
    mutating func expect(_ what: String, _ value: Double?, in range: ClosedRange<Double>) {
        guard let value else { return missing(what) }
        if !range.contains(value) { failures.append("\(what) = \(value), expected in \(range)") }
    }

    /// `value` (named `what`) was printed and equals `expected` within `tolerance`.
    mutating func expect(_ what: String, _ value: Double?, equals expected: Double, tolerance: Double = 0) {
        expect(what, value, in: (expected - tolerance)...(expected + tolerance))
    }

    /// A property of the figures that must hold.
    mutating func expect(_ condition: Bool, _ message: @autoclosure () -> String) {
        if !condition { failures.append(message()) }
    }

    /// The line starting with `prefix`, or nil after recording that it is missing.
    mutating func line(_ prefix: String) -> ScriptOutput.Line? {
        guard let line = output.line(startingWith: prefix) else {
            missing("a line starting with \"\(prefix)\"")
            return nil
        }
        return line
    }

    /// The table row whose leading cells are `key`, or nil after recording that it is missing.
    mutating func row(_ key: String...) -> [String]? {
        guard let row = output.tableRows.first(where: { $0.count >= key.count && Array($0.prefix(key.count)) == key }) else {
            missing("the table row \(key.joined(separator: " | "))")
            return nil
        }
        return row
    }

    /// The table row whose first cell starts with `prefix`, or nil after recording that it is missing.
    mutating func row(startingWith prefix: String) -> [String]? {
        guard let row = output.tableRows.first(where: { $0.first?.hasPrefix(prefix) ?? false }) else {
            missing("a table row starting with \(prefix)")
            return nil
        }
        return row
    }

    /// The numbers of `row`'s cell at `column` (nil after recording a missing cell).
    mutating func numbers(_ row: [String], _ column: Int, _ what: String) -> [Double]? {
        guard column < row.count else {
            missing("\(what) (column \(column + 1) of the row \(row.joined(separator: " | ")))")
            return nil
        }
        return ScriptOutput.numbers(in: row[column])
    }

    /// The single number of `row`'s cell at `column`.
    mutating func number(_ row: [String], _ column: Int, _ what: String) -> Double? {
        numbers(row, column, what)?.first
    }

    mutating func missing(_ what: String) { failures.append("\(what) was not printed") }
}
