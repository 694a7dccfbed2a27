import Foundation

/// How well predicted conformations match the ground truth: per-image Cα RMSD after Kabsch superposition,
/// its mean, median and 90th percentile, the fraction of residues within 3 Å, and the mean RMSD without the
/// rotation (both centred only), which is the calibration's metric (Docs/METHOD.md): with known poses a rotated prediction is an error.
public struct ReconstructionMetrics: Sendable {
    public let rmsd: [Double]
    public let mean: Double, median: Double, p90: Double
    /// Mean per-image RMSD after centring both structures, without superposition (the calibration's metric, Docs/METHOD.md).
    public let unalignedMean: Double
    /// Fraction of residues (over all images) within 3 Å of the truth after superposition.
    public let fractionWithin3: Double

    /// Compares `predicted[i]` (3N values each) with `truth[i]`.
    public init(predicted: [[Double]], truth: [[Double]]) {
        var values: [Double] = [], unaligned = 0.0, close = 0, total = 0
        for (p, t) in zip(predicted, truth) {
            unaligned += Superposition.rmsd(Superposition.centred(p), Superposition.centred(t))
            let aligned = Superposition.align(p, onto: t)
            values.append(Superposition.rmsd(aligned, t))
            for i in 0..<(t.count / 3) {
                let d = (0..<3).reduce(0.0) { $0 + pow(aligned[3 * i + $1] - t[3 * i + $1], 2) }
                if d <= 9 { close += 1 }
                total += 1
            }
        }
        rmsd = values
        unalignedMean = values.isEmpty ? 0 : unaligned / Double(values.count)
        mean = values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
        median = ReconstructionMetrics.percentile(values, 50)
        p90 = ReconstructionMetrics.percentile(values, 90)
        fractionWithin3 = total == 0 ? 0 : Double(close) / Double(total)
    }

    /// Linear-interpolated percentile q (0–100).
    public static func percentile(_ values: [Double], _ q: Double) -> Double {
        let s = values.sorted()
        guard !s.isEmpty else { return 0 }
        let position = q / 100 * Double(s.count - 1)
        let lo = Int(position), hi = Swift.min(lo + 1, s.count - 1)
        return s[lo] + (s[hi] - s[lo]) * (position - Double(lo))
    }

    /// |Pearson correlation| between the latents' first principal component and `labels` (e.g. frame index).
    public static func principalComponentCorrelation(latents: [Float], dimension: Int, labels: [Int]) -> Double {
        guard labels.count > 2 else { return 0 }
        let pc1 = PrincipalComponents.project(latents, dimension: dimension, components: 1).map(Double.init)
        return Swift.abs(pearson(pc1, labels.map(Double.init)))
    }

    /// Pearson correlation of two equally long series.
    public static func pearson(_ x: [Double], _ y: [Double]) -> Double {
        let n = Double(x.count)
        let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
        var sxy = 0.0, sxx = 0.0, syy = 0.0
        for (a, b) in zip(x, y) { sxy += (a - mx) * (b - my); sxx += (a - mx) * (a - mx); syy += (b - my) * (b - my) }
        return sxx > 0 && syy > 0 ? sxy / (sxx * syy).squareRoot() : 0
    }
}
