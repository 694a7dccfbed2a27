import CFFTW
import Foundation

/// Scores images against one conformation rendered at every rotation of a grid, without materialising B·Q
/// images: with ŷ the image standardised to zero mean and unit variance and r̂_q = (C∗P_q − μ)/σ the rendering
/// (CTF C of the image, projection P_q) standardised likewise,
///   L[b, q] = mean((ŷ_b − r̂_bq)²) = 2 − 2·⟨C_b ŷ_b, P_q⟩ / (D²·σ_bq),
/// because the CTF is self-adjoint. ⟨C ŷ, P⟩ for all pairs is one sgemm; σ² comes from a second sgemm of |C|²
/// against |P̂|² over the half spectrum (Parseval). Projections are rendered in chunks, never all at once.
/// Images are assumed centred here (as in the reference implementation); `shiftSearchedLosses` searches shifts.
public enum PoseScoring {
    /// L as a row-major [B, Q] table.
    public static func losses(images: Tensor, coords: [Double], geometry: Projector.Geometry, ctf: [CTFParameters]?,
                              grid: [Rotation], chunk: Int = 512) throws -> [Float] {
        let (batch, d) = try FourierFilter.imageBatch(images, op: "esl")
        guard d == geometry.size else { throw KernelError("esl", "images are \(d) px but the forward model renders \(geometry.size) px") }
        guard !grid.isEmpty else { throw KernelError("esl", "the rotation grid is empty") }
        guard coords.count / 3 == geometry.sigma.count, !coords.isEmpty else {
            throw KernelError("esl", "the structure has \(coords.count / 3) atoms but the forward model \(geometry.sigma.count)")
        }
        if let ctf, ctf.count != batch && ctf.count != 1 { throw KernelError("esl", "got \(ctf.count) CTFs for \(batch) images") }
        let pixels = d * d, half = d * (d / 2 + 1)
        // Standardised images, then filtered by their CTFs (C ŷ).
        let standardised = standardisedRows(images.storage, length: pixels)
        let filters: [[Float]] = ctf.map { CTFFilters.filters($0, size: d, pixel: geometry.pixel) } ?? [[Float](repeating: 1, count: half)]
        let filterFor: (Int) -> [Float] = { filters[filters.count == 1 ? 0 : $0] }
        let filtered = FourierFilter.apply(standardised, batch: batch, size: d, filter: filterFor)
        let power = (0..<batch).flatMap { parsevalPower(filterFor($0), size: d) }
        let dc = (0..<batch).map { filterFor($0)[0] }
        let template = Tensor(uncheckedShape: [coords.count / 3, 3], storage: coords.map(Float.init))
        var losses = [Float](repeating: 0, count: batch * grid.count)
        for start in stride(from: 0, to: grid.count, by: chunk) {
            let count = Swift.min(chunk, grid.count - start)
            let projections = try Projector.project(coords: template, rotations: Rotation.tensor(Array(grid[start..<(start + count)])),
                                                    geometry: geometry).storage
            // |P̂|² of each projection, and its sum (the spectrum's zero frequency).
            var spectra = [Float](repeating: 0, count: count * half), sums = [Float](repeating: 0, count: count)
            spectra.withUnsafeMutableBufferPointer { out in sums.withUnsafeMutableBufferPointer { totals in
                let (result, sum) = (SharedPointer(base: out.baseAddress!), SharedPointer(base: totals.baseAddress!))
                projections.withUnsafeBufferPointer { p in
                    FFT.shared.forwardEach(p.baseAddress!, count: count, size: d, grain: 8) { q, w in
                        for k in 0..<half { result.base[q * half + k] = w.spectrum[k].0 * w.spectrum[k].0 + w.spectrum[k].1 * w.spectrum[k].1 }
                        sum.base[q] = w.spectrum[0].0
                    }
                }
            } }
            var dots = [Float](repeating: 0, count: batch * count), norms = dots
            filtered.withUnsafeBufferPointer { z in projections.withUnsafeBufferPointer { p in dots.withUnsafeMutableBufferPointer { o in
                GemmBatch.sgemm(false, true, batch, count, pixels, z.baseAddress!, pixels, p.baseAddress!, pixels, 0, o.baseAddress!, count)
            } } }
            power.withUnsafeBufferPointer { c in spectra.withUnsafeBufferPointer { s in norms.withUnsafeMutableBufferPointer { o in
                GemmBatch.sgemm(false, true, batch, count, half, c.baseAddress!, half, s.baseAddress!, half, 0, o.baseAddress!, count)
            } } }
            for q in 0..<count {
                let meanProjection = sums[q] / Float(pixels)
                for b in 0..<batch {
                    let mu = dc[b] * meanProjection
                    let variance = Swift.max(1e-20, norms[b * count + q] / Float(pixels) - mu * mu)
                    losses[b * grid.count + start + q] = 2 - 2 * dots[b * count + q] / (Float(pixels) * variance.squareRoot())
                }
            }
        }
        return losses
    }

