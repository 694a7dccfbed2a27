import Foundation

/// Geometric regularisers on predicted coordinates [B, N, 3] (Å), each a scalar differentiable in the
/// coordinates. Reference weights (Docs/METHOD.md): bond 5e-4, centroid 0.01, the log-distance terms 0;
/// `LossTerm.builtins` says how the trainer weighs and normalises each.
public struct Regularizers: Sendable {
    /// Template coordinates [N·3] (centred) and derived reference quantities.
    let nodes: Int
    let bondLengths: Tensor          // [N-1]
    let centroid: Tensor             // [3]
    let cosines: Tensor              // [N-2]
    let templateCoords: [Double]
    /// The consecutive pairs (i, i + 1) the bond term keeps, by i [P_b], and the virtual angles (at i + 1) the angle
    /// term keeps, by i [P_a]: those whose template Cα lie within `ResidueGraph.peptideReach`, so a chain end or a gap
    /// of missing residues is no spring. Nil when every pair is kept: a template without breaks, or one with no pair
    /// within reach (not a Cα chain; `chainBreaks` is then 0 and every consecutive pair is kept, as it was).
    let bondedPairs: Tensor?, bondedAngles: Tensor?
    /// Whether residues i and i + 1 are peptide-bonded [N−1] (all true where `bondedPairs` is nil).
    let peptideBonded: [Bool]
    /// Each residue's chain segment (0, 1, … counting the breaks before it) [N]; nil without breaks.
    let chainSegments: [Int]?
    /// How many consecutive pairs the bond term skips as chain breaks.
    public let chainBreaks: Int
    /// How many pairs the bond term and how many angles the angle term average over.
    public let bondCount: Int, angleCount: Int

    /// Reference values from the template.
    public init(template: [Double]) throws {
        nodes = template.count / 3
        guard nodes >= 3 else { throw KernelError("regularizers", "need at least 3 atoms, got \(nodes)") }
        templateCoords = template
        let t = Tensor(uncheckedShape: [1, nodes, 3], storage: template.map(Float.init))
        bondLengths = try Regularizers.consecutiveDistances(t).reshape([nodes - 1])
        centroid = try t.mean(axis: 1).reshape([3])
        cosines = try Regularizers.angleCosines(t).reshape([nodes - 2])
        let bonded = bondLengths.storage.map { Double($0) < ResidueGraph.peptideReach }
        let pairs = bonded.indices.filter { bonded[$0] }
        if pairs.count == nodes - 1 || pairs.isEmpty {
            (bondedPairs, bondedAngles, chainBreaks) = (nil, nil, 0)
            (bondCount, angleCount) = (nodes - 1, nodes - 2)
            peptideBonded = [Bool](repeating: true, count: nodes - 1)
        } else {
            peptideBonded = bonded
            let angles = (0..<(nodes - 2)).filter { bonded[$0] && bonded[$0 + 1] }
            bondedPairs = Tensor(pairs.map(Float.init))
            bondedAngles = Tensor(angles.map(Float.init))
            (chainBreaks, bondCount, angleCount) = (nodes - 1 - pairs.count, pairs.count, angles.count)
        }
        var segment = 0
        chainSegments = chainBreaks == 0 ? nil : [0] + peptideBonded.map { bonded in
            if !bonded { segment += 1 }
            return segment
        }
    }

    /// The mean of `values` [B, M] over the columns `kept` lists (all of them when nil; 0 when it lists none).
    private static func mean(_ values: Tensor, columns kept: Tensor?) throws -> Tensor {
        guard let kept else { return try values.mean() }
        guard kept.count > 0 else { return try (values * 0).sum() }
        return try values.permute([1, 0]).gather(kept).mean()
    }

    /// ‖x_{i+1} − x_i‖ for coords [B,N,3] → [B,N−1].
    static func consecutiveDistances(_ x: Tensor) throws -> Tensor {
        let n = x.shape[1]
        return try (x.slice(axis: 1, start: 1, end: n) - x.slice(axis: 1, start: 0, end: n - 1)).norm(axis: -1)
    }

    /// Cosine of each Cα virtual angle (at residues 1…N−2) → [B,N−2].
    static func angleCosines(_ x: Tensor) throws -> Tensor {
        let n = x.shape[1]
        let a = try x.slice(axis: 1, start: 0, end: n - 2) - x.slice(axis: 1, start: 1, end: n - 1)
        let b = try x.slice(axis: 1, start: 2, end: n) - x.slice(axis: 1, start: 1, end: n - 1)
        return try (a * b).sum(axis: -1) / (a.norm(axis: -1) * b.norm(axis: -1) + 1e-6)
    }

    private func check(_ x: Tensor, _ op: String) throws {
        guard x.rank == 3, x.shape[1] == nodes, x.shape[2] == 3 else {
            throw KernelError.shape(op, expected: "coordinates [B,\(nodes),3]", got: x.shape)
        }
    }

    /// Mean squared deviation of peptide-bonded consecutive-Cα distances from the template's own (`bondedPairs`).
    public func bond(_ x: Tensor) throws -> Tensor {
        try check(x, "bond_loss")
        let d = try Regularizers.consecutiveDistances(x) - bondLengths
        return try Regularizers.mean(d * d, columns: bondedPairs)
    }

