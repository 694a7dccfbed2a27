import Foundation

/// A 2-D embedding of latent vectors [M, L] by exact t-SNE (van der Maaten & Hinton 2008).
///
/// Why t-SNE and not UMAP: exact t-SNE is fully specified by its perplexity and optimiser constants (no
/// approximate nearest-neighbour graph, no negative sampling), so it is short to write natively and, started
/// from the PCA projection as scikit-learn and openTSNE do, deterministic: the same latents give the same
/// picture on every run without a seed. Its cost is O(M²) per iteration, so above `maxPoints` rows it embeds a
/// deterministic subsample (every ⌈M / maxPoints⌉-th row) and says which rows it used.
public enum TSNE {
    /// The embedded rows (indices into the input) and their coordinates [rows.count, 2].
    public struct Result: Sendable {
        public let rows: [Int]
        public let embedding: [[Double]]
    }

    /// Embeds `data` (M·L values, row-major). Perplexity is clamped to (n − 1)/3; the optimiser is the
    /// reference one: 250 iterations of early exaggeration 12 at momentum 0.5, then momentum 0.8, learning rate
    /// max(n/48, 50) (scikit-learn's "auto"), per-coordinate gains, `iterations` in all.
    public static func embed(_ data: [Float], dimension: Int, perplexity: Double = 30, iterations: Int = 750, maxPoints: Int = 2000) throws -> Result {
        guard dimension > 0, data.count % dimension == 0, data.count / dimension >= 4 else {
            throw KernelError("tsne", "needs at least 4 rows of dimension \(dimension), got \(data.count) values")
        }
        guard data.allSatisfy(\.isFinite) else { throw KernelError("tsne", "the rows hold NaN or infinite values") }
        let m = data.count / dimension
        let step = Swift.max(1, (m + maxPoints - 1) / Swift.max(maxPoints, 1))
        let rows = Array(stride(from: 0, to: m, by: step))
        let n = rows.count
        let x = rows.flatMap { i in (0..<dimension).map { Double(data[i * dimension + $0]) } }
        let p = affinities(x, n: n, dimension: dimension, perplexity: Swift.min(perplexity, Double(n - 1) / 3))
        // Start from the first two principal components, scaled so the first has standard deviation 1e-4.
        let pcs = PrincipalComponents.project(x.map(Float.init), dimension: dimension, components: Swift.min(2, dimension)).map(Double.init)
        let c = Swift.min(2, dimension)
        var y = [Double](repeating: 0, count: 2 * n)
        let sd = (pcs.enumerated().filter { $0.offset % c == 0 }.reduce(0.0) { $0 + $1.element * $1.element } / Double(n)).squareRoot()
        for i in 0..<n { for a in 0..<c { y[2 * i + a] = sd > 0 ? pcs[i * c + a] / sd * 1e-4 : 0 } }
        if c == 1 { for i in 0..<n { y[2 * i + 1] = 1e-4 * Double(i % 7 - 3) / 3 } }
        var velocity = [Double](repeating: 0, count: 2 * n), gains = [Double](repeating: 1, count: 2 * n)
        let rate = Swift.max(Double(n) / 48, 50)
        var kernel = [Double](repeating: 0, count: n * n)
        for iteration in 0..<iterations {
            let exaggeration = iteration < 250 ? 12.0 : 1.0, momentum = iteration < 250 ? 0.5 : 0.8
            let gradient = self.gradient(y, p: p, n: n, exaggeration: exaggeration, kernel: &kernel)
            for k in 0..<(2 * n) {
                gains[k] = (gradient[k] > 0) == (velocity[k] > 0) ? Swift.max(gains[k] * 0.8, 0.01) : gains[k] + 0.2
                velocity[k] = momentum * velocity[k] - rate * gains[k] * gradient[k]
                y[k] += velocity[k]
            }
        }
        return Result(rows: rows, embedding: (0..<n).map { [y[2 * $0], y[2 * $0 + 1]] })
    }

