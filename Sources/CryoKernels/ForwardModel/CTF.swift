import CFFTW
import Foundation

/// Contrast transfer function parameters of one image, in the field's units and with RELION's sign (`value`).
public struct CTFParameters: Equatable, Sendable {
    /// Defocus along the astigmatism's major and minor axes (Å, underfocus positive).
    public var defocusU: Double
    public var defocusV: Double
    /// Angle of the major axis from x (degrees).
    public var astigmatismAngle: Double
    /// Acceleration voltage (kV).
    public var voltage: Double
    /// Spherical aberration (mm).
    public var sphericalAberration: Double
    /// Amplitude contrast fraction w.
    public var amplitudeContrast: Double
    /// Additional phase shift (degrees).
    public var phaseShift: Double
    /// B-factor (Å²) of the exp(−B·s²/4) envelope (RELION's rlnCtfBfactor).
    public var bFactor: Double
    /// Overall scale of the CTF (RELION's rlnCtfScalefactor).
    public var scaleFactor: Double
    /// The radial whitening filter of a whitened dataset (`NoiseWhitening`), a factor of the CTF so that every
    /// rendering is filtered as its image was; nil for none. Not a RELION column: STAR files never carry it.
    public var whitening: NoiseWhitening?
    /// The optics group's terms beyond these parameters (aberrations, magnification, what was done to the images), from
    /// a RELION 3.1+ optics table or `read_star` options; nil for none.
    public var optics: OpticsTerms?

    /// Parameters with the reference defaults (300 kV, Cs 2.7 mm, amplitude contrast 0.1, no astigmatism).
    public init(defocusU: Double, defocusV: Double? = nil, astigmatismAngle: Double = 0, voltage: Double = 300,
                sphericalAberration: Double = 2.7, amplitudeContrast: Double = 0.1, phaseShift: Double = 0, bFactor: Double = 0, scaleFactor: Double = 1) {
        self.defocusU = defocusU
        self.defocusV = defocusV ?? defocusU
        self.astigmatismAngle = astigmatismAngle
        self.voltage = voltage
        self.sphericalAberration = sphericalAberration
        self.amplitudeContrast = amplitudeContrast
        self.phaseShift = phaseShift
        self.bFactor = bFactor
        self.scaleFactor = scaleFactor
    }

    /// Relativistic electron wavelength (Å) at `voltage` kV: 12.2643 / √(V·(1 + 0.978466e-6·V)), V in volts.
    public var wavelength: Double {
        let v = voltage * 1000
        return 12.2643 / (v * (1 + 0.978466e-6 * v)).squareRoot()
    }

    /// Throws unless every value is finite and physically meaningful.
    public func validate(op: String) throws {
        let values = [defocusU, defocusV, astigmatismAngle, voltage, sphericalAberration, amplitudeContrast, phaseShift, bFactor, scaleFactor]
        guard values.allSatisfy(\.isFinite) else { throw KernelError(op, "CTF parameters must be finite") }
        guard voltage > 0 else { throw KernelError(op, "voltage must be positive, got \(voltage) kV") }
        guard (0...1).contains(amplitudeContrast) else { throw KernelError(op, "amplitude contrast must lie in [0, 1], got \(amplitudeContrast)") }
        try optics?.validate(op: op)
    }

