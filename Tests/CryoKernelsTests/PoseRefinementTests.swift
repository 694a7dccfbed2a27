import XCTest
@testable import CryoKernels

/// Local pose refinement: the gradient of the pose score with respect to the rotation's tangent vector ω and the
/// origin matches finite differences, and a few steps bring perturbed poses closer to the truth.
final class PoseRefinementTests: XCTestCase {
    private func problem(count: Int) throws -> (coords: [Float], geometry: Projector.Geometry, images: Tensor, rotations: [Rotation], origins: [Float],
                                                ctf: [CTFParameters]) {
        var g = SeededGenerator(seed: 21)
        var points: [Double] = [0, 0, 0]
        for i in 1..<50 {
            let step = (g.normal(), g.normal(), g.normal())
            let n = (step.0 * step.0 + step.1 * step.1 + step.2 * step.2).squareRoot()
            points += [points[3 * (i - 1)] + 3.8 * step.0 / n, points[3 * (i - 1) + 1] + 3.8 * step.1 / n, points[3 * (i - 1) + 2] + 3.8 * step.2 / n]
        }
        let coords = Superposition.centred(points).map(Float.init)
        let geometry = try Projector.Geometry(size: 40, pixel: 2.5, sigma: [Float](repeating: 1.8, count: 50), weight: [Float](repeating: 40, count: 50))
        let rotations = (0..<count).map { _ in Rotation.random(using: &g) }
        let origins = (0..<(2 * count)).map { _ in Float(g.normal() * 2) }
        let ctf = (0..<count).map { CTFParameters(defocusU: 12000 + 2000 * Double($0 % 3)) }
        let clean = try Projector.project(coords: Tensor(uncheckedShape: [50, 3], storage: coords), rotations: Rotation.tensor(rotations),
                                          shifts: Tensor(uncheckedShape: [count, 2], storage: origins), geometry: geometry)
        return (coords, geometry, try FourierFilter.applyCTF(clean, parameters: ctf, pixel: 2.5), rotations, origins, ctf)
    }

    func testPoseGradientMatchesFiniteDifferences() throws {
        let (coords, geometry, images, rotations, origins, ctf) = try problem(count: 2)
        let targets = try CandidateScoring.Targets(images: images, ctf: ctf, geometry: geometry, spectra: false, op: "test")
        let worker = CandidateScoring.Worker(size: 40, atoms: 50, search: nil)
        let gradient = UnsafeMutablePointer<Float>.allocate(capacity: 150), cotangent = UnsafeMutablePointer<Float>.allocate(capacity: 1600)
        defer { gradient.deallocate(); cotangent.deallocate() }
        try coords.withUnsafeBufferPointer { x in
            for b in 0..<2 {
                // Away from the optimum (8° and 2 Å off), so the gradient is far from zero.
                let start = rotations[b] * Rotation.exp((0.1, -0.08, 0.06))
                let origin = (Double(origins[2 * b]) + 1.5, Double(origins[2 * b + 1]) - 1.2)
                func loss(_ w: (Double, Double, Double), _ o: (Double, Double)) -> Double {
                    Double(PoseRefinement.evaluate(targets: targets, image: b, conformation: x.baseAddress!, atoms: 50, rotation: start * Rotation.exp(w),
                                                   origin: o, geometry: geometry, worker, gradient: gradient, cotangent: cotangent).loss)
                }
                let analytic = PoseRefinement.evaluate(targets: targets, image: b, conformation: x.baseAddress!, atoms: 50, rotation: start, origin: origin,
                                                       geometry: geometry, worker, gradient: gradient, cotangent: cotangent)
                let (h, k) = (2e-3, 2e-2)
                let numeric = [
                    (loss((h, 0, 0), origin) - loss((-h, 0, 0), origin)) / (2 * h),
                    (loss((0, h, 0), origin) - loss((0, -h, 0), origin)) / (2 * h),
                    (loss((0, 0, h), origin) - loss((0, 0, -h), origin)) / (2 * h),
                    (loss((0, 0, 0), (origin.0 + k, origin.1)) - loss((0, 0, 0), (origin.0 - k, origin.1))) / (2 * k),
                    (loss((0, 0, 0), (origin.0, origin.1 + k)) - loss((0, 0, 0), (origin.0, origin.1 - k))) / (2 * k),
                ]
                let exact = [analytic.dRotation.0, analytic.dRotation.1, analytic.dRotation.2, analytic.dOrigin.0, analytic.dOrigin.1]
                print("pose gradient, image \(b): analytic \(exact), finite differences \(numeric)")
                let scale = exact.map(abs).max() ?? 0
                XCTAssertGreaterThan(scale, 1e-3, "the gradient should be far from zero away from the optimum")
                for (a, n) in zip(exact, numeric) { XCTAssertEqual(a, n, accuracy: 0.03 * scale) }
            }
        }
    }

