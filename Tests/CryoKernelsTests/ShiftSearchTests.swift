import XCTest
@testable import CryoKernels

/// The in-plane shift search: it finds RELION origins to a fraction of a pixel, its scores are those of the shifted
/// rendering, its gradient is right, and the pose estimator with a search recovers both rotations and shifts.
final class ShiftSearchTests: XCTestCase {
    /// A compact 60-atom chain (centred), its geometry on 48² images at 2.5 Å, and noise-free CTF-filtered images at
    /// random rotations and origins of std 3 Å.
    private func shiftedImages(count: Int, seed: UInt64 = 7) throws -> (coords: [Double], geometry: Projector.Geometry, images: Tensor,
                                                                         rotations: [Rotation], origins: [Float], ctf: [CTFParameters]) {
        var g = SeededGenerator(seed: seed)
        var points: [Double] = [0, 0, 0]
        for i in 1..<60 {
            let step = (g.normal(), g.normal(), g.normal())
            let n = (step.0 * step.0 + step.1 * step.1 + step.2 * step.2).squareRoot()
            points += [points[3 * (i - 1)] + 3.8 * step.0 / n, points[3 * (i - 1) + 1] + 3.8 * step.1 / n, points[3 * (i - 1) + 2] + 3.8 * step.2 / n]
        }
        let coords = Superposition.centred(points)
        let geometry = try Projector.Geometry(size: 48, pixel: 2.5, sigma: [Float](repeating: 1.6, count: 60), weight: [Float](repeating: 50, count: 60))
        let rotations = (0..<count).map { _ in Rotation.random(using: &g) }
        let origins = (0..<(2 * count)).map { _ in Float(g.normal() * 3) }
        let ctf = (0..<count).map { CTFParameters(defocusU: 10000 + 1500 * Double($0 % 4)) }
        let clean = try Projector.project(coords: Tensor(uncheckedShape: [60, 3], storage: coords.map(Float.init)), rotations: Rotation.tensor(rotations),
                                          shifts: Tensor(uncheckedShape: [count, 2], storage: origins), geometry: geometry)
        return (coords, geometry, try FourierFilter.applyCTF(clean, parameters: ctf, pixel: 2.5), rotations, origins, ctf)
    }

    func testTheSearchFindsTheOriginsToAFractionOfAPixel() throws {
        let (coords, geometry, images, rotations, origins, ctf) = try shiftedImages(count: 6)
        let structure = try Tensor(uncheckedShape: [1, 60, 3], storage: coords.map(Float.init)).broadcast(to: [6, 60, 3])
        let search = try ShiftSearch(size: 48, pixel: 2.5, maxShift: 12)
        let zeros = [Float](repeating: 0, count: 12)
        let (searched, found) = try CandidateScoring.scored(coords: structure, images: images, rotations: rotations, shifts: zeros, ctf: ctf,
                                                            geometry: geometry, search: search)
        let centred = try CandidateScoring.losses(coords: structure, images: images, rotations: rotations, shifts: zeros, ctf: ctf, geometry: geometry)
        let given = try CandidateScoring.losses(coords: structure, images: images, rotations: rotations, shifts: origins, ctf: ctf, geometry: geometry)
        for b in 0..<6 {
            let error = hypot(Double(found[2 * b] - origins[2 * b]), Double(found[2 * b + 1] - origins[2 * b + 1]))
            XCTAssertLessThan(error, 0.3 * 2.5, "image \(b): found (\(found[2 * b]), \(found[2 * b + 1])), true (\(origins[2 * b]), \(origins[2 * b + 1])) Å")
            XCTAssertLessThan(searched.storage[b], centred.storage[b], "the search must beat the unshifted rendering")
            // The score at the found offset is the rendering moved there: close to the score at the true origin (≈ 0).
            XCTAssertEqual(searched.storage[b], given.storage[b], accuracy: 0.01)
        }
        // Whole pixels only: the offsets are multiples of the pixel.
        let whole = try ShiftSearch(size: 48, pixel: 2.5, maxShift: 12, subpixel: false)
        let (_, wholeFound) = try CandidateScoring.scored(coords: structure, images: images, rotations: rotations, shifts: zeros, ctf: ctf,
                                                          geometry: geometry, search: whole)
        for v in wholeFound { XCTAssertEqual(Double(v / 2.5), Double(v / 2.5).rounded(), accuracy: 1e-4) }
        // A radius of 2 Å cannot reach an origin 5 Å away: the found origin stays inside the radius.
        let near = try ShiftSearch(size: 48, pixel: 2.5, maxShift: 2)
        let (_, clipped) = try CandidateScoring.scored(coords: structure, images: images, rotations: rotations, shifts: zeros, ctf: ctf,
                                                       geometry: geometry, search: near)
        for b in 0..<6 { XCTAssertLessThanOrEqual(hypot(Double(clipped[2 * b]), Double(clipped[2 * b + 1])), 2 + 1e-3) }
        XCTAssertThrowsError(try ShiftSearch(size: 48, pixel: 2.5, maxShift: 70))
        XCTAssertThrowsError(try ShiftSearch(size: 48, pixel: 2.5, maxShift: 0))
    }

