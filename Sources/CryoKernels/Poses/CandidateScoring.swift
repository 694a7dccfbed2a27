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
///
/// With a `ShiftSearch`, each rendering is moved by its best offset within the search radius of the image's origin
/// (found from the spectrum already computed, one inverse FFT more) and scored there; the offset is held fixed
/// in the backward pass, where the score's derivative with respect to it vanishes at the optimum.
enum CandidateScoring {
    /// L [B, K] for conformations `coords` [B,N,3] (Å) of `images` [B,D,D] at `rotations` (B·K, image-major) with
    /// each image's `shifts` (2B values, Å, RELION origins) and CTF (`ctf`, B of them; nil: none). Records the VJP
    /// with respect to the coordinates.
    static func losses(coords: Tensor, images: Tensor, rotations: [Rotation], shifts: [Float], ctf: [CTFParameters]?,
                       geometry: Projector.Geometry) throws -> Tensor {
        try scored(coords: coords, images: images, rotations: rotations, shifts: shifts, ctf: ctf, geometry: geometry, search: nil).losses
    }

    /// As `losses`, with each rendering moved by its best offset within `search` (nil: none) of its image's origin;
    /// also every rendering's origin (2·B·K values, Å, x then y).
    static func scored(coords: Tensor, images: Tensor, rotations: [Rotation], shifts: [Float], ctf: [CTFParameters]?,
                       geometry: Projector.Geometry, search: ShiftSearch?) throws -> (losses: Tensor, origins: [Float]) {
        let op = "esl_data_term"
        guard coords.rank == 3, coords.shape[2] == 3 else { throw KernelError.shape(op, expected: "coords [B,N,3]", got: coords.shape) }
        let (batch, d) = (coords.shape[0], geometry.size)
        guard images.shape == [batch, d, d] else { throw KernelError.shape(op, expected: "images [\(batch),\(d),\(d)]", got: images.shape) }
        let targets = try Targets(images: images, ctf: ctf, geometry: geometry, spectra: search != nil, op: op)
        return try scored(coords: coords, targets: targets, rotations: rotations, shifts: shifts, geometry: geometry, search: search)
    }

