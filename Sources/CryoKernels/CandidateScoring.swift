import CKernels
import CFFTW
import Foundation

/// Pose scores of each image's own conformation at its candidate rotations (pose-marginalised training), in one
/// pass per image and one tape node. With ŷ_b the image standardised to zero mean and unit variance, P_bk the
/// conformation rendered at candidate k, C_b the image's CTF (self-adjoint) and D the image side,
///   L[b, k] = 2 − 2·⟨ŷ_b, C_b∗P_bk − μ_bk⟩ / (D·σ_bk + 1e-12) = 2 − 2·⟨C_b∗ŷ_b, P_bk⟩ / (D·σ_bk + 1e-12),
/// the mean squared difference of ŷ and the standardised rendering, with μ_bk = C_b(0)·mean(P_bk) and
/// σ²_bk = ‖C_b∗P_bk‖² − D²·μ²_bk taken from |C_b|² against |P̂_bk|² (Parseval), as `PoseScoring` scores the grid.
/// So each image is filtered by its CTF once, not every rendering; each rendering costs one render and one
/// forward FFT. When a gradient is recorded, the spectra of C²∗P_bk are kept for the backward pass (the only
/// [B·K, D, D/2+1] buffer), which transforms back only those of renderings with a non-zero cotangent.
enum CandidateScoring {
    /// L [B, K] for conformations `coords` [B,N,3] (Å) of `images` [B,D,D] at `rotations` (B·K, image-major) with
    /// each image's `shifts` (2B values, Å, RELION origins) and CTF (`ctf`, B of them; nil: none). Records the VJP
    /// with respect to the coordinates.
    static func losses(coords: Tensor, images: Tensor, rotations: [Rotation], shifts: [Float], ctf: [CTFParameters]?,
                       geometry: Projector.Geometry) throws -> Tensor {
        let op = "esl_data_term"
        guard coords.rank == 3, coords.shape[2] == 3 else { throw KernelError.shape(op, expected: "coords [B,N,3]", got: coords.shape) }
        let (batch, atoms, d) = (coords.shape[0], coords.shape[1], geometry.size)
        guard images.shape == [batch, d, d] else { throw KernelError.shape(op, expected: "images [\(batch),\(d),\(d)]", got: images.shape) }
        guard atoms == geometry.sigma.count, atoms > 0 else {
            throw KernelError(op, "the conformations have \(atoms) atoms but the forward model \(geometry.sigma.count)")
        }
        guard batch > 0, rotations.count % batch == 0, rotations.count > 0 else {
            throw KernelError(op, "got \(rotations.count) candidate rotations for \(batch) images (the same number for each)")
        }
        guard shifts.count == 2 * batch else { throw KernelError(op, "got \(shifts.count / 2) shifts for \(batch) images") }
        if let ctf {
            guard ctf.count == batch else { throw KernelError(op, "got \(ctf.count) CTFs for \(batch) images") }
            for p in ctf { try p.validate(op: op) }
        }
        let k = rotations.count / batch, pixels = d * d, half = d * (d / 2 + 1)
        let filters = ctf.map { CTFFilters.filters($0, size: d, pixel: geometry.pixel) }
        let standardised = PoseScoring.standardisedRows(images.storage, length: pixels)
        let filtered = filters.map { h in FourierFilter.apply(standardised, batch: batch, size: d, filter: { h[$0] }) } ?? standardised
        let unit = [Float](repeating: 1, count: half)
        let image = (0..<batch).map { b in Image(filter: filters?[b] ?? unit, size: d) }
        var rowShifts = [Float](repeating: 0, count: 2 * batch * k)
        for row in 0..<(batch * k) { (rowShifts[2 * row], rowShifts[2 * row + 1]) = (shifts[2 * (row / k)], shifts[2 * (row / k) + 1]) }
        let kernel = Projector.Kernel(geometry: geometry, rotations: rotations, shifts: rowShifts, atoms: atoms, shared: false)
        let recording = coords.requiresGrad && Tape.active != nil
        var losses = [Float](repeating: 0, count: batch * k)
        var scores = [Score](repeating: Score(dot: 0, sigma: 0, mu: 0), count: batch * k)
        // The half spectrum of C²∗P of every rendering (re, im interleaved), for the backward pass only; every entry is
        // written before it is read.
        let kept = recording ? batch * k * 2 * half : 0
        var squared = [Float](unsafeUninitializedCapacity: kept) { _, count in count = kept }
        coords.storage.withUnsafeBufferPointer { c in filtered.withUnsafeBufferPointer { z in
        losses.withUnsafeMutableBufferPointer { l in scores.withUnsafeMutableBufferPointer { sc in squared.withUnsafeMutableBufferPointer { q in
            let (lossOut, scoreOut, squaredOut) = (SharedPointer(base: l.baseAddress!), SharedPointer(base: sc.baseAddress!), recording ? SharedPointer(base: q.baseAddress!) : nil)
            Parallel.forRanges(batch, grain: 1) { range in
                let scratch = Projector.Kernel.Scratch(size: d, atoms: atoms), w = FFT.Workspace(size: d)
                let spectrum = UnsafeMutableRawPointer(w.spectrum).assumingMemoryBound(to: Float.self)
                var moments: (Float, Float) = (0, 0), energy: Float = 0
                for b in range {
                    let conformation = c.baseAddress! + b * atoms * 3, y = z.baseAddress! + b * pixels, im = image[b]
                    for row in (b * k)..<((b + 1) * k) {
                        kernel.render(row, conformation, w.real, scratch)
                        withUnsafeMutableBytes(of: &moments) { cryo_image_moments(y, w.real, pixels, $0.baseAddress!.assumingMemoryBound(to: Float.self)) }
                        FFT.shared.forward(w)
                        im.squared.withUnsafeBufferPointer { squaredFilter in im.power.withUnsafeBufferPointer { power in
                            cryo_spectrum_energy(power.baseAddress, spectrum, squaredOut == nil ? nil : squaredFilter.baseAddress, half, &energy)
                        } }
                        let mu = im.dc * moments.1 / Float(pixels)
                        let sigma = Swift.max(0, energy - Float(pixels) * mu * mu).squareRoot()
                        let score = Score(dot: moments.0, sigma: sigma, mu: mu)
                        scoreOut.base[row] = score
                        lossOut.base[row] = 2 - 2 * score.dot * score.inverseNorm(size: d)
                        if let squaredOut { (squaredOut.base + row * 2 * half).update(from: spectrum, count: 2 * half) }
                    }
                }
            }
        } } } } }
        let out = Tensor(uncheckedShape: [batch, k], storage: losses)
        Tape.recordIfNeeded(out, inputs: [coords]) { g in
            [backward(g.storage, coords: coords, filtered: filtered, squared: squared, scores: scores, image: image, kernel: kernel, perImage: k)]
        }
        return out
    }

