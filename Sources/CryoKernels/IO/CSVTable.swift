import Foundation

/// A numeric comma-separated table, as `write_csv` writes it: an optional header line of column names, then one row
/// of numbers per line (Swift's shortest round-trip form, so a table read back is the one written, nan and inf
/// included). Blank lines are skipped; every row must have the same number of cells.
public struct CSVTable: Sendable {
    /// Column names (nil: the file has no header line).
    public let header: [String]?
    public let rows: Int, columns: Int
    /// Row-major values [rows·columns].
    public let values: [Float]

    /// Reads `path`; errors name the file, and the line and column of a bad cell.
    public static func read(_ path: String) throws -> CSVTable {
        guard let data = FileManager.default.contents(atPath: path) else { throw KernelError("read_csv", "\(path): no such file or not readable") }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        var header: [String]?, values: [Float] = [], columns: Int?, rows = 0
        for (index, line) in lines.enumerated() where !line.allSatisfy(\.isWhitespace) {
            let cells = line.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            let numbers = cells.map { Float($0) }
            if columns == nil, header == nil, numbers.contains(nil) {
                header = cells
                columns = cells.count
                continue
            }
            guard cells.count == columns ?? cells.count else {
                throw KernelError("read_csv", "\(path):\(index + 1): \(cells.count) cell\(cells.count == 1 ? "" : "s"), where the lines before have \(columns!)")
            }
            columns = cells.count
            if let bad = numbers.firstIndex(where: { $0 == nil }) {
                let column = cells[..<bad].reduce(1) { $0 + $1.count + 1 }
                throw KernelError("read_csv", "\(path):\(index + 1):\(column): \"\(cells[bad])\" is not a number")
            }
            values += numbers.map { $0! }
            rows += 1
        }
        return CSVTable(header: header, rows: rows, columns: columns ?? 0, values: values)
    }
}
