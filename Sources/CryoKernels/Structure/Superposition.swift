import CBLAS
import Foundation

/// Rigid superposition (Kabsch) and coordinate RMSDs of point sets `[N,3]`.
public enum Superposition {
    /// Root-mean-square distance between corresponding points, without alignment (Å).
    public static func rmsd(_ a: [Double], _ b: [Double]) -> Double {
        let n = a.count / 3
        guard n > 0 else { return 0 }
        var s = 0.0
        for i in 0..<a.count { let d = a[i] - b[i]; s += d * d }
        return (s / Double(n)).squareRoot()
    }

    /// RMSD after the optimal rotation and translation of `mobile` onto `target` (Kabsch, proper rotations only).
    public static func kabschRMSD(_ mobile: [Double], _ target: [Double]) -> Double {
        rmsd(align(mobile, onto: target), target)
    }

    /// `mobile` moved by the rigid motion that best superposes it on `target` (least squares).
    public static func align(_ mobile: [Double], onto target: [Double]) -> [Double] {
        let n = mobile.count / 3
        guard n > 0 else { return mobile }
        let cm = centroid(mobile), ct = centroid(target)
        let rot = rotation(mobile, onto: target, centroids: (cm, ct))
        var out = [Double](repeating: 0, count: mobile.count)
        for i in 0..<n {
            for r in 0..<3 {
                var v = ct[r]
                for c in 0..<3 { v += rot[3 * r + c] * (mobile[3 * i + c] - cm[c]) }
                out[3 * i + r] = v
            }
        }
        return out
    }

    /// The proper rotation R (3×3, row-major) that best turns `mobile` onto `target` about their centroids (Kabsch):
    /// R·(m − m̄) ≈ t − t̄ in least squares.
    public static func rotation(_ mobile: [Double], onto target: [Double]) -> [Double] {
        guard mobile.count >= 3 else { return [1, 0, 0, 0, 1, 0, 0, 0, 1] }
        return rotation(mobile, onto: target, centroids: (centroid(mobile), centroid(target)))
    }

    /// As `rotation(_:onto:)`, with the two point sets' centroids already known (cm, ct).
    private static func rotation(_ mobile: [Double], onto target: [Double], centroids: ([Double], [Double])) -> [Double] {
        let n = mobile.count / 3
        let (cm, ct) = centroids
        // Covariance H = Σ (m - cm)(t - ct)ᵀ, row-major; R·(m − cm) ≈ t − ct maximises tr(R·H).
        var h = [Double](repeating: 0, count: 9)
        for i in 0..<n {
            for r in 0..<3 { for c in 0..<3 {
                h[3 * r + c] += (mobile[3 * i + r] - cm[r]) * (target[3 * i + c] - ct[c])
            } }
        }
        return rotation(maximizingTraceWith: h)
    }

    /// The proper rotation R (3×3, row-major) that maximises tr(R·H) for a 3×3 matrix H (row-major): with
    /// H = U·S·Vᵀ, R = V·diag(1, 1, d)·Uᵀ, d = sign(det(V·Uᵀ)). Kabsch's solution, and the least-squares (chordal)
    /// fit of one rotation to pairs of rotations.
    public static func rotation(maximizingTraceWith hRowMajor: [Double]) -> [Double] {
        // LAPACK reads a matrix column by column: lay H out that way.
        var h = (0..<9).map { hRowMajor[3 * ($0 % 3) + $0 / 3] }
        var s = [Double](repeating: 0, count: 3), u = [Double](repeating: 0, count: 9), vt = [Double](repeating: 0, count: 9)
        var jobu: CChar = 65, jobvt: CChar = 65   // "A"
        var rows: Int32 = 3, cols: Int32 = 3, lda: Int32 = 3, ldu: Int32 = 3, ldvt: Int32 = 3, lwork: Int32 = 64, info: Int32 = 0
        var work = [Double](repeating: 0, count: 64)
        dgesvd_(&jobu, &jobvt, &rows, &cols, &h, &lda, &s, &u, &ldu, &vt, &ldvt, &work, &lwork, &info)
        // u and vt are column-major.
        func U(_ r: Int, _ c: Int) -> Double { u[c * 3 + r] }
        func V(_ r: Int, _ c: Int) -> Double { vt[r * 3 + c] }
        var rot = [Double](repeating: 0, count: 9)
        for pass in 0..<2 {
            let d: Double = pass == 0 ? 1 : -1
            for r in 0..<3 { for c in 0..<3 {
                rot[3 * r + c] = V(r, 0) * U(c, 0) + V(r, 1) * U(c, 1) + d * V(r, 2) * U(c, 2)
            } }
            if determinant(rot) > 0 { break }
        }
        return rot
    }

    /// The points moved so that their centroid is the origin.
    public static func centred(_ x: [Double]) -> [Double] {
        let c = centroid(x)
        return x.indices.map { x[$0] - c[$0 % 3] }
    }

    /// Mean of the points.
    public static func centroid(_ x: [Double]) -> [Double] {
        let n = Double(x.count / 3)
        var c = [0.0, 0.0, 0.0]
        for i in 0..<(x.count / 3) { for k in 0..<3 { c[k] += x[3 * i + k] } }
        return c.map { $0 / Swift.max(n, 1) }
    }

    private static func determinant(_ m: [Double]) -> Double {
        m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) + m[2] * (m[3] * m[7] - m[4] * m[6])
    }
}
