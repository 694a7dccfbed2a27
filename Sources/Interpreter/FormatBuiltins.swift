import Foundation

/// Numbers as text: a fixed number of decimals, or one printf-style conversion.
enum FormatBuiltins {
    static let topic = "utilities"
    /// The largest width, precision or digits accepted (a larger one is almost surely a typo).
    static let widest = 99

    static var all: [Builtin] {
        [
            builtin("format", topic: topic, [required("x"), optional("pattern", .null), optional("digits", .null)],
                    doc: "A number as text, in one of two ways: digits: n gives n decimals (fixed point); pattern is text around exactly one printf conversion %f, %e, %g or %d with optional flags (- + space 0 #), width and precision, e.g. \"%.3g\" or \"loss %8.4f\" (write %% for a percent sign; %d needs a whole number).",
                    example: "format(pi, digits: 2)  # \"3.14\"; format(1234.5, \"%.3g\")  # \"1.23e+03\"") { a in
                let x = try a.number("x")
                switch (a.isNull("pattern"), a.isNull("digits")) {
                case (true, false):
                    let digits = try a.int("digits")
                    guard (0...widest).contains(digits) else { throw a.fail("digits", "a whole number from 0 to \(widest)", a["digits"]) }
                    return .string(String(format: "%.\(digits)f", x))
                case (false, true):
                    return .string(try printf(try a.string("pattern"), x))
                default:
                    throw ScriptFailure(message: "format: give either digits: (decimals) or a printf pattern such as \"%.3g\", not both or neither")
                }
            },
        ]
    }

    /// `x` formatted by `pattern`, which must hold exactly one conversion of a number; anything else is refused
    /// before it reaches `String(format:)`, which would read arguments that were never passed for `%s` or a second `%f`.
    private static func printf(_ pattern: String, _ x: Double) throws -> String {
        let literal = #"(?:[^%]|%%)*"#, conversion = #"(%[-+ 0#]*[0-9]{0,2}(?:\.[0-9]{1,2})?[fFeEgGd])"#
        guard let regex = try? NSRegularExpression(pattern: "^\(literal)\(conversion)\(literal)$"),
              let match = regex.firstMatch(in: pattern, range: NSRange(pattern.startIndex..., in: pattern)),
              let spec = Range(match.range(at: 1), in: pattern) else {
            throw ScriptFailure(message: "format: pattern \"\(pattern)\" must hold exactly one conversion %f, %e, %g or %d (with optional flags, width up to 2 digits and precision), and %% for a literal percent sign")
        }
        guard pattern[spec].last == "d" else { return String(format: pattern, x) }
        guard x == x.rounded(), Swift.abs(x) < 1e15 else {
            throw ScriptFailure(message: "format: %d needs a whole number, got \(ValueFormatter.number(x)) (use %.0f to round)")
        }
        return String(format: pattern.replacingCharacters(in: spec, with: pattern[spec].dropLast() + "lld"), Int64(x))
    }
}
