import XCTest
@testable import DSL

/// Malformed programs: each must give the right message at the right line and column, with a caret.
final class DiagnosticTests: XCTestCase {
    /// (source, expected message fragment, line, column)
    static let malformed: [(String, String, Int, Int)] = [
        ("let = 3", "expected a name after 'let', found '='", 1, 5),
        ("let x 3", "expected '=' after 'let x', found number", 1, 7),
        ("let x =", "expected an expression, found end of input", 1, 8),
        ("1 +", "expected an expression, found end of input", 1, 4),
        ("(1 + 2", "expected ')' to close '(' opened at t.cryo:1:1, found end of input", 1, 7),
        ("(1 + 2]", "expected ')' to close '(' opened at t.cryo:1:1, found ']'", 1, 7),
        ("[1, 2", "expected ']' to close the list opened at t.cryo:1:1", 1, 6),
        ("[1 2]", "expected ',' or ']' in the list, found number", 1, 4),
        ("f(1, 2", "expected ')' to close the call opened at t.cryo:1:2", 1, 7),
        ("f(1 2)", "expected ',' or ')' in the argument list, found number", 1, 5),
        ("f(k: 1, 2)", "positional argument after keyword argument 'k'", 1, 9),
        ("f(k: 1, k: 2)", "keyword argument 'k' given twice", 1, 9),
        ("{a: 1, b}", "expected ':' after field 'b', found '}'", 1, 9),
        ("{a: 1, a: 2}", "duplicate field 'a' in record", 1, 8),
        ("fn (x) = x", "expected a function name after 'fn', found '('", 1, 4),
        ("fn f x = x", "expected '(' to start the parameter list, found identifier 'x'", 1, 6),
        ("fn f(x, x) = x", "duplicate parameter 'x'", 1, 9),
        ("fn f(x)", "expected '=' or '{' to start the body of 'f', found end of input", 1, 8),
        ("fn f(1) = 1", "expected a parameter name, found number", 1, 6),
        ("if x 1", "expected '{' to start a block, found number", 1, 6),
        ("if x { 1 } else 2", "expected '{' to start a block, found number", 1, 17),
        ("for in 0..3 { }", "expected a loop variable after 'for', found the reserved word 'in'", 1, 5),
        ("for i 0..3 { }", "expected 'in' after 'for i', found number", 1, 7),
        ("while x { 1", "expected '}' to close the block opened at t.cryo:1:9, found end of input", 1, 12),
        ("let s = \"abc", "unterminated string: expected a closing '\"'", 1, 9),
        ("let s = \"a\\qb\"", "unknown escape '\\q' in string", 1, 11),
        ("let x = 1e", "malformed number: expected digits after the exponent", 1, 9),
        ("let x = 12abc", "malformed number: letters right after digits", 1, 9),
        ("let x = 1 ! 2", "unexpected character '!' (use 'not' for negation)", 1, 11),
        ("a && b", "unexpected character '&' (use 'and')", 1, 3),
        ("let s = 'x'", "unexpected character ''' (strings use double quotes)", 1, 9),
        ("1 < 2 < 3", "comparisons do not chain", 1, 7),
        (")", "unexpected ')' with no matching opening bracket", 1, 1),
        ("let x = 1 2", "expected a newline or ';' after the statement, found number", 1, 11),
        ("x.1", "expected a field name after '.', found number", 1, 3),
        ("import foo", "expected a file name in quotes after 'import', found identifier 'foo'", 1, 8),
        ("let let = 1", "expected a name after 'let', found the reserved word 'let'", 1, 5),
        ("x[1", "expected ']' after the index, found end of input", 1, 4),
        ("|x x + 1", "expected ',' or '|' in the parameter list, found identifier 'x'", 1, 4),
        ("let a = 1\nlet b = (2 +\n 3))", "expected a newline or ';' after the statement, found ')'", 3, 4),
        ("fn f() {\n  let y = \n}", "expected an expression, found end of line", 2, 11),
        ("let x = if { 1 }", "expected '{' to start a block, found end of input", 1, 17),
        ("let x = " + String(repeating: "(", count: 300) + "1" + String(repeating: ")", count: 300),
         "expression nested too deeply", 1, 209),
    ]

    func testMalformedProgramsReportMessageAndPosition() {
        XCTAssertGreaterThanOrEqual(Self.malformed.count, 30)
        for (source, message, line, column) in Self.malformed {
            let file = SourceFile(name: "t.cryo", text: source)
            do {
                _ = try Parser.parse(file)
                XCTFail("accepted malformed program: \(source)")
            } catch let d as Diagnostic {
                XCTAssertTrue(d.message.contains(message), "\(source.prefix(40)): message was '\(d.message)', expected '\(message)'")
                let (l, c) = file.location(of: d.range.start)
                XCTAssertEqual([l, c], [line, column], "\(source.prefix(40)): position of '\(d.message)'")
                XCTAssertTrue(d.description.hasPrefix("t.cryo:\(l):\(c): error: "), d.description)
                XCTAssertTrue(d.description.contains("^"), "no caret in: \(d.description)")
            } catch {
                XCTFail("\(source): unexpected error type \(error)")
            }
        }
    }

    func testCaretSitsUnderTheSpan() {
        let file = SourceFile(name: "t.cryo", text: "let x = 1\nlet y = (x +\n  3]")
        XCTAssertThrowsError(try Parser.parse(file)) { error in
            XCTAssertEqual("\(error)", "t.cryo:3:4: error: expected ')' to close '(' opened at t.cryo:2:9, found ']'\n3 |   3]\n       ^")
        }
    }

    func testIncompleteInputIsFlaggedForTheREPL() {
        for (text, incomplete) in [("fn f(x) {", true), ("[1, 2,", true), ("f(", true), ("1 + )", false), ("\"abc", true)] {
            do {
                _ = try Parser.parse(SourceFile(name: "<repl>", text: text))
                XCTFail("parsed \(text)")
            } catch let d as Diagnostic {
                XCTAssertEqual(d.isIncompleteInput, incomplete, text)
            } catch { XCTFail("\(error)") }
        }
    }

    func testLocationsCountCharactersNotBytes() {
        let file = SourceFile(name: "t", text: "let é = 1\nlet ü = )")
        XCTAssertThrowsError(try Parser.parse(file)) { error in
            guard let d = error as? Diagnostic else { return XCTFail() }
            XCTAssertEqual(d.range.position, "t:2:9")
        }
    }
}
