import XCTest
@testable import CryoKernels

/// RELION Euler convention, quaternions, uniform sampling, SO(3) log/exp, Kabsch.
final class RotationTests: XCTestCase {
    func testRelionEulerMatrixAtKnownAngles() {
        // rot = 90°: RELION's matrix (r' = R·r) takes x to −y.
        let r = Rotation(rot: 90, tilt: 0, psi: 0)
        let expected: [Double] = [0, 1, 0, -1, 0, 0, 0, 0, 1]
        for (a, b) in zip(r.m, expected) { XCTAssertEqual(a, b, accuracy: 1e-12) }
        // tilt = 90°: the view down the old x axis; model z maps to −x', model x to +z'.
        let t = Rotation(rot: 0, tilt: 90, psi: 0)
        let z = t.apply((0, 0, 1)), x = t.apply((1, 0, 0))
        XCTAssertEqual(z.0, -1, accuracy: 1e-12)
        XCTAssertEqual(x.2, 1, accuracy: 1e-12)
    }

    func testEulerRoundTrip() {
        var g = SeededGenerator(seed: 4)
        for _ in 0..<200 {
            let r = Rotation.random(using: &g)
            let (a, b, c) = r.euler
            XCTAssertTrue((0...180).contains(b))
            XCTAssertLessThan(Rotation(rot: a, tilt: b, psi: c).angle(to: r), 1e-6)
        }
        let poleUp = Rotation(rot: 0, tilt: 0, psi: 30)
        XCTAssertLessThan(Rotation(rot: poleUp.euler.rot, tilt: poleUp.euler.tilt, psi: poleUp.euler.psi).angle(to: poleUp), 1e-9)
    }

    func testRandomRotationsAreOrthonormalAndUniform() {
        var g = SeededGenerator(seed: 5)
        var meanZ = (0.0, 0.0, 0.0)
        let n = 20000
        for _ in 0..<n {
            let r = Rotation.random(using: &g)
            let rt = r.transposed * r
            for (a, b) in zip(rt.m, Rotation.identity.m) { XCTAssertEqual(a, b, accuracy: 1e-9) }
            let z = r.apply((0, 0, 1))
            meanZ = (meanZ.0 + z.0 / Double(n), meanZ.1 + z.1 / Double(n), meanZ.2 + z.2 / Double(n))
        }
        // Viewing directions of uniform rotations average to 0 (error ~ 1/√n).
        XCTAssertLessThan(abs(meanZ.0) + abs(meanZ.1) + abs(meanZ.2), 0.05)
    }

    func testLogExpRoundTripAndDistance() {
        var g = SeededGenerator(seed: 6)
        for _ in 0..<200 {
            let r = Rotation.random(using: &g)
            XCTAssertLessThan(Rotation.exp(r.log).angle(to: r), 1e-5)
        }
        let a = Rotation(axis: (0, 0, 1), angle: 0.3), b = Rotation(axis: (0, 0, 1), angle: 0.5)
        XCTAssertEqual(a.angle(to: b), 0.2 * 180 / .pi, accuracy: 1e-9)
        let flip = Rotation(axis: (1, 1, 0), angle: .pi)
        XCTAssertLessThan(Rotation.exp(flip.log).angle(to: flip), 1e-4)
    }

    func testKabschRecoversRigidMotion() {
        var g = SeededGenerator(seed: 7)
        let points = (0..<30).flatMap { _ in [g.normal() * 10, g.normal() * 10, g.normal() * 10] }
        let r = Rotation.random(using: &g)
        var moved = [Double]()
        for i in 0..<30 {
            let p = r.apply((points[3 * i], points[3 * i + 1], points[3 * i + 2]))
            moved += [p.0 + 5, p.1 - 3, p.2 + 1]
        }
        XCTAssertGreaterThan(Superposition.rmsd(moved, points), 1)
        XCTAssertLessThan(Superposition.kabschRMSD(moved, points), 1e-8)
        // A mirror image cannot be superposed by a proper rotation.
        let mirrored = points.enumerated().map { $0.offset % 3 == 0 ? -$0.element : $0.element }
        XCTAssertGreaterThan(Superposition.kabschRMSD(mirrored, points), 1)
    }
}
