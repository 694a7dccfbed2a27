import XCTest
@testable import CryoKernels

/// Ellipsoidal support lifting: the simplex projection, J and γ, the derivative of Σβ·L, the barycentre, grids,
/// and pose recovery from noise-free and noisy images.
final class ESLTests: XCTestCase {
    func testSimplexProjectionAgainstOptimalityConditions() {
        var g = SeededGenerator(seed: 1)
        for _ in 0..<200 {
            let n = 1 + Int(g.next() % 40)
            let v = (0..<n).map { _ in g.normal() * 3 }
            let beta = Simplex.project(v)
            XCTAssertEqual(beta.reduce(0, +), 1, accuracy: 1e-9)
            XCTAssertTrue(beta.allSatisfy { $0 >= 0 })
            // KKT: β = max(v − τ, 0) for one τ; v_i ≤ τ wherever β_i = 0.
            guard let i = beta.indices.first(where: { beta[$0] > 0 }) else { return XCTFail() }
            let tau = v[i] - beta[i]
            for k in 0..<n {
                if beta[k] > 0 { XCTAssertEqual(beta[k], v[k] - tau, accuracy: 1e-9) } else { XCTAssertLessThanOrEqual(v[k], tau + 1e-9) }
            }
            // No other simplex point on a coarse random search is closer to v.
            let d = zip(beta, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
            for _ in 0..<20 {
                var p = (0..<n).map { _ in -Foundation.log(Swift.max(1e-12, g.uniform())) }
                let s = p.reduce(0, +)
                p = p.map { $0 / s }
                XCTAssertLessThanOrEqual(d, zip(p, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) } + 1e-9)
            }
        }
    }

    func testJAndGammaAtHandComputedValues() throws {
        let lifting = try SupportLifting()
        XCTAssertEqual(lifting.supportSize(1821), 15, "Q^0 = 1 at η = 2/3")
        XCTAssertEqual(try SupportLifting(eta: 0.25).supportSize(1821), Int((15 * pow(1821.0, 0.25)).rounded(.down)))
        XCTAssertEqual(lifting.supportSize(10), 9, "J ≤ Q − 1")
        let losses = (0..<1821).map(Double.init)
        // γ = ½·15·1821^(2/3)·(L_(15) − mean of the 15 smallest) = 7.5·1821^(2/3)·(14 − 7).
        XCTAssertEqual(lifting.gamma(sortedLosses: losses), 7.5 * pow(1821.0, 2.0 / 3.0) * 7 + 1e-9, accuracy: 1e-6)
        XCTAssertThrowsError(try SupportLifting(eta: 0.7)) { XCTAssertTrue("\($0)".contains("eta must lie in [1/4, 2/3]")) }
        XCTAssertThrowsError(try SupportLifting(eta: 0.2))
        let beta = lifting.measure(losses)
        XCTAssertEqual(beta.reduce(0, +), 1, accuracy: 1e-9)
        XCTAssertLessThanOrEqual(beta.filter { $0 > 0 }.count, 40, "a sparse measure on the lowest losses")
        XCTAssertGreaterThan(beta[0], beta[5])
    }

    func testExpectedLossDerivativeMatchesFiniteDifferences() throws {
        var g = SeededGenerator(seed: 2)
        let lifting = try SupportLifting()
        for _ in 0..<5 {
            let l = (0..<300).map { _ in 1 + g.uniform() }
            let (_, analytic) = lifting.expectedLoss(l)
            for k in l.indices.sorted(by: { l[$0] < l[$1] }).prefix(30) {
                var plus = l, minus = l
                plus[k] += 1e-7
                minus[k] -= 1e-7
                let numeric = (lifting.expectedLoss(plus).value - lifting.expectedLoss(minus).value) / 2e-7
                XCTAssertEqual(analytic[k], numeric, accuracy: 1e-4 * Swift.max(1, Swift.abs(numeric)), "entry \(k)")
            }
        }
    }