    /// Mean squared deviation of consecutive-Cα distances from a constant `target` (3.8 Å).
    public func bond(_ x: Tensor, target: Float) throws -> Tensor {
        try check(x, "bond_loss")
        let d = try Regularizers.consecutiveDistances(x) - target
        return try (d * d).mean()
    }

    /// Mean squared deviation of Cα virtual-angle cosines from the template's, over angles between two peptide bonds
    /// (`bondedAngles`).
    public func angle(_ x: Tensor) throws -> Tensor {
        try check(x, "angle_loss")
        let d = try Regularizers.angleCosines(x) - cosines
        return try Regularizers.mean(d * d, columns: bondedAngles)
    }

    /// Squared distance of each conformation's centroid from the template's, averaged over the batch.
    public func centroidDrift(_ x: Tensor) throws -> Tensor {
        try check(x, "centroid_loss")
        let d = try x.mean(axis: 1) - centroid
        return try (d * d).sum(axis: -1).mean()
    }

    /// The residue pairs a log-distance term averages over, with their weights and the template's log squared
    /// distances, made once per run (the trainer's term reuses them every step).
    public struct LogDistancePairs: Sendable {
        /// First and second residue of each of the P pairs [P], weights [P,1] (nil: 1), log d₀² [P,1].
        let first: Tensor, second: Tensor, weights: Tensor?, reference: Tensor
        /// P, the number of pairs.
        public var count: Int { first.count }
    }

    /// The P residue pairs 1 ≤ j − i ≤ `window` with no chain break between them (sequence neighbours of one chain),
    /// weighted exp(1 − (j − i)/decay).
    public func windowPairs(window: Int, decay: Double) throws -> LogDistancePairs {
        guard window >= 1 else { throw KernelError("log_distance_loss", "window \(window) selects no pairs") }
        guard decay > 0 else { throw KernelError("log_distance_loss", "decay must be above 0, got \(decay)") }
        var pairs: [(Int, Int)] = []
        for i in 0..<nodes {
            for j in (i + 1)..<Swift.min(nodes, i + window + 1) {
                guard peptideBonded[j - 1] else { break }
                pairs.append((i, j))
            }
        }
        return pairSet(pairs, weights: pairs.map { Float(Foundation.exp(1 - Double($0.1 - $0.0) / decay)) })
    }

    /// All N(N − 1)/2 residue pairs, unweighted.
    public func allPairs() -> LogDistancePairs {
        var pairs: [(Int, Int)] = []
        for i in 0..<nodes { for j in (i + 1)..<nodes { pairs.append((i, j)) } }
        return pairSet(pairs, weights: nil)
    }

    private func pairSet(_ pairs: [(Int, Int)], weights: [Float]?) -> LogDistancePairs {
        let reference = pairs.map { i, j in
            Float(Foundation.log(Swift.max((0..<3).reduce(0.0) { $0 + pow(templateCoords[3 * i + $1] - templateCoords[3 * j + $1], 2) }, 1e-6)))
        }
        return LogDistancePairs(first: Tensor(pairs.map { Float($0.0) }), second: Tensor(pairs.map { Float($0.1) }),
                                weights: weights.map { Tensor(uncheckedShape: [$0.count, 1], storage: $0) },
                                reference: Tensor(uncheckedShape: [reference.count, 1], storage: reference))
    }

    /// Σ_p w_p·(log d_p² − log d₀ₚ²)² / (P·B) for coords [B,N,3] over `pairs` (d₀ the template's distances; d² gets
    /// 1e-6 so coinciding residues stay finite): a mean over pairs and batch, so its per-particle sum is P times it.
    public func logDistance(_ x: Tensor, over pairs: LogDistancePairs) throws -> Tensor {
        try check(x, "log_distance_loss")
        let nodeMajor = try x.permute([1, 0, 2])                                                        // [N,B,3]
        let diff = try nodeMajor.gather(pairs.first) - nodeMajor.gather(pairs.second)                   // [P,B,3]
        let d = try ((diff * diff).sum(axis: -1) + 1e-6).log() - pairs.reference                        // [P,B]
        let squares = try pairs.weights.map { try d * d * $0 } ?? (d * d)
        return try squares.sum() / Float(Double(pairs.count) * Double(x.shape[0]))
    }

    /// The windowed term over `windowPairs(window:decay:)`.
    public func logDistance(_ x: Tensor, window: Int, decay: Double) throws -> Tensor {
        try logDistance(x, over: try windowPairs(window: window, decay: decay))
    }

    /// The all-pairs term: (log d² − log d₀²)² unweighted, averaged over every pair and the batch.
    public func allPairsLogDistance(_ x: Tensor) throws -> Tensor { try logDistance(x, over: allPairs()) }

    /// Σ relu(min − d)² over residue pairs at least 3 apart in sequence or in different chains (`chainSegments`),
    /// averaged over the batch (the fused
    /// `Tensor.clashPenalty`).
    public func clash(_ x: Tensor, minimum: Float) throws -> Tensor {
        try check(x, "clash_loss")
        return try x.clashPenalty(minimum: minimum, separation: 3, chain: chainSegments)
    }

    /// Mean squared latent value.
    public static func latentL2(_ z: Tensor) throws -> Tensor { try (z * z).mean() }
}
