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

    /// The REPL's echo of a value: strings quoted, containers recursive.
    public static func repr(_ v: Value) -> String {
        switch v {
        case .null: return "nil"
        case .bool(let b): return b ? "true" : "false"
        case .number(let x): return number(x)
        case .string(let s): return "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
            .replacingOccurrences(of: "\n", with: "\\n") + "\""
        case .list(let items):
            let shown = items.count > 20 ? Array(items.prefix(20)) : items
            return "[" + shown.map(repr).joined(separator: ", ") + (items.count > 20 ? ", … (\(items.count) items)" : "") + "]"
        case .record(let r): return "{" + r.fields.map { "\($0.0): \(repr($0.1))" }.joined(separator: ", ") + "}"
        case .tensor(let t): return t.description
        case .range(let lo, let hi): return "\(lo)..\(hi)"
        case .function(let f): return "<fn \(f.name)(\(f.parameters.map(\.name).joined(separator: ", ")))>"
        case .builtin(let b): return "<builtin \(b.signature)>"
        case .object(let o): return o.summary
        }
    }

    /// A short form for error messages (at most ~40 characters; tensors by shape).
    public static func brief(_ v: Value) -> String {
        if case .tensor(let t) = v { return "of shape \(formatShape(t.shape))" }
        let text = repr(v)
        return text.count > 40 ? String(text.prefix(37)) + "…" : text
    }
}
