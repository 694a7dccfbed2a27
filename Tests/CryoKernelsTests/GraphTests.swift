import XCTest
@testable import CryoKernels

/// Graph builders against brute force, and the DSSP hydrogen bonds of an ideal α-helix.
final class GraphTests: XCTestCase {
    private func cloud(_ n: Int, seed: UInt64) -> [Double] {
        var g = SeededGenerator(seed: seed)
        return (0..<(3 * n)).map { _ in g.uniform() * 40 }
    }

    private func d2(_ c: [Double], _ i: Int, _ j: Int) -> Double { (0..<3).reduce(0) { $0 + pow(c[3 * i + $1] - c[3 * j + $1], 2) } }

    func testRadiusAndKNNMatchBruteForce() throws {
        let c = cloud(300, seed: 1)
        let radius = try NeighbourGraphs.radius(c, cutoff: 6)
        var expected = Set<Int>()
        for i in 0..<300 { for j in 0..<300 where i != j && d2(c, i, j) <= 36 { expected.insert(i * 300 + j) } }
        XCTAssertEqual(Set(zip(radius.src, radius.dst).map { Int($0) * 300 + Int($1) }), expected)
        let knn = try NeighbourGraphs.knn(c, k: 5)
        for i in 0..<300 {
            let mine = Set(zip(knn.src, knn.dst).filter { Int($0.1) == i }.map { Int($0.0) })
            let brute = Set((0..<300).filter { $0 != i }.sorted { (d2(c, i, $0), $0) < (d2(c, i, $1), $1) }.prefix(5))
            XCTAssertEqual(mine, brute, "node \(i)")
        }
        XCTAssertThrowsError(try NeighbourGraphs.knn(c, k: 0))
    }

    func testBackboneGraphUnitesSequenceAndSpace() throws {
        let c = cloud(50, seed: 2)
        let g = try NeighbourGraphs.backbone(c, knn: 3, window: 2, cutoff: 0)
        let pairs = Set(zip(g.src, g.dst).map { Int($0) * 50 + Int($1) })
        for i in 0..<48 { XCTAssertTrue(pairs.contains(i * 50 + i + 2) && pairs.contains((i + 1) * 50 + i)) }
    }

    /// Places atom D from A, B, C with bond length, angle and dihedral (natural extension reference frame).
    private func place(_ a: SIMD3<Double>, _ b: SIMD3<Double>, _ c: SIMD3<Double>, length: Double, angle: Double, torsion: Double) -> SIMD3<Double> {
        func normalised(_ v: SIMD3<Double>) -> SIMD3<Double> { v / (v * v).sum().squareRoot() }
        func cross(_ u: SIMD3<Double>, _ v: SIMD3<Double>) -> SIMD3<Double> { SIMD3(u.y * v.z - u.z * v.y, u.z * v.x - u.x * v.z, u.x * v.y - u.y * v.x) }
        let bc = normalised(c - b), n = normalised(cross(b - a, bc)), m = cross(n, bc)
        let t: Double = angle * .pi / 180, p: Double = torsion * .pi / 180
        let dx: Double = -length * cos(t)
        let dy: Double = length * sin(t) * cos(p)
        let dz: Double = length * sin(t) * sin(p)
        let along: SIMD3<Double> = bc * dx
        let across: SIMD3<Double> = m * dy + n * dz
        return c + along + across
    }

