import Foundation

/// A protein-like Cα chain built in memory, so the quickstart needs no file: two α-helical bundle domains
/// (helices of 3.8 Å Cα spacing, 1.5 Å rise and 100° per residue) joined by loops and a flexible hinge.
public enum ToyProtein {
    /// Builds a chain of exactly `residues` Cα atoms (40...1000); residue types are drawn from `seed`
    /// (helix-favouring types in helices, G/S/P/N/D in loops) so the paper's residue table applies.
    public static func make(residues: Int, seed: UInt64) throws -> Structure {
        guard residues >= 40, residues <= 1000 else { throw KernelError("toy_protein", "residues must be in 40...1000, got \(residues)") }
        // Loop lengths follow from the geometry; the last helix absorbs the difference to the requested count.
        let first = build(residues: residues, lastHelixExtra: 0, seed: seed)
        return build(residues: residues, lastHelixExtra: residues - first.count, seed: seed)
    }

    private static func build(residues: Int, lastHelixExtra: Int, seed: UInt64) -> Structure {
        var g = SeededGenerator(seed: seed)
        let domainResidues = (residues - 6) / 2
        var points: [(Double, Double, Double)] = []
        var isHelix: [Bool] = []
        // Each domain: a bundle of helices on a ring, alternating direction, right-handed either way. The two
        // domains face each other across the hinge: domain 0's last helix points towards +x and ends at the top,
        // domain 1's first helix points towards −x and starts at the top.
        for domain in 0..<2 {
            let helices = Swift.max(2, domainResidues / 18)
            let helixLength = Swift.max(8, (domainResidues - 4 * (helices - 1)) / helices)
            let ring = 5.2 / sin(Double.pi / Double(helices))
            // Domains ~7 Å apart: in contact across the interface, as in a two-domain enzyme.
            let offset = (domain == 0 ? -1.0 : 1.0) * (ring + 6)
            let height = Double(helixLength - 1) * 1.5
            var domainPoints: [(Double, Double, Double)] = []
            for h in 0..<helices {
                let phi = domain == 0 ? 2 * Double.pi * Double(h + 1) / Double(helices) : Double.pi + 2 * Double.pi * Double(h) / Double(helices)
                let (ax, ay) = (offset + ring * cos(phi), ring * sin(phi))
                let up = domain == 0 ? (helices - 1 - h) % 2 == 0 : h % 2 == 1
                let turn = up ? 1.0 : -1.0
                let length = domain == 1 && h == helices - 1 ? helixLength + lastHelixExtra : helixLength
                var helix: [(Double, Double, Double)] = []
                for k in 0..<length {
                    let t = phi + turn * Double(k) * 100 * .pi / 180
                    let z = up ? -height / 2 + Double(k) * 1.5 : height / 2 - Double(k) * 1.5
                    helix.append((ax + 2.3 * cos(t), ay + 2.3 * sin(t), z))
                }
                if let last = domainPoints.last, let first = helix.first {
                    let loop = bridge(from: last, to: first, bulge: ((last.0 + first.0) / 2 - offset, (last.1 + first.1) / 2, up ? -1 : 1))
                    domainPoints += loop
                    isHelix += [Bool](repeating: false, count: loop.count)
                }
                domainPoints += helix
                isHelix += [Bool](repeating: true, count: helix.count)
            }
            if domain == 1, let last = points.last, let first = domainPoints.first {
                let hinge = bridge(from: last, to: first, bulge: (0, 0, 1))
                points += hinge
                isHelix.insert(contentsOf: [Bool](repeating: false, count: hinge.count), at: points.count - hinge.count)
            }
            points += domainPoints
        }
        points = relaxLoops(points, movable: isHelix.map { !$0 })
        let helixTypes = ["ALA", "LEU", "GLU", "LYS", "ARG", "GLN", "MET", "ILE", "VAL", "PHE", "TRP", "TYR", "HIS", "THR", "CYS"]
        let loopTypes = ["GLY", "SER", "PRO", "ASN", "ASP"]
        var atoms: [Structure.Atom] = []
        for i in 0..<points.count {
            let types = isHelix[i] ? helixTypes : loopTypes
            let name = types[Int(g.next() % UInt64(types.count))]
            atoms.append(Structure.Atom(name: "CA", residueName: name, residueNumber: i + 1, chain: "A", element: "C"))
        }
        return Structure(atoms: atoms, models: [points.flatMap { [$0.0, $0.1, $0.2] }], origin: "toy_protein(residues: \(residues), seed: \(seed))")
    }

