import XCTest
@testable import CryoKernels

/// The built-in loss terms: every row of `LossTerm.builtins` against finite differences, and the log-distance terms'
/// values against a direct sum over pairs.
final class RegularizerTests: XCTestCase {
    /// A 10-residue template and a batch of two noisy copies of it (so every term has something to measure), with
    /// latents [2,4].
    private func problem() throws -> (template: [Double], regularizers: Regularizers, coords: Tensor, latents: Tensor) {
        var g = SeededGenerator(seed: 5)
        let template = (0..<30).map { _ in g.normal() * 3 }
        let coords = try Tensor(shape: [2, 10, 3], storage: (0..<60).map { Float(template[$0 % 30] + g.normal() * 0.5) })
        return (template, try Regularizers(template: template), coords, Tensor.randn([2, 4], using: &g))
    }

    func testEveryBuiltinTermMatchesFiniteDifferences() throws {
        let (template, regularizers, coords, latents) = try problem()
        // clash_min 6 Å so the noisy copies have clashing pairs; window 3 and decay 2 so the window is not the chain.
        let context = LossTerm.Context(regularizers: regularizers, nodes: 10, latentDimension: 4,
                                       options: ["clash_min": 6, "window": 3, "decay": 2])
        for builtin in LossTerm.builtins {
            let (_, value) = try builtin.make(context)
            let report = try GradientCheck.check([coords, latents], epsilon: 1e-2, tolerance: 2e-2) { xs in
                try value(LossTerm.Batch(coords: xs[0], latents: xs[1], images: [0, 1]))
            }
            XCTAssertTrue(report.passed, "\(builtin.key): \(report)")
            XCTAssertGreaterThan(try value(LossTerm.Batch(coords: coords, latents: latents, images: [0, 1])).item(), 1e-4, builtin.key)
        }
        let report = try GradientCheck.check([coords], epsilon: 1e-2, tolerance: 2e-2) { try regularizers.bond($0[0], target: 3.8) }
        XCTAssertTrue(report.passed, "bond to 3.8 Å: \(report)")
        XCTAssertEqual(try regularizers.bond(try Tensor(shape: [1, 10, 3], storage: template.map(Float.init))).item(), 0, accuracy: 1e-6)
    }

