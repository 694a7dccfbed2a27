import Foundation

/// A 3D map reconstructed from particle images with known poses by direct Fourier inversion, as RELION's
/// `relion_reconstruct` does: by the central slice theorem the spectrum of image b (centred by its origin, the
/// particle's centre at the box centre) is the map's spectrum on the plane Rᵀ·(kx, ky, 0), filtered by the image's
/// CTF. Each image's spectrum, zero-padded twice (so the slices are sampled on a grid twice as fine), is inserted
/// into a 3D grid of the padded size by trilinear weights, as Σ CTF·Ŷ and Σ CTF²; the map's spectrum is their
/// Wiener ratio Σ CTF·Ŷ / (Σ CTF² + λ), transformed back and cropped to the images' box. Voxel N/2 is the rotation
/// centre, and the map is on the scale of `DensityMap.render` (a voxel's mass; its sum along z is an image).
///
/// Images go into one of two halves, so that the halves' Fourier shell correlation (read at 0.143) measures the
/// resolution the particles and their poses support, with no ground truth, provided each half's poses were found
/// apart from the other half (RELION's gold standard); poses found against one reference for all align both halves'
/// noise to it alike, and the FSC then overstates the resolution.
public struct FourierReconstruction: Sendable {
    /// The images' side (pixels) and pixel size (Å).
    public let size: Int, pixel: Float
    /// Per half: the padded grid's cells (2D)³, z slowest, FFT order, 3 floats each: Σ CTF·Ŷ (re, im) and Σ CTF².
    private var halves: [[Float]]

    /// An empty reconstruction of `size`-pixel images at `pixel` Å, 4 to 128 pixels: the two halves' padded grids
    /// take 24·(2·size)³ bytes and an insertion's tables for the workers after the first 12·(2·size)³ each.
    public init(size: Int, pixel: Float) throws {
        guard size >= 4, size <= 128 else {
            throw KernelError("reconstruct", "the images' side must be in 4...128 pixels, got \(size) (the padded grids take about 48·(2·size)³ bytes); read the particles Fourier-cropped, read_star(..., size: 128) or smaller")
        }
        guard pixel > 0, pixel.isFinite else { throw KernelError("reconstruct", "the pixel size must be positive, got \(pixel) Å") }
        self.size = size
        self.pixel = pixel
        let cells = 8 * size * size * size
        halves = [[Float](repeating: 0, count: 3 * cells), [Float](repeating: 0, count: 3 * cells)]
    }

