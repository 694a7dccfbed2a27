/// A uniform cell list over 3D points: neighbour queries in time proportional to the neighbours found,
/// so graph builders scale to tens of thousands of atoms (no N² loop).
struct SpatialGrid {
    let points: [Double]
    let cell: Double
    private var cells: [SIMD3<Int>: [Int32]] = [:]

    /// Buckets `points` (3 values each) into cubes of side `cell` Å.
    init(points: [Double], cell: Double) {
        self.points = points
        self.cell = Swift.max(cell, 1e-3)
        for i in 0..<(points.count / 3) { cells[key(i), default: []].append(Int32(i)) }
    }

    /// The cell of point i; non-finite or absurdly distant points share one far-away cell, so they are never
    /// anyone's neighbour and never trap an integer conversion.
    private func key(_ i: Int) -> SIMD3<Int> {
        func index(_ v: Double) -> Int? {
            let q = (v / cell).rounded(.down)
            return q.isFinite && Swift.abs(q) < 1e12 ? Int(q) : nil
        }
        guard let x = index(points[3 * i]), let y = index(points[3 * i + 1]), let z = index(points[3 * i + 2]) else {
            return SIMD3(Int.min / 2, Int.min / 2, Int.min / 2)
        }
        return SIMD3(x, y, z)
    }

    /// Squared distance between points i and j.
    func distance2(_ i: Int, _ j: Int) -> Double {
        let dx = points[3 * i] - points[3 * j], dy = points[3 * i + 1] - points[3 * j + 1], dz = points[3 * i + 2] - points[3 * j + 2]
        return dx * dx + dy * dy + dz * dz
    }

    /// Every other point within `radius` of point i (radius ≤ cell searches the 27 surrounding cells).
    func neighbours(of i: Int, within radius: Double) -> [Int] {
        let reach = Swift.min(64, Int((radius / cell).rounded(.up)))
        let c = key(i)
        var found: [Int] = []
        for dx in -reach...reach { for dy in -reach...reach { for dz in -reach...reach {
            guard let bucket = cells[c &+ SIMD3(dx, dy, dz)] else { continue }
            for j in bucket where Int(j) != i && distance2(i, Int(j)) <= radius * radius { found.append(Int(j)) }
        } } }
        return found
    }

    /// The k nearest other points of point i (fewer if the set is smaller), nearest first; ties broken by index.
    func nearest(_ k: Int, to i: Int) -> [Int] {
        let n = points.count / 3
        let want = Swift.min(k, n - 1)
        guard want > 0 else { return [] }
        var radius = cell
        while true {
            let candidates = neighbours(of: i, within: radius)
            if candidates.count >= want || candidates.count == n - 1 || radius > 64 * cell {
                return Array(candidates.sorted { (distance2(i, $0), $0) < (distance2(i, $1), $1) }.prefix(want))
            }
            radius *= 2
        }
    }
}
