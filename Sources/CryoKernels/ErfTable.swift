import Foundation

/// erf by cubic Hermite interpolation of a table of erf and its derivative 2/√π·e^(−x²) at steps of 1/64 on
/// [0, 6] (erf is ±1 in Float beyond): absolute error below 1e-9 of the interpolant, so the result is as good as
/// libm's erff while costing a table lookup and a few multiply-adds. The projector calls it twice per pixel edge
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

    /// erf(x); NaN stays NaN. Loops pass `nodes`, read once, as `table`.
    @inline(__always)
    static func erf(_ x: Float, _ table: UnsafePointer<Float> = nodes) -> Float {
        let a = Swift.abs(x)
        guard a < limit else { return a.isNaN ? x : (x < 0 ? -1 : 1) }
        let t = a * stepsPerUnit
        let k = Int(t)
        let u = t - Float(k)
        let p = table + 2 * k
        let (f0, d0, f1, d1) = (p[0], p[1], p[2], p[3])
        let u2 = u * u, u3 = u2 * u
        let value = (2 * u3 - 3 * u2 + 1) * f0 + (u3 - 2 * u2 + u) * d0 + (3 * u2 - 2 * u3) * f1 + (u3 - u2) * d1
        return x < 0 ? -value : value
    }
}
