import XCTest
@testable import CryoKernels

/// The global rotation that aligns found poses with true ones (found ≈ truth·G).
final class PoseSetAlignmentTests: XCTestCase {
    /// Poses off by a common turn G are aligned exactly, and G is recovered.
    func testRecoversACommonTurnExactly() throws {
        var g = SeededGenerator(seed: 11)
        let truth = (0..<200).map { _ in Rotation.random(using: &g) }
        let turn = Rotation(axis: (0.3, -0.5, 0.8), angle: 0.03)
        let found = truth.map { $0 * turn }
        let fitted = try PoseSetAlignment.rotation(aligning: found, with: truth)
        XCTAssertLessThan(fitted.angle(to: turn), 1e-6)
        for (f, t) in zip(found, truth) { XCTAssertLessThan(f.angle(to: t * fitted), 1e-6) }
    }

    /// With per-image errors of several degrees and 5% of the poses wrong altogether, the fit stays within a
    /// fraction of a degree of the common turn, and no nearby rotation fits the poses better in least squares.
    func testIsTheLeastSquaresFitUnderNoiseAndOutliers() throws {
        var g = SeededGenerator(seed: 12)
        let truth = (0..<2000).map { _ in Rotation.random(using: &g) }
        let turn = Rotation(axis: (1, 2, -1), angle: 1.6 * .pi / 180)
        let found = truth.enumerated().map { i, t -> Rotation in
            if i % 20 == 0 { return Rotation.random(using: &g) }
            let noise = Rotation.exp((g.normal() * 0.05, g.normal() * 0.05, g.normal() * 0.05))
            return t * turn * noise
        }
        let fitted = try PoseSetAlignment.rotation(aligning: found, with: truth)
        XCTAssertLessThan(fitted.angle(to: turn), 0.3)
        // Σ‖foundᵢ − truthᵢ·G‖²_F, which the fit minimises.
        func cost(_ rotation: Rotation) -> Double {
            zip(found, truth).reduce(0) { sum, pair in
                let aligned = pair.1 * rotation
                return sum + (0..<9).reduce(0) { $0 + (pair.0.m[$1] - aligned.m[$1]) * (pair.0.m[$1] - aligned.m[$1]) }
            }
        }
        let best = cost(fitted)
        for _ in 0..<20 {
            let nearby = fitted * Rotation.exp((g.normal() * 0.003, g.normal() * 0.003, g.normal() * 0.003))
            XCTAssertGreaterThan(cost(nearby), best)
        }
    }

    /// Lists of different lengths, or empty ones, are an error, not a crash.
    func testMismatchedListsThrow() {
        var g = SeededGenerator(seed: 13)
        let three = (0..<3).map { _ in Rotation.random(using: &g) }
        XCTAssertThrowsError(try PoseSetAlignment.rotation(aligning: three, with: Array(three.prefix(2))))
        XCTAssertThrowsError(try PoseSetAlignment.rotation(aligning: [], with: []))
    }
}
