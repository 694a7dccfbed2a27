/// A syntax-tree node: what it is and where it came from.
public final class Expr: Sendable {
    /// The node's kind and children.
    public let kind: ExprKind
    /// The source span the node was parsed from (for diagnostics and tracebacks).
    public let range: SourceRange

    /// A node of `kind` spanning `range`.
    public init(_ kind: ExprKind, _ range: SourceRange) {
        self.kind = kind
        self.range = range
    }
}

/// A function parameter: a name and an optional default (which makes it usable as a keyword argument).
public struct Parameter: Sendable {
    /// The parameter's name.
    public let name: String
    /// Evaluated at call time when the argument is omitted.
    public let defaultValue: Expr?
}

/// A call argument: positional (`label == nil`) or keyword (`f(x, k: 3)`).
public struct Argument: Sendable {
    /// The keyword, if any.
    public let label: String?
    /// The argument expression.
    public let value: Expr
}

/// Binary operators, from the language's surface syntax.
public enum BinaryOperator: String, Sendable {
    case add = "+", sub = "-", mul = "*", div = "/", mod = "%", pow = "**", matmul = "@"
    case eq = "==", ne = "!=", lt = "<", le = "<=", gt = ">", ge = ">="
    case and, or
}

/// Every construct of the language. Blocks, `if`, loops and definitions are all expressions; a block's
/// value is its last expression's, a definition's is nil.
public indirect enum ExprKind: Sendable {
    case number(Double)
    case string(String)
    case bool(Bool)
    case null
    case identifier(String)
    case list([Expr])
    case record([(key: String, value: Expr)])
    case unaryMinus(Expr)
    case not(Expr)
    case binary(BinaryOperator, Expr, Expr)
    /// `lhs |> f(args)` calls `f(lhs, args)`; `lhs |> f` calls `f(lhs)`.
    case pipe(Expr, Expr)
    case range(Expr, Expr)
    case call(Expr, [Argument])
    case member(Expr, String)
    case index(Expr, Expr)
    case ifElse(condition: Expr, then: Expr, otherwise: Expr?)
    case forIn(variable: String, sequence: Expr, body: Expr)
    case whileLoop(condition: Expr, body: Expr)
    case block([Expr])
    case lambda([Parameter], body: Expr)
    case function(name: String, [Parameter], body: Expr)
    case binding(name: String, mutable: Bool, value: Expr)
    case assignment(name: String, value: Expr)
    case breakLoop
    case continueLoop
    case returnValue(Expr?)
    case importFile(String)
}
