import Foundation

/// Fast evaluation of many CTFs on one half-spectrum grid: the frequency-dependent parts (s², cos 2θ, sin 2θ)
/// are tabulated once per (size, pixel) and each image's CTF then costs one sine and cosine per entry in Float.
/// `CTFParameters.value` is the Double-precision reference these are tested against.
enum CTFFilters {
    /// Per-entry s², s⁴, cos 2θ and sin 2θ of a D×D half spectrum.
    final class Grid: @unchecked Sendable {
        let s2: [Float], s4: [Float], cos2: [Float], sin2: [Float]
        init(size d: Int, pixel: Float) {
            let columns = d / 2 + 1
            var s2 = [Float](repeating: 0, count: d * columns), s4 = s2, cos2 = s2, sin2 = s2
            for i in 0..<d { for j in 0..<columns {
                let (sx, sy) = frequency(row: i, column: j, size: d, pixel: pixel)
                let k = i * columns + j
                let q = Double(sx) * Double(sx) + Double(sy) * Double(sy)
                let theta = atan2(Double(sy), Double(sx))
                s2[k] = Float(q)
                s4[k] = Float(q * q)
                cos2[k] = Float(cos(2 * theta))
                sin2[k] = Float(sin(2 * theta))
            } }
            self.s2 = s2
            self.s4 = s4
            self.cos2 = cos2
            self.sin2 = sin2
        }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var grids: [String: Grid] = [:]

    /// The tabulated grid for (size, pixel), built on first use.
    static func grid(size: Int, pixel: Float) -> Grid {
        lock.lock()
        defer { lock.unlock() }
        let key = "\(size)@\(pixel)"
        if let g = grids[key] { return g }
        let g = Grid(size: size, pixel: pixel)
        if grids.count > 16 { grids.removeAll() }
        grids[key] = g
        return g
    }

    /// Filters computed recently, keyed by parameters and grid: training re-applies the same per-image CTFs
    /// every epoch. Bounded by `cacheBytes`; cleared whole when full.
    nonisolated(unsafe) private static var cache: [CacheKey: [Float]] = [:]
    private static var cacheBytes: Int { 256 << 20 }

    private struct CacheKey: Hashable {
        let values: [Double]
        let whitening: NoiseWhitening?
        let size: Int
        let pixel: Float
    }

    /// The half-spectrum CTF [D, D/2+1] of each parameter set: cached ones reused, the rest computed in parallel.
    static func filters(_ parameters: [CTFParameters], size: Int, pixel: Float) -> [[Float]] {
        let keys = parameters.map { p in
            CacheKey(values: [p.defocusU, p.defocusV, p.astigmatismAngle, p.voltage, p.sphericalAberration, p.amplitudeContrast, p.phaseShift, p.bFactor, p.scaleFactor],
                     whitening: p.whitening, size: size, pixel: pixel)
        }
        var out = [[Float]](repeating: [], count: parameters.count)
        lock.lock()
        for (b, key) in keys.enumerated() { out[b] = cache[key] ?? [] }
        lock.unlock()
        let missing = out.indices.filter { out[$0].isEmpty }
        guard !missing.isEmpty else { return out }
        let fresh = compute(missing.map { parameters[$0] }, size: size, pixel: pixel)
        lock.lock()
        let perFilter = Swift.max(1, fresh.first?.count ?? 1) * 4
        if (cache.count + fresh.count) * perFilter > cacheBytes { cache.removeAll() }
        for (k, b) in missing.enumerated() {
            out[b] = fresh[k]
            if fresh.count * perFilter <= cacheBytes { cache[keys[b]] = fresh[k] }
        }
        lock.unlock()
        return out
    }

    /// Evaluates the CTFs on the tabulated grid, in parallel over parameter sets.
    private static func compute(_ parameters: [CTFParameters], size: Int, pixel: Float) -> [[Float]] {
        let g = grid(size: size, pixel: pixel)
        let n = g.s2.count
        var out = [[Float]](repeating: [], count: parameters.count)
        out.withUnsafeMutableBufferPointer { o in
            let result = SharedPointer(base: o.baseAddress!)
            Parallel.forRanges(parameters.count, grain: 1) { range in
                for b in range {
                    let p = parameters[b]
                    let lambda = p.wavelength
                    let mean = Float(Double.pi * lambda * 0.5 * (p.defocusU + p.defocusV))
                    let astig = Float(Double.pi * lambda * 0.5 * (p.defocusU - p.defocusV))
                    let a = p.astigmatismAngle * .pi / 180
                    let (ca, sa) = (Float(cos(2 * a)), Float(sin(2 * a)))
                    let cs = Float(0.5 * .pi * p.sphericalAberration * 1e7 * lambda * lambda * lambda)
                    let phase = Float(p.phaseShift * .pi / 180)
                    let w = Float(p.amplitudeContrast), root = (1 - w * w).squareRoot(), scale = Float(p.scaleFactor)
                    let b4 = Float(p.bFactor / 4)
                    var h = [Float](repeating: 0, count: n)
                    for k in 0..<n {
                        let gamma = (mean + astig * (g.cos2[k] * ca + g.sin2[k] * sa)) * g.s2[k] - cs * g.s4[k] + phase
                        let value = scale * (-root * sinf(gamma) - w * cosf(gamma))
                        h[k] = b4 == 0 ? value : value * expf(-b4 * g.s2[k])
                    }
                    if let whitening = p.whitening {
                        for k in 0..<n { h[k] *= Float(whitening.gain(Double(g.s2[k]).squareRoot())) }
                    }
                    result.base[b] = h
                }
            }
        }
        return out
    }
}
