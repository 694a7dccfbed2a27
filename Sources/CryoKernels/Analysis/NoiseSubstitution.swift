import Foundation

/// High-resolution noise substitution (Chen et al., Ultramicroscopy 135:24, 2013): the test of how much of a half-map
/// FSC comes from the references the poses were found against rather than from the images. The particles' Fourier
/// phases beyond a resolution are replaced by random ones and the whole pose search and reconstruction is run again
/// on them; beyond that resolution their images hold no signal, so whatever correlation their half maps still show
/// there, FSC_n, the search put in (reference bias, overfitting). The measured curve FSC_t is then corrected there as
/// FSC = (FSC_t − FSC_n) / (1 − FSC_n), as RELION's post-processing corrects for its mask.
public enum NoiseSubstitution {
    /// `count` D×D images (row-major in `images`) at `pixel` Å with the phase of every Fourier coefficient at or beyond
    /// 1/`resolution` Å⁻¹ replaced by that coefficient's phase in a white Gaussian noise image, the amplitudes kept: the
    /// noise image is real, so the new spectrum keeps the Hermitian symmetry of a real image's. Image b's noise comes
    /// from a generator seeded by `seed` and b, so the result does not depend on how the workers share the images.
    public static func randomizedPhases(_ images: [Float], count: Int, size d: Int, pixel: Float, beyond resolution: Float,
                                        seed: UInt64) throws -> [Float] {
        guard resolution > 0, resolution.isFinite else {
            throw KernelError("randomize_phases", "beyond: must be a positive resolution in Å, got \(resolution)")
        }
        guard images.count == count * d * d, count > 0 else {
            throw KernelError("randomize_phases", "expected \(count) images of \(d)×\(d) pixels (\(count * d * d) values), got \(images.count) values")
        }
        let columns = d / 2 + 1, cutoff = 1 / resolution
        let replaced = (0..<(d * columns)).map { k -> Bool in
            let (sx, sy) = frequency(row: k / columns, column: k % columns, size: d, pixel: pixel)
            return (sx * sx + sy * sy).squareRoot() >= cutoff
        }
        var out = [Float](repeating: 0, count: images.count)
        let scale = 1 / Float(d * d)
        images.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { o in
                let result = SharedPointer(base: o.baseAddress!)
                FFT.shared.forwardEach(x.baseAddress!, count: count, size: d) { b, w in
                    var g = SeededGenerator(seed: seed &+ UInt64(b) &* 0x9E37_79B9_7F4A_7C15)
                    let noise = FFT.Workspace(size: d)
                    for i in 0..<(d * d) { noise.real[i] = Float(g.normal()) }
                    FFT.shared.forward(noise)
                    for k in 0..<w.spectrumCount where replaced[k] {
                        let (re, im) = (w.spectrum[k].0, w.spectrum[k].1)
                        let (nr, ni) = (noise.spectrum[k].0, noise.spectrum[k].1)
                        let amplitude = (re * re + im * im).squareRoot(), norm = (nr * nr + ni * ni).squareRoot()
                        let factor = norm > 0 ? amplitude / norm : 0
                        w.spectrum[k].0 = nr * factor
                        w.spectrum[k].1 = ni * factor
                    }
                    FFT.shared.inverse(w)
                    for i in 0..<(d * d) { result.base[b * d * d + i] = w.real[i] * scale }
                }
            }
        }
        return out
    }

    /// `measured` corrected by `substituted`, the FSC of the same search and reconstruction run on the images with
    /// their phases randomised beyond `resolution` Å: shells at or beyond 1/`resolution` Å⁻¹ become
    /// (FSC_t − FSC_n) / (1 − FSC_n), the others stay as measured. Both curves must have the same shells.
    public static func corrected(_ measured: FourierShellCorrelation, by substituted: FourierShellCorrelation,
                                 beyond resolution: Float) throws -> FourierShellCorrelation {
        guard measured.correlation.count == measured.frequency.count, substituted.correlation.count == substituted.frequency.count else {
            throw KernelError("corrected_fsc", "each curve needs one correlation per shell, got \(measured.correlation.count) for \(measured.frequency.count) and \(substituted.correlation.count) for \(substituted.frequency.count) shells")
        }
        guard measured.frequency.count == substituted.frequency.count,
              zip(measured.frequency, substituted.frequency).allSatisfy({ abs($0 - $1) <= 1e-6 * max(abs($0), 1) }) else {
            throw KernelError("corrected_fsc", "the two curves must have the same shells (the same box and pixel), got \(measured.frequency.count) and \(substituted.frequency.count) shells")
        }
        guard resolution > 0, resolution.isFinite else { throw KernelError("corrected_fsc", "beyond: must be a positive resolution in Å, got \(resolution)") }
        let cutoff = 1 / resolution
        let values = measured.correlation.indices.map { s -> Float in
            let (t, n) = (measured.correlation[s], substituted.correlation[s])
            guard measured.frequency[s] >= cutoff, n < 1 else { return t }
            return (t - n) / (1 - n)
        }
        return FourierShellCorrelation(frequency: measured.frequency, correlation: values)
    }
}
