import Foundation

/// A radial whitening filter for particle images whose noise is coloured, as in real micrographs (ice, the
/// detector's response): W(s) = √(N̄ / N(s)), with N(s) the noise power in the shell of spatial frequency s (Å⁻¹)
/// and N̄ its harmonic mean over the shells (so W² averages 1 over them). Whitened images are
/// W·y = (W·CTF)·P + white noise, so a whitened dataset carries W in every image's CTF (`CTFParameters.whitening`):
/// every rendering is filtered by it as the images were, and the squared-error and correlation scores become the
/// white-noise likelihood they assume (RELION weighs its likelihood by 1/σ²(s) per shell for the same reason).
///
/// The noise power is the images' mean power per shell, over their background beyond the particle's radius
/// (`ParticleDataset.estimatedWhitening(radius:)`) or over the whole images, which at the SNR of cryo-EM are mostly
/// noise but whose low frequencies then carry the signal's share too.
public struct NoiseWhitening: Hashable, Sendable {
    /// Width of a shell in Å⁻¹: 1/(D·pixel) of the images it was estimated on.
    public let shellWidth: Double
    /// W in shells k = 0 … D/2 (s = k·shellWidth); beyond the last shell, the last value.
    public let gains: [Double]

    /// Validated gains (finite, positive) in shells of `shellWidth` Å⁻¹.
    public init(shellWidth: Double, gains: [Double]) throws {
        guard shellWidth > 0, shellWidth.isFinite, gains.count >= 2, gains.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw KernelError("whiten", "a whitening filter needs a positive shell width and at least 2 positive, finite gains, got \(gains.count) gains at \(shellWidth) Å⁻¹")
        }
        self.shellWidth = shellWidth
        self.gains = gains
    }

    /// W at spatial frequency `s` (Å⁻¹), linearly interpolated between shells.
    public func gain(_ s: Double) -> Double {
        let x = s / shellWidth
        let k = Int(x)
        guard k + 1 < gains.count else { return gains[gains.count - 1] }
        let t = x - Double(k)
        return gains[k] * (1 - t) + gains[k + 1] * t
    }

    /// The mean power per shell (k = 0 … D/2, by rounded radius in Fourier pixels) of `count` D×D images
    /// (row-major in `images`), each over the entries of its half spectrum in the shell.
    public static func shellPower(_ images: [Float], count: Int, size d: Int) -> [Double] {
        let shells = d / 2 + 1, columns = d / 2 + 1
        var shellOf = [Int](repeating: -1, count: d * columns)
        var members = [Double](repeating: 0, count: shells)
        for i in 0..<d { for j in 0..<columns {
            let ky = i <= d / 2 ? i : i - d
            let k = Int((Double(ky * ky + j * j)).squareRoot().rounded())
            if k < shells { shellOf[i * columns + j] = k; members[k] += 1 }
        } }
        let lock = NSLock()
        var total = [Double](repeating: 0, count: shells)
        images.withUnsafeBufferPointer { x in
            FFT.shared.forwardEach(x.baseAddress!, count: count, size: d, grain: 16) { _, w in
                var mine = [Double](repeating: 0, count: shells)
                for e in 0..<w.spectrumCount where shellOf[e] >= 0 {
                    let (re, im) = (Double(w.spectrum[e].0), Double(w.spectrum[e].1))
                    mine[shellOf[e]] += re * re + im * im
                }
                lock.lock()
                for k in 0..<shells { total[k] += mine[k] }
                lock.unlock()
            }
        }
        return (0..<shells).map { total[$0] / Swift.max(members[$0] * Double(Swift.max(count, 1)), 1) }
    }

    /// The filter of a noise power per shell (k = 0 … D/2, as `shellPower` gives it) of D×D images at `pixel` Å.
    /// The DC shell, which standardisation empties, takes shell 1's gain; a shell with under 10⁻⁶ of the largest
    /// power is floored there.
    public init(power shells: [Double], size d: Int, pixel: Double) throws {
        guard shells.count >= 2, shells.count == d / 2 + 1 else {
            throw KernelError("whiten", "a noise power of \(shells.count) shells does not fit images of \(d) px (D/2 + 1 = \(d / 2 + 1) shells)")
        }
        var power = shells
        let top = power.max() ?? 0
        guard top > 0, top.isFinite else { throw KernelError("whiten", "the images have no power to estimate the noise from (all zero or not finite)") }
        power = power.map { Swift.max($0, 1e-6 * top) }
        power[0] = power[1]
        let meanSquare = power.reduce(0) { $0 + 1 / $1 } / Double(power.count)
        try self.init(shellWidth: 1 / (Double(d) * pixel), gains: power.map { (1 / ($0 * meanSquare)).squareRoot() })
    }

    /// The background mask [D, D] of D×D images at `pixel` Å: 0 within `radius` Å of the box centre (pixel D/2),
    /// 1 from 5 pixels further out, a raised cosine between. Throws when no pixel is left outside.
    public static func background(size d: Int, pixel: Double, radius: Double) throws -> [Float] {
        guard radius > 0, radius.isFinite else { throw KernelError("whiten", "radius: must be a positive number of Å, got \(radius)") }
        let r = radius / pixel, edge = 5.0
        var mask = [Float](repeating: 0, count: d * d)
        for y in 0..<d { for x in 0..<d {
            let t = ((Double(x - d / 2) * Double(x - d / 2) + Double(y - d / 2) * Double(y - d / 2)).squareRoot() - r) / edge
            mask[y * d + x] = t <= 0 ? 0 : t >= 1 ? 1 : Float(0.5 - 0.5 * cos(Double.pi * t))
        } }
        guard mask.contains(where: { $0 > 0.5 }) else {
            throw KernelError("whiten", "radius: \(radius) Å leaves no background in a box of \(d) px at \(pixel) Å (half-width \(Double(d) * pixel / 2) Å); give the particle's radius")
        }
        return mask
    }

    /// The half-spectrum filter [D, D/2+1] of W for D×D images at `pixel` Å.
    public func halfSpectrum(size d: Int, pixel: Float) -> [Float] {
        let columns = d / 2 + 1
        var out = [Float](repeating: 0, count: d * columns)
        for i in 0..<d { for j in 0..<columns {
            let (sx, sy) = frequency(row: i, column: j, size: d, pixel: pixel)
            out[i * columns + j] = Float(gain((Double(sx) * Double(sx) + Double(sy) * Double(sy)).squareRoot()))
        } }
        return out
    }

    /// `count` D×D images at `pixel` Å filtered by W.
    public func apply(_ images: [Float], count: Int, size d: Int, pixel: Float) -> [Float] {
        let filter = halfSpectrum(size: d, pixel: pixel)
        return FourierFilter.apply(images, batch: count, size: d) { _ in filter }
    }
}