    /// Inserts `images` ([B·D·D], each drawn at box centre − its origin) seen at `rotations`, with `origins` (B·2 Å,
    /// RELION's) and `ctf` (B parameters, or none for images without a CTF) into half `half` (0 or 1). In parallel.
    public mutating func insert(images: [Float], rotations: [Rotation], origins: [Float], ctf: [CTFParameters]?, half: Int) throws {
        let d = size, batch = rotations.count
        guard half == 0 || half == 1 else { throw KernelError("reconstruct", "half must be 0 or 1, got \(half)") }
        guard images.count == batch * d * d, origins.count == 2 * batch, ctf.map({ $0.count == batch }) ?? true else {
            throw KernelError("reconstruct", "got \(images.count / (d * d)) images, \(batch) rotations, \(origins.count / 2) origins and \(ctf?.count ?? batch) CTFs")
        }
        let padded = 2 * d, columns = d + 1, cells = padded * padded * padded
        let pixelSize = pixel
        halves[half].withUnsafeMutableBufferPointer { out in
            images.withUnsafeBufferPointer { source in
                Parallel.forPartsSumming(batch, grain: 8, into: out.baseAddress!, length: 3 * cells) { range, grid in
                    let w = FFT.Workspace(size: padded)
                    for b in range {
                        // The image in the middle of a box twice its size: its centre, pixel D/2, at the padded D.
                        w.real.update(repeating: 0, count: padded * padded)
                        let offset = d - d / 2
                        for i in 0..<d { (w.real + (i + offset) * padded + offset).update(from: source.baseAddress! + b * d * d + i * d, count: d) }
                        FFT.shared.forward(w)
                        let filter = ctf?[b].halfSpectrum(size: padded, pixel: pixelSize)
                        let m = rotations[b].m
                        // Centred on the padded box's middle ((−1)^k per axis) and moved by +origin (exp(−2πi s·o)):
                        // a phase that factors into one table per axis.
                        let step = 1 / (Double(padded) * Double(pixelSize))
                        func phases(_ origin: Float, _ count: Int, _ frequency: (Int) -> Int) -> [(Float, Float)] {
                            (0..<count).map { i in
                                let k = frequency(i), angle = -2 * Double.pi * step * Double(k) * Double(origin) + (k % 2 == 0 ? 0 : Double.pi)
                                return (Float(cos(angle)), Float(sin(angle)))
                            }
                        }
                        let alongX = phases(origins[2 * b], columns) { $0 }, alongY = phases(origins[2 * b + 1], padded) { $0 <= d ? $0 : $0 - padded }
                        for i in 0..<padded {
                            let ky = i <= d ? i : i - padded
                            for kx in 0..<columns where kx * kx + ky * ky < (d - 1) * (d - 1) {
                                let k = i * columns + kx
                                let s = (Double(kx), Double(ky))
                                let (px, py) = (alongX[kx], alongY[i])
                                let (c, sn) = (px.0 * py.0 - px.1 * py.1, px.0 * py.1 + px.1 * py.0)
                                let (re, im) = (w.spectrum[k].0 * c - w.spectrum[k].1 * sn, w.spectrum[k].0 * sn + w.spectrum[k].1 * c)
                                let gain = filter?[k] ?? 1
                                let q = (m[0] * s.0 + m[3] * s.1, m[1] * s.0 + m[4] * s.1, m[2] * s.0 + m[5] * s.1)
                                FourierReconstruction.spread(grid, padded: padded, at: q, re: gain * re, im: gain * im, weight: gain * gain)
                                // The half spectrum stands for its conjugate mirror too, except along the columns that are their own.
                                if kx != 0 && kx != d {
                                    FourierReconstruction.spread(grid, padded: padded, at: (-q.0, -q.1, -q.2), re: gain * re, im: -gain * im, weight: gain * gain)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Adds a sample (re, im) of weight `weight` at grid point `q` (padded-grid frequency units) into `grid`
    /// (3 floats per cell: re, im, weight) by trilinear weights over its 8 neighbours, wrapping negative frequencies.
    @inline(__always)
    private static func spread(_ grid: UnsafeMutablePointer<Float>, padded n: Int, at q: (Double, Double, Double), re: Float, im: Float, weight: Float) {
        let (x0, y0, z0) = (q.0.rounded(.down), q.1.rounded(.down), q.2.rounded(.down))
        let (fx, fy, fz) = (Float(q.0 - x0), Float(q.1 - y0), Float(q.2 - z0))
        let (ix, iy, iz) = (Int(x0), Int(y0), Int(z0))
        for dz in 0...1 {
            let wz = dz == 0 ? 1 - fz : fz, z = (iz + dz + n) % n
            for dy in 0...1 {
                let wy = wz * (dy == 0 ? 1 - fy : fy), y = (iy + dy + n) % n
                for dx in 0...1 {
                    let t = wy * (dx == 0 ? 1 - fx : fx), x = (ix + dx + n) % n
                    let cell = grid + 3 * ((z * n + y) * n + x)
                    cell[0] += t * re
                    cell[1] += t * im
                    cell[2] += t * weight
                }
            }
        }
    }

    /// The map of `halves` (both: every image; one: that half alone) with the Wiener constant λ = `wiener` × the
    /// mean weight over the cells that received any, on the images' grid with its box centre at `centre` (Å).
    public func map(halves: [Int], wiener: Float, centre: [Float]) throws -> DensityMap {
        let d = size, padded = 2 * d, cells = padded * padded * padded
        var numerator = [Float](repeating: 0, count: 2 * cells), weight = [Float](repeating: 0, count: cells)
        for h in halves {
            let table = self.halves[h]
            for c in 0..<cells {
                numerator[2 * c] += table[3 * c]
                numerator[2 * c + 1] += table[3 * c + 1]
                weight[c] += table[3 * c + 2]
            }
        }
        let sampled = weight.filter { $0 > 0 }
        let lambda = wiener * Float(sampled.reduce(0.0) { $0 + Double($1) } / Double(Swift.max(1, sampled.count)))
        for c in 0..<cells {
            let scale: Float = weight[c] > 0 ? 1 / (weight[c] + lambda) : 0
            numerator[2 * c] *= scale
            numerator[2 * c + 1] *= scale
        }
        // Back to real space (centre at index 0), then the box of the images about the padded box's middle.
        let volume = FFT.shared.inverse3DRealPart(&numerator, size: padded)
        let norm = 1 / Float(cells)
        var values = [Float](repeating: 0, count: d * d * d)
        for z in 0..<d { for y in 0..<d { for x in 0..<d {
            let (pz, py, px) = ((z - d / 2 + padded) % padded, (y - d / 2 + padded) % padded, (x - d / 2 + padded) % padded)
            values[(z * d + y) * d + x] = volume[(pz * padded + py) * padded + px] * norm
        } } }
        let spacing = [pixel, pixel, pixel]
        return try DensityMap(size: [d, d, d], spacing: spacing, origin: DensityMap.origin(centredAt: centre, size: [d, d, d], spacing: spacing),
                              values: values, op: "reconstruct")
    }
}
