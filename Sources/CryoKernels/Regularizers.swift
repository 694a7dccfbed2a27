import Foundation

/// Geometric regularisers on predicted coordinates [B, N, 3] (Å), each a scalar differentiable in the
/// coordinates. Reference weights (Docs/METHOD.md): bond 5e-4, centroid 0.01, the log-distance terms 0.
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

    /// The sum of the pair weights that `logDistance(_:window:decay:)` averages over.
    public func logDistancePairWeight(window: Int, decay: Double) throws -> Double {
        guard window >= 1 else { throw KernelError("log_distance_loss", "window \(window) selects no pairs") }
        return (1...Swift.min(window, nodes - 1)).reduce(0) { $0 + Double(nodes - $1) * Regularizers.pairWeight(separation: $1, decay: decay) }
    }

    /// Weighted mean of (log d² − log d₀²)² over pairs 1 ≤ j − i ≤ `window` with weights exp(1 − (j − i)/decay);
    /// `window` ≥ N − 1 gives the all-pairs version.
    public func logDistance(_ x: Tensor, window: Int, decay: Double) throws -> Tensor {
        try check(x, "log_distance_loss")
        var first: [Float] = [], second: [Float] = [], weights: [Float] = [], reference: [Float] = []
        for i in 0..<nodes { for j in (i + 1)..<Swift.min(nodes, i + window + 1) {
            first.append(Float(i)); second.append(Float(j))
            weights.append(Float(Regularizers.pairWeight(separation: j - i, decay: decay)))
            let d2 = (0..<3).reduce(0.0) { $0 + pow(templateCoords[3 * i + $1] - templateCoords[3 * j + $1], 2) }
            reference.append(Float(Foundation.log(Swift.max(d2, 1e-6))))
        } }
        guard !first.isEmpty else { throw KernelError("log_distance_loss", "window \(window) selects no pairs") }
        let nodeMajor = try x.permute([1, 0, 2])                                      // [N,B,3]
        let diff = try nodeMajor.gather(Tensor(first)) - nodeMajor.gather(Tensor(second))   // [P,B,3]
        let logD2 = try ((diff * diff).sum(axis: -1) + 1e-6).log()                     // [P,B]
        let w = Tensor(uncheckedShape: [weights.count, 1], storage: weights)
        let d = try logD2 - Tensor(uncheckedShape: [reference.count, 1], storage: reference)
        return try (d * d * w).sum() / Float(Double(weights.reduce(0, +)) * Double(x.shape[0]))
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
