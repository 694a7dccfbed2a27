import CKernels
import XCTest
@testable import CryoKernels

/// The narrow matrix product (`cryo_narrow_gemm`, which `Tensor.matmul` uses for outputs of at most 256 columns)
/// against the definition, on every instruction set this CPU has.
final class NarrowGemmTests: XCTestCase {
    override func tearDown() {
        InstructionSet.limit(.avx512)
        super.tearDown()
    }

    /// Shapes around the kernel's tiles (4 or 6 rows, 1–4 vectors of 8 or 16 columns, reductions in chunks of 64), A
    /// plain and transposed, overwriting and accumulating, every matrix with padded rows: each entry of C within
    /// 4·10⁻⁵·√k of the sum in Double, and the padding untouched.
    func testEveryInstructionSetMatchesTheDefinition() throws {
        var g = SeededGenerator(seed: 11)
        for isa in InstructionSet.allCases where isa <= InstructionSet.supported {
            XCTAssertEqual(InstructionSet.limit(isa), isa)
            let shapes = [1, 6, 11, 13].flatMap { m in
                [3, 8, 17, 33, 48, 64, 80].flatMap { n in [1, 65, 130].map { k in (m, n, k) } }
            }
            for (m, n, k) in shapes {
                for transposed in [false, true] {
                    let lda = (transposed ? m : k) + 2, ldb = n + 3, ldc = n + 1
                    let a = (0..<((transposed ? k : m) * lda)).map { _ in Float(g.normal()) }
                    let b = (0..<(k * ldb)).map { _ in Float(g.normal()) }
                    let before = (0..<(m * ldc)).map { _ in Float(g.normal()) }
                    for accumulate in [false, true] {
                        var c = before
                        let (rowStride, columnStride) = transposed ? (1, lda) : (lda, 1)
                        cryo_narrow_gemm(a, rowStride, columnStride, b, ldb, m, n, k, accumulate ? 1 : 0, &c, ldc)
                        for i in 0..<m {
                            for j in 0..<ldc {
                                var expected = Double(before[i * ldc + j])
                                if j < n {
                                    expected = accumulate ? expected : 0
                                    for p in 0..<k {
                                        let x = Double(a[i * rowStride + p * columnStride]), y = Double(b[p * ldb + j])
                                        expected += x * y
                                    }
                                }
                                let label = "\(isa.name) m \(m) n \(n) k \(k) transposed \(transposed) accumulate \(accumulate) at (\(i), \(j))"
                                let tolerance = 4e-5 * Double(k).squareRoot()
                                XCTAssertEqual(Double(c[i * ldc + j]), expected, accuracy: tolerance, label)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `Tensor.matmul` on narrow products, folded over a batch and broadcast: the product and both gradients equal
    /// the definition, computed in Double.
    func testMatmulOnNarrowProductsAndItsGradients() throws {
        var g = SeededGenerator(seed: 12)
        XCTAssertTrue(GemmBatch.isNarrow(false, false, 64, 64))
        XCTAssertTrue(GemmBatch.isNarrow(true, false, 64, 6848))
        XCTAssertTrue(GemmBatch.isNarrow(false, true, 64, 64))
        XCTAssertFalse(GemmBatch.isNarrow(false, false, 512, 512))
        for (shapeA, shapeB) in [([5, 7, 64], [64, 48]), ([3, 1, 13, 20], [2, 20, 3]), ([130, 33], [33, 17])] {
            let a = Tensor.randn(shapeA, using: &g).asParameter(), b = Tensor.randn(shapeB, using: &g).asParameter()
            let (m, k, n) = (shapeA[shapeA.count - 2], shapeA.last!, shapeB.last!)
            let product = try Tensor.matmul(a, b)
            let weights = Tensor.randn(product.shape, using: &g)
            let (_, grads) = try valueAndGradient(wrt: [a, b]) { try (Tensor.matmul(a, b) * weights).sum() }
            // The definition, batch by batch (A's and B's batch axes broadcast to the product's).
            let batch = Array(product.shape.dropLast(2))
            let count = batch.reduce(1, *)
            let stridesA = Broadcasting.strides(of: Array(shapeA.dropLast(2)), broadcastTo: batch)
            let stridesB = Broadcasting.strides(of: Array(shapeB.dropLast(2)), broadcastTo: batch)
            var offsets: [(Int, Int)] = Array(repeating: (0, 0), count: count)
            Broadcasting.walk(batch, stridesA, stridesB) { i, ja, jb in offsets[i] = (ja * m * k, jb * k * n) }
            var gradA = [Double](repeating: 0, count: a.count), gradB = [Double](repeating: 0, count: b.count)
            for (index, (oa, ob)) in offsets.enumerated() {
                for i in 0..<m {
                    for j in 0..<n {
                        var sum = 0.0
                        for p in 0..<k { sum += Double(a.storage[oa + i * k + p]) * Double(b.storage[ob + p * n + j]) }
                        let at = index * m * n + i * n + j
                        XCTAssertEqual(Double(product.storage[at]), sum, accuracy: 1e-4, "\(shapeA) @ \(shapeB) product")
                        let w = Double(weights.storage[at])
                        for p in 0..<k {
                            gradA[oa + i * k + p] += w * Double(b.storage[ob + p * n + j])
                            gradB[ob + p * n + j] += w * Double(a.storage[oa + i * k + p])
                        }
                    }
                }
            }
            for (x, y) in zip(grads[0].storage, gradA) { XCTAssertEqual(Double(x), y, accuracy: 1e-3, "\(shapeA) @ \(shapeB) dA") }
            for (x, y) in zip(grads[1].storage, gradB) { XCTAssertEqual(Double(x), y, accuracy: 1e-3, "\(shapeA) @ \(shapeB) dB") }
        }
    }
}
