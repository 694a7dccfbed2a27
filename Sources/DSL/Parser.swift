/// A recursive-descent parser with precedence climbing, from tokens to `Expr` trees.
///
/// Precedence, loosest first: `|>`, `or`, `and`, `not`, comparisons, `..`, `+ -`, `* / % @`, unary `-`,
/// `**` (right-associative), then calls, members and indexing.
public struct Parser {
    private let tokens: [Token]
    private var position = 0
    private var depth = 0
    /// Deeper nesting than this is refused with a diagnostic rather than risking the native stack.
    static let maximumDepth = 200

    /// Parses a whole program: statements separated by newlines or `;`.
    public static func parse(_ file: SourceFile) throws -> [Expr] {
        var parser = Parser(tokens: try Lexer.tokenize(file))
        return try parser.program()
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    // MARK: token helpers

    private var current: Token { tokens[position] }

    private func peekKind(_ k: Int = 1) -> TokenKind {
        position + k < tokens.count ? tokens[position + k].kind : .end
    }

    private func check(_ s: Symbol) -> Bool { current.kind == .symbol(s) }
    private func check(_ k: Keyword) -> Bool { current.kind == .keyword(k) }

    private mutating func advance() -> Token {
        let t = current
        if position < tokens.count - 1 { position += 1 }
        return t
    }

    private mutating func match(_ s: Symbol) -> Bool {
        guard check(s) else { return false }
        position += 1
        return true
    }

    private mutating func match(_ k: Keyword) -> Bool {
        guard check(k) else { return false }
        position += 1
        return true
    }

    private mutating func skipNewlines() {
        while current.kind == .newline || current.kind == .symbol(.semicolon) { position += 1 }
    }

    /// A diagnostic at the current token: "expected `what`, found …".
    private func error(expected what: String) -> Diagnostic {
        Diagnostic("expected \(what), found \(current.spelling)", at: current.range, incompleteInput: current.kind == .end)
    }

    @discardableResult
    private mutating func expect(_ s: Symbol, _ what: String? = nil) throws -> Token {
        guard check(s) else { throw error(expected: what ?? "'\(s.rawValue)'") }
        return advance()
    }

    private mutating func expectIdentifier(_ what: String) throws -> (String, SourceRange) {
        guard case .identifier(let name) = current.kind else {
            if case .keyword(let k) = current.kind {
                throw Diagnostic("expected \(what), found the reserved word '\(k.rawValue)'", at: current.range)
            }
            throw error(expected: what)
        }
        return (name, advance().range)
    }

    private mutating func nested<T>(_ body: (inout Parser) throws -> T) throws -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= Parser.maximumDepth else {
            throw Diagnostic("expression nested too deeply (more than \(Parser.maximumDepth) levels)", at: current.range)
        }
        return try body(&self)
    }

    // MARK: statements

    private mutating func program() throws -> [Expr] {
        var statements: [Expr] = []
        skipNewlines()
        while current.kind != .end {
            statements.append(try statement())
            try endOfStatement()
            skipNewlines()
        }
        return statements
    }

    private mutating func endOfStatement() throws {
        switch current.kind {
        case .newline, .end, .symbol(.semicolon), .symbol(.rbrace): return
        default: throw error(expected: "a newline or ';' after the statement")
        }
    }

    private mutating func statement() throws -> Expr {
        let start = current.range
        if match(.let) || match(.var) {
            let mutable = tokens[position - 1].kind == .keyword(.var)
            let (name, _) = try expectIdentifier("a name after '\(mutable ? "var" : "let")'")
            try expect(.assign, "'=' after 'let \(name)'")
            let value = try expression()
            return Expr(.binding(name: name, mutable: mutable, value: value), start.union(value.range))
        }
        if match(.fn) {
            let (name, _) = try expectIdentifier("a function name after 'fn'")
            let params = try parameterList(open: .lparen, close: .rparen)
            let body: Expr
            if match(.assign) { body = try expression() } else if check(.lbrace) { body = try block() } else {
                throw error(expected: "'=' or '{' to start the body of '\(name)'")
            }
            return Expr(.function(name: name, params, body: body), start.union(body.range))
        }
        if match(.import) {
            guard case .string(let path) = current.kind else { throw error(expected: "a file name in quotes after 'import'") }
            let end = advance().range
            return Expr(.importFile(path), start.union(end))
        }
        if match(.break) { return Expr(.breakLoop, start) }
        if match(.continue) { return Expr(.continueLoop, start) }
        if match(.return) {
            switch current.kind {
            case .newline, .end, .symbol(.semicolon), .symbol(.rbrace): return Expr(.returnValue(nil), start)
            default:
                let value = try expression()
                return Expr(.returnValue(value), start.union(value.range))
            }
        }
        if case .identifier(let name) = current.kind, peekKind() == .symbol(.assign) {
            position += 2
            let value = try expression()
            return Expr(.assignment(name: name, value: value), start.union(value.range))
        }
        return try expression()
    }

