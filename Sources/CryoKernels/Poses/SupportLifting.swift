import Foundation

/// Ellipsoidal support lifting (Diepeveen, Lellmann, Öktem, Schönlieb 2023) as Docs/METHOD.md states it: for losses
/// L_q of one image over Q grid rotations, the sparse probability measure β = Π_Δ(−Q^η·L/γ) with
/// J = min(⌊J0·Q^((2−3η)/5)⌋, Q − 1) and γ = ½·J0·Q^((2+2η)/5)·(L_(J) − mean of the J smallest) + 1e-9.
public struct SupportLifting: Sendable {
    /// η ∈ [1/4, 2/3] and J0.
    public let eta: Double, j0: Double

    /// Validated parameters (η outside [1/4, 2/3] or J0 ≤ 0 is an error).
    public init(eta: Double = 2.0 / 3.0, j0: Double = 15) throws {
        guard eta >= 0.25 - 1e-12, eta <= 2.0 / 3.0 + 1e-12 else { throw KernelError("esl", "eta must lie in [1/4, 2/3], got \(eta)") }
        guard j0 > 0, j0.isFinite else { throw KernelError("esl", "j0 must be positive, got \(j0)") }
        self.eta = eta
        self.j0 = j0
    }

    /// J for a grid of Q rotations.
    public func supportSize(_ q: Int) -> Int {
        Swift.max(1, Swift.min(Int((j0 * pow(Double(q), (2 - 3 * eta) / 5)).rounded(.down)), q - 1))
    }

    /// γ for losses `sorted` ascending, on a grid of `gridSize` rotations (all of them evaluated by default; a
    /// coarse-to-fine search evaluates fewer, the rest being larger).
    public func gamma(sortedLosses sorted: [Double], gridSize: Int? = nil) -> Double {
        let q = gridSize ?? sorted.count, j = Swift.min(supportSize(q), sorted.count)
        let meanSmallest = sorted.prefix(j).reduce(0, +) / Double(j)
        return 0.5 * j0 * pow(Double(q), (2 + 2 * eta) / 5) * (sorted[j - 1] - meanSmallest) + 1e-9
    }

    /// The measure β for losses `l`: over the whole grid, or over the evaluated part of a grid of `gridSize`
    /// rotations (J, γ and Q^η then use `gridSize`; unevaluated rotations get no mass).
    public func measure(_ l: [Double], gridSize: Int? = nil) -> [Double] {
        guard l.count > 1 else { return [Double](repeating: 1, count: l.count) }
        let q = gridSize ?? l.count
        let g = gamma(sortedLosses: l.sorted(), gridSize: q)
        let scale = -pow(Double(q), eta) / g
        return Simplex.project(l.map { $0 * scale })
    }

    /// Σ β_q L_q and its derivative with respect to every L_q, including the dependence of β (and of γ, through
    /// the order statistics) on L; exact away from ties. `gridSize` as in `measure`.
    public func expectedLoss(_ l: [Double], gridSize: Int? = nil) -> (value: Double, gradient: [Double]) {
        guard l.count > 1 else { return (l.first ?? 0, [1]) }
        let q = gridSize ?? l.count
        let order = l.indices.sorted { l[$0] < l[$1] }
        let j = Swift.min(supportSize(q), l.count)
        let g = gamma(sortedLosses: order.map { l[$0] }, gridSize: q)
        let c = pow(Double(q), eta)
        let v = l.map { -c * $0 / g }
        let beta = Simplex.project(v)
        let support = beta.indices.filter { beta[$0] > 0 }
        let value = zip(beta, l).reduce(0) { $0 + $1.0 * $1.1 }
        // On the support β_i = v_i − τ with τ = (Σ_S v − 1)/|S|, so dβ_i/dv_k = δ_ik − 1/|S| for i, k ∈ S.
        // d(Σβ L)/dv_k = L_k − mean_S(L) for k ∈ S; v_k = −c·L_k/γ, and γ depends on the J smallest losses.
        let meanSupportLoss = support.reduce(0) { $0 + l[$1] } / Double(support.count)
        var gradient = beta
        var dValueDGamma = 0.0
        for k in support {
            let dValueDv = l[k] - meanSupportLoss
            gradient[k] += dValueDv * (-c / g)
            dValueDGamma += dValueDv * (c * l[k] / (g * g))
        }
        // γ = ½·J0·Q^((2+2η)/5)·(L_(J) − mean of the J smallest): its gradient on the J smallest losses.
        let k0 = 0.5 * j0 * pow(Double(q), (2 + 2 * eta) / 5)
        for (rank, index) in order.prefix(j).enumerated() {
            let dGamma = k0 * ((rank == j - 1 ? 1 : 0) - 1 / Double(j))
            gradient[index] += dValueDGamma * dGamma
        }
        return (value, gradient)
    }

    /// The Riemannian barycentre of the measure: from the grid point of largest weight, R ← R·Exp(Σ β_q Log(Rᵀ R_q)),
    /// at most 10 times or until the step is below 1e-9 rad.
    public static func barycentre(_ grid: [Rotation], _ beta: [Double]) -> Rotation {
        guard let start = beta.indices.max(by: { beta[$0] < beta[$1] }) else { return .identity }
        var r = grid[start]
        let support = beta.indices.filter { beta[$0] > 0 }
        for _ in 0..<10 {
            var step = (0.0, 0.0, 0.0)
            for q in support {
                let w = (r.transposed * grid[q]).log
                step = (step.0 + beta[q] * w.0, step.1 + beta[q] * w.1, step.2 + beta[q] * w.2)
            }
            r = r * Rotation.exp(step)
            if (step.0 * step.0 + step.1 * step.1 + step.2 * step.2).squareRoot() < 1e-9 { break }
        }
        return r
    }

    /// The measure's spread: √(Σ β_q · d(R̄, R_q)²) in degrees, and its support size.
    public static func spread(_ grid: [Rotation], _ beta: [Double], around centre: Rotation) -> (degrees: Double, support: Int) {
        var s = 0.0, n = 0
        for q in beta.indices where beta[q] > 0 {
            let d = centre.angle(to: grid[q])
            s += beta[q] * d * d
            n += 1
        }
        return (s.squareRoot(), n)
    }
}

/// Euclidean projection onto the probability simplex {β ≥ 0, Σβ = 1} (sort-based, O(n log n)).
public enum Simplex {
    /// The point of the simplex nearest to `v`.
    public static func project(_ v: [Double]) -> [Double] {
        guard !v.isEmpty else { return [] }
        let sorted = v.sorted(by: >)
        var cumulative = 0.0, tau = 0.0
        for (k, u) in sorted.enumerated() {
            cumulative += u
            let t = (cumulative - 1) / Double(k + 1)
            if u - t > 0 { tau = t } else { break }
        }
        return v.map { Swift.max($0 - tau, 0) }
    }
}
