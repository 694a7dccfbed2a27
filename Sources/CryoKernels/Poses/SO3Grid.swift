import CBLAS
import Foundation

/// Near-uniform grids on SO(3) from super-Fibonacci spirals (Alexa, CVPR 2022), at the reference
/// implementation's sizes: 1,821, 14,761 and 114,564 rotations (mesh about 17°, 8.4°, 4.2°). A finer level is
/// derived from a coarser one by assigning each fine rotation to its nearest coarse rotation (its parent), so a
/// coarse-to-fine search can descend from a coarse point to its children.
public struct SO3Grid: Sendable {
    /// Grid sizes by level.
    public static let sizes = [1821, 14761, 114_564]
    /// Nominal mesh (degrees) by level.
    public static let mesh = [17.0, 8.4, 4.2]

    /// The grid's rotations and their unit quaternions (w, x, y, z) as a [Q, 4] Float row-major table.
    public let rotations: [Rotation]
    public let quaternions: [Float]
    /// The level (0, 1 or 2).
    public let level: Int

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [Int: SO3Grid] = [:]
    nonisolated(unsafe) private static var childCache: [Int: [[Int]]] = [:]

    /// The grid of `level` (built once, then cached).
    public static func level(_ level: Int) throws -> SO3Grid {
        guard sizes.indices.contains(level) else { throw KernelError("so3_grid", "level must be 0, 1 or 2, got \(level)") }
        lock.lock()
        defer { lock.unlock() }
        if let g = cache[level] { return g }
        let g = SO3Grid(count: sizes[level], level: level)
        cache[level] = g
        return g
    }

    /// A super-Fibonacci grid of `count` rotations.
    init(count: Int, level: Int) {
        let phi = 2.0.squareRoot(), psi = 1.533751168755204288118041
        var quaternions = [Float](), rotations = [Rotation]()
        quaternions.reserveCapacity(4 * count)
        for i in 0..<count {
            let s = Double(i) + 0.5
            let r = (s / Double(count)).squareRoot(), big = (1 - s / Double(count)).squareRoot()
            let alpha = 2 * Double.pi * s / phi, beta = 2 * Double.pi * s / psi
            let q = (w: r * sin(alpha), x: r * cos(alpha), y: big * sin(beta), z: big * cos(beta))
            quaternions += [Float(q.w), Float(q.x), Float(q.y), Float(q.z)]
            rotations.append(Rotation(quaternion: q))
        }
        self.quaternions = quaternions
        self.rotations = rotations
        self.level = level
    }

    /// Number of rotations.
    public var count: Int { rotations.count }

    /// For each rotation of this level, the indices of its children on the next finer level: the finer rotations
    /// whose nearest rotation here it is (about 8 each). Computed once per level, then cached.
    public func children() throws -> [[Int]] {
        guard level + 1 < SO3Grid.sizes.count else { throw KernelError("so3_grid", "level \(level) is the finest; it has no children") }
        let finer = try SO3Grid.level(level + 1)
        SO3Grid.lock.lock()
        defer { SO3Grid.lock.unlock() }
        if let c = SO3Grid.childCache[level] { return c }
        var table = [[Int]](repeating: [], count: count)
        for (child, parent) in nearest(to: finer.rotations).enumerated() { table[parent.index].append(child) }
        SO3Grid.childCache[level] = table
        return table
    }

    /// For each query rotation, the index of the nearest grid rotation and the angle to it (degrees); queries are
    /// matched through |⟨q, q_grid⟩| with one sgemm per block, so millions of comparisons take milliseconds.
    public func nearest(to queries: [Rotation]) -> [(index: Int, angle: Double)] {
        let q = queries.flatMap { r -> [Float] in let u = SO3Grid.quaternion(of: r); return [Float(u.0), Float(u.1), Float(u.2), Float(u.3)] }
        var result: [(Int, Double)] = []
        let block = 256
        for start in stride(from: 0, to: queries.count, by: block) {
            let rows = Swift.min(block, queries.count - start)
            var dots = [Float](repeating: 0, count: rows * count)
            q.withUnsafeBufferPointer { a in quaternions.withUnsafeBufferPointer { b in dots.withUnsafeMutableBufferPointer { c in
                GemmBatch.sgemm(false, true, rows, count, 4, a.baseAddress! + 4 * start, 4, b.baseAddress!, 4, 0, c.baseAddress!, count)
            } } }
            for r in 0..<rows {
                var best = -1 as Float, index = 0
                for k in 0..<count where Swift.abs(dots[r * count + k]) > best { best = Swift.abs(dots[r * count + k]); index = k }
                result.append((index, 2 * acos(Double(Swift.min(1, best))) * 180 / .pi))
            }
        }
        return result
    }

    /// The largest and the median distance (degrees) from `samples` uniform random rotations to their nearest
    /// grid rotation: the covering radius, estimated.
    public func coverage(samples: Int, seed: UInt64) -> (radius: Double, median: Double) {
        var g = SeededGenerator(seed: seed)
        let angles = nearest(to: (0..<samples).map { _ in Rotation.random(using: &g) }).map(\.angle).sorted()
        return (angles.last ?? 0, angles.isEmpty ? 0 : angles[angles.count / 2])
    }

    /// A unit quaternion (w, x, y, z) of a rotation matrix (Shepperd's method).
    static func quaternion(of r: Rotation) -> (Double, Double, Double, Double) {
        let trace = r[0, 0] + r[1, 1] + r[2, 2]
        if trace > 0 {
            let s = (trace + 1).squareRoot() * 2
            return (s / 4, (r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s)
        } else if r[0, 0] > r[1, 1] && r[0, 0] > r[2, 2] {
            let s = (1 + r[0, 0] - r[1, 1] - r[2, 2]).squareRoot() * 2
            return ((r[2, 1] - r[1, 2]) / s, s / 4, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s)
        } else if r[1, 1] > r[2, 2] {
            let s = (1 + r[1, 1] - r[0, 0] - r[2, 2]).squareRoot() * 2
            return ((r[0, 2] - r[2, 0]) / s, (r[0, 1] + r[1, 0]) / s, s / 4, (r[1, 2] + r[2, 1]) / s)
        } else {
            let s = (1 + r[2, 2] - r[0, 0] - r[1, 1]).squareRoot() * 2
            return ((r[1, 0] - r[0, 1]) / s, (r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, s / 4)
        }
    }
}