extension ParticleDataset {
    /// Whether the dataset's images are whitened (its CTFs carry a `NoiseWhitening`).
    public var isWhitened: Bool { ctf.contains { $0.whitening != nil } }

    /// The filter estimated from up to `sample` of the dataset's images, evenly spaced through it (all of them when
    /// it has fewer), read 256 at a time: from the whole of each image, or with `radius` (Å) from its background
    /// alone, outside a circle of that radius about the box centre (a 5-pixel raised-cosine edge; the power divided
    /// by the mask's mean square), as RELION estimates its noise spectra outside the particle mask.
    public func estimatedWhitening(sample: Int = 2000, radius: Double? = nil) throws -> NoiseWhitening {
        guard hasImages, count > 0 else { throw KernelError("whiten", "the dataset has no images to estimate the noise from") }
        let mask = try radius.map { try NoiseWhitening.background(size: size, pixel: Double(pixel), radius: $0) }
        let meanSquare = mask.map { m in m.reduce(0) { $0 + Double($1) * Double($1) } / Double(m.count) } ?? 1
        let n = Swift.min(count, Swift.max(sample, 1))
        let rows = (0..<n).map { $0 * count / n }
        var power = [Double](repeating: 0, count: size / 2 + 1)
        for start in stride(from: 0, to: n, by: 256) {
            let chunk = Array(rows[start..<Swift.min(n, start + 256)])
            var images = try imageRows(chunk).storage
            if let mask { for i in images.indices { images[i] *= mask[i % mask.count] } }
            let part = NoiseWhitening.shellPower(images, count: chunk.count, size: size)
            for k in power.indices { power[k] += part[k] / meanSquare * Double(chunk.count) / Double(n) }
        }
        return try NoiseWhitening(power: power, size: size, pixel: Double(pixel))
    }

    /// The dataset whitened by `filter`: its images filtered by W (in memory now, or on every read when streamed)
    /// and W carried in every image's CTF, so renderings are filtered as the images were. A dataset already
    /// whitened is an error (its filter would apply twice).
    public func whitened(_ filter: NoiseWhitening) throws -> ParticleDataset {
        guard !isWhitened else {
            throw KernelError("whiten", "the dataset is already whitened; whiten the dataset as read, once")
        }
        var out = self
        if let images {
            out.images = Tensor(uncheckedShape: images.shape, storage: filter.apply(images.storage, count: count, size: size, pixel: pixel))
        }
        if let streamed {
            let copy = try streamed.subset(Array(0..<streamed.count))
            copy.whitening = (filter, pixel)
            out.streamed = copy
        }
        out.ctf = ctf.map { var c = $0; c.whitening = filter; return c }
        return out
    }
}
