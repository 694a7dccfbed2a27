/// Statistics of an ensemble of conformations (each 3·N Å values, x y z per atom): per-atom fluctuations,
/// distance matrices and pairwise RMSDs.
public enum ConformationStatistics {
    /// Root-mean-square fluctuation of every atom (Å) about the ensemble's mean, after superposing each
    /// conformation (Kabsch) on the mean of the unaligned ensemble.
    public static func rmsf(_ conformations: [[Double]]) throws -> [Double] {
        guard let first = conformations.first, !first.isEmpty else { throw KernelError("rmsf", "no conformations") }
        let reference = mean(conformations)
        let aligned = conformations.map { Superposition.align($0, onto: reference) }
        let centre = mean(aligned)
        var sum = [Double](repeating: 0, count: first.count / 3)
        for c in aligned {
            for i in sum.indices {
                let dx = c[3 * i] - centre[3 * i], dy = c[3 * i + 1] - centre[3 * i + 1], dz = c[3 * i + 2] - centre[3 * i + 2]
                sum[i] += dx * dx + dy * dy + dz * dz
            }
        }
        return sum.map { ($0 / Double(conformations.count)).squareRoot() }
    }

    /// The mean of equal-length coordinate sets.
    public static func mean(_ conformations: [[Double]]) -> [Double] {
        guard let first = conformations.first else { return [] }
        var out = [Double](repeating: 0, count: first.count)
        for c in conformations { for k in out.indices { out[k] += c[k] } }
        return out.map { $0 / Double(conformations.count) }
    }

    /// The N×N matrix of distances (Å) between the atoms `atoms` (indices) of one conformation, row-major.
    public static func distanceMatrix(_ coordinates: [Double], atoms: [Int]) -> [Double] {
        atoms.flatMap { i in atoms.map { j in
            let dx = coordinates[3 * i] - coordinates[3 * j], dy = coordinates[3 * i + 1] - coordinates[3 * j + 1], dz = coordinates[3 * i + 2] - coordinates[3 * j + 2]
            return (dx * dx + dy * dy + dz * dz).squareRoot()
        } }
    }

    /// The K×K matrix of Kabsch RMSDs (Å) between conformations, row-major (symmetric, zero diagonal).
    public static func rmsdMatrix(_ conformations: [[Double]]) -> [Double] {
        let k = conformations.count
        var out = [Double](repeating: 0, count: k * k)
        for a in 0..<k { for b in (a + 1)..<Swift.max(k, a + 1) {
            let r = Superposition.kabschRMSD(conformations[b], conformations[a])
            out[a * k + b] = r
            out[b * k + a] = r
        } }
        return out
    }
}
