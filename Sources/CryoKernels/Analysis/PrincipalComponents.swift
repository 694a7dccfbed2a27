/// Principal components of rows [M, L] by power iteration with deflation on the L×L covariance (L is small).
public enum PrincipalComponents {
    /// The mean row, the leading axes (unit vectors, by decreasing variance), the variance along each axis and
    /// the total variance (the covariance's trace), all with the 1/(M − 1) normalisation.
    public struct Fit: Sendable {
        public let mean: [Double]
        public let axes: [[Double]]
        public let variances: [Double]
        public let totalVariance: Double

        /// The fraction of the total variance along each axis (0 when the rows do not vary).
        public var explainedVarianceRatio: [Double] { variances.map { totalVariance > 0 ? $0 / totalVariance : 0 } }

        /// The scores of one row (L values) on the axes.
        public func scores(_ row: [Double]) -> [Double] {
            axes.map { v in zip(row, zip(mean, v)).reduce(0.0) { $0 + ($1.0 - $1.1.0) * $1.1.1 } }
        }
    }

    /// The k leading principal axes of `rows` (M·dimension values, row-major).
    public static func fit(_ rows: [Float], dimension: Int, components k: Int) -> Fit {
        let m = rows.count / Swift.max(dimension, 1)
        guard m > 0, dimension > 0 else { return Fit(mean: [], axes: [], variances: [], totalVariance: 0) }
        var mean = [Double](repeating: 0, count: dimension)
        for i in 0..<m { for a in 0..<dimension { mean[a] += Double(rows[i * dimension + a]) / Double(m) } }
        let scale = 1 / Double(Swift.max(m - 1, 1))
        var cov = [Double](repeating: 0, count: dimension * dimension)
        for i in 0..<m { for a in 0..<dimension { for b in 0..<dimension {
            cov[a * dimension + b] += (Double(rows[i * dimension + a]) - mean[a]) * (Double(rows[i * dimension + b]) - mean[b]) * scale
        } } }
        let total = (0..<dimension).reduce(0.0) { $0 + cov[$1 * dimension + $1] }
        var axes: [[Double]] = [], variances: [Double] = []
        for c in 0..<Swift.min(k, dimension) {
            var v = (0..<dimension).map { $0 == c ? 1.0 : 0.5 / Double(dimension) }
            var lambda = 0.0
            for _ in 0..<300 {
                var w = [Double](repeating: 0, count: dimension)
                for a in 0..<dimension { for b in 0..<dimension { w[a] += cov[a * dimension + b] * v[b] } }
                lambda = w.reduce(0) { $0 + $1 * $1 }.squareRoot()
                guard lambda > 0 else { break }
                v = w.map { $0 / lambda }
            }
            axes.append(v)
            variances.append(lambda)
            for a in 0..<dimension { for b in 0..<dimension { cov[a * dimension + b] -= lambda * v[a] * v[b] } }
        }
        return Fit(mean: mean, axes: axes, variances: variances, totalVariance: total)
    }

    /// Projections [M, k] of the centred rows onto the k leading principal axes.
    public static func project(_ rows: [Float], dimension: Int, components k: Int) -> [Float] {
        let fit = fit(rows, dimension: dimension, components: k)
        let m = rows.count / Swift.max(dimension, 1)
        guard !fit.axes.isEmpty else { return [] }
        return (0..<m).flatMap { i in fit.scores((0..<dimension).map { Double(rows[i * dimension + $0]) }).map(Float.init) }
    }
}
