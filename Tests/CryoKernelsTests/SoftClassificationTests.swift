import XCTest
@testable import CryoKernels

/// The soft classification's weights are the Gaussian likelihood of the pose scores with the noise of the best fit,
/// and its pose the weighted mean of the states' poses within one basin.
final class SoftClassificationTests: XCTestCase {
    /// An estimate at `rotation` and `origin` whose refined pose scores `loss`.
    private func estimate(_ rotation: Rotation, loss: Double, origin: (Double, Double) = (0, 0)) -> PoseScoring.Estimate {
        PoseScoring.Estimate(rotation: rotation, argmin: rotation, loss: loss + 0.01, spread: 3, support: 5, origin: (origin.0, origin.1), refinedLoss: loss)
    }

    func testWeightsAreTheLikelihoodRatioWithTheBestFitsNoise() throws {
        let soft = try SoftClassification(pixels: 64 * 64)
        let near = Rotation(axis: (0, 0, 1), angle: 0.05), far = Rotation(axis: (0, 0, 1), angle: 30 * Double.pi / 180)
        let w = soft.weights([estimate(.identity, loss: 1.662), estimate(near, loss: 1.66), estimate(far, loss: 1.66)])
        // By hand: ρ = 1 − L/2 = 0.17 and 0.169; 4096·(0.17² − 0.169²)/(2·(1 − 0.17²)) = 0.71494, exp(−0.71494) = 0.48921.
        XCTAssertEqual(w[0] / w[1], 0.48921, accuracy: 1e-4)
        XCTAssertEqual(w[2], 0, "a pose 30° from the best one's is in another basin")
        XCTAssertEqual(w.reduce(0, +), 1, accuracy: 1e-12)
    }

    func testEqualScoresAverageThePosesAndTheOrigins() throws {
        let soft = try SoftClassification(pixels: 64 * 64)
        let step = 4 * Double.pi / 180
        let (merged, w) = soft.merged([estimate(.identity, loss: 1.66, origin: (1, 0)), estimate(Rotation(axis: (0, 0, 1), angle: step), loss: 1.66, origin: (3, 2))])
        XCTAssertEqual(w, [0.5, 0.5])
        XCTAssertEqual(merged.rotation.angle(to: .identity), 2, accuracy: 1e-9)
        XCTAssertEqual(merged.rotation.angle(to: Rotation(axis: (0, 0, 1), angle: step)), 2, accuracy: 1e-9)
        XCTAssertEqual(merged.origin.x, 2, accuracy: 1e-12)
        XCTAssertEqual(merged.origin.y, 1, accuracy: 1e-12)
        XCTAssertEqual(merged.poseLoss, 1.66)
    }

    func testAClearlyWorseStateLeavesTheBestPose() throws {
        let soft = try SoftClassification(pixels: 64 * 64)
        let best = Rotation(axis: (1, 0, 0), angle: 0.3)
        let (merged, w) = soft.merged([estimate(Rotation(axis: (1, 0, 0), angle: 0.35), loss: 1.71), estimate(best, loss: 1.66, origin: (2, -1))])
        XCTAssertLessThan(w[0], 1e-6, "ΔL = 0.05 is a log-likelihood ratio of about 18 at D = 64")
        XCTAssertLessThan(merged.rotation.angle(to: best), 1e-3)
        XCTAssertEqual(merged.origin.x, 2, accuracy: 1e-5)
        XCTAssertEqual(soft.weights([estimate(best, loss: 2.2), estimate(best, loss: 2.6)]), [0.5, 0.5],
                       "negative correlations fit no better than a zero scale, so they weigh the same")
        XCTAssertThrowsError(try SoftClassification(pixels: 0))
        XCTAssertThrowsError(try SoftClassification(pixels: 16, basin: 0))
    }
}
