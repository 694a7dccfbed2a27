import Foundation

/// RELION's correction of an optics group's antisymmetric aberrations (`ObservationModel::demodulatePhase`): the beam
/// tilt and `rlnOddZernike` multiply each image's spectrum by e^{iφ(s)}, with φ = Σᵢ cᵢ·Zᵢ(M·s) odd in s (`Zernike.odd`,
/// M the group's magnification), a phase a real CTF cannot hold. RELION multiplies every image by e^{−iφ(s)} before it
/// scores or back-projects it; CryoScript does the same on reading the images, so every later step sees them corrected.
public struct PhaseDemodulation: Hashable, Sendable {
    /// The odd coefficients (radians, RELION's order) with the beam tilt inserted as RELION inserts it.
    public let oddZernike: [Double]
    /// The group's magnification M, row-major.
    public let magnification: [Double]

    /// From `rlnOddZernike`, `rlnBeamTiltX/Y` (mrad), Cs (mm), the wavelength (Å) and M. RELION's
    /// `TiltHelper::insertTilt` turns a tilt τ into the coma −π·20000·Cs·λ²·τ·|s|²·s: Z₃¹ and Z₃⁻¹ each take −k·τ/3 and
    /// Z₁¹ and Z₁⁻¹ twice that, with k = π·20000·Cs·λ².
    public init(oddZernike: [Double], beamTilt: (Double, Double), sphericalAberration: Double, wavelength: Double, magnification: [Double]) {
        var coefficients = oddZernike + [Double](repeating: 0, count: Swift.max(0, 5 - oddZernike.count))
        let k = sphericalAberration * 20000 * wavelength * wavelength * .pi
        let (z3x, z3y) = (-k * beamTilt.0 / 3, -k * beamTilt.1 / 3)
        coefficients[1] += 2 * z3x
        coefficients[0] += 2 * z3y
        coefficients[4] += z3x
        coefficients[3] += z3y
        self.oddZernike = coefficients
        self.magnification = magnification
    }

    /// Whether there is nothing to correct.
    public var isNeutral: Bool { oddZernike.allSatisfy { $0 == 0 } }

    /// φ at the image frequency (sx, sy) Å⁻¹ (radians).
    func phase(_ sx: Double, _ sy: Double) -> Double {
        let (x, y) = OpticsTerms(magnification: magnification).magnified(sx, sy)
        return Zernike.sum(oddZernike, x: x, y: y, order: Zernike.odd)
    }

    /// The largest |φ| at any frequency up to `nyquist` Å⁻¹ (sampled on 16 radii and 72 directions).
    public func largestPhase(upTo nyquist: Double) -> Double {
        var largest = 0.0
        for r in 1...16 {
            for a in 0..<72 {
                let (s, angle) = (nyquist * Double(r) / 16, Double(a) * .pi / 36)
                largest = Swift.max(largest, Swift.abs(phase(s * cos(angle), s * sin(angle))))
            }
        }
        return largest
    }

    /// cos φ and sin φ on the half spectrum of a D×D image at `pixel` Å, built once per (terms, size, pixel): streamed
    /// particles are corrected a batch at a time.
    private func table(size d: Int, pixel: Float) -> (cosine: [Float], sine: [Float]) {
        let key = TableKey(demodulation: self, size: d, pixel: pixel)
        PhaseDemodulation.lock.lock()
        if let t = PhaseDemodulation.tables[key] { PhaseDemodulation.lock.unlock(); return t }
        PhaseDemodulation.lock.unlock()
        let columns = d / 2 + 1
        var (cosine, sine) = ([Float](repeating: 1, count: d * columns), [Float](repeating: 0, count: d * columns))
        for k in 0..<(d * columns) {
            let (sx, sy) = frequency(row: k / columns, column: k % columns, size: d, pixel: pixel)
            let phi = phase(Double(sx), Double(sy))
            (cosine[k], sine[k]) = (Float(cos(phi)), Float(sin(phi)))
        }
        PhaseDemodulation.lock.lock()
        if PhaseDemodulation.tables.count > 64 { PhaseDemodulation.tables.removeAll() }
        PhaseDemodulation.tables[key] = (cosine, sine)
        PhaseDemodulation.lock.unlock()
        return (cosine, sine)
    }

    private struct TableKey: Hashable {
        let demodulation: PhaseDemodulation
        let size: Int
        let pixel: Float
    }
    private static let lock = NSLock()
    nonisolated(unsafe) private static var tables: [TableKey: (cosine: [Float], sine: [Float])] = [:]

    /// `images` (count × D² values, D×D at `pixel` Å) with every spectrum multiplied by e^{−iφ(s)}; in parallel.
    public func apply(_ images: [Float], count: Int, size d: Int, pixel: Float) -> [Float] {
        let (cosine, sine) = table(size: d, pixel: pixel)
        var out = [Float](repeating: 0, count: images.count)
        let scale = 1 / Float(d * d)
        images.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { o in
            let result = SharedPointer(base: o.baseAddress!)
            FFT.shared.forwardEach(x.baseAddress!, count: count, size: d) { b, w in
                for k in 0..<w.spectrumCount {
                    let (re, im) = w.spectrum[k]
                    // (re + i·im)·(cos φ − i·sin φ), normalised for the unnormalised inverse.
                    w.spectrum[k] = ((re * cosine[k] + im * sine[k]) * scale, (im * cosine[k] - re * sine[k]) * scale)
                }
                FFT.shared.inverse(w)
                (result.base + b * d * d).update(from: w.real, count: d * d)
            }
        } }
        return out
    }
}
