import Foundation

/// Fast evaluation of many CTFs on one half-spectrum grid: the frequency-dependent parts (s², cos 2θ, sin 2θ)
/// are tabulated once per (size, pixel) and each image's CTF then costs one sine and cosine per entry in Float.
/// `CTFParameters.value` is the Double-precision reference these are tested against.
enum CTFFilters {
    /// Per-entry s², s⁴, cos 2θ and sin 2θ of a D×D half spectrum, and its frequencies (Å⁻¹).
    final class Grid: @unchecked Sendable {
        let s2: [Float], s4: [Float], cos2: [Float], sin2: [Float]
        let frequencies: [(Double, Double)]
        init(size d: Int, pixel: Float) {
            let columns = d / 2 + 1
            frequencies = (0..<(d * columns)).map { k in
                let (sx, sy) = frequency(row: k / columns, column: k % columns, size: d, pixel: pixel)
                return (Double(sx), Double(sy))
            }
            (s2, s4, cos2, sin2) = Grid.tables(frequencies)
        }

        /// s², s⁴, cos 2θ and sin 2θ at each of `frequencies`.
        static func tables(_ frequencies: [(Double, Double)]) -> ([Float], [Float], [Float], [Float]) {
            var s2 = [Float](repeating: 0, count: frequencies.count), s4 = s2, cos2 = s2, sin2 = s2
            for (k, (sx, sy)) in frequencies.enumerated() {
                let q = sx * sx + sy * sy
                let theta = atan2(sy, sx)
                s2[k] = Float(q)
                s4[k] = Float(q * q)
                cos2[k] = Float(cos(2 * theta))
                sin2[k] = Float(sin(2 * theta))
            }
            return (s2, s4, cos2, sin2)
        }
    }

    private static let lock = NSLock()
    nonisolated(unsafe) private static var grids: [String: Grid] = [:]

    /// A grid's tables at M·s and RELION's γ offset there, for one optics group's terms.
    final class AberratedGrid: @unchecked Sendable {
        let s2: [Float], s4: [Float], cos2: [Float], sin2: [Float], offset: [Float]
        init(_ grid: Grid, terms: OpticsTerms) {
            let magnified = grid.frequencies.map { terms.magnified($0.0, $0.1) }
            (s2, s4, cos2, sin2) = Grid.tables(magnified)
            offset = magnified.map { Float(terms.evenPhase($0.0, $0.1)) }
        }
    }

    private struct AberratedKey: Hashable {
        let evenZernike: [Double], magnification: [Double]
        let size: Int
        let pixel: Float
    }
    nonisolated(unsafe) private static var aberratedGrids: [AberratedKey: AberratedGrid] = [:]

    /// The aberrated tables for `terms` on the (size, pixel) grid, built once per optics group's terms: every particle
    /// of a group shares them.
    static func aberrated(_ terms: OpticsTerms, size: Int, pixel: Float) -> AberratedGrid {
        let key = AberratedKey(evenZernike: terms.evenZernike, magnification: terms.magnification, size: size, pixel: pixel)
        lock.lock()
        if let a = aberratedGrids[key] { lock.unlock(); return a }
        lock.unlock()
        let a = AberratedGrid(grid(size: size, pixel: pixel), terms: terms)
        lock.lock()
        if aberratedGrids.count > 64 { aberratedGrids.removeAll() }
        aberratedGrids[key] = a
        lock.unlock()
        return a
    }

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
        let optics: OpticsTerms?
        let size: Int
        let pixel: Float
    }

    /// The half-spectrum CTF [D, D/2+1] of each parameter set: cached ones reused, the rest computed in parallel.
    static func filters(_ parameters: [CTFParameters], size: Int, pixel: Float) -> [[Float]] {
        let keys = parameters.map { p in
            CacheKey(values: [p.defocusU, p.defocusV, p.astigmatismAngle, p.voltage, p.sphericalAberration, p.amplitudeContrast, p.phaseShift, p.bFactor, p.scaleFactor],
                     whitening: p.whitening, optics: p.optics, size: size, pixel: pixel)
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
                    // At M·s, with RELION's γ offset, when the optics terms change either (`CTFParameters.value`).
                    var (s2, s4, cos2, sin2) = (g.s2, g.s4, g.cos2, g.sin2)
                    var offset: [Float]?
                    if let terms = p.optics, terms.changesPhase {
                        let a = aberrated(terms, size: size, pixel: pixel)
                        (s2, s4, cos2, sin2, offset) = (a.s2, a.s4, a.cos2, a.sin2, a.offset)
                    }
                    var h = [Float](repeating: 0, count: n)
                    for k in 0..<n {
                        var gamma = (mean + astig * (cos2[k] * ca + sin2[k] * sa)) * s2[k] - cs * s4[k] + phase
                        if let offset { gamma -= offset[k] }
                        let value = scale * (root * sinf(gamma) + w * cosf(gamma))
                        h[k] = b4 == 0 ? value : value * expf(-b4 * s2[k])
                    }
                    if let terms = p.optics { for k in 0..<n { h[k] = terms.processed(h[k]) } }
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
