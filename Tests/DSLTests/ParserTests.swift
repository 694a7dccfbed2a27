import XCTest
@testable import DSL

/// The parser's trees for well-formed programs.
final class ParserTests: XCTestCase {
    private func parse(_ text: String) throws -> [Expr] { try Parser.parse(SourceFile(name: "t.cryo", text: text)) }

    /// A compact rendering of a tree, to assert structure and precedence.
    private func show(_ e: Expr) -> String {
        switch e.kind {
        case .number(let x): return x == x.rounded() ? String(Int(x)) : String(x)
        case .string(let s): return "\"\(s)\""
        case .bool(let b): return String(b)
        case .null: return "nil"
        case .identifier(let n): return n
        case .list(let items): return "[" + items.map(show).joined(separator: " ") + "]"
        case .record(let fields): return "{" + fields.map { "\($0.key):\(show($0.value))" }.joined(separator: " ") + "}"
        case .unaryMinus(let x): return "(neg \(show(x)))"
        case .not(let x): return "(not \(show(x)))"
        case .binary(let op, let l, let r): return "(\(op.rawValue) \(show(l)) \(show(r)))"
        case .pipe(let l, let r): return "(|> \(show(l)) \(show(r)))"
        case .range(let l, let r): return "(.. \(show(l)) \(show(r)))"
        case .call(let f, let args): return "(call \(show(f))" + args.map { " " + ($0.label.map { "\($0):" } ?? "") + show($0.value) }.joined() + ")"
        case .member(let x, let n): return "(. \(show(x)) \(n))"
        case .index(let x, let i): return "(idx \(show(x)) \(show(i)))"
        case .ifElse(let c, let t, let o): return "(if \(show(c)) \(show(t))" + (o.map { " " + show($0) } ?? "") + ")"
        case .forIn(let v, let s, let b): return "(for \(v) \(show(s)) \(show(b)))"
        case .whileLoop(let c, let b): return "(while \(show(c)) \(show(b)))"
        case .block(let stmts): return "{" + stmts.map(show).joined(separator: "; ") + "}"
        case .lambda(let ps, let b): return "(lambda \(ps.map(\.name).joined(separator: ",")) \(show(b)))"
        case .function(let n, let ps, let b): return "(fn \(n) \(ps.map(\.name).joined(separator: ",")) \(show(b)))"
        case .binding(let n, let m, let v): return "(\(m ? "var" : "let") \(n) \(show(v)))"
        case .assignment(let n, let v): return "(= \(n) \(show(v)))"
        case .breakLoop: return "break"
        case .continueLoop: return "continue"
        case .returnValue(let v): return "(return\(v.map { " " + show($0) } ?? ""))"
        case .importFile(let p): return "(import \(p))"
        }
    }

    private func assertParses(_ text: String, _ expected: String, file: StaticString = #filePath, line: UInt = #line) {
        do {
            let trees = try parse(text)
            XCTAssertEqual(trees.map(show).joined(separator: "; "), expected, file: file, line: line)
        } catch {
            XCTFail("\(text) did not parse: \(error)", file: file, line: line)
        }
    }

    func testPrecedenceAndAssociativity() {
        assertParses("1 + 2 * 3", "(+ 1 (* 2 3))")
        assertParses("1 - 2 - 3", "(- (- 1 2) 3)")
        assertParses("-2 ** 2", "(neg (** 2 2))")
        assertParses("2 ** 3 ** 2", "(** 2 (** 3 2))")
        assertParses("a @ b + c", "(+ (@ a b) c)")
        assertParses("not a == b and c or d", "(or (and (not (== a b)) c) d)")
        assertParses("x |> f |> g(1)", "(|> (|> x f) (call g 1))")
        assertParses("0..n - 1", "(.. 0 (- n 1))")
        assertParses("a.b[c](d, k: 2).e", "(. (call (idx (. a b) c) d k:2) e)")
        assertParses("1e-3 + 2.5E+2", "(+ 0.001 250)")
    }

    func testStatementsAndBlocks() {
        assertParses("let x = 1; var y = 2\ny = x", "(let x 1); (var y 2); (= y x)")
        assertParses("fn sq(x) = x * x", "(fn sq x (* x x))")
        assertParses("fn f(a, b = 2) {\n  let c = a\n  c + b\n}", "(fn f a,b {(let c a); (+ c b)})")
        assertParses("if a { 1 } else if b { 2 } else { 3 }", "(if a {1} (if b {2} {3}))")
        assertParses("if a {\n 1\n}\nelse {\n 2\n}", "(if a {1} {2})")
        assertParses("for i in 0..3 { print(i) }", "(for i (.. 0 3) {(call print i)})")
        assertParses("while true { break }", "(while true {break})")
        assertParses("let f = |x, y| x + y", "(let f (lambda x,y (+ x y)))")
        assertParses("let r = {lr: 1e-3,\n  epochs: 20,\n}", "(let r {lr:0.001 epochs:20})")
        assertParses("{}", "{}")
        assertParses("let xs = [1,\n 2,\n 3]", "(let xs [1 2 3])")
        assertParses("import \"layers.cryo\"", "(import layers.cryo)")
        assertParses("fn f() { return }", "(fn f  {(return)})")
        assertParses("x\n  |> relu\n  |> mean", "(|> (|> x relu) mean)")
        assertParses("let s = \"a\\n\\\"b\\\"\" # comment", "(let s \"a\n\"b\"\")")
        assertParses("1 +\n 2", "(+ 1 2)")
    }

    func testRangesPointAtSource() throws {
        let e = try parse("let y = foo(1, 2)")[0]
        guard case .binding(_, _, let value) = e.kind else { return XCTFail() }
        XCTAssertEqual(value.range.position, "t.cryo:1:9")
        XCTAssertEqual(value.range.end - value.range.start, 9)
    }
}
