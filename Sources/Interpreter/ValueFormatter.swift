import CryoKernels
import Foundation

/// How values print: `display` for `print`, `repr` for the REPL's echo, `brief` inside error messages.
public enum ValueFormatter {
    /// Numbers without a needless fraction (`3`, `0.001`, `1.5e+20`).
    static func number(_ x: Double) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x > 0 ? "inf" : "-inf" }
        if x == x.rounded() && Swift.abs(x) < 1e15 { return String(Int(x)) }
        return String(format: "%.6g", x)
    }

    /// The text `print` writes: strings without quotes.
    public static func display(_ v: Value) -> String {
        if case .string(let s) = v { return s }
        return repr(v)
    }

    /// The most characters `repr` writes; a value that would need more (a list nested in itself a few dozen
    /// times reads as 2^depth items) ends in "…".
    static let maximumLength = 1 << 20

    /// The REPL's echo of a value: strings quoted, containers recursive, at most `maximumLength` characters.
    public static func repr(_ v: Value) -> String {
        var text = ""
        write(v, into: &text, limit: maximumLength)
        return text
    }

    /// Appends `v`'s repr to `text`, stopping with "…" once `text` holds `limit` characters.
    private static func write(_ v: Value, into text: inout String, limit: Int) {
        guard text.utf8.count < limit else { return }
        switch v {
        case .list(let items):
            text += "["
            for (i, item) in items.prefix(20).enumerated() {
                if i > 0 { text += ", " }
                guard text.utf8.count < limit else { text += "…"; break }
                write(item, into: &text, limit: limit)
            }
            text += (items.count > 20 ? ", … (\(items.count) items)" : "") + "]"
        case .record(let r):
            text += "{"
            for (i, (key, value)) in r.fields.enumerated() {
                if i > 0 { text += ", " }
                guard text.utf8.count < limit else { text += "…"; break }
                text += key + ": "
                write(value, into: &text, limit: limit)
            }
            text += "}"
        default:
            text += leaf(v)
        }
    }

    /// The repr of a value that holds no other values.
    private static func leaf(_ v: Value) -> String {
        switch v {
        case .null: return "nil"
        case .bool(let b): return b ? "true" : "false"
        case .number(let x): return number(x)
        case .string(let s): return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
        case .tensor(let t): return t.description
        case .range(let lo, let hi): return "\(lo)..\(hi)"
        case .function(let f): return "<fn \(f.name)(\(f.parameters.map(\.name).joined(separator: ", ")))>"
        case .builtin(let b): return "<builtin \(b.signature)>"
        case .object(let o): return o.summary
        case .list, .record: return ""
        }
    }

    /// A short form for error messages (at most ~40 characters; tensors by shape).
    public static func brief(_ v: Value) -> String {
        if case .tensor(let t) = v { return "of shape \(formatShape(t.shape))" }
        var text = ""
        write(v, into: &text, limit: 64)
        return text.count > 40 ? String(text.prefix(37)) + "…" : text
    }
}
