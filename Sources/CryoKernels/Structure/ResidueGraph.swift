import Foundation

/// The paper's residue graph: one node per residue (at its Cα, in residue order) with peptide-bond edges
/// (i, i+1) and backbone hydrogen-bond edges between residues more than one apart. Edges are stored in both
/// directions (src → dst) with a kind per edge: 0 peptide, 1 hydrogen bond, 2 other (k-NN, radius, sequence).
public struct ResidueGraph: Sendable {
    /// Node count.
    public let nodes: Int
    /// Directed edges.
    public let src: [Int32], dst: [Int32], kind: [Int8]
    /// How the hydrogen bonds were found ("dssp", "ca-proxy", "none").
    public let hydrogenBondMethod: String

    /// Neighbours of each node (edges ending there).
    public var degree: [Int] {
        var d = [Int](repeating: 0, count: nodes)
        for t in dst { d[Int(t)] += 1 }
        return d
    }

    /// A graph with exactly these directed edges.
    init(nodes: Int, src: [Int32], dst: [Int32], kind: [Int8], method: String) {
        self.nodes = nodes
        self.src = src
        self.dst = dst
        self.kind = kind
        hydrogenBondMethod = method
    }

    /// Builds a graph from undirected pairs with their kinds (each pair stored once, in both directions).
    public init(nodes: Int, pairs: [(Int, Int, Int8)], hydrogenBondMethod: String) {
        var seen = Set<Int>()
        var src: [Int32] = [], dst: [Int32] = [], kind: [Int8] = []
        for (a, b, k) in pairs where a != b {
            let key = Swift.min(a, b) * nodes + Swift.max(a, b)
            guard seen.insert(key).inserted else { continue }
            src += [Int32(a), Int32(b)]
            dst += [Int32(b), Int32(a)]
            kind += [k, k]
        }
        self.nodes = nodes
        self.src = src
        self.dst = dst
        self.kind = kind
        self.hydrogenBondMethod = hydrogenBondMethod
    }

    /// The residue graph of `structure`. With N, C and O atoms (read with atoms: "backbone"), hydrogen bonds
    /// follow DSSP's electrostatic criterion (E < −0.5 kcal/mol; prolines accept but never donate), the amide H taken from the file when present
    /// and otherwise placed 1 Å from N opposite the previous residue's C=O. With Cα atoms only, a Cα proxy is
    /// used instead (i→i+4 pairs closer than 6.6 Å as helical bonds, pairs ≥ 3 apart closer than 5.3 Å as
    /// sheet contacts) and `hydrogenBondMethod` says so. Peptide edges join consecutive residues of a chain
    /// whose Cα lie within 4.5 Å (a longer gap is a chain break).
    /// The Cα–Cα distance (Å) within which consecutive residues are taken as peptide-bonded (trans 3.8 Å, cis 2.9 Å);
    /// a longer gap is a chain end or missing residues.
    public static let peptideReach = 4.5

    public static func build(_ structure: Structure, hydrogenBonds: Bool = true, model: Int = 0) throws -> ResidueGraph {
        guard model >= 0, model < structure.models.count else {
            throw KernelError("residue_graph", "model \(model) out of range (\(structure.models.count) models)")
        }
        let residues = Residue.group(structure, model: model)
        guard residues.count >= 2 else { throw KernelError("residue_graph", "needs at least 2 residues with a Cα, found \(residues.count)") }
        var pairs: [(Int, Int, Int8)] = []
        for i in 0..<(residues.count - 1) where residues[i].chain == residues[i + 1].chain {
            if distance(residues[i].ca, residues[i + 1].ca) < peptideReach { pairs.append((i, i + 1, 0)) }
        }
        var method = "none"
        if hydrogenBonds {
            // DSSP when (nearly) every residue has N, C and O; a residue missing some simply neither donates nor accepts.
            let complete = residues.filter { $0.n != nil && $0.c != nil && $0.o != nil }.count
            let haveBackbone = Double(complete) >= 0.9 * Double(residues.count)
            method = haveBackbone ? "dssp" : "ca-proxy"
            pairs += haveBackbone ? dsspBonds(residues) : caProxyBonds(residues)
        }
        return ResidueGraph(nodes: residues.count, pairs: pairs, hydrogenBondMethod: method)
    }