    /// An ideal α-helix (φ −57°, ψ −47°) with N, CA, C, O atoms; residues in `prolines` (0-based) are named PRO.
    private func helix(_ residues: Int, prolines: Set<Int> = []) -> Structure {
        var atoms: [Structure.Atom] = [], coords: [Double] = []
        var n = SIMD3<Double>(0, 0, 0), ca = SIMD3<Double>(1.458, 0, 0), c = SIMD3<Double>(2.009, 1.42, 0)
        for r in 0..<residues {
            if r > 0 {
                let previous = (n, ca, c)
                n = place(previous.0, previous.1, previous.2, length: 1.329, angle: 116.2, torsion: -47)
                ca = place(previous.1, previous.2, n, length: 1.458, angle: 121.7, torsion: 180)
                c = place(previous.2, n, ca, length: 1.525, angle: 111.2, torsion: -57)
            }
            let nextN = place(n, ca, c, length: 1.329, angle: 116.2, torsion: -47)
            let o = place(nextN, ca, c, length: 1.231, angle: 120.5, torsion: 180)
            for (name, p) in [("N", n), ("CA", ca), ("C", c), ("O", o)] {
                atoms.append(Structure.Atom(name: name, residueName: prolines.contains(r) ? "PRO" : "ALA", residueNumber: r + 1))
                coords += [p.x, p.y, p.z]
            }
        }
        return Structure(atoms: atoms, models: [coords], origin: "ideal helix")
    }

    func testDSSPFindsTheHelixIToIPlus4Pattern() throws {
        let s = helix(16)
        let g = try ResidueGraph.build(s)
        XCTAssertEqual(g.hydrogenBondMethod, "dssp")
        XCTAssertEqual(g.nodes, 16)
        var hbonds = Set<Int>()
        for e in 0..<g.src.count where g.kind[e] == 1 {
            let (a, b) = (Int(g.src[e]), Int(g.dst[e]))
            hbonds.insert(Swift.min(a, b) * 100 + Swift.max(a, b))
        }
        for i in 0..<12 { XCTAssertTrue(hbonds.contains(i * 100 + i + 4), "missing the \(i)→\(i + 4) hydrogen bond") }
        XCTAssertFalse(hbonds.contains { $0 % 100 - $0 / 100 > 5 }, "no bonds beyond i+5 in a helix")
        let peptides = zip(g.src, g.kind).filter { $0.1 == 0 }.count
        XCTAssertEqual(peptides, 2 * 15)
        let peptideOnly = g.keeping(kinds: [0])
        XCTAssertEqual(peptideOnly.src.count, 30)
        XCTAssertEqual(try ResidueGraph.build(s, hydrogenBonds: false).src.count, 30)
    }

    /// Proline's amide nitrogen carries no hydrogen, so DSSP never lets it donate; it still accepts.
    func testProlineAcceptsButNeverDonates() throws {
        func hydrogenBonds(_ s: Structure) throws -> Set<[Int]> {
            let g = try ResidueGraph.build(s)
            return Set((0..<g.src.count).filter { g.kind[$0] == 1 }.map { [Int(g.src[$0]), Int(g.dst[$0])].sorted() })
        }
        let plain = try hydrogenBonds(helix(16))
        let withProline = try hydrogenBonds(helix(16, prolines: [8]))
        XCTAssertTrue(plain.contains([4, 8]) && plain.contains([8, 12]))
        XCTAssertFalse(withProline.contains([4, 8]), "proline 8 donated to the C=O of residue 4")
        XCTAssertTrue(withProline.contains([8, 12]), "residue 12 no longer donates to proline 8's C=O")
        XCTAssertEqual(plain.subtracting(withProline).allSatisfy { $0.contains(8) }, true)
    }

    func testNormalisedAdjacencyIsSymmetricAndSelfLoopTwo() throws {
        let g = ResidueGraph(nodes: 3, pairs: [(0, 1, 0), (1, 2, 0)], hydrogenBondMethod: "none")
        let a = g.normalizedAdjacency()
        let dense = (0..<3).map { r in (0..<3).map { c -> Float in
            (a.rowStart[r]..<a.rowStart[r + 1]).first { Int(a.columns[$0]) == c }.map { a.values[$0] } ?? 0
        } }
        // Degrees with self loops of weight 2: 3, 4, 3.
        XCTAssertEqual(dense[0][0], 2 / 3, accuracy: 1e-6)
        XCTAssertEqual(dense[1][1], 0.5, accuracy: 1e-6)
        XCTAssertEqual(dense[0][1], 1 / (12 as Float).squareRoot(), accuracy: 1e-6)
        XCTAssertEqual(dense[0][1], dense[1][0])
        XCTAssertEqual(dense[0][2], 0)
    }
}
