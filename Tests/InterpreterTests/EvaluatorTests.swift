import XCTest
import CryoKernels
import DSL
@testable import Interpreter

/// Semantics of the language: values, scopes, closures, recursion, keywords, control flow, import, errors.
final class EvaluatorTests: XCTestCase {
    private func eval(_ text: String, _ interpreter: Interpreter = Interpreter()) throws -> Value {
        try interpreter.run(text, name: "t.cryo") ?? .null
    }

    /// The program's value as a number; any other value is a test failure (never a skip).
    private func number(_ text: String, file: StaticString = #filePath, line: UInt = #line) throws -> Double {
        let value = try eval(text)
        guard case .number(let x) = value else {
            XCTFail("expected a number from \(text), got \(value.typeName) \(ValueFormatter.brief(value))", file: file, line: line)
            throw NotANumber()
        }
        return x
    }

    private func assertError(_ text: String, _ fragment: String, at position: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try eval(text), file: file, line: line) { error in
            let shown = "\(error)"
            XCTAssertTrue(shown.contains(fragment), "expected '\(fragment)' in:\n\(shown)", file: file, line: line)
            if let position { XCTAssertTrue(shown.hasPrefix(position), "expected position \(position) in:\n\(shown)", file: file, line: line) }
        }
    }

    func testArithmeticAndPrecedence() throws {
        XCTAssertEqual(try number("1 + 2 * 3 - 4 / 2"), 5)
        XCTAssertEqual(try number("-2 ** 2"), -4)
        XCTAssertEqual(try number("7 % 3 + -7 % 3"), 3)
        XCTAssertEqual(try number("let a = [1, 2, 3]; a[-1] + len(a)"), 6)
        XCTAssertEqual(try number("{x: 2, y: {z: 5}}.y.z"), 5)
        guard case .bool(true) = try eval("1 < 2 and not (3 == 4) or false") else { return XCTFail() }
        guard case .string("ab3") = try eval("\"a\" + \"b\" + str(3)") else { return XCTFail() }
    }

    func testClosuresCaptureTheirScope() throws {
        let program = """
        fn counter() {
          var n = 0
          || { n = n + 1; n }
        }
        let c1 = counter()
        let c2 = counter()
        c1(); c1(); c2()
        c1() * 10 + c2()
        """
        XCTAssertEqual(try number(program), 32)
        XCTAssertEqual(try number("fn adder(k) = |x| x + k\nlet add5 = adder(5)\nadd5(10)"), 15)
    }

    func testRecursionAndDepthLimit() throws {
        XCTAssertEqual(try number("fn fact(n) = if n <= 1 { 1 } else { n * fact(n - 1) }\nfact(10)"), 3628800)
        XCTAssertEqual(try number("fn down(n) = if n == 0 { 0 } else { down(n - 1) }\ndown(2500)"), 0)
        assertError("fn forever(n) = forever(n + 1)\nforever(0)", "recursion too deep")
    }

    func testScopingAndMutability() throws {
        XCTAssertEqual(try number("let x = 1\nlet f = || x\nlet x = 2\nf() * 10 + x"), 22, "redefining a name in the same scope replaces its binding, as in Python")
        XCTAssertEqual(try number("var t = 0\nfor i in 0..5 { let t2 = i; t = t + t2 }\nt"), 10)
        assertError("let x = 1\nx = 2", "cannot assign to 'x': it was declared with 'let'", at: "t.cryo:2:1")
        assertError("y = 2", "cannot assign to undefined 'y'")
        assertError("{ let inner = 1 }\ninner", "undefined name 'inner'")
    }

    /// A released interpreter frees its scopes, whichever scope a function stored in them closes over. The fuzzer's
    /// LeakSanitizer found `let c = {|x| x}` leaking them: the lambda closes over the block's scope, whose parent,
    /// the top level, holds the lambda, and only the block's scope was emptied on release.
    func testReleasedInterpreterFreesItsScopes() throws {
        let programs = ["fn f(x) = x", "let c = |x| x", "let c = {|x| x}\nc(1)", "fn k() = {|x| x}\nlet a = k()",
                        "let r = {f: { let y = 2\n |x| x + y }}", "var fs = []\nfor i in 0..3 { fs = fs + [{|x| x + i}] }"]
        for program in programs {
            weak var topLevel: Environment?, builtins: Environment?
            try {
                let interpreter = Interpreter()
                try interpreter.run(program, name: "t.cryo")
                (topLevel, builtins) = (interpreter.topLevel, interpreter.builtins)
            }()
            XCTAssertNil(topLevel, "the top level of `\(program)` outlived its interpreter")
            XCTAssertNil(builtins, "the builtins of `\(program)` outlived their interpreter")
        }
    }

    func testKeywordArgumentsAndDefaults() throws {
        XCTAssertEqual(try number("fn f(a, b = 10, c = a + 1) = a * 100 + b * 10 + c\nf(1, c: 5)"), 205)
        XCTAssertEqual(try number("fn f(a, b = 10) = a - b\nf(b: 1, a: 3)"), 2)
        assertError("fn f(a) = a\nf(1, 2)", "'f' takes 1 argument, got 2")
        assertError("fn f(a) = a\nf(b: 1)", "'f' has no parameter 'b'")
        assertError("fn f(a, b) = a\nf(1)", "missing argument 'b' in call to 'f'")
        XCTAssertEqual(try number("sum(tensor([[1, 2], [3, 4]]), axis: 0) |> max |> item"), 6)
        assertError("sum(tensor([1]), axes: 0)", "sum has no parameter 'axes'; signature: sum(x, axis: nil, keepdims: false)")
        assertError("zeros()", "zeros is missing argument 'shape'")
        assertError("relu(\"a\")", "relu: argument 'x' must be a tensor")
    }

    func testControlFlow() throws {
        XCTAssertEqual(try number("var s = 0\nfor i in 0..100 { if i == 5 { break }\n if i % 2 == 0 { continue }\n s = s + i }\ns"), 4)
        XCTAssertEqual(try number("var i = 0\nwhile i < 10 { i = i + 3 }\ni"), 12)
        XCTAssertEqual(try number("fn first(xs) { for x in xs { if x > 2 { return x } }\n -1 }\nfirst([1, 5, 7]) + first([0])"), 4)
        XCTAssertEqual(try number("var n = 0\nfor row in ones([3, 2]) { n = n + item(sum(row)) }\nn"), 6)
        assertError("break", "'break' outside a loop")
        assertError("if 1 { 2 }", "'if' needs a condition that is true or false, got number 1")
        assertError("for x in 3 { }", "'for' cannot iterate over number")
    }

    func testTensorsFlowThroughOperators() throws {
        guard case .tensor(let t) = try eval("let a = tensor([[1, 2], [3, 4]])\n(a @ a + 1) * 2 - a ** 2 / 2") else { return XCTFail() }
        XCTAssertEqual(t.storage, [15.5, 20, 27.5, 38])
        guard case .tensor(let g) = try eval("let h = tensor([[1, 1], [2, 2], [3, 3]])\nh[tensor([2, 0])]") else { return XCTFail() }
        XCTAssertEqual(g.storage, [3, 3, 1, 1])
        guard case .list(let shape) = try eval("zeros([4, 3])[1..3].shape") else { return XCTFail() }
        XCTAssertEqual(shape.count, 2)
        assertError("let a = zeros([2, 3])\nlet b = zeros([4])\na + b", "add: cannot broadcast shapes [2,3] and [4]", at: "t.cryo:3:1")
        assertError("zeros([2, 3]) @ zeros([2, 3])", "matmul: inner extents differ")
        assertError("zeros([2])[5]", "index 5 out of range for tensor axis 0 of length 2")
        assertError("zeros([2])[tensor([3])]", "gather: index 3 at position 0 is not an integer in 0..<2")
    }

    func testTracebackNamesScriptFrames() {
        let program = "fn inner(x) = x + zeros([5])\nfn outer(x) = inner(x) * 2\nouter(zeros([3]))"
        XCTAssertThrowsError(try eval(program)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.hasPrefix("t.cryo:1:15: error: add: cannot broadcast shapes [3] and [5]"), text)
            XCTAssertTrue(text.contains("traceback (most recent call last):\n  t.cryo:3:1 in outer\n  t.cryo:2:15 in inner"), text)
        }
    }

    func testImportBringsDefinitions() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-import-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try "fn double(x) = 2 * x\nlet answer = 21".write(to: dir.appendingPathComponent("lib.cryo"), atomically: true, encoding: .utf8)
        try "import \"lib.cryo\"\nlet result = double(answer)".write(to: dir.appendingPathComponent("main.cryo"), atomically: true, encoding: .utf8)
        try "import \"loop.cryo\"".write(to: dir.appendingPathComponent("loop.cryo"), atomically: true, encoding: .utf8)
        let interpreter = Interpreter()
        let main = dir.appendingPathComponent("main.cryo").path
        try interpreter.run(SourceFile(name: main, text: try String(contentsOfFile: main, encoding: .utf8)))
        guard case .number(42) = try eval("result", interpreter) else { return XCTFail() }
        let loop = dir.appendingPathComponent("loop.cryo").path
        XCTAssertThrowsError(try interpreter.run(SourceFile(name: loop, text: "import \"loop.cryo\""))) { error in
            XCTAssertTrue("\(error)".contains("circular import"), "\(error)")
        }
        XCTAssertThrowsError(try interpreter.run("import \"/no/such/file.cryo\"")) { error in
            XCTAssertTrue("\(error)".contains("cannot import"), "\(error)")
        }
    }

    func testInterruptStopsALoopAndKeepsState() throws {
        let interpreter = Interpreter()
        try interpreter.run("var kept = 7")
        let calls = Counter()
        interpreter.shouldInterrupt = { calls.increment() > 1000 }
        XCTAssertThrowsError(try interpreter.run("while true { }")) { XCTAssertTrue($0 is InterruptedError) }
        interpreter.shouldInterrupt = { false }
        guard case .number(7) = try eval("kept", interpreter) else { return XCTFail() }
    }

    func testHelpAndPrint() throws {
        let interpreter = Interpreter()
        let lines = Lines()
        interpreter.output = { lines.append($0) }
        try interpreter.run("help(\"segment_sum\")\nprint(\"x\", 1.5, [1, 2])\nhelp()")
        XCTAssertTrue(lines.all[0].hasPrefix("segment_sum(x, ids, n)"))
        XCTAssertEqual(lines.all[1], "x 1.5 [1, 2]")
        XCTAssertTrue(lines.all[2].contains("autodiff:"))
        XCTAssertThrowsError(try interpreter.run("help(\"nosuch\")"))
        for b in interpreter.registry.values {
            XCTAssertFalse(b.doc.isEmpty, "\(b.name) has no doc")
            XCTAssertFalse(b.example.isEmpty, "\(b.name) has no example")
        }
    }
}

/// Thrown by `EvaluatorTests.number` after it has recorded the failure, to stop the test.
struct NotANumber: Error {}

/// A thread-safe counter for interrupt callbacks.
final class Counter: @unchecked Sendable {
    private var value = 0
    private let lock = NSLock()
    func increment() -> Int { lock.lock(); defer { lock.unlock() }; value += 1; return value }
}

/// Collected output lines.
final class Lines: @unchecked Sendable {
    private(set) var all: [String] = []
    func append(_ s: String) { all.append(s) }
}