    /// As `scored(coords:images:…)`, for images already made `targets` (with their planes when `search` is given).
    static func scored(coords: Tensor, targets: Targets, rotations: [Rotation], shifts: [Float], geometry: Projector.Geometry,
                       search: ShiftSearch?) throws -> (losses: Tensor, origins: [Float]) {
        let op = "esl_data_term"
        guard coords.rank == 3, coords.shape[2] == 3 else { throw KernelError.shape(op, expected: "coords [B,N,3]", got: coords.shape) }
        let (batch, atoms, d) = (coords.shape[0], coords.shape[1], geometry.size)
        guard targets.size == d, targets.image.count == batch else {
            throw KernelError(op, "the scoring targets are for \(targets.image.count) images of \(targets.size) px, not \(batch) of \(d) px")
        }
        guard atoms == geometry.sigma.count, atoms > 0 else {
            throw KernelError(op, "the conformations have \(atoms) atoms but the forward model \(geometry.sigma.count)")
        }
        guard batch > 0, rotations.count % batch == 0, rotations.count > 0 else {
            throw KernelError(op, "got \(rotations.count) candidate rotations for \(batch) images (the same number for each)")
        }
        guard shifts.count == 2 * batch else { throw KernelError(op, "got \(shifts.count / 2) shifts for \(batch) images") }
        if let search {
            guard search.size == d else { throw KernelError(op, "the shift search is for \(search.size)-pixel images, these have \(d)") }
            guard targets.planes.count == batch * search.planeFloats else { throw KernelError(op, "the scoring targets lack the shift search's planes") }
        }
        let k = rotations.count / batch, half = d * (d / 2 + 1)
        var rowShifts = [Float](repeating: 0, count: 2 * batch * k)
        for row in 0..<(batch * k) { (rowShifts[2 * row], rowShifts[2 * row + 1]) = (shifts[2 * (row / k)], shifts[2 * (row / k) + 1]) }
        let kernel = Projector.Kernel(geometry: geometry, rotations: rotations, shifts: rowShifts, atoms: atoms, shared: false)
        let recording = coords.requiresGrad && Tape.active != nil
        var losses = [Float](repeating: 0, count: batch * k)
        var scores = [Score](repeating: Score(dot: 0, sigma: 0, mu: 0), count: batch * k)
        var offsets = [(Double, Double)](repeating: (0, 0), count: batch * k)
        // The half spectrum of C²∗P of every rendering (re, im interleaved), for the backward pass only; every entry is
        // written before it is read.
        let kept = recording ? batch * k * 2 * half : 0
        var squared = [Float](unsafeUninitializedCapacity: kept) { _, count in count = kept }
        coords.storage.withUnsafeBufferPointer { c in
        losses.withUnsafeMutableBufferPointer { l in scores.withUnsafeMutableBufferPointer { sc in squared.withUnsafeMutableBufferPointer { q in
        offsets.withUnsafeMutableBufferPointer { o in
            let (lossOut, scoreOut, offsetOut) = (SharedPointer(base: l.baseAddress!), SharedPointer(base: sc.baseAddress!), SharedPointer(base: o.baseAddress!))
            let squaredOut = recording ? SharedPointer(base: q.baseAddress!) : nil
            Parallel.forRanges(batch, grain: 1) { range in
                let worker = Worker(size: d, atoms: atoms, search: search)
                for b in range {
                    for row in (b * k)..<((b + 1) * k) {
                        let (score, offset) = targets.score(row, image: b, conformation: c.baseAddress! + b * atoms * 3, kernel: kernel, search: search,
                                                            filteredInto: squaredOut.map { $0.base + row * 2 * half }, worker)
                        scoreOut.base[row] = score
                        offsetOut.base[row] = offset
                        lossOut.base[row] = score.loss(size: d)
                    }
                }
            }
        } } } } }
        let out = Tensor(uncheckedShape: [batch, k], storage: losses)
        Tape.recordIfNeeded(out, inputs: [coords]) { g in
            [backward(g.storage, coords: coords, targets: targets, squared: squared, scores: scores, offsets: offsets, kernel: kernel,
                      search: search, perImage: k)]
        }
        var origins = rowShifts
        if let search {
            for row in offsets.indices {
                let change = search.originChange(offsets[row])
                origins[2 * row] += change.0
                origins[2 * row + 1] += change.1
            }
        }
        return (out, origins)
    }

    /// What scoring needs of a batch of images: each standardised and filtered by its CTF (Z = C∗ŷ, [B,D,D]), the
    /// half spectra of those when shifts are searched (as the search's split planes), and each CTF's factors (`Image`).
    struct Targets: @unchecked Sendable {
        let size: Int
        let filtered: [Float]
        let planes: [Float]
        let image: [Image]

        /// One image's share of `Targets`: Z = C∗ŷ [D,D], its split planes (empty when not wanted) and its CTF's factors.
        struct Row: Sendable {
            let filtered: [Float]
            var planes: [Float]
            let image: Image
            /// The memory the row holds.
            var bytes: Int { MemoryLayout<Float>.size * (filtered.count + planes.count + image.power.count + image.squared.count) }
        }

        /// The targets of images given as rows, in order; with their planes when every row has them.
        init(rows: [Row], size d: Int) {
            let withPlanes = !rows.contains { $0.planes.isEmpty }
            var (filtered, planes) = ([Float](), [Float]())
            filtered.reserveCapacity(rows.count * d * d)
            planes.reserveCapacity(withPlanes ? rows.reduce(0) { $0 + $1.planes.count } : 0)
            for row in rows {
                filtered.append(contentsOf: row.filtered)
                if withPlanes { planes.append(contentsOf: row.planes) }
            }
            (size, self.filtered, self.planes, image) = (d, filtered, planes, rows.map(\.image))
        }

        /// Image b's row.
        func row(_ b: Int) -> Row {
            let (pixels, per) = (size * size, image.isEmpty ? 0 : planes.count / image.count)
            return Row(filtered: Array(filtered[(b * pixels)..<((b + 1) * pixels)]), planes: Array(planes[(b * per)..<((b + 1) * per)]), image: image[b])
        }