    /// A chain end or a gap of missing residues is no spring: the bond and angle terms average over the consecutive
    /// pairs whose template Cα lie within 4.5 Å (and the angles between two such pairs), and count only those; a
    /// template without breaks, or with no pair within reach, keeps every pair.
    func testChainBreaksAreNotBonds() throws {
        // Two 5-residue strands 3.8 Å apart along x, the second 20 Å from the first (a second chain).
        let template = (0..<10).flatMap { i -> [Double] in [Double(i % 5) * 3.8, i < 5 ? 0 : 20, 0] }
        let r = try Regularizers(template: template)
        XCTAssertEqual(r.chainBreaks, 1)
        XCTAssertEqual(r.bondCount, 8)
        XCTAssertEqual(r.angleCount, 6)
        var g = SeededGenerator(seed: 9)
        let coords = try Tensor(shape: [2, 10, 3], storage: (0..<60).map { Float(template[$0 % 30] + g.normal() * 0.4) })
        var bond = 0.0, angle = 0.0
        for b in 0..<2 {
            func p(_ i: Int) -> [Double] { (0..<3).map { Double(coords.storage[b * 30 + 3 * i + $0]) } }
            func t(_ i: Int) -> [Double] { (0..<3).map { template[3 * i + $0] } }
            func distance(_ a: [Double], _ c: [Double]) -> Double { sqrt(zip(a, c).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }) }
            func cosine(_ x: (Int) -> [Double], _ i: Int) -> Double {
                let u = zip(x(i), x(i + 1)).map { $0 - $1 }, v = zip(x(i + 2), x(i + 1)).map { $0 - $1 }
                return zip(u, v).reduce(0) { $0 + $1.0 * $1.1 } / (sqrt(u.reduce(0) { $0 + $1 * $1 }) * sqrt(v.reduce(0) { $0 + $1 * $1 }))
            }
            for i in 0..<9 where i != 4 { bond += pow(distance(p(i), p(i + 1)) - distance(t(i), t(i + 1)), 2) }
            for i in 0..<8 where i != 3 && i != 4 { angle += pow(cosine(p, i) - cosine(t, i), 2) }
        }
        XCTAssertEqual(Double(try r.bond(coords).item()), bond / 16, accuracy: 1e-4 * bond / 16)
        XCTAssertEqual(Double(try r.angle(coords).item()), angle / 12, accuracy: 1e-3 * angle / 12)
        XCTAssertTrue(try GradientCheck.check([coords], epsilon: 1e-2, tolerance: 2e-2) { try r.bond($0[0]) + r.angle($0[0]) }.passed)
        // The windowed log-distance term pairs sequence neighbours within each strand only: 9 pairs each, not 24.
        XCTAssertEqual(try r.windowPairs(window: 3, decay: 2).count, 18)
        // The clash term counts residues of different chains however close in file order: the second strand moved
        // onto the first, its first residue 1 Å from the first strand's last, clashes there (within the 3-residue
        // separation that holds inside one chain).
        var touching = template
        for i in 5..<10 { touching[3 * i] = template[3 * (i - 5)] + 16.2; touching[3 * i + 1] = 0 }
        let moved = try Tensor(shape: [1, 10, 3], storage: touching.map(Float.init))
        XCTAssertEqual(try r.clash(moved, minimum: 4).item(), 9, accuracy: 1e-4, "(4 − 1)² for the pair (4, 5)")
        XCTAssertEqual(try moved.clashPenalty(minimum: 4, separation: 3).item(), 0, "one chain: (4, 5) is too close in sequence")
        // One chain: every pair, the plain mean.
        let single = try Regularizers(template: Array(template.prefix(15)))
        XCTAssertEqual(single.chainBreaks, 0)
        let part = try coords.slice(axis: 1, start: 0, end: 5)
        let d = try Regularizers.consecutiveDistances(part) - single.bondLengths
        XCTAssertEqual(try single.bond(part).item(), try (d * d).mean().item())
        // Breaks at every other pair leave no angle between two bonds: the angle term is 0, not NaN.
        let alternating = (0..<6).flatMap { i -> [Double] in [Double(i / 2) * 10 + Double(i % 2) * 3.8, 0, 0] }
        let noAngles = try Regularizers(template: alternating)
        XCTAssertEqual(noAngles.angleCount, 0)
        XCTAssertEqual(try noAngles.angle(try Tensor(shape: [1, 6, 3], storage: alternating.map { Float($0) + 0.3 })).item(), 0)
        // No pair within reach (not a Cα chain): every pair kept, as before.
        let sparse = try Regularizers(template: template.map { $0 * 2 })
        XCTAssertEqual(sparse.chainBreaks, 0)
        XCTAssertEqual(sparse.bondCount, 9)
    }

    /// The windowed term is Σ w·(log d² − log d₀²)² over the pairs within the window divided by their number (not by
    /// the sum of the weights); the all-pairs term is the plain mean over every pair.
    func testLogDistanceTermsAverageOverPairs() throws {
        let (template, regularizers, coords, _) = try problem()
        func squaredLogRatio(_ b: Int, _ i: Int, _ j: Int) -> Double {
            func d2(_ c: (Int) -> Double) -> Double { (0..<3).reduce(0) { $0 + pow(c(3 * i + $1) - c(3 * j + $1), 2) } }
            let x = d2 { Double(coords.storage[b * 30 + $0]) } + 1e-6
            return pow(log(x) - log(d2 { template[$0] }), 2)
        }
        var windowed = 0.0, windowPairs = 0, all = 0.0, allPairs = 0
        for b in 0..<2 { for i in 0..<10 { for j in (i + 1)..<10 {
            all += squaredLogRatio(b, i, j)
            if b == 0 { allPairs += 1 }
            if j - i <= 3 {
                windowed += exp(1 - Double(j - i) / 2) * squaredLogRatio(b, i, j)
                if b == 0 { windowPairs += 1 }
            }
        } } }
        XCTAssertEqual(allPairs, 45)
        XCTAssertEqual(try regularizers.windowPairs(window: 3, decay: 2).count, windowPairs)
        XCTAssertEqual(try regularizers.windowPairs(window: 50, decay: 2).count, 45)
        XCTAssertEqual(regularizers.allPairs().count, 45)
        let expectedWindowed = windowed / Double(2 * windowPairs), expectedAll = all / Double(2 * allPairs)
        XCTAssertEqual(Double(try regularizers.logDistance(coords, window: 3, decay: 2).item()), expectedWindowed, accuracy: 1e-4 * expectedWindowed)
        XCTAssertEqual(Double(try regularizers.allPairsLogDistance(coords).item()), expectedAll, accuracy: 1e-4 * expectedAll)
        XCTAssertThrowsError(try regularizers.logDistance(coords, window: 0, decay: 2))
        XCTAssertThrowsError(try regularizers.logDistance(coords, window: 3, decay: 0))
    }
}
