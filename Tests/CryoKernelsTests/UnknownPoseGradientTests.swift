import XCTest
@testable import CryoKernels

/// Finite-difference check of the whole unknown-pose data term: coordinates → projector (with shifts) → CTF →
/// standardised correlation with the image at each candidate rotation → ESL expectation over a grid of 14,761 → the
/// batch mean, differentiated with respect to the coordinates.
final class UnknownPoseGradientTests: XCTestCase {
    func testDataTermGradientWithRespectToCoordinates() throws {
        var g = SeededGenerator(seed: 11)
        let (batch, atoms, perImage, size, pixel): (Int, Int, Int, Int, Float) = (2, 12, 10, 24, 2.5)
        // A compact chain, centred, with its atoms 3.8 Å apart along a random walk.
        var points: [Float] = [0, 0, 0]
        for i in 1..<atoms {
            let step = Tensor.randn([3], using: &g).storage
            let n = (step.map { $0 * $0 }.reduce(0, +)).squareRoot()
            for c in 0..<3 { points.append(points[(i - 1) * 3 + c] + 3.8 * step[c] / n) }
        }
        let centroid = (0..<3).map { c in stride(from: c, to: points.count, by: 3).map { points[$0] }.reduce(0, +) / Float(atoms) }
        let structure = points.indices.map { points[$0] - centroid[$0 % 3] }
        let coords = Tensor(uncheckedShape: [batch, atoms, 3], storage: structure + structure.map { $0 + Float(g.normal() * 0.7) })
        let geometry = try Projector.Geometry(size: size, pixel: pixel, sigma: [Float](repeating: 1.8, count: atoms),
                                              weight: [Float](repeating: 50, count: atoms))
        let truth = (0..<batch).map { _ in Rotation.random(using: &g) }
        let shifts = Tensor(uncheckedShape: [batch, 2], storage: [1.5, -0.5, -1, 2])
        let ctf = [CTFParameters(defocusU: 12000), CTFParameters(defocusU: 18000, defocusV: 16000, astigmatismAngle: 30)]
        // Targets: a different conformation at the true poses, so the gradient is far from zero.
        let targetCoords = try coords + Tensor.randn([batch, atoms, 3], using: &g)
        let targets = try FourierFilter.applyCTF(try Projector.project(coords: targetCoords, rotations: Rotation.tensor(truth),
                                                                       shifts: shifts, geometry: geometry), parameters: ctf, pixel: pixel)
        // Candidates 0°, 2.5°, …, 22.5° from each true pose about random axes, so the losses differ.
        let candidates = truth.flatMap { r in
            (0..<perImage).map { q -> Rotation in
                let axis = (g.normal(), g.normal(), g.normal())
                let scale = Double(q) * 2.5 * .pi / 180 / (axis.0 * axis.0 + axis.1 * axis.1 + axis.2 * axis.2).squareRoot()
                return r * Rotation.exp((axis.0 * scale, axis.1 * scale, axis.2 * scale))
            }
        }
        let poses = try UnknownPoses(candidates: candidates, perImage: perImage, images: batch, lifting: try SupportLifting(),
                                     gridSize: SO3Grid.sizes[1], truth: truth)
        let dataset = try ParticleDataset(images: targets, rotations: truth, shifts: shifts.storage, ctf: ctf, pixel: pixel, size: size, op: "test")
        // The check's tolerance is absolute below 1 and relative above (ε = 3e-2 keeps Float rounding of losses near 2
        // well below it); scaled by 1000 the largest derivatives are
        // about 10, so both a wrong derivative and a missing one (e.g. treating β as constant) show.
        let report = try GradientCheck.check([coords], epsilon: 3e-2, tolerance: 1e-2) { xs in
            var state = TrainingPoses(rotations: truth, origins: shifts.storage, candidates: candidates, perImage: perImage)
            return try poses.dataTerm(picked: [0, 1], coords: xs[0], images: targets, poses: &state, ctf: ctf, geometry: geometry) * 1000
        }
        print("unknown-pose data term, gradient with respect to coordinates: \(report)")
        XCTAssertTrue(report.passed, "\(report)")
    }
}
