import XCTest
@testable import CryoKernels

/// The projection that removes the rigid part (translation and infinitesimal rotation) from decoder displacements
/// with unknown poses: it annihilates exact rigid motions, keeps what is orthogonal to them, is idempotent, passes
/// gradients, and the trainer's decoded conformations differ from the template by rigid-free displacements.
final class RigidFreeDisplacementsTests: XCTestCase {
    /// A random compact 20-atom template (Å), not centred, so the centroid matters.
    private func template(_ g: inout SeededGenerator, atoms: Int = 20) -> [Double] {
        (0..<(3 * atoms)).map { 5 * g.normal() + [3, -2, 7][$0 % 3] }
    }

    /// Per atom: v + ω × (xᵢ − c), an exact infinitesimal rigid motion [1,N,3].
    private func rigidMotion(_ x: [Double], centre c: [Double], omega w: [Double], v: [Double]) -> Tensor {
        let n = x.count / 3
        var out: [Float] = []
        for i in 0..<n {
            let r = (0..<3).map { x[3 * i + $0] - c[$0] }
            let cross = [w[1] * r[2] - w[2] * r[1], w[2] * r[0] - w[0] * r[2], w[0] * r[1] - w[1] * r[0]]
            out += (0..<3).map { Float(v[$0] + cross[$0]) }
        }
        return Tensor(uncheckedShape: [1, n, 3], storage: out)
    }

    private func maxAbs(_ t: Tensor) -> Float { t.storage.map(abs).max() ?? 0 }

    func testRemovesAnExactRigidMotionAndKeepsItsComplement() throws {
        var g = SeededGenerator(seed: 3)
        let x = template(&g)
        let gauge = try XCTUnwrap(try RigidFreeDisplacements(template: x, translation: true, rotation: true))
        XCTAssertEqual(gauge.basis.shape, [60, 6])
        // A motion of 0.3 rad and 4 Å about an arbitrary point (any point: with translations the span is the same).
        let motion = rigidMotion(x, centre: [1, 2, -3], omega: [0.3, -0.2, 0.1], v: [4, -1, 2])
        XCTAssertGreaterThan(maxAbs(motion), 1)
        XCTAssertLessThan(maxAbs(try gauge(motion)), 1e-4)
        // A random displacement less its rigid part is orthogonal to A and passes unchanged; adding a rigid motion to
        // it changes nothing after the projection.
        let random = Tensor(uncheckedShape: [2, 20, 3], storage: (0..<120).map { _ in Float(g.normal()) })
        let free = try gauge(random)
        XCTAssertLessThan(maxAbs(try gauge(free) - free), 1e-5, "idempotent")
        XCTAssertLessThan(maxAbs(try gauge(free + motion) - free), 1e-4)
        // What is removed is a rigid motion: the residual has no mean and no net angular momentum about the centroid.
        let centroid = gauge.centre
        for b in 0..<2 {
            var mean = [0.0, 0.0, 0.0], torque = [0.0, 0.0, 0.0]
            for i in 0..<20 {
                let d = (0..<3).map { Double(free.storage[b * 60 + 3 * i + $0]) }
                let r = (0..<3).map { x[3 * i + $0] - centroid[$0] }
                for c in 0..<3 { mean[c] += d[c] / 20 }
                torque[0] += r[1] * d[2] - r[2] * d[1]
                torque[1] += r[2] * d[0] - r[0] * d[2]
                torque[2] += r[0] * d[1] - r[1] * d[0]
            }
            XCTAssertLessThan(mean.map(abs).max()!, 1e-5)
            XCTAssertLessThan(torque.map(abs).max()!, 1e-3)
        }
    }

