/// The kinds of token the lexer produces.
public enum TokenKind: Hashable, Sendable {
    case identifier(String)
    case number(Double)
    case string(String)
    case keyword(Keyword)
    case symbol(Symbol)
    case newline
    case end
}

/// Reserved words.
public enum Keyword: String, CaseIterable, Hashable, Sendable {
    case `let`, `var`, `fn`, `if`, `else`, `for`, `in`, `while`, `break`, `continue`, `return`
    case `true`, `false`, `nil`, and, or, not, `import`
}

/// Punctuation and operators, spelled as in source.
public enum Symbol: String, CaseIterable, Sendable {
    case lparen = "(", rparen = ")", lbracket = "[", rbracket = "]", lbrace = "{", rbrace = "}"
    case comma = ",", colon = ":", semicolon = ";", dot = ".", dotdot = "..", bar = "|", pipe = "|>"
    case assign = "=", eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case plus = "+", minus = "-", star = "*", slash = "/", percent = "%", power = "**", at = "@"
}

/// One token with its span.
public struct Token: Sendable {
    /// What the token is.
    public let kind: TokenKind
    /// Where it is.
    public let range: SourceRange

    /// How the token reads in an error message ("')'", "end of input", "identifier 'x'").
    public var spelling: String {
        switch kind {
        case .identifier(let name): return "identifier '\(name)'"
        case .number: return "number"
        case .string: return "string"
        case .keyword(let k): return "'\(k.rawValue)'"
        case .symbol(let s): return "'\(s.rawValue)'"
        case .newline: return "end of line"
        case .end: return "end of input"
        }
    }
}