    /// The CTF at spatial frequency (sx, sy) in Å⁻¹, RELION's (`CTF::getCTF`, −sin γ_R with γ_R = −γ − atan(w/√(1 − w²))):
    /// k·(√(1 − w²)·sin γ + w·cos γ)·exp(−B·s²/4)·W(s), with k the scale factor, W the whitening filter (1 without) and
    /// γ = π·λ·Δf(θ)·s² − ½·π·Cs·λ³·s⁴ + phase shift and Δf(θ) = ½[dfU + dfV + (dfU − dfV)·cos 2(θ − θ_ast)]. It is
    /// positive at low frequency (w at s = 0), so a particle's density shows white, as in RELION's extracted particles;
    /// cryoDRGN and cryoJAX use its negative and invert the images instead (cryoDRGN's `--invert-data`, on by default).
    /// With `optics`, as RELION: everything but the whitening is evaluated at M·s, RELION's γ offset (the symmetric
    /// aberrations) is subtracted from γ (γ_R = −γ − …), and the value goes through `OpticsTerms.processed`.
    public func value(sx: Double, sy: Double) -> Double {
        let (x, y) = optics?.magnified(sx, sy) ?? (sx, sy)
        let lambda = wavelength
        let s2 = x * x + y * y
        let theta = atan2(y, x)
        let astig = astigmatismAngle * .pi / 180
        let df = 0.5 * (defocusU + defocusV + (defocusU - defocusV) * cos(2 * (theta - astig)))
        let cs = sphericalAberration * 1e7
        let gamma = Double.pi * lambda * df * s2 - 0.5 * .pi * cs * lambda * lambda * lambda * s2 * s2 + phaseShift * .pi / 180
            - (optics?.evenPhase(x, y) ?? 0)
        let w = amplitudeContrast
        let ctf = scaleFactor * ((1 - w * w).squareRoot() * sin(gamma) + w * cos(gamma)) * Foundation.exp(-bFactor * s2 / 4)
        return (optics?.processed(ctf) ?? ctf) * (whitening?.gain((sx * sx + sy * sy).squareRoot()) ?? 1)
    }

    /// The CTF on the half spectrum of a D×D image ([D, D/2+1], FFT origin at index 0).
    public func halfSpectrum(size d: Int, pixel: Float) -> [Float] {
        let columns = d / 2 + 1
        var out = [Float](repeating: 0, count: d * columns)
        for i in 0..<d {
            for j in 0..<columns {
                let (sx, sy) = frequency(row: i, column: j, size: d, pixel: pixel)
                out[i * columns + j] = Float(value(sx: Double(sx), sy: Double(sy)))
            }
        }
        return out
    }
}