    /// |C|² of a half-spectrum filter `h` [D, D/2+1], weighted for the mirrored columns and by 1/D², so that
    /// Σ_k power_k·|P̂_k|² over the half spectrum of the (unnormalised) FFT of P is ‖C∗P‖² (Parseval).
    static func parsevalPower(_ h: [Float], size d: Int) -> [Float] {
        let columns = d / 2 + 1
        var power = [Float](repeating: 0, count: d * columns)
        for i in 0..<d { for j in 0..<columns {
            let weight: Float = (j == 0 || j == d / 2) ? 1 : 2
            power[i * columns + j] = weight * h[i * columns + j] * h[i * columns + j] / Float(d * d)
        } }
        return power
    }

    /// Each consecutive row of `length` values shifted and scaled to zero mean and unit variance.
    static func standardisedRows(_ x: [Float], length: Int) -> [Float] {
        var out = x
        for row in 0..<(x.count / length) {
            var sum = 0.0, squares = 0.0
            for k in 0..<length { let v = Double(out[row * length + k]); sum += v; squares += v * v }
            let mean = sum / Double(length), std = Swift.max(1e-12, (squares / Double(length) - mean * mean).squareRoot())
            for k in 0..<length { out[row * length + k] = Float((Double(out[row * length + k]) - mean) / std) }
        }
        return out
    }

    /// The outcome of pose estimation for one image.
    public struct Estimate: Sendable {
        /// The measure's barycentre, the grid point of least loss, and that loss.
        public let rotation: Rotation, argmin: Rotation
        public let loss: Double
        /// Spread of the measure around its barycentre (degrees) and its support size: a large spread is low confidence.
        public let spread: Double
        public let support: Int
        /// The origin (x, y Å, RELION's) relative to the scored images: with a shift search, the mean of the
        /// measure's rotations' best origins weighted by β; (0, 0) without one.
        public let origin: (x: Double, y: Double)
        /// With refinement beyond the grid, the loss at the refined rotation and origin (nil: not refined).
        public var refinedLoss: Double? = nil

        /// The loss at the returned pose: the refined one's, else the grid's least.
        public var poseLoss: Double { refinedLoss ?? loss }
    }

    /// ESL pose estimates for every row of a [B, Q] loss table (in parallel over images).
    public static func estimate(losses: [Float], batch: Int, grid: [Rotation], lifting: SupportLifting) -> [Estimate] {
        let q = grid.count
        return estimates(batch) { b in estimate(losses: (0..<q).map { Double(losses[b * q + $0]) }, rotations: grid, lifting: lifting) }
    }

    /// The estimate for one image from the losses at `rotations`, the evaluated part of a grid of `gridSize`, and
    /// (with a shift search) each rotation's best origin.
    public static func estimate(losses l: [Double], rotations: [Rotation], lifting: SupportLifting, gridSize: Int? = nil,
                                origins: [(Float, Float)]? = nil) -> Estimate {
        let beta = lifting.measure(l, gridSize: gridSize)
        let best = l.indices.min { l[$0] < l[$1] } ?? 0
        let centre = SupportLifting.barycentre(rotations, beta)
        let (spread, support) = SupportLifting.spread(rotations, beta, around: centre)
        var origin = (x: 0.0, y: 0.0)
        if let origins {
            for (w, o) in zip(beta, origins) where w > 0 { origin = (origin.x + w * Double(o.0), origin.y + w * Double(o.1)) }
        }
        return Estimate(rotation: centre, argmin: rotations[best], loss: l[best], spread: spread, support: support, origin: origin)
    }

    /// `count` estimates computed by `body` in parallel over the cores.
    static func estimates(_ count: Int, _ body: (Int) -> Estimate) -> [Estimate] {
        var out = [Estimate?](repeating: nil, count: count)
        out.withUnsafeMutableBufferPointer { o in
            let result = SharedPointer(base: o.baseAddress!)
            Parallel.forRanges(count, grain: 1) { range in
                for b in range { result.base[b] = body(b) }
            }
        }
        return out.compactMap { $0 }
    }
}

extension SupportLifting {
    /// Σ_q β_q L_q for each row of losses [B, Q] → [B]; the VJP runs through β (not detached, as in the reference).
    /// With `gridSize`, the Q columns are the evaluated part of a grid of that size.
    public func expectedLoss(_ losses: Tensor, gridSize: Int? = nil) throws -> Tensor {
        guard losses.rank == 2, losses.shape[1] >= 2 else { throw KernelError.shape("esl_loss", expected: "losses [B,Q] with Q ≥ 2", got: losses.shape) }
        let (b, q) = (losses.shape[0], losses.shape[1])
        var values = [Float](repeating: 0, count: b), gradients = [Float](repeating: 0, count: b * q)
        for row in 0..<b {
            let (v, g) = expectedLoss((0..<q).map { Double(losses.storage[row * q + $0]) }, gridSize: gridSize)
            values[row] = Float(v)
            for k in 0..<q { gradients[row * q + k] = Float(g[k]) }
        }
        let out = Tensor(uncheckedShape: [b], storage: values)
        Tape.recordIfNeeded(out, inputs: [losses]) { g in
            var d = gradients
            for row in 0..<b { for k in 0..<q { d[row * q + k] *= g.storage[row] } }
            return [Tensor(uncheckedShape: [b, q], storage: d)]
        }
        return out
    }
}