    func testRotationOnlyTurnsAboutTheFrameOriginAndKeepsTranslations() throws {
        var g = SeededGenerator(seed: 5)
        let x = template(&g)
        let gauge = try XCTUnwrap(try RigidFreeDisplacements(template: x, translation: false, rotation: true))
        XCTAssertEqual(gauge.centre, [0, 0, 0])
        XCTAssertLessThan(maxAbs(try gauge(rigidMotion(x, centre: [0, 0, 0], omega: [0.1, 0.2, -0.3], v: [0, 0, 0]))), 1e-4)
        // A pure translation is not a pose (without a shift search the images see it): most of it stays.
        let shift = rigidMotion(x, centre: [0, 0, 0], omega: [0, 0, 0], v: [2, 0, 0])
        XCTAssertGreaterThan(maxAbs(try gauge(shift)), 0.5)
        // Translation only: the mean over atoms, as `x − mean(x)`.
        let translation = try XCTUnwrap(try RigidFreeDisplacements(template: x, translation: true, rotation: false))
        let random = Tensor(uncheckedShape: [3, 20, 3], storage: (0..<180).map { _ in Float(g.normal()) })
        XCTAssertLessThan(maxAbs(try translation(random) - (random - random.mean(axis: 1, keepDims: true))), 1e-5)
        XCTAssertNil(try RigidFreeDisplacements(template: x, translation: false, rotation: false))
    }

    func testDegenerateStraightChainDropsTheRotationThatMovesNothing() throws {
        // Atoms on the x axis: a rotation about x moves none of them, so A has rank 5.
        let x = (0..<10).flatMap { i -> [Double] in [Double(i) * 3.8, 0, 0] }
        let gauge = try XCTUnwrap(try RigidFreeDisplacements(template: x, translation: true, rotation: true))
        XCTAssertEqual(gauge.basis.shape, [30, 5])
        XCTAssertLessThan(maxAbs(try gauge(rigidMotion(x, centre: [5, 0, 0], omega: [0, 0.2, 0.1], v: [1, 1, 1]))), 1e-4)
    }

    func testGradientMatchesFiniteDifferences() throws {
        var g = SeededGenerator(seed: 9)
        let x = template(&g, atoms: 8)
        let gauge = try XCTUnwrap(try RigidFreeDisplacements(template: x, translation: true, rotation: true))
        let d = Tensor(uncheckedShape: [2, 8, 3], storage: (0..<48).map { _ in Float(g.normal()) })
        // A nonlinear function of the projected displacements, so the cotangents differ between elements.
        let report = try GradientCheck.check([d], epsilon: 1e-2, tolerance: 2e-3) { xs in
            let p = try gauge(xs[0])
            return try p * p
        }
        print("rigid-free displacements, gradient: \(report)")
        XCTAssertTrue(report.passed, "\(report)")
    }

    func testTrainerDecodesRigidFreeDisplacementsWithUnknownPoses() throws {
        let (s, all, allTruth, geometry) = try TrainingTests.problem()
        let data = try all.subset(Array(0..<16))
        let k = 4
        var g = SeededGenerator(seed: 2)
        let candidates = (0..<(16 * k)).map { _ in Rotation.random(using: &g) }
        let unknown = try UnknownPoses(candidates: candidates, perImage: k, images: 16, lifting: try SupportLifting(),
                                       gridSize: SO3Grid.sizes[1], truth: data.rotations)
        let template = AutodecoderTrainer.placed(s.models[0], centre: nil)
        let gauge = try XCTUnwrap(try RigidFreeDisplacements(template: template, translation: false, rotation: true))
        let n = template.count / 3
        for (poses, rigidFree) in [(unknown as UnknownPoses?, true), (nil, false)] {
            let trainer = try TrainingTests.trainer(s, data, Array(allTruth.prefix(16)), geometry, epochs: 1, unknownPoses: poses)
            let latents = Tensor(uncheckedShape: [3, trainer.latentDimension], storage: (0..<(3 * trainer.latentDimension)).map { _ in Float(g.normal()) })
            let displacement = try trainer.conformations(latents) - Tensor(uncheckedShape: [1, n, 3], storage: template.map(Float.init))
            let rigidPart = maxAbs(try displacement - gauge(displacement))
            print("decoded displacements' rotational part, unknown poses \(rigidFree): \(rigidPart) Å of \(maxAbs(displacement)) Å")
            XCTAssertGreaterThan(maxAbs(displacement), 1e-2)
            if rigidFree { XCTAssertLessThan(rigidPart, 1e-3) } else { XCTAssertGreaterThan(rigidPart, 1e-3) }
        }
    }
}