/// Multiplication of image batches by real, centro-symmetric Fourier filters (the CTF, low-pass masks).
public enum FourierFilter {
    /// Filters each image b of `images` [B,D,D] by `filter(b)` (a half spectrum [D, D/2+1]); in parallel.
    static func apply(_ images: [Float], batch: Int, size d: Int, filter: (Int) -> [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: images.count)
        let scale = 1 / Float(d * d)
        images.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                let result = SharedPointer(base: o.baseAddress!)
                withoutActuallyEscaping(filter) { f in
                    let filterFor = UncheckedSendable(value: f)
                    FFT.shared.forwardEach(x.baseAddress!, count: batch, size: d) { b, w in
                        filterFor.value(b).withUnsafeBufferPointer { h in
                            for k in 0..<w.spectrumCount {
                                let factor = h[k] * scale
                                w.spectrum[k].0 *= factor
                                w.spectrum[k].1 *= factor
                            }
                        }
                        FFT.shared.inverse(w)
                        (result.base + b * d * d).update(from: w.real, count: d * d)
                    }
                }
            }
        }
        return out
    }

    /// `images` [B,D,D] filtered by each image's CTF; records the VJP (the same filter: it is self-adjoint).
    public static func applyCTF(_ images: Tensor, parameters: [CTFParameters], pixel: Float) throws -> Tensor {
        let (batch, d) = try imageBatch(images, op: "apply_ctf")
        guard parameters.count == batch || parameters.count == 1 else {
            throw KernelError("apply_ctf", "got \(parameters.count) CTFs for \(batch) images")
        }
        for p in parameters { try p.validate(op: "apply_ctf") }
        let filters = CTFFilters.filters(parameters, size: d, pixel: pixel)
        let filterFor: (Int) -> [Float] = { b in filters[filters.count == 1 ? 0 : b] }
        let out = Tensor(uncheckedShape: images.shape, storage: apply(images.storage, batch: batch, size: d, filter: filterFor))
        Tape.recordIfNeeded(out, inputs: [images]) { g in
            [Tensor(uncheckedShape: g.shape, storage: apply(g.storage, batch: batch, size: d, filter: filterFor))]
        }
        return out
    }

    /// Keeps spatial frequencies up to 1/`resolution` Å⁻¹, with a raised-cosine edge one Fourier pixel wide.
    public static func lowPass(_ images: Tensor, pixel: Float, resolution: Float) throws -> Tensor {
        let (batch, d) = try imageBatch(images, op: "low_pass")
        guard resolution > 0, resolution.isFinite else { throw KernelError("low_pass", "resolution must be positive, got \(resolution) Å") }
        let columns = d / 2 + 1
        let cutoff = 1 / resolution, width = 1 / (Float(d) * pixel)
        var mask = [Float](repeating: 0, count: d * columns)
        for i in 0..<d { for j in 0..<columns {
            let (sx, sy) = frequency(row: i, column: j, size: d, pixel: pixel)
            let s = (sx * sx + sy * sy).squareRoot()
            mask[i * columns + j] = s <= cutoff - width ? 1 : (s >= cutoff ? 0 : 0.5 * (1 + cosf(.pi * (s - cutoff + width) / width)))
        } }
        let out = Tensor(uncheckedShape: images.shape, storage: apply(images.storage, batch: batch, size: d, filter: { _ in mask }))
        Tape.recordIfNeeded(out, inputs: [images]) { g in
            [Tensor(uncheckedShape: g.shape, storage: apply(g.storage, batch: batch, size: d, filter: { _ in mask }))]
        }
        return out
    }

    /// Fourier-crops `images` [B,D,D] to [B,d,d] (d even, ≤ D): the pixel grows to pixel·D/d and each image's
    /// sum (its integrated density) is preserved, so the result matches the projector at the coarser pixel.
    public static func downsample(_ images: Tensor, to target: Int) throws -> Tensor {
        let (batch, d) = try imageBatch(images, op: "downsample")
        guard target > 0, target % 2 == 0, target <= d else {
            throw KernelError("downsample", "target size must be even and at most \(d), got \(target)")
        }
        if target == d { return images }
        let columns = target / 2 + 1
        var out = [Float](repeating: 0, count: batch * target * target)
        let scale = 1 / Float(target * target)
        images.storage.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                let result = SharedPointer(base: o.baseAddress!)
                Parallel.forRanges(batch, grain: 1) { range in
                    let big = FFT.Workspace(size: d), small = FFT.Workspace(size: target)
                    for b in range {
                        big.real.update(from: x.baseAddress! + b * d * d, count: d * d)
                        FFT.shared.forward(big)
                        for i in 0..<target {
                            let source = i < target / 2 ? i : d - target + i
                            for j in 0..<columns { small.spectrum[i * columns + j] = big.spectrum[source * (d / 2 + 1) + j] }
                        }
                        FFT.shared.inverse(small)
                        for k in 0..<(target * target) { result.base[b * target * target + k] = small.real[k] * scale }
                    }
                }
            }
        }
        return Tensor(uncheckedShape: [batch, target, target], storage: out)
    }

    /// Validates a `[B,D,D]` batch of square images with even D.
    static func imageBatch(_ images: Tensor, op: String) throws -> (Int, Int) {
        guard images.rank == 3, images.shape[1] == images.shape[2], images.shape[1] >= 2, images.shape[1] % 2 == 0 else {
            throw KernelError.shape(op, expected: "square images [B,D,D] with even D", got: images.shape)
        }
        return (images.shape[0], images.shape[1])
    }

    /// Σ|x|² over pixels and (1/D²)·Σ|X|² over the full spectrum for each image, for Parseval checks.
    public static func energies(_ images: Tensor) throws -> [(spatial: Double, spectral: Double)] {
        let (batch, d) = try imageBatch(images, op: "energies")
        let columns = d / 2 + 1
        let w = FFT.Workspace(size: d)
        return (0..<batch).map { b in
            var spatial = 0.0
            for k in 0..<(d * d) { let v = Double(images.storage[b * d * d + k]); spatial += v * v; w.real[k] = Float(v) }
            FFT.shared.forward(w)
            var spectral = 0.0
            for i in 0..<d { for j in 0..<columns {
                let c = w.spectrum[i * columns + j]
                let m = Double(c.0) * Double(c.0) + Double(c.1) * Double(c.1)
                // Columns 1..<D/2 stand for themselves and their mirror images.
                spectral += (j == 0 || j == d / 2) ? m : 2 * m
            } }
            return (spatial, spectral / Double(d * d))
        }
    }
}
