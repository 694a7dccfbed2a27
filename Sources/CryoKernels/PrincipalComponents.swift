/// Principal components of rows [M, L] by power iteration with deflation on the L×L covariance (L is small).
public enum PrincipalComponents {
    /// Projections [M, k] of the centred rows onto the k leading principal axes.
    public static func project(_ rows: [Float], dimension: Int, components k: Int) -> [Float] {
        let m = rows.count / Swift.max(dimension, 1)
        guard m > 0, dimension > 0 else { return [] }
        var mean = [Double](repeating: 0, count: dimension)
        for i in 0..<m { for a in 0..<dimension { mean[a] += Double(rows[i * dimension + a]) / Double(m) } }
        var cov = [Double](repeating: 0, count: dimension * dimension)
        for i in 0..<m { for a in 0..<dimension { for b in 0..<dimension {
            cov[a * dimension + b] += (Double(rows[i * dimension + a]) - mean[a]) * (Double(rows[i * dimension + b]) - mean[b])
        } } }
        var axes: [[Double]] = []
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
            for a in 0..<dimension { for b in 0..<dimension { cov[a * dimension + b] -= lambda * v[a] * v[b] } }
        }
        var out = [Float](repeating: 0, count: m * axes.count)
        for i in 0..<m { for (c, v) in axes.enumerated() {
            out[i * axes.count + c] = Float((0..<dimension).reduce(0.0) { $0 + (Double(rows[i * dimension + $1]) - mean[$1]) * v[$1] })
        } }
        return out
    }
}