    func testBarycentreFindsTheMinimumBetweenGridPoints() throws {
        let grid = try SO3Grid.level(0).rotations
        let lifting = try SupportLifting()
        var g = SeededGenerator(seed: 3)
        var errors: [Double] = [], gridErrors: [Double] = []
        for _ in 0..<20 {
            let truth = Rotation.random(using: &g)
            let l = grid.map { r -> Double in let d = r.angle(to: truth) * .pi / 180; return d * d }
            let centre = SupportLifting.barycentre(grid, lifting.measure(l))
            errors.append(centre.angle(to: truth))
            gridErrors.append(grid[l.indices.min { l[$0] < l[$1] } ?? 0].angle(to: truth))
        }
        let median = errors.sorted()[10]
        print("barycentre on the 1,821 grid: median \(median)°, grid argmin \(gridErrors.sorted()[10])°")
        XCTAssertLessThan(median, SO3Grid.mesh[0] / 4)
        XCTAssertLessThan(median, gridErrors.sorted()[10])
    }

    func testGridCoverage() throws {
        for (level, limit) in [(0, 21.0), (1, 10.5)] {
            let grid = try SO3Grid.level(level)
            XCTAssertEqual(grid.count, SO3Grid.sizes[level])
            let (radius, median) = grid.coverage(samples: 3000, seed: 4)
            print("grid level \(level): \(grid.count) rotations, covering radius ≈ \(radius)°, median \(median)°")
            XCTAssertLessThan(radius, limit)
            XCTAssertLessThan(median, limit / 1.6)
        }
    }

    /// An asymmetric 80-residue chain (a random walk of 3.8 Å steps that never folds back on itself): the toy
    /// protein's two similar domains make it nearly symmetric, which would blur a pose test.
    private func asymmetricChain(seed: UInt64) -> [Double] {
        var g = SeededGenerator(seed: seed)
        var points: [(Double, Double, Double)] = [(0, 0, 0)]
        var direction = (1.0, 0.0, 0.0)
        while points.count < 80 {
            let turn = (direction.0 + g.normal() * 0.6, direction.1 + g.normal() * 0.6, direction.2 + g.normal() * 0.6)
            let n = (turn.0 * turn.0 + turn.1 * turn.1 + turn.2 * turn.2).squareRoot()
            let step = (turn.0 / n * 3.8, turn.1 / n * 3.8, turn.2 / n * 3.8)
            let last = points[points.count - 1]
            let next = (last.0 + step.0, last.1 + step.1, last.2 + step.2)
            if points.dropLast(2).contains(where: { pow($0.0 - next.0, 2) + pow($0.1 - next.1, 2) + pow($0.2 - next.2, 2) < 16 }) { continue }
            points.append(next)
            direction = (step.0 / 3.8, step.1 / 3.8, step.2 / 3.8)
        }
        let flat = points.flatMap { [$0.0, $0.1, $0.2] }
        let c = Superposition.centroid(flat)
        return flat.indices.map { flat[$0] - c[$0 % 3] }
    }