        init(images: Tensor, ctf: [CTFParameters]?, geometry: Projector.Geometry, spectra wanted: Bool, op: String) throws {
            let (batch, d) = try FourierFilter.imageBatch(images, op: op)
            if let ctf {
                guard ctf.count == batch else { throw KernelError(op, "got \(ctf.count) CTFs for \(batch) images") }
                for p in ctf { try p.validate(op: op) }
            }
            let filters = ctf.map { CTFFilters.filters($0, size: d, pixel: geometry.pixel) }
            let standardised = PoseScoring.standardisedRows(images.storage, length: d * d)
            size = d
            filtered = filters.map { h in FourierFilter.apply(standardised, batch: batch, size: d, filter: { h[$0] }) } ?? standardised
            planes = wanted ? ShiftSearch.planes(filtered, batch: batch, size: d) : []
            let unit = [Float](repeating: 1, count: d * (d / 2 + 1))
            image = (0..<batch).map { b in Image(filter: filters?[b] ?? unit, size: d) }
        }

        /// Scores rendering `row` of image b (the atoms `conformation` [N,3] as `kernel` sees row `row`), moved by its best
        /// offset within `search`; leaves the rendering's half spectrum in `worker.fft.spectrum` and, when `filteredInto`
        /// is given (2·D·(D/2+1) floats, which may be that spectrum itself), writes it there multiplied by C²/D² (what
        /// the backward pass needs).
        func score(_ row: Int, image b: Int, conformation: UnsafePointer<Float>, kernel: Projector.Kernel, search: ShiftSearch?,
                   filteredInto: UnsafeMutablePointer<Float>?, _ worker: Worker) -> (Score, (Double, Double)) {
            let d = size, pixels = d * d, half = d * (d / 2 + 1), im = image[b], w = worker.fft
            var moments: (Float, Float) = (0, 0), energy: Float = 0, offset = (0.0, 0.0)
            kernel.render(row, conformation, w.real, worker.scratch)
            if search == nil {
                filtered.withUnsafeBufferPointer { z in
                    withUnsafeMutableBytes(of: &moments) { cryo_image_moments(z.baseAddress! + b * pixels, w.real, pixels, $0.baseAddress!.assumingMemoryBound(to: Float.self)) }
                }
            }
            FFT.shared.forward(w)
            if let search, let searchScratch = worker.search {
                // The search scores the move itself; the rendering's sum is its spectrum's zero frequency.
                cryo_split_spectrum(UnsafeRawPointer(w.spectrum).assumingMemoryBound(to: Float.self), d, d / 2 + 1, searchScratch.planes)
                let found = planes.withUnsafeBufferPointer { z in
                    search.best(z: z.baseAddress! + b * search.planeFloats, p: searchScratch.planes, searchScratch)
                }
                (offset, moments) = (found.offset, (found.dot, w.spectrum[0].0))
            }
            let spectrum = UnsafeRawPointer(w.spectrum).assumingMemoryBound(to: Float.self)
            im.squared.withUnsafeBufferPointer { squaredFilter in im.power.withUnsafeBufferPointer { power in
                cryo_spectrum_energy(power.baseAddress, spectrum, filteredInto == nil ? nil : squaredFilter.baseAddress, half, &energy, filteredInto)
            } }
            return (Score(dot: moments.0, energy: energy, total: moments.1, dc: im.dc, pixels: pixels), offset)
        }

        /// The cotangent [D,D] of rendering (of image b, at `offset`) for its loss's cotangent `g`, from its kept spectrum
        /// of C²∗P (`kept`, 2·D·(D/2+1) floats): with a = 1/(D·σ + 1e-12),
        ///   ∂L/∂P = −2a·Z₋ₛ + 2·dot·D·a²/σ · (C²∗P − μ·C(0)),
        /// Z₋ₛ being the filtered image moved back by the offset (Z itself without a search).
        func cotangent(_ score: Score, g: Float, image b: Int, offset: (Double, Double), kept: UnsafePointer<Float>, search: ShiftSearch?,
                       _ worker: Worker, into out: UnsafeMutablePointer<Float>) {
            let d = size, pixels = d * d, half = d * (d / 2 + 1), w = worker.fft
            let a = score.inverseNorm(size: d)
            let normTerm = score.sigma > 0 ? 2 * score.dot * Float(d) * a * a / score.sigma * g : 0
            let spectrum = UnsafeMutableRawPointer(w.spectrum).assumingMemoryBound(to: Float.self)
            let imageWeight = -2 * a * g
            if let search, let searchScratch = worker.search {
                planes.withUnsafeBufferPointer { z in search.ramp(z: z.baseAddress! + b * search.planeFloats, offset: offset, searchScratch) }
                let ramped = UnsafeMutableRawPointer(searchScratch.workspace.spectrum).assumingMemoryBound(to: Float.self)
                cryo_image_combination(kept, ramped, normTerm, imageWeight, 0, 2 * half, spectrum)
                FFT.shared.inverse(w)
                filtered.withUnsafeBufferPointer { z in
                    cryo_image_combination(z.baseAddress! + b * pixels, w.real, 0, 1, -normTerm * score.mu * image[b].dc, pixels, out)
                }
            } else {
                spectrum.update(from: kept, count: 2 * half)
                FFT.shared.inverse(w)
                filtered.withUnsafeBufferPointer { z in
                    cryo_image_combination(z.baseAddress! + b * pixels, w.real, imageWeight, normTerm, -normTerm * score.mu * image[b].dc, pixels, out)
                }
            }
        }
    }

