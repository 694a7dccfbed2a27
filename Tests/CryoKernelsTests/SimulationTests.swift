import XCTest
@testable import CryoKernels

/// The built-in protein, ANM motions and the particle simulator.
final class SimulationTests: XCTestCase {
    private func distances(_ c: [Double]) -> [Double] {
        (0..<(c.count / 3 - 1)).map { i in
            let d = (0..<3).map { c[3 * (i + 1) + $0] - c[3 * i + $0] }
            return (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).squareRoot()
        }
    }

    func testToyProteinIsProteinLike() throws {
        let s = try ToyProtein.make(residues: 120, seed: 0)
        XCTAssertEqual(s.count, 120)
        XCTAssertEqual(try ToyProtein.make(residues: 214, seed: 4).count, 214)
        let d = distances(s.models[0])
        XCTAssertEqual(d.min() ?? 0, 3.8, accuracy: 0.1)
        XCTAssertEqual(d.max() ?? 99, 3.8, accuracy: 0.1)
        // Residues two apart ≥ 5 Å (protein-like Cα angles); no other pair closer than 3.8 Å; every residue in the paper's table.
        let c = s.models[0]
        for i in 0..<(s.count - 2) { for j in (i + 2)..<s.count {
            let r = (0..<3).map { c[3 * i + $0] - c[3 * j + $0] }
            XCTAssertGreaterThan((r[0] * r[0] + r[1] * r[1] + r[2] * r[2]).squareRoot(), j == i + 2 ? 5.0 : 3.8, "residues \(i) and \(j) too close")
        } }
        XCTAssertNotNil(ResidueTable.lookup(s.atoms.map(\.residueName)))
        // Modified residues read as the residue they modify; an unknown name is reported, not guessed.
        XCTAssertEqual(ResidueTable.lookup(["CSO", "MSE"])?.sigmas, ResidueTable.lookup(["CYS", "MET"])?.sigmas)
        XCTAssertEqual(ResidueTable.unknownName(in: ["ALA", "CSO", "XYZ", "QQQ"]), "XYZ")
        XCTAssertNil(ResidueTable.unknownName(in: ["GLY", "HSD"]))
        XCTAssertThrowsError(try ToyProtein.make(residues: 5, seed: 0))
    }

    func testANMModesAndTrajectory() throws {
        let s = try ToyProtein.make(residues: 60, seed: 1)
        let modes = try ANM.modes(s.models[0], count: 3)
        XCTAssertLessThanOrEqual(modes[0].value, modes[1].value)
        XCTAssertGreaterThan(modes[0].value, 1e-6, "rigid-body modes are skipped")
        let dot = zip(modes[0].vector, modes[1].vector).reduce(0) { $0 + $1.0 * $1.1 }
        XCTAssertEqual(dot, 0, accuracy: 1e-8)
        // A lowest mode is a rigid motion of nothing: it must not be a translation.
        let frames = try ANM.trajectory(s.models[0], frames: 10, modes: 3, amplitude: 4, seed: 2)
        XCTAssertEqual(frames.count, 10)
        XCTAssertEqual(frames[0], s.models[0], "frame 0 is the input")
        XCTAssertEqual(Superposition.rmsd(frames[9], frames[0]), 4, accuracy: 1e-6)
        XCTAssertGreaterThan(Superposition.kabschRMSD(frames[9], frames[0]), 1, "a real deformation, not a rigid motion")
        let middle = Superposition.rmsd(frames[5], frames[0])
        XCTAssertTrue(middle > 1 && middle < 4)
        XCTAssertThrowsError(try ANM.trajectory(s.models[0], frames: 1, modes: 3, amplitude: 4, seed: 0))
    }

    /// A point-sampled atom: the closed form at every pixel centre, about its weight in all, and equal to the
    /// pixel-integrated rendering where σ is wide against the pixel.
    func testPointSampledProjectionMatchesClosedForm() throws {
        let geometry = try Projector.Geometry(size: 32, pixel: 2, sigma: [1.5], weight: [3])
        let centre: [Float] = [1.3, -2.1, 0.7], origin: [Float] = [0.4, -1.0]
        let rotation = Rotation.exp((0.3, -0.2, 0.9))
        let image = try PointSampledProjection.render(coords: Tensor(shape: [1, 1, 3], storage: centre), rotations: [rotation], shifts: origin, geometry: geometry)
        let (x, y, _) = rotation.apply((Double(centre[0]), Double(centre[1]), Double(centre[2])))
        let (cx, cy) = (x - Double(origin[0]), y - Double(origin[1]))
        for (i, j) in [(16, 16), (15, 17), (13, 14), (18, 15)] {
            let (u, v) = (Double(j - 16) * 2 - cx, Double(i - 16) * 2 - cy)
            XCTAssertEqual(Double(image.storage[i * 32 + j]), 3 * 4 / (2 * Double.pi * 2.25) * exp(-(u * u + v * v) / 4.5), accuracy: 1e-6)
        }
        XCTAssertEqual(image.storage.reduce(0, +), 3, accuracy: 1e-3)
        let wide = try Projector.Geometry(size: 32, pixel: 1, sigma: [4], weight: [1])
        let coords = try Tensor(shape: [1, 1, 3], storage: centre)
        let sampled = try PointSampledProjection.render(coords: coords, rotations: [rotation], shifts: origin, geometry: wide)
        let integrated = try Projector.project(coords: coords, rotations: Rotation.tensor([rotation]), shifts: Tensor(shape: [1, 2], storage: origin), geometry: wide)
        XCTAssertLessThan(zip(sampled.storage, integrated.storage).map { abs($0 - $1) }.max()!, 1e-2 * integrated.storage.max()!)
        XCTAssertThrowsError(try PointSampledProjection.render(coords: coords, rotations: [], shifts: [], geometry: wide))
    }

