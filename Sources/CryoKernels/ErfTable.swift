import Foundation

/// erf by cubic Hermite interpolation of a table of erf and its derivative 2/√π·e^(−x²) at steps of 1/64 on
/// [0, 6] (erf is ±1 in Float beyond): absolute error below 1e-9 of the interpolant, so the result is as good as
/// libm's erff while costing a table lookup and a few multiply-adds. The projector evaluates it at the pixel edges
/// of every atom window, where libm's erff was most of the rendering time.
enum ErfTable {
    static let stepsPerUnit: Float = 64
    static let limit: Float = 6
    /// Interleaved (erf(x_k), h·erf′(x_k)) for x_k = k/64, k = 0...385 (two spare nodes past the limit); written
    /// once at first use, read-only afterwards.
    nonisolated(unsafe) static let nodes: UnsafePointer<Float> = {
        let count = Int(limit * stepsPerUnit) + 2
        let table = UnsafeMutablePointer<Float>.allocate(capacity: 2 * count)
        for k in 0..<count {
            let x = Double(k) / Double(stepsPerUnit)
            table[2 * k] = Float(Foundation.erf(x))
            table[2 * k + 1] = Float(2 / Double.pi.squareRoot() * Foundation.exp(-x * x) / Double(stepsPerUnit))
        }
        return UnsafePointer(table)
    }()

    /// erf(scale·(start + k·step)) for k in 0..<count into `out`, with no dependence between iterations so the
    /// loop pipelines. NaN stays NaN (clamped for the lookup, so it never traps).
    @inline(__always)
    static func fill(start: Float, step: Float, scale: Float, count: Int, _ out: UnsafeMutablePointer<Float>) {
        let table = nodes
        let top = limit - 1 / stepsPerUnit
        for k in 0..<count {
            let x = (start + Float(k) * step) * scale
            let a = Swift.abs(x)
            let clamped = a < top ? a : top
            let t = clamped * stepsPerUnit
            let i = Int32(t)
            let u = t - Float(i)
            let p = table + 2 * Int(i)
            let u2 = u * u, u3 = u2 * u
            let value = (2 * u3 - 3 * u2 + 1) * p[0] + (u3 - 2 * u2 + u) * p[1] + (3 * u2 - 2 * u3) * p[2] + (u3 - u2) * p[3]
            out[k] = x.isNaN ? x : (x < 0 ? -value : value)
        }
    }
}
