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

/// STAR files as RELION writes them: `data_` blocks, `loop_` tables with `_label #n` headers, quoted values.
public enum STARFile {
    /// Parses STAR text; errors name the file and line.
    public static func parse(_ text: String, name: String, op: String = "read_star") throws -> [StarBlock] {
        var blocks: [StarBlock] = []
        var inLoopHeader = false, inLoop = false
        for (k, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces.union(CharacterSet(charactersIn: "\r")))
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("data_") {
                blocks.append(StarBlock(name: String(line.dropFirst(5))))
                inLoopHeader = false
                inLoop = false
                continue
            }
            guard !blocks.isEmpty else { throw KernelError(op, "\(name):\(k + 1): content before the first data_ block") }
            if line == "loop_" {
                inLoopHeader = true
                inLoop = true
                continue
            }
            let tokens = try tokenize(line, name: name, line: k + 1, op: op)
            if line.hasPrefix("_") {
                let label = String(tokens[0].dropFirst())
                if inLoopHeader {
                    blocks[blocks.count - 1].columns.append(label)
                } else {
                    guard tokens.count >= 2 else { throw KernelError(op, "\(name):\(k + 1): label _\(label) has no value") }
                    blocks[blocks.count - 1].pairs.append((label, tokens[1]))
                    inLoop = false
                }
                continue
            }
            inLoopHeader = false
            guard inLoop else { throw KernelError(op, "\(name):\(k + 1): a value line outside any loop_") }
            let width = blocks[blocks.count - 1].columns.count
            guard tokens.count == width else {
                throw KernelError(op, "\(name):\(k + 1): row has \(tokens.count) values for \(width) columns")
            }
            blocks[blocks.count - 1].rows.append(tokens)
        }
        return blocks
    }

    /// Splits a line into whitespace-separated values, honouring single and double quotes.
    private static func tokenize(_ line: String, name: String, line number: Int, op: String) throws -> [String] {
        var tokens: [String] = [], current = "", quote: Character? = nil, hasToken = false
        for ch in line {
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
            } else if ch == "\"" || ch == "'" {
                quote = ch
                hasToken = true
            } else if ch == " " || ch == "\t" {
                if hasToken { tokens.append(current); current = ""; hasToken = false }
            } else {
                current.append(ch)
                hasToken = true
            }
        }
        guard quote == nil else { throw KernelError(op, "\(name):\(number): unterminated quote") }
        if hasToken { tokens.append(current) }
        return tokens
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

    private static func quoted(_ v: String) -> String {
        v.isEmpty || v.contains(" ") ? "\"\(v)\"" : v
    }
}