    /// The correlation window (`cryo_correlation_window`, which replaced the inverse FFT of the whole map) against its
    /// definition, D²·Σ_p x(p)·y(p − s) with wrap-around (unnormalised transforms), at every offset it holds, on every
    /// instruction set this CPU has: an even and an odd reach, and a box whose half spectrum is not whole vectors; the
    /// phase-ramped inner product from the cross-power spectrum it leaves, at the same offsets; and the energy it
    /// computes from the same pass.
    func testTheCorrelationWindowIsTheCircularCorrelation() throws {
        defer { InstructionSet.limit(.avx512) }
        for (d, pixel, maxShift) in [(32, Float(4), 10.0), (48, Float(2.5), 12.0), (64, Float(2), 10.0)] {
            let search = try ShiftSearch(size: d, pixel: pixel, maxShift: maxShift)
            var g = SeededGenerator(seed: UInt64(d))
            let x = (0..<(d * d)).map { _ in Float(g.normal()) }, y = (0..<(d * d)).map { _ in Float(g.normal()) }
            let (px, py) = (ShiftSearch.planes(x, batch: 1, size: d), ShiftSearch.planes(y, batch: 1, size: d))
            let power = (0..<(d * (d / 2 + 1))).map { _ in Float(g.uniform()) }
            let w = 2 * search.reach + 1
            XCTAssertEqual(search.reach, Int((maxShift / Double(pixel)).rounded(.down)) + 1)
            for isa in InstructionSet.allCases where isa <= InstructionSet.supported {
                InstructionSet.limit(isa)
                let scratch = ShiftSearch.Scratch(search)
                let found = search.best(z: px, p: py, power: ShiftSearch.paddedPower(power, size: d), scratch)
                // The energy from the same pass: Σ power·|ŷ|² over the half spectrum.
                let (columns, padded) = (d / 2 + 1, ShiftSearch.paddedColumns(d))
                var energy = 0.0
                for i in 0..<d {
                    for j in 0..<columns {
                        let (re, im) = (Double(py[i * padded + j]), Double(py[d * padded + i * padded + j]))
                        energy += Double(power[i * columns + j]) * (re * re + im * im)
                    }
                }
                XCTAssertEqual(Double(found.energy), energy, accuracy: 1e-5 * energy, "\(isa.name), \(d)², energy")
                for a in 0..<w {
                    for b in 0..<w {
                        let (si, sj) = (a - search.reach, b - search.reach)
                        var (c, magnitude) = (0.0, 0.0)
                        for i in 0..<d {
                            for j in 0..<d {
                                let term = Double(x[i * d + j]) * Double(y[((i - si + d) % d) * d + (j - sj + d) % d])
                                (c, magnitude) = (c + term, magnitude + abs(term))
                            }
                        }
                        XCTAssertEqual(Double(scratch.map[a * w + b]), Double(d * d) * c, accuracy: 1e-5 * Double(d * d) * magnitude,
                                       "\(isa.name), \(d)², offset (\(si), \(sj))")
                        // The inner product at a whole-pixel offset, from the cross-power spectrum the window left.
                        XCTAssertEqual(Double(search.windowDot(offset: (Double(si), Double(sj)), scratch)), c, accuracy: 1e-5 * magnitude,
                                       "\(isa.name), \(d)², inner product at (\(si), \(sj))")
                    }
                }
            }
        }
    }

    /// The search's C loops (correlation window, shifted inner product, phase ramp) give the same scores, origins and
    /// coordinate gradient on every instruction set this CPU has (odd offsets exercise the ramp's both halves).
    func testEveryInstructionSetSearchesAlike() throws {
        defer { InstructionSet.limit(.avx512) }
        let (coords, geometry, images, rotations, _, ctf) = try shiftedImages(count: 4, seed: 11)
        let structure = try Tensor(uncheckedShape: [1, 60, 3], storage: coords.map(Float.init)).broadcast(to: [4, 60, 3])
        let search = try ShiftSearch(size: 48, pixel: 2.5, maxShift: 12)
        let given: [Float] = [0.7, -1.3, 2.9, 0.4, -3.1, -0.2, 1.1, 1.9]
        var reference: (losses: [Float], origins: [Float], gradient: [Float])?
        for isa in InstructionSet.allCases where isa <= InstructionSet.supported {
            InstructionSet.limit(isa)
            let x = Tensor(uncheckedShape: structure.shape, storage: structure.storage).asParameter()
            var found: (losses: Tensor, origins: [Float])?
            let (_, grads) = try valueAndGradient(wrt: [x]) {
                found = try CandidateScoring.scored(coords: x, images: images, rotations: rotations, shifts: given, ctf: ctf, geometry: geometry, search: search)
                return found!.losses.sum()
            }
            let run = (found!.losses.storage, found!.origins, grads[0].storage)
            guard let first = reference else { reference = run; continue }
            for (a, b) in zip(run.0, first.losses) { XCTAssertEqual(a, b, accuracy: 1e-5, isa.name) }
            for (a, b) in zip(run.1, first.origins) { XCTAssertEqual(a, b, accuracy: 1e-3, isa.name) }
            for (a, b) in zip(run.2, first.gradient) { XCTAssertEqual(a, b, accuracy: 1e-4, isa.name) }
        }
        XCTAssertNotNil(reference)
    }

