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

    /// Reference values from the template.
    public init(template: [Double]) throws {
        nodes = template.count / 3
        guard nodes >= 3 else { throw KernelError("regularizers", "need at least 3 atoms, got \(nodes)") }
        templateCoords = template
        let t = Tensor(uncheckedShape: [1, nodes, 3], storage: template.map(Float.init))
        bondLengths = try Regularizers.consecutiveDistances(t).reshape([nodes - 1])
        centroid = try t.mean(axis: 1).reshape([3])
        cosines = try Regularizers.angleCosines(t).reshape([nodes - 2])
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

    /// Mean squared deviation of consecutive-Cα distances from the template's own distances.
    public func bond(_ x: Tensor) throws -> Tensor {
        try check(x, "bond_loss")
        let d = try Regularizers.consecutiveDistances(x) - bondLengths
        return try (d * d).mean()
    }

    /// Mean squared deviation of consecutive-Cα distances from a constant `target` (3.8 Å).
    public func bond(_ x: Tensor, target: Float) throws -> Tensor {
        try check(x, "bond_loss")
        let d = try Regularizers.consecutiveDistances(x) - target
        return try (d * d).mean()
    }

    /// Mean squared deviation of Cα virtual-angle cosines from the template's.
    public func angle(_ x: Tensor) throws -> Tensor {
        try check(x, "angle_loss")
        let d = try Regularizers.angleCosines(x) - cosines
        return try (d * d).mean()
    }

    /// Squared distance of each conformation's centroid from the template's, averaged over the batch.
    public func centroidDrift(_ x: Tensor) throws -> Tensor {
        try check(x, "centroid_loss")
        let d = try x.mean(axis: 1) - centroid
        return try (d * d).sum(axis: -1).mean()
    }

    /// The weight exp(1 − (j − i)/decay) of a pair of residues `separation` = j − i apart.
    static func pairWeight(separation: Int, decay: Double) -> Double { Foundation.exp(1 - Double(separation) / decay) }

    /// The number of residue pairs 1 ≤ j − i ≤ `window` (what `logDistance(_:window:decay:)` averages over).
    public func logDistancePairCount(window: Int) throws -> Int {
        guard window >= 1 else { throw KernelError("log_distance_loss", "window \(window) selects no pairs") }
        return (1...Swift.min(window, nodes - 1)).reduce(0) { $0 + nodes - $1 }
    }

    /// Σ_p w_p·(log d_p² − log d₀ₚ²)² / P over the P residue pairs 1 ≤ j − i ≤ `window`, with weights
    /// w = exp(1 − (j − i)/decay) and d₀ the template's distances, averaged over the batch: a mean over pairs, so its
    /// per-particle sum is P times it.
    public func logDistance(_ x: Tensor, window: Int, decay: Double) throws -> Tensor {
        guard decay > 0 else { throw KernelError("log_distance_loss", "decay must be above 0, got \(decay)") }
        let pairs = try logDistancePairCount(window: window)
        var first: [Int] = [], second: [Int] = [], weights: [Float] = []
        first.reserveCapacity(pairs)
        for i in 0..<nodes { for j in (i + 1)..<Swift.min(nodes, i + window + 1) {
            first.append(i); second.append(j)
            weights.append(Float(Regularizers.pairWeight(separation: j - i, decay: decay)))
        } }
        return try logDistance(x, first: first, second: second, weights: weights)
    }

    /// The mean over all N(N − 1)/2 residue pairs of (log d² − log d₀²)², unweighted, averaged over the batch.
    public func allPairsLogDistance(_ x: Tensor) throws -> Tensor {
        var first: [Int] = [], second: [Int] = []
        for i in 0..<nodes { for j in (i + 1)..<nodes { first.append(i); second.append(j) } }
        return try logDistance(x, first: first, second: second, weights: nil)
    }

    /// Σ_p w_p·(log d_p² − log d₀ₚ²)² / (P·B) for coords [B,N,3] over the pairs (first[p], second[p]) (w = 1 when
    /// `weights` is nil); d² gets 1e-6 so coinciding residues stay finite.
    private func logDistance(_ x: Tensor, first: [Int], second: [Int], weights: [Float]?) throws -> Tensor {
        try check(x, "log_distance_loss")
        let reference = zip(first, second).map { i, j in
            Float(Foundation.log(Swift.max((0..<3).reduce(0.0) { $0 + pow(templateCoords[3 * i + $1] - templateCoords[3 * j + $1], 2) }, 1e-6)))
        }
        let nodeMajor = try x.permute([1, 0, 2])                                                  // [N,B,3]
        let diff = try nodeMajor.gather(Tensor(first.map(Float.init))) - nodeMajor.gather(Tensor(second.map(Float.init)))   // [P,B,3]
        let logD2 = try ((diff * diff).sum(axis: -1) + 1e-6).log()                               // [P,B]
        let d = try logD2 - Tensor(uncheckedShape: [reference.count, 1], storage: reference)
        let squares = try weights.map { try d * d * Tensor(uncheckedShape: [$0.count, 1], storage: $0) } ?? (d * d)
        return try squares.sum() / Float(Double(first.count) * Double(x.shape[0]))
    }

    /// Σ relu(min − d)² over residue pairs at least 3 apart in sequence, averaged over the batch (the fused
    /// `Tensor.clashPenalty`).
    public func clash(_ x: Tensor, minimum: Float) throws -> Tensor {
        try check(x, "clash_loss")
        return try x.clashPenalty(minimum: minimum, separation: 3)
    }

    /// Mean squared latent value.
    public static func latentL2(_ z: Tensor) throws -> Tensor { try (z * z).mean() }
}