    /// DSSP hydrogen bonds (donor N–H of i to acceptor C=O of j, |i − j| > 1; proline never donates), candidates
    /// from a Cα grid.
    static func dsspBonds(_ r: [Residue]) -> [(Int, Int, Int8)] {
        let grid = SpatialGrid(points: r.flatMap { [$0.ca.x, $0.ca.y, $0.ca.z] }, cell: 9)
        var bonds: [(Int, Int, Int8)] = []
        for i in 0..<r.count {
            guard let n = r[i].n, !r[i].isProline else { continue }
            var h = r[i].h
            if h == nil, i > 0, r[i - 1].chain == r[i].chain, let c = r[i - 1].c, let o = r[i - 1].o {
                let co = c - o
                h = n + co * (1 / Swift.max(co.length, 1e-9))
            }
            guard let hydrogen = h else { continue }
            for j in grid.neighbours(of: i, within: 9) where Swift.abs(i - j) > 1 {
                guard let c = r[j].c, let o = r[j].o else { continue }
                let energy = 0.084 * 332 * (1 / distance(o, n) + 1 / distance(c, hydrogen) - 1 / distance(o, hydrogen) - 1 / distance(c, n))
                if energy < -0.5 { bonds.append((i, j, 1)) }
            }
        }
        return bonds
    }

    /// Cα-only stand-in for hydrogen bonds (see `build`).
    static func caProxyBonds(_ r: [Residue]) -> [(Int, Int, Int8)] {
        let grid = SpatialGrid(points: r.flatMap { [$0.ca.x, $0.ca.y, $0.ca.z] }, cell: 6.6)
        var bonds: [(Int, Int, Int8)] = []
        for i in 0..<r.count {
            for j in grid.neighbours(of: i, within: 6.6) where j > i + 2 {
                let d = distance(r[i].ca, r[j].ca)
                if (j == i + 4 && d < 6.6) || d < 5.3 { bonds.append((i, j, 1)) }
            }
        }
        return bonds
    }

    /// The paper's "improved" GCN normalisation Â = D^-1/2 (A + s·I) D^-1/2 with self-loop weight s (2 by
    /// default) and D the degree of A + s·I.
    public func normalizedAdjacency(selfLoop: Float = 2) -> SparseMatrix {
        let d = degree.map { Float($0) + selfLoop }
        var entries: [(Int, Int, Float)] = (0..<nodes).map { ($0, $0, selfLoop / d[$0]) }
        for (s, t) in zip(src, dst) { entries.append((Int(t), Int(s), 1 / (d[Int(t)] * d[Int(s)]).squareRoot())) }
        return SparseMatrix(size: nodes, entries: entries)
    }

    /// Edges whose kind is in `kinds` (e.g. peptide bonds only, for ablations).
    public func keeping(kinds: Set<Int8>) -> ResidueGraph {
        var pairs: [(Int, Int, Int8)] = []
        for e in 0..<src.count where src[e] < dst[e] && kinds.contains(kind[e]) { pairs.append((Int(src[e]), Int(dst[e]), kind[e])) }
        return ResidueGraph(nodes: nodes, pairs: pairs, hydrogenBondMethod: kinds.contains(1) ? hydrogenBondMethod : "none")
    }
}

/// A 3D point in Double.
public struct Point3: Sendable {
    public var x: Double, y: Double, z: Double
    static func - (a: Point3, b: Point3) -> Point3 { Point3(x: a.x - b.x, y: a.y - b.y, z: a.z - b.z) }
    static func + (a: Point3, b: Point3) -> Point3 { Point3(x: a.x + b.x, y: a.y + b.y, z: a.z + b.z) }
    static func * (a: Point3, s: Double) -> Point3 { Point3(x: a.x * s, y: a.y * s, z: a.z * s) }
    var length: Double { (x * x + y * y + z * z).squareRoot() }
}

func distance(_ a: Point3, _ b: Point3) -> Double { (a - b).length }

/// The backbone atoms of one residue.
struct Residue {
    var chain: String
    var ca: Point3
    var n: Point3?, c: Point3?, o: Point3?, h: Point3?
    /// Proline's ring takes the amide hydrogen: it never donates a backbone hydrogen bond (as in DSSP).
    var isProline: Bool

    /// Residues (those with a Cα) of `structure`'s model, in file order.
    static func group(_ s: Structure, model: Int) -> [Residue] {
        var result: [Residue] = []
        var current: (key: String, atoms: [String: Point3], chain: String, name: String)?
        let coords = s.models[model]
        func flush() {
            guard let c = current, let ca = c.atoms["CA"] else { return }
            // C-terminal carbonyl oxygens are named OT1/OXT by CHARMM and the PDB.
            let oxygen = c.atoms["O"] ?? c.atoms["OT1"] ?? c.atoms["OXT"]
            result.append(Residue(chain: c.chain, ca: ca, n: c.atoms["N"], c: c.atoms["C"], o: oxygen, h: c.atoms["H"] ?? c.atoms["HN"],
                                  isProline: c.name == "PRO"))
        }
        for (i, atom) in s.atoms.enumerated() {
            let key = "\(atom.chain)|\(atom.residueNumber)|\(atom.insertionCode)"
            if current?.key != key {
                flush()
                current = (key, [:], atom.chain, atom.residueName.uppercased())
            }
            current?.atoms[atom.name] = Point3(x: coords[3 * i], y: coords[3 * i + 1], z: coords[3 * i + 2])
        }
        flush()
        return result
    }
}