    /// Moves loop residues (helices stay fixed) until consecutive Cα lie 3.8 Å apart, residues two apart at
    /// least 5.5 Å (a Cα virtual angle above ~93°) and all others at least 4 Å: iterated pairwise projections.
    static func relaxLoops(_ start: [(Double, Double, Double)], movable: [Bool]) -> [(Double, Double, Double)] {
        var p = start.flatMap { [$0.0, $0.1, $0.2] }  // [n·3], residue i at 3i..<3i+3
        let n = start.count
        let loopResidues = (0..<n).filter { movable[$0] }
        func enforce(_ i: Int, _ j: Int, _ target: Double, exact: Bool) {
            guard movable[i] || movable[j] else { return }
            let d = (p[3 * j] - p[3 * i], p[3 * j + 1] - p[3 * i + 1], p[3 * j + 2] - p[3 * i + 2])
            let r = (d.0 * d.0 + d.1 * d.1 + d.2 * d.2).squareRoot()
            guard r > 1e-9, exact ? Swift.abs(r - target) > 1e-4 : r < target else { return }
            let correction = (r - target) / r
            let (wi, wj) = movable[i] && movable[j] ? (0.5, 0.5) : (movable[i] ? (1.0, 0.0) : (0.0, 1.0))
            p[3 * i] += wi * correction * d.0
            p[3 * j] -= wj * correction * d.0
            p[3 * i + 1] += wi * correction * d.1
            p[3 * j + 1] -= wj * correction * d.1
            p[3 * i + 2] += wi * correction * d.2
            p[3 * j + 2] -= wj * correction * d.2
        }
        for _ in 0..<300 {
            for i in loopResidues {
                for j in 0..<n where j != i {
                    let gap = Swift.abs(i - j)
                    if gap == 1 { enforce(Swift.min(i, j), Swift.max(i, j), 3.8, exact: true) }
                    else if gap == 2 { enforce(i, j, 5.5, exact: false) }
                    else { enforce(i, j, 4.0, exact: false) }
                }
            }
        }
        return (0..<n).map { (p[3 * $0], p[3 * $0 + 1], p[3 * $0 + 2]) }
    }

    /// Loop residues between two Cα positions, spaced as close to 3.8 Å as an integer count allows along a
    /// quadratic arc pushed outwards by `bulge`.
    static func bridge(from a: (Double, Double, Double), to b: (Double, Double, Double), bulge: (Double, Double, Double)) -> [(Double, Double, Double)] {
        let n = (bulge.0 * bulge.0 + bulge.1 * bulge.1 + bulge.2 * bulge.2).squareRoot()
        let push = n > 0 ? (bulge.0 / n * 4, bulge.1 / n * 4, bulge.2 / n * 4) : (0, 0, 4)
        let mid = ((a.0 + b.0) / 2 + push.0, (a.1 + b.1) / 2 + push.1, (a.2 + b.2) / 2 + push.2)
        func curve(_ t: Double) -> (Double, Double, Double) {
            let (u, v, w) = ((1 - t) * (1 - t), 2 * t * (1 - t), t * t)
            return (u * a.0 + v * mid.0 + w * b.0, u * a.1 + v * mid.1 + w * b.1, u * a.2 + v * mid.2 + w * b.2)
        }
        // Arc length by fine sampling, then equal-arc-length placement.
        let samples = 400
        var lengths = [0.0]
        var previous = curve(0)
        for k in 1...samples {
            let p = curve(Double(k) / Double(samples))
            lengths.append(lengths[k - 1] + ((p.0 - previous.0) * (p.0 - previous.0) + (p.1 - previous.1) * (p.1 - previous.1) + (p.2 - previous.2) * (p.2 - previous.2)).squareRoot())
            previous = p
        }
        let total = lengths[samples]
        let steps = Swift.max(3, Int((total / 3.8).rounded()) + 1)
        var out: [(Double, Double, Double)] = []
        var k = 0
        for s in 1..<steps {
            let target = total * Double(s) / Double(steps)
            while k < samples && lengths[k + 1] < target { k += 1 }
            let f = (target - lengths[k]) / Swift.max(1e-12, lengths[k + 1] - lengths[k])
            out.append(curve((Double(k) + f) / Double(samples)))
        }
        return out
    }
}
