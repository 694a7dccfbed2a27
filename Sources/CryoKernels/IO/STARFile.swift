import Foundation

/// One `data_` block of a STAR file: a loop table (columns and rows) and/or single key–value pairs.
public struct StarBlock: Sendable {
    /// The block name after `data_`.
    public var name: String
    /// Column labels of the block's loop (without the leading underscore), in order.
    public var columns: [String]
    /// Loop rows, each one string per column.
    public var rows: [[String]]
    /// Key–value pairs outside a loop (labels without the underscore).
    public var pairs: [(String, String)]

    /// A block named `name`.
    public init(name: String, columns: [String] = [], rows: [[String]] = [], pairs: [(String, String)] = []) {
        self.name = name
        self.columns = columns
        self.rows = rows
        self.pairs = pairs
    }

    /// The index of column `label`, if present.
    public func column(_ label: String) -> Int? { columns.firstIndex(of: label) }
}

/// STAR files as RELION writes them: `data_` blocks, one `loop_` table per block with `_label #n` headers, key–value
/// pairs outside loops, quoted values, `#` comments, LF or CRLF line ends. Each loop row is one line. STAR's `stop_`
/// and `;`-delimited multi-line values are not supported and are reported as errors.
public enum STARFile {
    /// Parses STAR text; errors name the file and line.
    public static func parse(_ text: String, name: String, op: String = "read_star") throws -> [StarBlock] {
        try parse(Data(text.utf8), name: name, op: op)
    }

    /// Parses STAR bytes (UTF-8); errors name the file and line. Long loops are split at line boundaries and parsed
    /// on all cores.
    public static func parse(_ data: Data, name: String, op: String = "read_star") throws -> [StarBlock] {
        try data.withUnsafeBytes { raw in
            try STARParser(bytes: raw.bindMemory(to: UInt8.self), name: name, op: op).blocks()
        }
    }

    /// STAR text for `blocks` (RELION 3.1 layout: a version comment, loops with numbered labels).
    public static func format(_ blocks: [StarBlock]) -> String {
        var text = ""
        for block in blocks {
            text += "\n# version 30001\n\ndata_\(block.name)\n\n"
            for (k, v) in block.pairs { text += "_\(k) \(quoted(v))\n" }
            if !block.columns.isEmpty {
                text += "loop_\n"
                for (i, c) in block.columns.enumerated() { text += "_\(c) #\(i + 1)\n" }
                for row in block.rows { text += row.map(quoted).joined(separator: " ") + "\n" }
            }
            text += "\n"
        }
        return text
    }

    /// `v`, in double quotes when it is empty, holds a blank, or would otherwise read as a comment, label or quote.
    private static func quoted(_ v: String) -> String {
        let needsQuotes = v.isEmpty || v.contains(where: { $0 == " " || $0 == "\t" }) || ["#", "_", "'", "\"", ";"].contains(v.first)
        return needsQuotes ? "\"\(v)\"" : v
    }
}
