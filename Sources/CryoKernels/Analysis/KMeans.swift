import Foundation

/// k-means clustering of rows [M, L] (squared Euclidean distance): greedy k-means++ seeding (Arthur & Vassilvitskii
/// 2007) from a seeded generator, then Lloyd iterations until no assignment changes. The same seed gives the
/// same clusters on every machine.
public enum KMeans {
    /// Centres [k, L], each row's cluster (0..<k, clusters numbered by decreasing size, ties by centre order),
    /// the summed squared distance of rows to their centres, and the Lloyd iterations run.
    public struct Result: Sendable {
        public let centres: [[Double]]
        public let labels: [Int]
        public let inertia: Double
        public let iterations: Int

        /// How far the clustered `rows` (M·L values, as given to `fit`) scatter about their centres, per group of
        /// `groupSize` consecutive coordinates (3 for an atom's x, y, z): the root-mean-square deviation along one
        /// coordinate, pooled over all rows, [L / groupSize]; empty unless groupSize divides L.
        public func spread(of rows: [Float], groupSize: Int) -> [Double] {
            let dimension = centres.first?.count ?? 0
            guard dimension > 0, groupSize > 0, dimension % groupSize == 0 else { return [] }
            var squares = [Double](repeating: 0, count: dimension / groupSize)
            for (row, cluster) in labels.enumerated() {
                for a in 0..<dimension {
                    let d = Double(rows[row * dimension + a]) - centres[cluster][a]
                    squares[a / groupSize] += d * d
                }
            }
            return squares.map { ($0 / Double(labels.count * groupSize)).squareRoot() }
        }
    }

    /// Clusters `rows` (M·L values, row-major) into `k` clusters (k ≤ M). An empty cluster during the
    /// iterations takes the row farthest from its centre.
    public static func fit(_ rows: [Float], dimension: Int, k: Int, seed: UInt64, maxIterations: Int = 300) throws -> Result {
        guard dimension > 0, rows.count % dimension == 0 else {
            throw KernelError("kmeans", "rows hold \(rows.count) values, not a whole number of rows of dimension \(dimension)")
        }
        let m = rows.count / dimension
        guard k >= 1, k <= m else { throw KernelError("kmeans", "k = \(k) clusters need 1 ≤ k ≤ \(m), the number of rows") }
        guard rows.allSatisfy(\.isFinite) else { throw KernelError("kmeans", "the rows hold NaN or infinite values") }
        let points = (0..<m).map { i in (0..<dimension).map { Double(rows[i * dimension + $0]) } }
        var centres = seeds(points, k: k, seed: seed)
        var labels = [Int](repeating: -1, count: m)
        var iterations = 0
        while iterations < maxIterations {
            iterations += 1
            let nearestNow = nearestIndices(points, centres)
            let changed = nearestNow != labels
            labels = nearestNow
            if !changed && iterations > 1 { break }
            // Each cluster's coordinate sums [k, dimension], rows added in order.
            var sums = [Double](repeating: 0, count: k * dimension), counts = [Int](repeating: 0, count: k)
            sums.withUnsafeMutableBufferPointer { total in
                for i in 0..<m {
                    counts[labels[i]] += 1
                    let row = total.baseAddress! + labels[i] * dimension
                    points[i].withUnsafeBufferPointer { p in for a in 0..<dimension { row[a] += p[a] } }
                }
            }
            for c in 0..<k {
                if counts[c] > 0 {
                    centres[c] = sums[(c * dimension)..<((c + 1) * dimension)].map { $0 / Double(counts[c]) }
                } else {
                    let far = (0..<m).max { squaredDistance(points[$0], centres[labels[$0]]) < squaredDistance(points[$1], centres[labels[$1]]) } ?? 0
                    centres[c] = points[far]
                    labels[far] = c
                }
            }
        }
        // Renumber clusters by decreasing size so state 1 is the most populated.
        let sizes = (0..<k).map { c in labels.filter { $0 == c }.count }
        let order = (0..<k).sorted { sizes[$0] != sizes[$1] ? sizes[$0] > sizes[$1] : $0 < $1 }
        var rank = [Int](repeating: 0, count: k)
        for (r, c) in order.enumerated() { rank[c] = r }
        let finalLabels = labels.map { rank[$0] }
        let finalCentres = order.map { centres[$0] }
        let inertia = (0..<m).reduce(0.0) { $0 + squaredDistance(points[$1], finalCentres[finalLabels[$1]]) }
        return Result(centres: finalCentres, labels: finalLabels, inertia: inertia, iterations: iterations)
    }

    /// Greedy k-means++ (as scikit-learn seeds): the first centre uniformly; for each next one, 2 + ⌊ln k⌋
    /// candidates drawn with probability proportional to the squared distance to the nearest centre so far, and
    /// the candidate that lowers the summed squared distance most is kept (one draw alone picks two centres in
    /// one cluster too often).
    static func seeds(_ points: [[Double]], k: Int, seed: UInt64) -> [[Double]] {
        var g = SeededGenerator(seed: seed)
        var centres = [points[Int(g.uniform() * Double(points.count))]]
        var d2 = points.map { squaredDistance($0, centres[0]) }
        let trials = 2 + Int(Foundation.log(Double(k)))
        while centres.count < k {
            let total = d2.reduce(0, +)
            var best: (potential: Double, distances: [Double], index: Int)?
            for _ in 0..<trials {
                var pick = 0
                if total > 0 {
                    var target = g.uniform() * total
                    while pick < points.count - 1 && target >= d2[pick] { target -= d2[pick]; pick += 1 }
                } else {
                    pick = Int(g.uniform() * Double(points.count))
                }
                let distances = points.indices.map { Swift.min(d2[$0], squaredDistance(points[$0], points[pick])) }
                let potential = distances.reduce(0, +)
                if best.map({ potential < $0.potential }) ?? true { best = (potential, distances, pick) }
            }
            guard let chosen = best else { break }
            centres.append(points[chosen.index])
            d2 = chosen.distances
        }
        return centres
    }

    /// The index of the centre nearest each point (in parallel over the points).
    static func nearestIndices(_ points: [[Double]], _ centres: [[Double]]) -> [Int] {
        var out = [Int](repeating: 0, count: points.count)
        out.withUnsafeMutableBufferPointer { o in
            let result = SharedPointer(base: o.baseAddress!)
            Parallel.forRanges(points.count, grain: 64) { range in
                for i in range { result.base[i] = nearest(points[i], centres).index }
            }
        }
        return out
    }

    /// The index of the centre nearest `point` and its squared distance.
    public static func nearest(_ point: [Double], _ centres: [[Double]]) -> (index: Int, distance: Double) {
        var best = (index: 0, distance: Double.infinity)
        for (c, centre) in centres.enumerated() {
            let d = squaredDistance(point, centre)
            if d < best.distance { best = (c, d) }
        }
        return best
    }

    /// Squared Euclidean distance of two equal-length vectors (every caller's rows have the clustering's dimension).
    public static func squaredDistance(_ a: [Double], _ b: [Double]) -> Double {
        a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in
            var s = 0.0
            for i in 0..<Swift.min(x.count, y.count) { let d = x[i] - y[i]; s += d * d }
            return s
        } }
    }
}