    /// Symmetrised input affinities P (n×n, summing to 1): each row's Gaussian bandwidth found by bisection so
    /// that its conditional distribution has the given perplexity.
    static func affinities(_ x: [Double], n: Int, dimension: Int, perplexity: Double) -> [Double] {
        var conditional = [Double](repeating: 0, count: n * n)
        conditional.withUnsafeMutableBufferPointer { buffer in
            let out = buffer
            Parallel.forRanges(n, grain: 16) { range in
                for i in range {
                    let row = conditionalRow(i, x, n: n, dimension: dimension, entropy: Foundation.log(perplexity))
                    for j in 0..<n { out[i * n + j] = row[j] }
                }
            }
        }
        var p = [Double](repeating: 0, count: n * n)
        for i in 0..<n { for j in 0..<n { p[i * n + j] = Swift.max((conditional[i * n + j] + conditional[j * n + i]) / (2 * Double(n)), 1e-12) } }
        return p
    }

    /// Row i of the conditional affinities p(j | i) ∝ exp(−β‖xᵢ − xⱼ‖²), with β bisected until the row's entropy
    /// (nats) is `entropy`, i.e. its perplexity is e^entropy.
    static func conditionalRow(_ i: Int, _ x: [Double], n: Int, dimension: Int, entropy target: Double) -> [Double] {
        let d2 = (0..<n).map { j in (0..<dimension).reduce(0.0) { let d = x[i * dimension + $1] - x[j * dimension + $1]; return $0 + d * d } }
        let nearest = (0..<n).filter { $0 != i }.map { d2[$0] }.min() ?? 0
        var (beta, lo, hi) = (1.0, 0.0, Double.infinity)
        var row = [Double](repeating: 0, count: n)
        for _ in 0..<100 {
            var sum = 0.0, weighted = 0.0
            for j in 0..<n where j != i {
                row[j] = Foundation.exp(-beta * (d2[j] - nearest))
                sum += row[j]
                weighted += row[j] * (d2[j] - nearest)
            }
            let entropy = Foundation.log(sum) + beta * weighted / sum
            if Swift.abs(entropy - target) < 1e-5 { break }
            if entropy > target { lo = beta; beta = hi.isFinite ? (beta + hi) / 2 : beta * 2 } else { hi = beta; beta = (beta + lo) / 2 }
        }
        let sum = row.reduce(0, +)
        return row.map { sum > 0 ? $0 / sum : 0 }
    }

    /// The gradient of KL(P‖Q) with respect to the embedding y (2n values), P multiplied by `exaggeration`;
    /// `kernel` (n² values) receives the Student-t kernel 1/(1 + ‖yᵢ − yⱼ‖²). Row sums are added in row order, so
    /// the result does not depend on the thread count.
    static func gradient(_ y: [Double], p: [Double], n: Int, exaggeration: Double, kernel: inout [Double]) -> [Double] {
        var rowSums = [Double](repeating: 0, count: n), gradient = [Double](repeating: 0, count: 2 * n)
        y.withUnsafeBufferPointer { y in p.withUnsafeBufferPointer { p in kernel.withUnsafeMutableBufferPointer { wBuffer in
            rowSums.withUnsafeMutableBufferPointer { sumsBuffer in gradient.withUnsafeMutableBufferPointer { gBuffer in
                let (w, sums, g) = (wBuffer, sumsBuffer, gBuffer)
                Parallel.forRanges(n, grain: 32) { range in
                    for i in range {
                        var s = 0.0
                        for j in 0..<n {
                            let dx = y[2 * i] - y[2 * j], dy = y[2 * i + 1] - y[2 * j + 1]
                            let v = j == i ? 0 : 1 / (1 + dx * dx + dy * dy)
                            w[i * n + j] = v
                            s += v
                        }
                        sums[i] = s
                    }
                }
                let inverseZ = 1 / (0..<n).reduce(0.0) { $0 + sums[$1] }
                Parallel.forRanges(n, grain: 32) { range in
                    for i in range {
                        var gx = 0.0, gy = 0.0
                        for j in 0..<n {
                            let v = w[i * n + j]
                            let f = (exaggeration * p[i * n + j] - v * inverseZ) * v
                            gx += f * (y[2 * i] - y[2 * j])
                            gy += f * (y[2 * i + 1] - y[2 * j + 1])
                        }
                        g[2 * i] = 4 * gx
                        g[2 * i + 1] = 4 * gy
                    }
                }
            } }
        } } }
        return gradient
    }
}