    /// `.first` keeps each conformation's offset from the first one's centroid, so each image's centre of mass sits
    /// at the rotated offset; `.each` draws every conformation about its own centroid.
    func testSimulatorCentring() throws {
        let s = try ToyProtein.make(residues: 40, seed: 2)
        let shifted = s.models[0].enumerated().map { $0.element + [6.0, -3.0, 2.0][$0.offset % 3] }
        let placed = Simulator.placed([s.models[0], shifted], centring: .first)
        XCTAssertEqual(Double(placed[1][0] - placed[0][0]), 6, accuracy: 1e-4, "the ground truth keeps the offset it is drawn with")
        for (centring, rendering) in [(Simulator.Centring.first, Simulator.Rendering.point), (.each, .integrated)] {
            var settings = Simulator.Settings(images: 12, size: 64, pixel: 2, snr: 1, applyCTF: false, seed: 5)
            (settings.centring, settings.rendering) = (centring, rendering)
            let (data, clean, _) = try Simulator.simulate(conformations: [s.models[0], shifted], sigma: Array(repeating: 1.5, count: 40),
                                                          weight: Array(repeating: 1, count: 40), settings: settings)
            for i in 0..<12 {
                var (mass, mx, my) = (0.0, 0.0, 0.0)
                for p in 0..<(64 * 64) {
                    let v = Double(clean.storage[i * 64 * 64 + p])
                    (mass, mx, my) = (mass + v, mx + v * Double(p % 64 - 32) * 2, my + v * Double(p / 64 - 32) * 2)
                }
                let label = data.conformation![i]
                let offset = centring == .first && label == 1 ? (6.0, -3.0, 2.0) : (0.0, 0.0, 0.0)
                let (x, y, _) = data.rotations[i].apply(offset)
                XCTAssertEqual(mx / mass, x, accuracy: 0.02, "\(centring) image \(i)")
                XCTAssertEqual(my / mass, y, accuracy: 0.02, "\(centring) image \(i)")
            }
        }
    }

    func testSimulatorKeepsGroundTruthAndSNR() throws {
        let s = try ToyProtein.make(residues: 60, seed: 3)
        let frames = try ANM.trajectory(s.models[0], frames: 4, modes: 2, amplitude: 3, seed: 1)
        let (weights, sigmas) = try XCTUnwrap(ResidueTable.lookup(s.atoms.map(\.residueName)))
        let settings = Simulator.Settings(images: 40, size: 32, pixel: 2.5, snr: 0.05, shift: 1, seed: 9)
        let (data, clean, sigma) = try Simulator.simulate(conformations: frames, sigma: sigmas, weight: weights, settings: settings)
        XCTAssertEqual(data.images?.shape, [40, 32, 32])
        XCTAssertEqual(Set(data.conformation ?? []).isSubset(of: [0, 1, 2, 3]), true)
        XCTAssertEqual(Set(data.conformation ?? []).count, 4)
        XCTAssertTrue(data.ctf.allSatisfy { (10_000...25_000).contains($0.defocusU) })
        var cleanVariance = 0.0, mean = 0.0
        for v in clean.storage { mean += Double(v) }
        mean /= Double(clean.count)
        for v in clean.storage { cleanVariance += (Double(v) - mean) * (Double(v) - mean) }
        cleanVariance /= Double(clean.count)
        XCTAssertEqual(sigma * sigma, cleanVariance / 0.05, accuracy: 1e-6 * cleanVariance / 0.05)
        // The same seed gives the same dataset.
        let again = try Simulator.simulate(conformations: frames, sigma: sigmas, weight: weights, settings: settings)
        XCTAssertEqual(again.dataset.images?.storage, data.images?.storage)
    }
}
