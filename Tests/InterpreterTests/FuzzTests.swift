import XCTest
import CryoKernels
import DSL
@testable import Interpreter

/// Random programs built from the language's tokens: every one must end in a value, in an error located at
/// `file:line:column` or in an exhausted budget of the fuzzing sandbox — never crash the process (a crash would end
/// this test run) and never fail unlocated. Scripts/fuzz.sh runs the coverage-guided fuzzer on the same property.
final class FuzzTests: XCTestCase {
    static let vocabulary = [
        "let", "var", "fn", "if", "else", "for", "in", "while", "break", "return", "x", "y", "f", "g", "(", ")", "[", "]", "{", "}",
        ",", ":", "=", "==", "+", "-", "*", "/", "%", "**", "@", "|", "|>", "..", ".", "0", "1", "-1", "2.5", "1e308", "nil", "true",
        "\"s\"", "\n", "zeros([2,3])", "tensor([1,2])", "relu", "sum", "len", "x[0]", "param", "grad", "randn([3])", "shape", "not", "and",
        "reshape(x, [-1])", "gather(x, tensor([5]))", "y.shape", "{a: 1}", "segment_sum", "project", "print", "[1, [2]]", "0/0",
    ]

    /// Runs `program` after two bindings in the fuzzing sandbox (no files, budgets of steps, time and memory).
    private func outcome(of program: String) -> SandboxOutcome {
        SandboxOutcome.of("let x = zeros([2, 3])\nlet y = tensor([1, 2])\n" + program)
    }

    func testRandomProgramsNeverCrash() {
        var g = SeededGenerator(seed: 2026)
        var values = 0, located = 0, outOfBudget = 0, others: [String] = []
        for _ in 0..<600 {
            let length = 1 + Int(g.next() % 24)
            let program = (0..<length).map { _ in Self.vocabulary[Int(g.next() % UInt64(Self.vocabulary.count))] }.joined(separator: " ")
            switch outcome(of: program) {
            case .value: values += 1
            case .syntaxError, .runtimeError: located += 1
            case .outOfBudget: outOfBudget += 1
            case .unexpected(let what): others.append("\(program.debugDescription): \(what)")
            }
        }
        print("fuzz: 600 token soups, \(values) values, \(located) located errors, \(outOfBudget) out of budget")
        XCTAssertGreaterThan(values, 0, "no token soup ran to a value")
        XCTAssertGreaterThan(located, 0, "no token soup stopped with a located error")
        XCTAssertEqual(others, [], "outcomes that are neither a value nor a located error")
    }

    static let atoms = ["x", "y", "0", "1", "-3", "2.5", "1e38", "0/0", "nil", "true", "\"s\"", "[1, 2]", "zeros([0])", "zeros([2, 3])",
                        "tensor([[1, 2], [3, 4]])", "randn([3, 3], seed: 1)", "{a: 1}", "range(0, 3)", "ones([1, 4, 4])", "random_rotations(2, seed: 1)"]
    static let functions = ["relu", "sum", "mean", "max", "len", "shape", "exp", "log", "sqrt", "norm", "transpose", "item", "describe",
                            "abs", "str", "type", "tanh", "floor", "detach", "sigmoid", "to_euler", "median", "pca"]
    static let binaries = ["+", "-", "*", "/", "%", "**", "@", "==", "<", "and", "or"]

    /// A random well-formed expression of depth at most `depth`.
    private func expression(_ depth: Int, _ g: inout SeededGenerator) -> String {
        let pick = { (n: Int, g: inout SeededGenerator) in Int(g.next() % UInt64(n)) }
        if depth == 0 { return Self.atoms[pick(Self.atoms.count, &g)] }
        switch pick(7, &g) {
        case 0: return "(" + expression(depth - 1, &g) + " " + Self.binaries[pick(Self.binaries.count, &g)] + " " + expression(depth - 1, &g) + ")"
        case 1: return Self.functions[pick(Self.functions.count, &g)] + "(" + expression(depth - 1, &g) + ")"
        case 2: return expression(depth - 1, &g) + "[" + expression(depth - 1, &g) + "]"
        case 3: return "[" + expression(depth - 1, &g) + ", " + expression(depth - 1, &g) + "]"
        case 4: return "if " + expression(depth - 1, &g) + " { " + expression(depth - 1, &g) + " } else { " + expression(depth - 1, &g) + " }"
        case 5: return "reshape(" + expression(depth - 1, &g) + ", [" + expression(0, &g) + ", -1])"
        default: return "-" + expression(depth - 1, &g)
        }
    }

    func testRandomWellFormedExpressionsNeverCrash() {
        var g = SeededGenerator(seed: 7)
        var ran = 0, failed = 0
        for _ in 0..<1500 {
            let program = expression(1 + Int(g.next() % 4), &g)
            switch outcome(of: program) {
            case .value: ran += 1
            case .runtimeError: failed += 1
            case .syntaxError: XCTFail("\(program): a well-formed expression did not parse")
            case .outOfBudget: XCTFail("\(program): a loop-free expression ran out of budget")
            case .unexpected(let what): XCTFail("\(program): unexpected \(what)")
            }
        }
        print("fuzz: 1500 expressions, \(ran) ran, \(failed) stopped with a located error")
        XCTAssertGreaterThan(ran, 100)
        XCTAssertGreaterThan(failed, 100)
    }
}