    /// What the scores need of one image's CTF h [D, D/2+1]: its value at zero frequency, |C|² weighted for
    /// Parseval (`PoseScoring.parsevalPower`) and C²/D², which turns the FFT of P into that of C²∗P, the gradient of
    /// ½‖C∗P‖² (on the Nyquist column, where an astigmatic CTF differs between rows i and D − i, the mean of the two,
    /// so the product stays Hermitian and is the exact gradient of the Parseval sum).
    struct Image: Sendable {
        let dc: Float
        let power: [Float], squared: [Float]
        init(filter h: [Float], size d: Int) {
            let columns = d / 2 + 1
            dc = h[0]
            power = PoseScoring.parsevalPower(h, size: d)
            var squared = h.map { $0 * $0 / Float(d * d) }
            if d % 2 == 0 {
                for i in 0..<d {
                    let (k, mirror) = (i * columns + d / 2, ((d - i) % d) * columns + d / 2)
                    squared[k] = 0.5 * (h[k] * h[k] + h[mirror] * h[mirror]) / Float(d * d)
                }
            }
            self.squared = squared
        }
    }

    /// One rendering's ⟨C∗ŷ, P⟩, σ and μ.
    struct Score: Sendable {
        let dot: Float, sigma: Float, mu: Float
        /// 1 / (D·σ + 1e-12), the correlation's normaliser.
        @inline(__always) func inverseNorm(size d: Int) -> Float { 1 / (Float(d) * sigma + 1e-12) }
    }

    /// The cotangent [B,N,3] of the coordinates for the losses' cotangent `g` [B,K], from the kept spectra of C²∗P
    /// (`squared`): with a = 1/(D·σ + 1e-12),
    ///   ∂L/∂P = −2a·C∗ŷ + 2·dot·D·a²/σ · (C²∗P − μ·C(0)),
    /// pulled back through the projector; renderings whose loss has a zero cotangent (off the measure's support and
    /// outside the J smallest) are skipped. In parallel over images, each adding into its own conformation.
    private static func backward(_ g: [Float], coords: Tensor, filtered: [Float], squared: [Float], scores: [Score], image: [Image],
                                 kernel: Projector.Kernel, perImage k: Int) -> Tensor {
        let (batch, atoms, d) = (coords.shape[0], coords.shape[1], kernel.geometry.size), pixels = d * d, half = d * (d / 2 + 1)
        var dCoords = [Float](repeating: 0, count: coords.count)
        coords.storage.withUnsafeBufferPointer { c in filtered.withUnsafeBufferPointer { z in squared.withUnsafeBufferPointer { q in
        dCoords.withUnsafeMutableBufferPointer { out in
            let result = SharedPointer(base: out.baseAddress!)
            Parallel.forRanges(batch, grain: 1) { range in
                let scratch = Projector.Kernel.Scratch(size: d, atoms: atoms), w = FFT.Workspace(size: d)
                let cotangent = UnsafeMutablePointer<Float>.allocate(capacity: pixels)
                defer { cotangent.deallocate() }
                for b in range {
                    for row in (b * k)..<((b + 1) * k) where g[row] != 0 {
                        let s = scores[row], a = s.inverseNorm(size: d)
                        let normTerm = s.sigma > 0 ? 2 * s.dot * Float(d) * a * a / s.sigma * g[row] : 0
                        UnsafeMutableRawPointer(w.spectrum).assumingMemoryBound(to: Float.self).update(from: q.baseAddress! + row * 2 * half, count: 2 * half)
                        FFT.shared.inverse(w)
                        cryo_image_combination(z.baseAddress! + b * pixels, w.real, -2 * a * g[row], normTerm,
                                               -normTerm * s.mu * image[b].dc, pixels, cotangent)
                        _ = kernel.addGradient(row, c.baseAddress! + b * atoms * 3, cotangent: cotangent,
                                               into: result.base + b * atoms * 3, scratch)
                    }
                }
            }
        } } } }
        return Tensor(uncheckedShape: coords.shape, storage: dCoords)
    }
}
