import CKernels
import XCTest
@testable import CryoKernels

/// Values, shapes and error messages of the tensor ops (gradients are in GradientCheckTests).
final class TensorTests: XCTestCase {
    func testBroadcastArithmetic() throws {
        let a = try Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try (a + Tensor([10, 20, 30])).storage, [11, 22, 33, 14, 25, 36])
        XCTAssertEqual(try (a * Tensor(shape: [2, 1], storage: [1, -1])).storage, [1, 2, 3, -4, -5, -6])
        let outer = try Tensor(shape: [2, 1], storage: [1, 2]) + Tensor(shape: [1, 3], storage: [10, 20, 30])
        XCTAssertEqual(outer.shape, [2, 3])
        XCTAssertEqual(outer.storage, [11, 21, 31, 12, 22, 32])
        XCTAssertEqual(try (2 - a).storage, [1, 0, -1, -2, -3, -4])
    }

    func testShapeMismatchNamesOpAndShapes() {
        let a = Tensor.zeros([2, 3]), b = Tensor.zeros([4])
        XCTAssertThrowsError(try a + b) { error in
            XCTAssertEqual("\(error)", "add: cannot broadcast shapes [2,3] and [4]")
        }
        XCTAssertThrowsError(try Tensor.matmul(a, Tensor.zeros([2, 3]))) { error in
            XCTAssertEqual("\(error)", "matmul: inner extents differ: [2,3] @ [2,3] (3 vs 2)")
        }
        XCTAssertThrowsError(try a.reshape([4, 2])) { error in
            XCTAssertTrue("\(error)".contains("cannot reshape [2,3] (6 values) to [4,2]"))
        }
        XCTAssertThrowsError(try Tensor(shape: [2, 2], storage: [1, 2, 3]))
        XCTAssertThrowsError(try a.sum(axis: 2)) { error in
            XCTAssertEqual("\(error)", "sum: axis 2 out of range for shape [2,3]")
        }
    }

    func testBadIndicesThrow() {
        let t = Tensor.zeros([3, 2])
        XCTAssertThrowsError(try t.gather(Tensor([0, 3]))) { error in
            XCTAssertTrue("\(error)".contains("index 3 at position 1 is not an integer in 0..<3"))
        }
        XCTAssertThrowsError(try t.gather(Tensor([0.5])))
        XCTAssertThrowsError(try t.gather(Tensor([-1])))
        XCTAssertThrowsError(try t.select(3))
        XCTAssertThrowsError(try t.slice(axis: 0, start: 2, end: 5))
        XCTAssertThrowsError(try t.segmentSum(Tensor([0, 1]), segments: 2)) { error in
            XCTAssertTrue("\(error)".contains("one segment id per row"))
        }
        XCTAssertThrowsError(try Tensor.concat([], axis: 0))
        XCTAssertThrowsError(try t.permute([0, 0]))
    }

    func testReductions() throws {
        let t = try Tensor(shape: [2, 3], storage: [1, 5, 3, 4, 2, 6])
        XCTAssertEqual(try t.sum(axis: 0).storage, [5, 7, 9])
        XCTAssertEqual(try t.sum(axis: 1, keepDims: true).shape, [2, 1])
        XCTAssertEqual(try t.mean().item(), 3.5)
        XCTAssertEqual(try t.max(axis: 1).storage, [5, 6])
        XCTAssertEqual(try t.max().item(), 6)
        XCTAssertEqual(try Tensor([3, 4]).norm().item(), 5)
        // Double accumulation: 1e7 ones plus a small value keep their precision.
        let big = Tensor.ones([10_000_000])
        XCTAssertEqual(try big.sum().item(), 1e7)
    }

    func testShapeOps() throws {
        let t = try Tensor(shape: [2, 3], storage: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(try t.transposed().storage, [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(try t.reshape([-1]).shape, [6])
        XCTAssertEqual(try Tensor.concat([t, t], axis: 0).shape, [4, 3])
        XCTAssertEqual(try Tensor.stack([t, t], axis: -1).shape, [2, 3, 2])
        XCTAssertEqual(try t.slice(axis: 1, start: 1, end: 3).storage, [2, 3, 5, 6])
        XCTAssertEqual(try t.select(1).storage, [4, 5, 6])
        XCTAssertEqual(try t.gather(Tensor([1, 1, 0])).storage, [4, 5, 6, 4, 5, 6, 1, 2, 3])
        XCTAssertEqual(try t.segmentSum(Tensor([1, 1]), segments: 3).storage, [0, 0, 0, 5, 7, 9, 0, 0, 0])
        XCTAssertEqual(try t.segmentMean(Tensor([1, 1]), segments: 2).storage, [0, 0, 0, 2.5, 3.5, 4.5])
    }

    func testMatmulMatchesNaiveProduct() throws {
        var g = SeededGenerator(seed: 1)
        let a = Tensor.randn([3, 5, 7], using: &g), b = Tensor.randn([3, 7, 4], using: &g)
        let c = try Tensor.matmul(a, b)
        XCTAssertEqual(c.shape, [3, 5, 4])
        for batch in 0..<3 { for i in 0..<5 { for j in 0..<4 {
            var s: Float = 0
            for k in 0..<7 { s += a.storage[batch * 35 + i * 7 + k] * b.storage[batch * 28 + k * 4 + j] }
            XCTAssertEqual(c.storage[batch * 20 + i * 4 + j], s, accuracy: 1e-4)
        } } }
        XCTAssertEqual(try Tensor.matmul(Tensor([1, 2]), try Tensor(shape: [2, 1], storage: [3, 4])).storage, [11])
    }

    func testSeededGeneratorIsReproducible() {
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5), g3 = SeededGenerator(seed: 6)
        let a = Tensor.randn([100], using: &g1), b = Tensor.randn([100], using: &g2), c = Tensor.randn([100], using: &g3)
        XCTAssertEqual(a.storage, b.storage)
        XCTAssertNotEqual(a.storage, c.storage)
        let mean = a.storage.reduce(0, +) / 100
        XCTAssertEqual(mean, 0, accuracy: 0.35)
    }

    func testDescriptionIsReadable() throws {
        XCTAssertEqual(try Tensor(shape: [2, 2], storage: [1, 2.5, 3, 4]).description, "Tensor[2,2] [[1, 2.5],\n [3, 4]]")
        XCTAssertTrue(Tensor.zeros([100]).description.contains("..."))
    }
}

/// The inlinable exp used by the elementwise kernels against libm.
final class FastMathTests: XCTestCase {
    func testExpMatchesLibmAcrossTheRange() {
        var worst: Float = 0
        var x: Float = -87
        while x < 88 {
            let reference = Foundation.exp(Double(x))
            let relative = Float(Swift.abs(Double(FastMath.exp(x)) - reference) / reference)
            worst = Swift.max(worst, relative)
            x += 0.0137
        }
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertEqual(FastMath.exp(0), 1)
        XCTAssertEqual(FastMath.exp(100), .infinity)
        XCTAssertEqual(FastMath.exp(-200), 0)
        XCTAssertTrue(FastMath.exp(.nan).isNaN)
        XCTAssertEqual(FastMath.logistic(50), 1)
        XCTAssertEqual(FastMath.logistic(-120), 0)
        XCTAssertEqual(Double(FastMath.logistic(0.3)), 1 / (1 + Foundation.exp(-0.3)), accuracy: 1e-7)
    }

    func testProjectorErfMatchesLibm() {
        var worst = 0.0
        for k in 0..<20_000 {
            let x = -7 + Float(k) * 0.0007
            worst = Swift.max(worst, Swift.abs(Double(cryo_erf(x)) - Foundation.erf(Double(x))))
        }
        XCTAssertLessThan(worst, 5e-7)
        XCTAssertEqual(cryo_erf(0), 0, accuracy: 1e-8)
        XCTAssertEqual(cryo_erf(-9), -1)
        XCTAssertTrue(cryo_erf(.nan).isNaN)
    }
}