    private mutating func parameterList(open: Symbol, close: Symbol) throws -> [Parameter] {
        try expect(open, "'\(open.rawValue)' to start the parameter list")
        var params: [Parameter] = []
        while !check(close) {
            let (name, range) = try expectIdentifier("a parameter name")
            if params.contains(where: { $0.name == name }) {
                throw Diagnostic("duplicate parameter '\(name)'", at: range)
            }
            var defaultValue: Expr?
            if match(.assign) { defaultValue = try expression() }
            params.append(Parameter(name: name, defaultValue: defaultValue))
            if !match(.comma) { break }
        }
        try expect(close, "',' or '\(close.rawValue)' in the parameter list")
        return params
    }

    private mutating func block() throws -> Expr {
        let open = try expect(.lbrace, "'{' to start a block")
        var statements: [Expr] = []
        skipNewlines()
        while !check(.rbrace) {
            guard current.kind != .end else {
                throw Diagnostic("expected '}' to close the block opened at \(open.range.position), found end of input",
                                 at: current.range, incompleteInput: true)
            }
            statements.append(try statement())
            try endOfStatement()
            skipNewlines()
        }
        let close = advance()
        return Expr(.block(statements), open.range.union(close.range))
    }

    // MARK: expressions

    /// Parses one expression.
    private mutating func expression() throws -> Expr {
        try nested { p in try p.pipeline() }
    }

    private mutating func pipeline() throws -> Expr {
        var lhs = try orExpr()
        while true {
            if check(.pipe) {
                position += 1
            } else if current.kind == .newline, continuesWithPipe() {
                skipNewlines()
                position += 1
            } else {
                return lhs
            }
            skipNewlines()
            let rhs = try orExpr()
            lhs = Expr(.pipe(lhs, rhs), lhs.range.union(rhs.range))
        }
    }

    /// True when the newlines at the current position are followed by `|>` (a pipeline continued on the next line).
    private func continuesWithPipe() -> Bool {
        var k = position
        while k < tokens.count, tokens[k].kind == .newline { k += 1 }
        return k < tokens.count && tokens[k].kind == .symbol(.pipe)
    }