    func testPosesFromNoiseFreeAndNoisyImages() throws {
        let coords = asymmetricChain(seed: 5)
        let geometry = try Projector.Geometry(size: 48, pixel: 2.5, sigma: [Float](repeating: 1.6, count: 80), weight: [Float](repeating: 60, count: 80))
        var g = SeededGenerator(seed: 6)
        let truth = (0..<12).map { _ in Rotation.random(using: &g) }
        let ctf = (0..<12).map { _ in CTFParameters(defocusU: 15000) }
        let clean = try FourierFilter.applyCTF(try Projector.project(coords: Tensor(uncheckedShape: [80, 3], storage: coords.map(Float.init)),
                                                                     rotations: Rotation.tensor(truth), geometry: geometry), parameters: ctf, pixel: 2.5)
        let grid = try SO3Grid.level(1).rotations
        let lifting = try SupportLifting()
        let losses = try PoseScoring.losses(images: clean, coords: coords, geometry: geometry, ctf: ctf, grid: grid)
        let estimates = PoseScoring.estimate(losses: losses, batch: 12, grid: grid, lifting: lifting)
        let errors = zip(estimates, truth).map { $0.rotation.angle(to: $1) }.sorted()
        let argminErrors = zip(estimates, truth).map { $0.argmin.angle(to: $1) }
        let nearest = try SO3Grid.level(1).nearest(to: truth).map(\.angle)
        print("noise-free ESL on the 14,761 grid: median \(errors[6])° (argmin \(argminErrors.sorted()[6])°, nearest grid point \(nearest.sorted()[6])°)")
        XCTAssertLessThan(errors[6], argminErrors.sorted()[6], "the barycentre refines the grid")
        XCTAssertLessThan(errors[6], SO3Grid.mesh[1] / 2)
        // Pure noise gives a spread-out (low-confidence) measure.
        let noise = Tensor.randn([4, 48, 48], using: &g)
        let noiseEstimates = PoseScoring.estimate(losses: try PoseScoring.losses(images: noise, coords: coords, geometry: geometry, ctf: nil, grid: grid),
                                                  batch: 4, grid: grid, lifting: lifting)
        let signalSpread = estimates.map(\.spread).sorted()[6], noiseSpread = noiseEstimates.map(\.spread).sorted()[2]
        print("spread: images \(signalSpread)°, pure noise \(noiseSpread)°")
        XCTAssertGreaterThan(noiseSpread, 2 * signalSpread)
        XCTAssertThrowsError(try PoseScoring.losses(images: clean, coords: coords, geometry: geometry, ctf: ctf, grid: []))
        XCTAssertThrowsError(try PoseScoring.losses(images: clean, coords: coords, geometry: geometry, ctf: Array(ctf.prefix(3)), grid: grid))
    }

    /// Noise-free images of the asymmetric chain, their true rotations and CTFs.
    private func noiseFreeImages(count: Int) throws -> (coords: [Double], geometry: Projector.Geometry, images: Tensor, truth: [Rotation], ctf: [CTFParameters]) {
        let coords = asymmetricChain(seed: 5)
        let geometry = try Projector.Geometry(size: 48, pixel: 2.5, sigma: [Float](repeating: 1.6, count: 80), weight: [Float](repeating: 60, count: 80))
        var g = SeededGenerator(seed: 6)
        let truth = (0..<count).map { _ in Rotation.random(using: &g) }
        let ctf = (0..<count).map { _ in CTFParameters(defocusU: 15000) }
        let images = try FourierFilter.applyCTF(try Projector.project(coords: Tensor(uncheckedShape: [80, 3], storage: coords.map(Float.init)),
                                                                      rotations: Rotation.tensor(truth), geometry: geometry), parameters: ctf, pixel: 2.5)
        return (coords, geometry, images, truth, ctf)
    }

    func testCoarseToFineMatchesTheFullGridWithFewerRenders() throws {
        let (coords, geometry, images, truth, ctf) = try noiseFreeImages(count: 12)
        let lifting = try SupportLifting()
        let outcome = try CoarseToFinePoseSearch.estimate(images: images, coords: coords, geometry: geometry, ctf: ctf, level: 1, lifting: lifting)
        let errors = zip(outcome.estimates, truth).map { $0.rotation.angle(to: $1) }.sorted()
        print("coarse-to-fine ESL, noise-free: median \(errors[6])°, \(outcome.fullRenders) full-size renders for 12 images")
        XCTAssertLessThan(errors[6], SO3Grid.mesh[1] / 2)
        XCTAssertLessThan(outcome.fullRenders, SO3Grid.sizes[1] / 10)
        XCTAssertTrue(outcome.candidates.allSatisfy { $0.count > 15 })
        XCTAssertThrowsError(try CoarseToFinePoseSearch.estimate(images: images, coords: coords, geometry: geometry, ctf: ctf, level: 0, lifting: lifting))
        XCTAssertThrowsError(try CoarseToFinePoseSearch.estimate(images: images, coords: coords, geometry: geometry, ctf: ctf, level: 1, keep: 0, lifting: lifting))
        let children = try SO3Grid.level(0).children()
        XCTAssertEqual(children.reduce(0) { $0 + $1.count }, SO3Grid.sizes[1], "every finer rotation has exactly one parent")
    }

