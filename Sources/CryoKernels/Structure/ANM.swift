import CBLAS
import Foundation

/// Anisotropic network model (Atilgan et al. 2001) of a Cα structure: springs of unit stiffness between
/// atoms closer than a cutoff; its lowest non-rigid normal modes give realistic collective motions.
public enum ANM {
    /// The lowest `count` non-trivial modes of `coords` (3N values, Å), lowest first: eigenvalues and
    /// unit eigenvectors (3N values each). The six rigid-body modes are skipped.
    public static func modes(_ coords: [Double], count: Int, cutoff: Double = 15) throws -> [(value: Double, vector: [Double])] {
        let n = coords.count / 3
        let dim = 3 * n
        guard n >= 3 else { throw KernelError("anm_trajectory", "needs at least 3 atoms, got \(n)") }
        guard count >= 1, count <= dim - 6 else { throw KernelError("anm_trajectory", "modes must be in 1...\(dim - 6), got \(count)") }
        var h = [Double](repeating: 0, count: dim * dim)
        for i in 0..<n {
            for j in (i + 1)..<n {
                let d = (0..<3).map { coords[3 * j + $0] - coords[3 * i + $0] }
                let r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2]
                guard r2 < cutoff * cutoff, r2 > 1e-12 else { continue }
                for a in 0..<3 { for b in 0..<3 {
                    let k = -d[a] * d[b] / r2
                    h[(3 * i + a) * dim + 3 * j + b] = k
                    h[(3 * j + a) * dim + 3 * i + b] = k
                    h[(3 * i + a) * dim + 3 * i + b] -= k
                    h[(3 * j + a) * dim + 3 * j + b] -= k
                } }
            }
        }
        var jobz: CChar = 86, uplo: CChar = 85   // "V", "U"
        var order = Int32(dim), lda = Int32(dim), info: Int32 = 0
        var values = [Double](repeating: 0, count: dim)
        var lwork: Int32 = -1, liwork: Int32 = -1
        var workQuery = [Double](repeating: 0, count: 1), iworkQuery = [Int32](repeating: 0, count: 1)
        dsyevd_(&jobz, &uplo, &order, &h, &lda, &values, &workQuery, &lwork, &iworkQuery, &liwork, &info)
        lwork = Int32(workQuery[0])
        liwork = iworkQuery[0]
        var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
        dsyevd_(&jobz, &uplo, &order, &h, &lda, &values, &work, &lwork, &iwork, &liwork, &info)
        guard info == 0 else { throw KernelError("anm_trajectory", "eigen-decomposition failed (LAPACK info \(info))") }
        // Column k of the (symmetric, hence layout-agnostic) result is eigenvector k.
        return (6..<(6 + count)).map { k in (values[k], (0..<dim).map { h[k * dim + $0] }) }
    }

    /// `frames` conformations moving `coords` along a random combination of its `modes` lowest modes
    /// (weighted by 1/√eigenvalue, as thermal fluctuations are): frame 0 is the input and the last frame
    /// lies `amplitude` Å RMSD from it, along a path that bends through the second mode.
    public static func trajectory(_ coords: [Double], frames: Int, modes count: Int, amplitude: Double, seed: UInt64,
                                  cutoff: Double = 15) throws -> [[Double]] {
        guard frames >= 2, frames <= 100_000 else { throw KernelError("anm_trajectory", "frames must be in 2...100000, got \(frames)") }
        guard amplitude >= 0, amplitude.isFinite else { throw KernelError("anm_trajectory", "amplitude must be non-negative, got \(amplitude)") }
        let modes = try self.modes(coords, count: count, cutoff: cutoff)
        var g = SeededGenerator(seed: seed)
        let n = Double(coords.count / 3)
        func combination(_ skipFirst: Bool) -> [Double] {
            var v = [Double](repeating: 0, count: coords.count)
            for (k, mode) in modes.enumerated() where !(skipFirst && k == 0) {
                let c = g.normal() / Swift.max(mode.value, 1e-6).squareRoot()
                for i in 0..<v.count { v[i] += c * mode.vector[i] }
            }
            let rms = (v.reduce(0) { $0 + $1 * $1 } / n).squareRoot()
            return rms > 0 ? v.map { $0 / rms } : v
        }
        let main = combination(false)
        let bend = modes.count > 1 ? combination(true) : [Double](repeating: 0, count: coords.count)
        let endRMSD = (zip(main, bend).reduce(0) { $0 + $1.0 * $1.0 } / n).squareRoot()
        let scale = endRMSD > 0 ? amplitude / endRMSD : 0
        return (0..<frames).map { f in
            let t = Double(f) / Double(frames - 1)
            let curve = 0.35 * Foundation.sin(.pi * t)
            return coords.indices.map { coords[$0] + scale * (t * main[$0] + curve * bend[$0]) }
        }
    }
}