    private mutating func binaryLevel(_ ops: [TokenKind: BinaryOperator], _ next: (inout Parser) throws -> Expr) throws -> Expr {
        var lhs = try next(&self)
        while let op = ops[current.kind] {
            position += 1
            skipNewlinesAfterOperator()
            let rhs = try next(&self)
            lhs = Expr(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
        }
        return lhs
    }

    /// An operator at the end of a line continues the expression on the next line.
    private mutating func skipNewlinesAfterOperator() {
        while current.kind == .newline { position += 1 }
    }

    private static let orOperator: [TokenKind: BinaryOperator] = [.keyword(.or): .or]
    private static let andOperator: [TokenKind: BinaryOperator] = [.keyword(.and): .and]

    private mutating func orExpr() throws -> Expr {
        try binaryLevel(Parser.orOperator) { p in try p.andExpr() }
    }

    private mutating func andExpr() throws -> Expr {
        try binaryLevel(Parser.andOperator) { p in try p.notExpr() }
    }

    private mutating func notExpr() throws -> Expr {
        if check(.not) {
            let start = advance().range
            let operand = try nested { p in try p.notExpr() }
            return Expr(.not(operand), start.union(operand.range))
        }
        return try comparison()
    }

    private static let comparisons: [TokenKind: BinaryOperator] = [
        .symbol(.eq): .eq, .symbol(.ne): .ne, .symbol(.lt): .lt, .symbol(.le): .le, .symbol(.gt): .gt, .symbol(.ge): .ge,
    ]

    private mutating func comparison() throws -> Expr {
        let lhs = try rangeExpr()
        guard let op = Parser.comparisons[current.kind] else { return lhs }
        position += 1
        skipNewlinesAfterOperator()
        let rhs = try rangeExpr()
        if Parser.comparisons[current.kind] != nil {
            throw Diagnostic("comparisons do not chain; write 'a < b and b < c'", at: current.range)
        }
        return Expr(.binary(op, lhs, rhs), lhs.range.union(rhs.range))
    }

    private mutating func rangeExpr() throws -> Expr {
        let lhs = try additive()
        guard match(.dotdot) else { return lhs }
        let rhs = try additive()
        return Expr(.range(lhs, rhs), lhs.range.union(rhs.range))
    }

    private static let additiveOperators: [TokenKind: BinaryOperator] = [.symbol(.plus): .add, .symbol(.minus): .sub]
    private static let multiplicativeOperators: [TokenKind: BinaryOperator] = [
        .symbol(.star): .mul, .symbol(.slash): .div, .symbol(.percent): .mod, .symbol(.at): .matmul,
    ]

    private mutating func additive() throws -> Expr {
        try binaryLevel(Parser.additiveOperators) { p in try p.multiplicative() }
    }

    private mutating func multiplicative() throws -> Expr {
        try binaryLevel(Parser.multiplicativeOperators) { p in try p.unary() }
    }

    private mutating func unary() throws -> Expr {
        if check(.minus) {
            let start = advance().range
            let operand = try nested { p in try p.unary() }
            return Expr(.unaryMinus(operand), start.union(operand.range))
        }
        return try power()
    }

    private mutating func power() throws -> Expr {
        let base = try postfix()
        guard match(.power) else { return base }
        let exponent = try nested { p in try p.unary() }
        return Expr(.binary(.pow, base, exponent), base.range.union(exponent.range))
    }

    private mutating func postfix() throws -> Expr {
        var e = try primary()
        while true {
            if check(.lparen) {
                let open = advance()
                var args: [Argument] = []
                while !check(.rparen) {
                    if case .identifier(let label) = current.kind, peekKind() == .symbol(.colon) {
                        position += 2
                        if args.contains(where: { $0.label == label }) {
                            throw Diagnostic("keyword argument '\(label)' given twice", at: tokens[position - 2].range)
                        }
                        args.append(Argument(label: label, value: try expression()))
                    } else {
                        if let label = args.last?.label {
                            throw Diagnostic("positional argument after keyword argument '\(label)'", at: current.range)
                        }
                        args.append(Argument(label: nil, value: try expression()))
                    }
                    if !match(.comma) { break }
                }
                guard check(.rparen) else {
                    throw current.kind == .end
                        ? Diagnostic("expected ')' to close the call opened at \(open.range.position), found end of input", at: current.range, incompleteInput: true)
                        : error(expected: "',' or ')' in the argument list")
                }
                let close = advance()
                e = Expr(.call(e, args), e.range.union(close.range))
            } else if check(.dot) {
                position += 1
                let (name, range) = try expectIdentifier("a field name after '.'")
                e = Expr(.member(e, name), e.range.union(range))
            } else if check(.lbracket) {
                position += 1
                let index = try expression()
                let close = try expect(.rbracket, "']' after the index")
                e = Expr(.index(e, index), e.range.union(close.range))
            } else {
                return e
            }
        }
    }

    private mutating func primary() throws -> Expr {
        let t = current
        switch t.kind {
        case .number(let v): position += 1; return Expr(.number(v), t.range)
        case .string(let s): position += 1; return Expr(.string(s), t.range)
        case .identifier(let name): position += 1; return Expr(.identifier(name), t.range)
        case .keyword(.true): position += 1; return Expr(.bool(true), t.range)
        case .keyword(.false): position += 1; return Expr(.bool(false), t.range)
        case .keyword(.nil): position += 1; return Expr(.null, t.range)
        case .keyword(.if): return try ifExpr()
        case .keyword(.for): return try forExpr()
        case .keyword(.while):
            position += 1
            let condition = try expression()
            let body = try block()
            return Expr(.whileLoop(condition: condition, body: body), t.range.union(body.range))
        case .symbol(.lparen):
            position += 1
            let inner = try expression()
            guard check(.rparen) else {
                throw current.kind == .end
                    ? Diagnostic("expected ')' to close '(' opened at \(t.range.position), found end of input", at: current.range, incompleteInput: true)
                    : error(expected: "')' to close '(' opened at \(t.range.position)")
            }
            let close = advance()
            return Expr(inner.kind, t.range.union(close.range))
        case .symbol(.lbracket):
            position += 1
            var items: [Expr] = []
            while !check(.rbracket) {
                items.append(try expression())
                if !match(.comma) { break }
            }
            guard check(.rbracket) else {
                throw current.kind == .end
                    ? Diagnostic("expected ']' to close the list opened at \(t.range.position), found end of input", at: current.range, incompleteInput: true)
                    : error(expected: "',' or ']' in the list")
            }
            return Expr(.list(items), t.range.union(advance().range))
        case .symbol(.lbrace):
            return isRecordAhead() ? try record() : try block()
        case .symbol(.bar):
            let params = try parameterList(open: .bar, close: .bar)
            let body = try expression()
            return Expr(.lambda(params, body: body), t.range.union(body.range))
        case .symbol(let s) where s == .rparen || s == .rbracket || s == .rbrace:
            throw Diagnostic("unexpected '\(s.rawValue)' with no matching opening bracket", at: t.range)
        default:
            throw error(expected: "an expression")
        }
    }

    /// `{` starts a record when followed by `}` or by `name:` / `"name":` (newlines allowed in between).
    private func isRecordAhead() -> Bool {
        var k = position + 1
        while k < tokens.count, tokens[k].kind == .newline { k += 1 }
        guard k < tokens.count else { return false }
        switch tokens[k].kind {
        case .symbol(.rbrace): return true
        case .identifier, .string: return k + 1 < tokens.count && tokens[k + 1].kind == .symbol(.colon)
        default: return false
        }
    }

    private mutating func record() throws -> Expr {
        let open = advance()
        var fields: [(key: String, value: Expr)] = []
        skipNewlines()
        while !check(.rbrace) {
            let key: String
            let keyRange = current.range
            switch current.kind {
            case .identifier(let name): key = name
            case .string(let s): key = s
            default: throw error(expected: "a field name in the record")
            }
            position += 1
            if fields.contains(where: { $0.key == key }) { throw Diagnostic("duplicate field '\(key)' in record", at: keyRange) }
            try expect(.colon, "':' after field '\(key)'")
            fields.append((key, try expression()))
            skipNewlines()
            if !match(.comma) { break }
            skipNewlines()
        }
        guard check(.rbrace) else {
            throw current.kind == .end
                ? Diagnostic("expected '}' to close the record opened at \(open.range.position), found end of input", at: current.range, incompleteInput: true)
                : error(expected: "',' or '}' in the record")
        }
        return Expr(.record(fields), open.range.union(advance().range))
    }

    private mutating func ifExpr() throws -> Expr {
        let start = advance().range
        let condition = try expression()
        let then = try block()
        var otherwise: Expr?
        var k = position
        while k < tokens.count, tokens[k].kind == .newline { k += 1 }
        if k < tokens.count, tokens[k].kind == .keyword(.else) {
            position = k + 1
            otherwise = check(.if) ? try nested { p in try p.ifExpr() } : try block()
        }
        return Expr(.ifElse(condition: condition, then: then, otherwise: otherwise), start.union((otherwise ?? then).range))
    }

    private mutating func forExpr() throws -> Expr {
        let start = advance().range
        let (name, _) = try expectIdentifier("a loop variable after 'for'")
        guard match(.in) else { throw error(expected: "'in' after 'for \(name)'") }
        let sequence = try expression()
        let body = try block()
        return Expr(.forIn(variable: name, sequence: sequence, body: body), start.union(body.range))
    }
}