    func testTheKeptRotationsAreAStableSortsPrefix() {
        var g = SeededGenerator(seed: 5)
        for trial in 0..<100 {
            // Values drawn from a few levels, so ties are common.
            let values = (0..<(1 + trial * 7)).map { _ in Float(g.next() % 9) }
            for count in [1, 3, 8, 1000] {
                let expected = Array(values.indices.sorted { values[$0] < values[$1] }.prefix(count))
                XCTAssertEqual(CoarseToFinePoseSearch.best(count, of: values), expected, "\(values.count) values, \(count) kept")
            }
        }
    }

    func testTrainingDataTermIsTheESLExpectationOfThePoseScores() throws {
        let (coords, geometry, images, truth, ctf) = try noiseFreeImages(count: 4)
        let lifting = try SupportLifting()
        let search = try CoarseToFinePoseSearch.estimate(images: images, coords: coords, geometry: geometry, ctf: ctf, level: 1, lifting: lifting)
        let k = 24
        let candidates = search.candidates.flatMap { $0.prefix(k) }
        let poses = try UnknownPoses(candidates: candidates, perImage: k, images: 4, lifting: lifting, gridSize: SO3Grid.sizes[1], truth: truth)
        let structure = try Tensor(uncheckedShape: [1, 80, 3], storage: coords.map(Float.init)).broadcast(to: [4, 80, 3])
        var state = TrainingPoses(rotations: truth, origins: [Float](repeating: 0, count: 8), candidates: candidates, perImage: k)
        let value = try poses.dataTerm(picked: [0, 1, 2, 3], coords: structure, images: images, poses: &state, ctf: ctf, geometry: geometry)
        let estimates = state.rotations
        var expected = 0.0
        for i in 0..<4 {
            let scores = try PoseScoring.losses(images: try images.slice(axis: 0, start: i, end: i + 1), coords: coords, geometry: geometry,
                                                ctf: [ctf[i]], grid: Array(candidates[(i * k)..<((i + 1) * k)]))
            expected += lifting.expectedLoss(scores.map(Double.init), gridSize: SO3Grid.sizes[1]).value / 4
        }
        XCTAssertEqual(Double(value.storage[0]), expected, accuracy: 1e-3 * Swift.max(1, expected))
        let errors = zip(estimates, truth).map { $0.angle(to: $1) }
        print("training data term poses, noise-free: \(errors)")
        XCTAssertLessThan(errors.sorted()[2], SO3Grid.mesh[1] / 2)
        XCTAssertThrowsError(try UnknownPoses(candidates: candidates, perImage: k, images: 5, lifting: lifting, gridSize: 100, truth: nil))
    }

    /// The candidates' losses composed from tensor ops, as the trainer computed them before `CandidateScoring`:
    /// B·K renderings, each filtered by its image's CTF, centred, normalised and correlated with the standardised image.
    private func composedScores(coords: Tensor, images: Tensor, rotations: [Rotation], shifts: Tensor, ctf: [CTFParameters],
                                geometry: Projector.Geometry) throws -> Tensor {
        let b = coords.shape[0], k = rotations.count / b, pixels = geometry.size * geometry.size
        let rows = Tensor((0..<(b * k)).map { Float($0 / k) })
        let rendered = try FourierFilter.applyCTF(try Projector.project(coords: coords.gather(rows), rotations: Rotation.tensor(rotations),
                                                                        shifts: try shifts.gather(rows), geometry: geometry),
                                                  parameters: (0..<(b * k)).map { ctf[$0 / k] }, pixel: geometry.pixel).reshape([b * k, pixels])
        let centred = try rendered - rendered.mean(axis: 1, keepDims: true)
        let norms = try (centred * centred).sum(axis: 1).sqrt()
        let y = Tensor(uncheckedShape: [b, pixels], storage: PoseScoring.standardisedRows(images.storage, length: pixels))
        let dots = try (centred.reshape([b, k, pixels]) * y.reshape([b, 1, pixels])).sum(axis: 2)
        return try (dots / (norms.reshape([b, k]) * Float(pixels).squareRoot() + 1e-12)) * -2 + 2
    }

