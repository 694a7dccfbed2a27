import XCTest
import CryoKernels
@testable import Interpreter

/// Gradients through functions written in the language match finite differences.
final class ScriptAutodiffTests: XCTestCase {
    func testScriptDefinedLayerPassesGradcheck() throws {
        let interpreter = Interpreter()
        let program = """
        let src = tensor([0, 1, 2, 3, 1])
        let dst = tensor([1, 2, 3, 0, 0])
        fn message_layer(h, w1, w2) {
          let m = silu(cat([h[src], h[dst]], axis: -1) @ w1)
          h + segment_sum(m, dst, 4) @ w2
        }
        let report = gradcheck(|h, w1, w2| message_layer(h, w1, w2),
                               [randn([4, 3], seed: 1), randn([6, 5], std: 0.5, seed: 2), randn([5, 3], std: 0.5, seed: 3)],
                               tol: 1e-2)
        report
        """
        guard case .record(let r) = try interpreter.run(program) ?? .null, case .bool(let passed)? = r["passed"] else {
            return XCTFail("no report")
        }
        XCTAssertTrue(passed, "max error \(String(describing: r["max_error"]))")
    }

    func testGradMatchesNativeGradient() throws {
        let interpreter = Interpreter()
        let value = try interpreter.run("""
        let w = param(tensor([[1, 2], [3, 4]]))
        let x = tensor([[1, -1], [0.5, 2]])
        grad(|| sum(tanh(x @ w) ** 2), {w: w}).w
        """)
        guard case .tensor(let g)? = value else { return XCTFail() }
        let w = try Tensor(shape: [2, 2], storage: [1, 2, 3, 4]), x = try Tensor(shape: [2, 2], storage: [1, -1, 0.5, 2])
        let (_, native) = try valueAndGradient(wrt: [w]) { try Tensor.matmul(x, w).tanh().pow(2).sum() }
        for (a, b) in zip(g.storage, native[0].storage) { XCTAssertEqual(a, b, accuracy: 1e-6) }
    }

    func testAdamStepThroughTheLanguageLowersLoss() throws {
        let interpreter = Interpreter()
        let value = try interpreter.run("""
        let p = {w: param(tensor([3.0, -2.0]))}
        let opt = adam(p, lr: 0.1)
        fn loss() = sum(p.w ** 2)
        let before = item(loss())
        for i in 0..100 { opt.step(grad(loss, p)) }
        [before, item(loss())]
        """)
        guard case .list(let items)? = value, case .number(let before) = items[0], case .number(let after) = items[1] else { return XCTFail() }
        XCTAssertEqual(before, 13)
        XCTAssertLessThan(after, 0.05)
    }

    func testGradOfNonScalarIsAClearError() {
        let interpreter = Interpreter()
        XCTAssertThrowsError(try interpreter.run("let w = param(ones([2]))\ngrad(|| w * 2, w)")) { error in
            XCTAssertTrue("\(error)".contains("grad: f must return a one-element tensor (a loss), got tensor of shape [2]"), "\(error)")
        }
    }
}
