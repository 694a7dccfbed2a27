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
    /// from a generator seeded by `seeds[b]`, so an image gets the same phases on every call with its seed, whichever
    /// worker transforms it.
    public static func randomizedPhases(_ images: [Float], count: Int, size d: Int, pixel: Float, beyond resolution: Float,
                                        seeds: [UInt64]) throws -> [Float] {
        try checkResolution(resolution, op: "randomize_phases")
        guard images.count == count * d * d, seeds.count == count, count > 0 else {
            throw KernelError("randomize_phases", "expected \(count) images of \(d)×\(d) pixels (\(count * d * d) values) and \(count) seeds, got \(images.count) values and \(seeds.count) seeds")
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
                    var g = SeededGenerator(seed: seeds[b])
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

    /// Throws unless `resolution` (the `beyond:` of `op`, Å) is positive and finite.
    static func checkResolution(_ resolution: Float, op: String) throws {
        guard resolution > 0, resolution.isFinite else { throw KernelError(op, "beyond: must be a positive resolution in Å, got \(resolution)") }
    }

    /// Seeds for particles 0 ..< `count` of a dataset held in memory: `seed` mixed with each particle's index.
    public static func seeds(count: Int, seed: UInt64) -> [UInt64] {
        (0..<count).map { seed &+ UInt64($0) &* 0x9E37_79B9_7F4A_7C15 }
    }

    /// The seed of the particle at image `index` of the stack at `path` (0-based): `seed` mixed with the path's FNV-1a
    /// hash and the index, so a particle streamed from its stack gets the same phases on every read, in every subset.
    public static func seed(path: String, index: Int, seed: UInt64) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in path.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return seed ^ hash &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15
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
        try checkResolution(resolution, op: "corrected_fsc")
        let cutoff = 1 / resolution
        let values = measured.correlation.indices.map { s -> Float in
            let (t, n) = (measured.correlation[s], substituted.correlation[s])
            guard measured.frequency[s] >= cutoff, n < 1 else { return t }
            return (t - n) / (1 - n)
        }
        return FourierShellCorrelation(frequency: measured.frequency, correlation: values)
    }
}

extension ParticleDataset {
    /// The dataset with its images' phases randomised beyond `resolution` Å (`NoiseSubstitution.randomizedPhases`):
    /// now when they are in memory, or on every read when streamed (each particle seeded by its stack and index, so
    /// every read gives the same images); poses, CTFs and STAR rows kept.
    public func phaseRandomized(beyond resolution: Float, seed: UInt64) throws -> ParticleDataset {
        var out = self
        if let images {
            out.images = try Tensor(shape: images.shape, storage: try NoiseSubstitution.randomizedPhases(
                images.storage, count: count, size: size, pixel: pixel, beyond: resolution, seeds: NoiseSubstitution.seeds(count: count, seed: seed)))
        } else if let streamed {
            try NoiseSubstitution.checkResolution(resolution, op: "randomize_phases")
            let copy = try streamed.subset(Array(0..<streamed.count))
            copy.phaseRandomization = (resolution, pixel, seed)
            out.streamed = copy
        } else {
            throw KernelError("randomize_phases", "the dataset has no images to randomise")
        }
        return out
    }
}