    func testFusedCandidateScoresEqualTheComposedOnesWithGradients() throws {
        let (coords, geometry, images, truth, _) = try noiseFreeImages(count: 3)
        var g = SeededGenerator(seed: 12)
        let k = 20
        let rotations = truth.flatMap { r in (0..<k).map { _ in r * Rotation.exp((0.2 * g.normal(), 0.2 * g.normal(), 0.2 * g.normal())) } }
        let conformations = Tensor(uncheckedShape: [3, 80, 3], storage: (0..<3).flatMap { _ in coords.map { Float($0 + 0.5 * g.normal()) } })
        let shifts = Tensor(uncheckedShape: [3, 2], storage: [1.5, -2, 0, 3, -1, 0.5])
        let ctf = [CTFParameters(defocusU: 9000), CTFParameters(defocusU: 15000), CTFParameters(defocusU: 21000, bFactor: 40)]
        let lifting = try SupportLifting()
        func dataTerm(_ scores: (Tensor) throws -> Tensor) throws -> (Tensor, Tensor) {
            let x = conformations.detached().asParameter()
            let (value, gradients) = try valueAndGradient(wrt: [x]) { try lifting.expectedLoss(try scores(x), gridSize: SO3Grid.sizes[1]).mean() }
            return (value, gradients[0])
        }
        let fusedScores = try CandidateScoring.losses(coords: conformations, images: images, rotations: rotations, shifts: shifts.storage,
                                                      ctf: ctf, geometry: geometry)
        let composed = try composedScores(coords: conformations, images: images, rotations: rotations, shifts: shifts, ctf: ctf, geometry: geometry)
        for (a, b) in zip(fusedScores.storage, composed.storage) { XCTAssertEqual(a, b, accuracy: 2e-5) }
        let (fusedValue, fusedGradient) = try dataTerm {
            try CandidateScoring.losses(coords: $0, images: images, rotations: rotations, shifts: shifts.storage, ctf: ctf, geometry: geometry)
        }
        let (composedValue, composedGradient) = try dataTerm {
            try composedScores(coords: $0, images: images, rotations: rotations, shifts: shifts, ctf: ctf, geometry: geometry)
        }
        XCTAssertEqual(fusedValue.storage[0], composedValue.storage[0], accuracy: 2e-5)
        let scale = composedGradient.storage.map(abs).max() ?? 1
        XCTAssertGreaterThan(scale, 0)
        for (a, b) in zip(fusedGradient.storage, composedGradient.storage) { XCTAssertEqual(a, b, accuracy: 1e-3 * scale) }
        XCTAssertThrowsError(try CandidateScoring.losses(coords: conformations, images: images, rotations: Array(rotations.dropLast()),
                                                         shifts: shifts.storage, ctf: ctf, geometry: geometry))
        XCTAssertThrowsError(try CandidateScoring.losses(coords: conformations, images: images, rotations: rotations, shifts: [0, 0],
                                                         ctf: ctf, geometry: geometry))
        XCTAssertThrowsError(try CandidateScoring.losses(coords: conformations, images: images, rotations: rotations, shifts: shifts.storage,
                                                         ctf: Array(ctf.prefix(2)), geometry: geometry))
    }
}