    func testRefinementMovesPerturbedPosesTowardsTheTruth() throws {
        let (coords, geometry, images, rotations, origins, ctf) = try problem(count: 6)
        let structure = try Tensor(uncheckedShape: [1, 50, 3], storage: coords).broadcast(to: [6, 50, 3])
        var g = SeededGenerator(seed: 4)
        let start = rotations.map { r -> Rotation in
            let axis = (g.normal(), g.normal(), g.normal()), n = (axis.0 * axis.0 + axis.1 * axis.1 + axis.2 * axis.2).squareRoot()
            let angle = 5 * Double.pi / 180
            return r * Rotation.exp((axis.0 * angle / n, axis.1 * angle / n, axis.2 * angle / n))
        }
        let startOrigins = origins.map { $0 + 1.2 }
        let refinement = try PoseRefinement(steps: 15, rotations: true, origins: true)
        let refined = try refinement.refine(coords: structure, images: images, ctf: ctf, geometry: geometry, rotations: start, origins: startOrigins)
        let before = try CandidateScoring.losses(coords: structure, images: images, rotations: start, shifts: startOrigins, ctf: ctf, geometry: geometry)
        for b in 0..<6 {
            let angle = refined.rotations[b].angle(to: rotations[b])
            let shift = hypot(Double(refined.origins[2 * b] - origins[2 * b]), Double(refined.origins[2 * b + 1] - origins[2 * b + 1]))
            print("refinement, image \(b): 5° → \(angle)°, 1.7 Å → \(shift) Å")
            XCTAssertLessThan(angle, 2.5)
            XCTAssertLessThan(shift, 0.8)
            XCTAssertLessThanOrEqual(refined.losses[b], before.storage[b])
        }
        // Origins only (known poses): the rotation does not move.
        let shiftsOnly = try PoseRefinement(steps: 10, rotations: false, origins: true)
        let moved = try shiftsOnly.refine(coords: structure, images: images, ctf: ctf, geometry: geometry, rotations: rotations, origins: startOrigins)
        XCTAssertEqual(moved.rotations.map(\.m), rotations.map(\.m))
        for b in 0..<6 { XCTAssertLessThan(hypot(Double(moved.origins[2 * b] - origins[2 * b]), Double(moved.origins[2 * b + 1] - origins[2 * b + 1])), 0.5) }
        // A bound keeps the origins within it.
        let bounded = try PoseRefinement(steps: 10, rotations: false, origins: true, shiftBound: 0.5)
        let kept = try bounded.refine(coords: structure, images: images, ctf: ctf, geometry: geometry, rotations: rotations, origins: [Float](repeating: 0, count: 12))
        for b in 0..<6 { XCTAssertLessThanOrEqual(hypot(Double(kept.origins[2 * b]), Double(kept.origins[2 * b + 1])), 0.5 + 1e-6) }
        XCTAssertThrowsError(try PoseRefinement(steps: 0, rotations: true, origins: true))
        XCTAssertThrowsError(try PoseRefinement(steps: 2, rotations: false, origins: false))
        XCTAssertThrowsError(try refinement.refine(coords: structure, images: images, ctf: ctf, geometry: geometry, rotations: start, origins: [0]))
    }
}