    /// One worker's buffers: the projector's scratch, a transform workspace and, with a search, the search's.
    final class Worker {
        let scratch: Projector.Kernel.Scratch
        let fft: FFT.Workspace
        let search: ShiftSearch.Scratch?
        init(size d: Int, atoms: Int, search: ShiftSearch?) {
            scratch = Projector.Kernel.Scratch(size: d, atoms: atoms)
            fft = FFT.Workspace(size: d)
            self.search = search.map(ShiftSearch.Scratch.init)
        }
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
        init(dot: Float, sigma: Float, mu: Float) { (self.dot, self.sigma, self.mu) = (dot, sigma, mu) }
        /// From the rendering's pixel sum `total` and ‖C∗P‖² (`energy`, Parseval) for a CTF of value `dc` at zero
        /// frequency on D² = `pixels`: μ = C(0)·mean(P), σ² = energy − D²·μ².
        init(dot: Float, energy: Float, total: Float, dc: Float, pixels: Int) {
            let mu = dc * total / Float(pixels)
            self.init(dot: dot, sigma: Swift.max(0, energy - Float(pixels) * mu * mu).squareRoot(), mu: mu)
        }
        /// 1 / (D·σ + 1e-12), the correlation's normaliser.
        @inline(__always) func inverseNorm(size d: Int) -> Float { 1 / (Float(d) * sigma + 1e-12) }
        /// The loss 2 − 2·dot/(D·σ + 1e-12).
        @inline(__always) func loss(size d: Int) -> Float { 2 - 2 * dot * inverseNorm(size: d) }
    }

    /// The cotangent [B,N,3] of the coordinates for the losses' cotangent `g` [B,K] (`Targets.cotangent` pulled back
    /// through the projector); renderings whose loss has a zero cotangent (off the measure's support and outside the J
    /// smallest) are skipped. In parallel over images, each adding into its own conformation.
    private static func backward(_ g: [Float], coords: Tensor, targets: Targets, squared: [Float], scores: [Score], offsets: [(Double, Double)],
                                 kernel: Projector.Kernel, search: ShiftSearch?, perImage k: Int) -> Tensor {
        let (batch, atoms, d) = (coords.shape[0], coords.shape[1], kernel.geometry.size), half = d * (d / 2 + 1)
        var dCoords = [Float](repeating: 0, count: coords.count)
        coords.storage.withUnsafeBufferPointer { c in squared.withUnsafeBufferPointer { q in
        dCoords.withUnsafeMutableBufferPointer { out in
            let result = SharedPointer(base: out.baseAddress!)
            Parallel.forRanges(batch, grain: 1) { range in
                let worker = Worker(size: d, atoms: atoms, search: search)
                let cotangent = UnsafeMutablePointer<Float>.allocate(capacity: d * d)
                defer { cotangent.deallocate() }
                for b in range {
                    for row in (b * k)..<((b + 1) * k) where g[row] != 0 {
                        targets.cotangent(scores[row], g: g[row], image: b, offset: offsets[row], kept: q.baseAddress! + row * 2 * half,
                                          search: search, worker, into: cotangent)
                        _ = kernel.addGradient(row, c.baseAddress! + b * atoms * 3, cotangent: cotangent, into: result.base + b * atoms * 3, worker.scratch)
                    }
                }
            }
        } } }
        return Tensor(uncheckedShape: coords.shape, storage: dCoords)
    }
}
