import XCTest
@testable import CryoKernels

/// Optimisers on problems with known answers, and a small MLP regression that must really learn.
final class OptimizerTests: XCTestCase {
    func testAdamFirstStepMovesByLearningRate() throws {
        let p = Tensor([1, -1]).asParameter()
        let adam = Adam([p], learningRate: 0.1)
        try adam.step([Tensor([3, -0.001])])
        // Bias correction makes the first step lr·sign(g) whatever the gradient's size.
        XCTAssertEqual(p.storage[0], 0.9, accuracy: 1e-5)
        XCTAssertEqual(p.storage[1], -0.9, accuracy: 1e-3)
    }

    func testSGDMomentumMinimisesQuadratic() throws {
        let p = Tensor([5]).asParameter()
        let sgd = SGD([p], learningRate: 0.05, momentum: 0.9)
        for _ in 0..<300 {
            let (_, g) = try valueAndGradient(wrt: [p]) { try ((p - 2) * (p - 2)).sum() }
            try sgd.step(g)
        }
        XCTAssertEqual(p.storage[0], 2, accuracy: 1e-3)
    }

    func testOptimizerRejectsMismatchedGradients() {
        let adam = Adam([Tensor.zeros([2])])
        XCTAssertThrowsError(try adam.step([Tensor.zeros([3])]))
        XCTAssertThrowsError(try adam.step([]))
    }

    /// y = sin(3x) on [-1, 1] with a 1→32→1 tanh MLP: a constant predictor has MSE ≈ 0.45;
    /// training must get below 0.01.
    func testTwoLayerMLPLearnsRegression() throws {
        var g = SeededGenerator(seed: 3)
        let x = try Tensor.arange(-1, 1, step: 2.0 / 128).reshape([128, 1])
        let y = x.mapUnary { Foundation.sin(3 * $0) }
        let w1 = Tensor.randn([1, 32], std: 1, using: &g).asParameter(), b1 = Tensor.zeros([32]).asParameter()
        let w2 = Tensor.randn([32, 1], std: 0.2, using: &g).asParameter(), b2 = Tensor.zeros([1]).asParameter()
        let params = [w1, b1, w2, b2]
        let adam = Adam(params, learningRate: 0.01)
        func loss() throws -> Tensor {
            let h = try (Tensor.matmul(x, w1) + b1).tanh()
            let diff = try Tensor.matmul(h, w2) + b2 - y
            return try (diff * diff).mean()
        }
        let baseline = try ((y - y.mean()) * (y - y.mean())).mean().item()
        for _ in 0..<1500 {
            let (_, grads) = try valueAndGradient(wrt: params, loss)
            try adam.step(grads)
        }
        let final = try loss().item()
        XCTAssertGreaterThan(baseline, 0.4)
        XCTAssertLessThan(final, 0.01, "MLP did not learn: final MSE \(final), constant predictor \(baseline)")
    }
}
