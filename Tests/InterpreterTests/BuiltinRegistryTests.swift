import XCTest
@testable import Interpreter

/// The builtin registry: one builtin per name, and every builtin error names the builtin that raised it.
final class BuiltinRegistryTests: XCTestCase {
    func testEveryBuiltinHasItsOwnName() throws {
        let all = BuiltinLibrary.all()
        let names = Dictionary(grouping: all, by: \.name).filter { $0.value.count > 1 }.keys.sorted()
        XCTAssertEqual(names, [], "builtins registered more than once")
        XCTAssertEqual(try BuiltinLibrary.byName(all).count, all.count)
        XCTAssertEqual(Interpreter().registry.count, all.count)
    }

    func testASecondBuiltinWithTheSameNameIsRejected() {
        let first = builtin("twin", topic: "a", [], doc: "first", example: "twin()") { _ in .number(1) }
        let second = builtin("twin", topic: "b", [], doc: "second", example: "twin()") { _ in .number(2) }
        XCTAssertThrowsError(try BuiltinLibrary.byName([first, second])) { error in
            XCTAssertEqual("\(error)", "builtin 'twin' is registered twice (topics a and b); give one of them another name")
        }
    }

    func testBuiltinErrorsCarryTheBuiltinsName() throws {
        let interpreter = Interpreter()
        let cases: [(String, String)] = [
            // Messages that start with the builtin's name stay as they are.
            ("pca(zeros([2, 3, 4]))", "t.cryo:1:1: error: pca: argument 'x' must be a matrix [M,L]"),
            ("max([])", "t.cryo:1:1: error: max of no values"),
            // An error of an op the builtin runs, or a bare message, gets the builtin's name in front.
            ("mse(zeros([2]), zeros([3]))", "t.cryo:1:1: error: mse: sub: cannot broadcast shapes [2] and [3]"),
            ("segment_mean(zeros([3, 2]), tensor([0, 5, 1]), 2)", "t.cryo:1:1: error: segment_mean: segment_sum: index 5"),
            ("assert(false, \"did not converge\")", "t.cryo:1:1: error: assert: did not converge"),
        ]
        for (program, prefix) in cases {
            XCTAssertThrowsError(try interpreter.run(program, name: "t.cryo"), program) { error in
                XCTAssertTrue("\(error)".hasPrefix(prefix), "expected '\(prefix)…', got:\n\(error)")
            }
        }
    }
}