    /// The shift-searched candidate scores (whole-pixel offsets, which small perturbations of the coordinates do not
    /// move) against finite differences: the phase-ramped image in the backward pass is the right one.
    func testShiftSearchedScoresGradientMatchesFiniteDifferences() throws {
        let (coords, geometry, images, rotations, _, ctf) = try shiftedImages(count: 2, seed: 9)
        var g = SeededGenerator(seed: 3)
        // Two different conformations (the structure plus 0.7 Å noise), each scored at its true rotation and two near it.
        let conformations = Tensor(uncheckedShape: [2, 60, 3], storage: (0..<2).flatMap { _ in coords.map { Float($0 + g.normal() * 0.7) } })
        let candidates = rotations.flatMap { r in [r, r * Rotation.exp((0.05, 0, 0)), r * Rotation.exp((0, -0.04, 0.03))] }
        let search = try ShiftSearch(size: 48, pixel: 2.5, maxShift: 12, subpixel: false)
        let report = try GradientCheck.check([conformations], epsilon: 1e-2, tolerance: 1e-2) { xs in
            try CandidateScoring.scored(coords: xs[0], images: images, rotations: candidates, shifts: [0, 0, 0, 0], ctf: ctf, geometry: geometry,
                                        search: search).losses * 100
        }
        print("shift-searched candidate scores: \(report)")
        XCTAssertTrue(report.passed, "\(report)")
    }

    func testThePoseEstimatorFindsRotationsAndShiftsTogether() throws {
        let (coords, geometry, images, rotations, origins, ctf) = try shiftedImages(count: 8, seed: 11)
        let estimator = try PoseEstimator(level: 1, keep: 16, lifting: try SupportLifting(), search: try ShiftSearch(size: 48, pixel: 2.5, maxShift: 12), chunk: 3)
        var reported: [Int] = []
        let outcome = try estimator.estimate(rows: Array(0..<8), images: { try images.gather(Tensor($0.map(Float.init))) }, structures: [coords],
                                             assignment: [Int](repeating: 0, count: 8), geometry: geometry, ctf: { ctf[$0] }, origins: nil,
                                             progress: { reported.append($0) })
        XCTAssertEqual(reported, [3, 6, 8])
        let angles = zip(outcome.estimates, rotations).map { $0.rotation.angle(to: $1) }.sorted()
        let shifts = (0..<8).map { b -> Double in
            let (x, y) = (outcome.estimates[b].origin.x, outcome.estimates[b].origin.y)
            return hypot(x - Double(origins[2 * b]), y - Double(origins[2 * b + 1]))
        }.sorted()
        print("pose estimator with a shift search, noise-free: rotation errors \(angles), origin errors \(shifts) Å")
        XCTAssertLessThan(angles[4], SO3Grid.mesh[1] / 2)
        XCTAssertLessThan(shifts[4], 1.0)
        // Without the search the same images, not centred, give far worse poses.
        let blind = try PoseEstimator(level: 1, keep: 16, lifting: try SupportLifting())
        let unsearched = try blind.estimate(rows: Array(0..<8), images: { try images.gather(Tensor($0.map(Float.init))) }, structures: [coords],
                                            assignment: [Int](repeating: 0, count: 8), geometry: geometry, ctf: { ctf[$0] }, origins: nil)
        let blindAngles = zip(unsearched.estimates, rotations).map { $0.rotation.angle(to: $1) }.sorted()
        XCTAssertGreaterThan(blindAngles[4], angles[4])
        // Given the true origins instead, the images are centred first and the origins come back unchanged.
        let centred = try blind.estimate(rows: Array(0..<8), images: { try images.gather(Tensor($0.map(Float.init))) }, structures: [coords],
                                         assignment: [Int](repeating: 0, count: 8), geometry: geometry, ctf: { ctf[$0] }, origins: origins)
        for b in 0..<8 { XCTAssertEqual(Float(centred.estimates[b].origin.x), origins[2 * b]) }
        XCTAssertThrowsError(try blind.estimate(rows: [0, 1], images: { _ in images }, structures: [coords], assignment: [0, 1], geometry: geometry,
                                                ctf: nil, origins: nil))
        XCTAssertThrowsError(try PoseEstimator(level: 3, lifting: try SupportLifting()))
    }
}
