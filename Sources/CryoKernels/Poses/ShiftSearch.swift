import CFFTW
import Foundation

/// The best in-plane shift of a rendering against an image by FFT cross-correlation (beyond Docs/METHOD.md, whose
/// reference does not search shifts). With Z the image filtered by its CTF and P the rendering, the correlation
/// c(s) = Σ_p Z(p)·P(p − s) for every whole-pixel offset s is one inverse FFT of Ẑ·conj(P̂); its largest value
/// within `radius` pixels of the rendering's own origin is refined to a fraction of a pixel by a parabola on
/// each axis, and the score at that offset is recomputed exactly from the spectra with a phase ramp
/// (Parseval), so a search costs one inverse FFT and two passes over the half spectrum per rendering.
///
/// Moving the rendering by s pixels (row, column) draws the particle s·pixel further from the box centre, so its
/// RELION origin (x, y Å; the particle sits at box centre − origin) falls by (s_column, s_row)·pixel.
public struct ShiftSearch: Sendable {
    /// Image side (pixels), pixel size (Å) and the search radius (pixels).
    public let size: Int, pixel: Float, radius: Double
    /// Whether the best whole-pixel offset is refined to a fraction of a pixel.
    public let subpixel: Bool
    /// The whole-pixel offsets (row, column) within the radius.
    let offsets: [(Int, Int)]

    /// A search within `maxShift` Å of the rendering's origin on D×D images of `pixel` Å; the radius must leave
    /// the offsets inside half the box.
    public init(size: Int, pixel: Float, maxShift: Double, subpixel: Bool = true) throws {
        guard maxShift > 0, maxShift.isFinite else { throw KernelError("max_shift", "the shift search radius must be positive, got \(maxShift) Å") }
        let radius = maxShift / Double(pixel)
        guard radius < Double(size / 2 - 1) else {
            throw KernelError("max_shift", "a search radius of \(maxShift) Å is \(String(format: "%.1f", radius)) pixels, more than the \(size)-pixel box allows (below \(size / 2 - 1))")
        }
        self.size = size
        self.pixel = pixel
        self.radius = radius
        self.subpixel = subpixel
        let reach = Int(radius.rounded(.down))
        var offsets: [(Int, Int)] = []
        for i in -reach...reach { for j in -reach...reach where Double(i * i + j * j) <= radius * radius { offsets.append((i, j)) } }
        self.offsets = offsets
    }

    /// The same search radius (Å) on images of another size and pixel (the coarse level of a coarse-to-fine search).
    func resized(size: Int, pixel: Float) throws -> ShiftSearch {
        try ShiftSearch(size: size, pixel: pixel, maxShift: Swift.min(radius * Double(self.pixel), Double(size / 2 - 2) * Double(pixel)), subpixel: subpixel)
    }

    /// The origin change (x, y Å) of moving a rendering by `offset` (row, column) pixels.
    func originChange(_ offset: (Double, Double)) -> (Float, Float) {
        (-Float(offset.1) * pixel, -Float(offset.0) * pixel)
    }

    /// One worker's buffers: a transform workspace and the phase ramps' factors along rows and columns.
    final class Scratch {
        let workspace: FFT.Workspace
        var rowRamp: [(Float, Float)], columnRamp: [(Float, Float)]
        init(size d: Int) {
            workspace = FFT.Workspace(size: d)
            rowRamp = Array(repeating: (1, 0), count: d)
            columnRamp = Array(repeating: (1, 0), count: d / 2 + 1)
        }
    }

    /// The best offset (row, column pixels) of the rendering whose half spectrum is `p` against the image whose
    /// filtered half spectrum is `z` (both [D, D/2+1] complex, unnormalised FFTs), and ⟨Z, P moved by it⟩.
    func best(z: UnsafePointer<fftwf_complex>, p: UnsafePointer<fftwf_complex>, _ s: Scratch) -> (offset: (Double, Double), dot: Float) {
        let d = size, half = d * (d / 2 + 1), w = s.workspace
        for k in 0..<half {
            let (a, b) = (z[k].0, z[k].1), (c, e) = (p[k].0, p[k].1)
            w.spectrum[k] = (a * c + b * e, b * c - a * e)
        }
        FFT.shared.inverse(w)
        let map = w.real
        @inline(__always) func at(_ i: Int, _ j: Int) -> Float { map[((i % d + d) % d) * d + (j % d + d) % d] }
        var best = offsets[0], top = -Float.infinity
        for o in offsets {
            let v = at(o.0, o.1)
            if v > top { (top, best) = (v, o) }
        }
        /// The vertex of the parabola through three samples, within half a pixel of the middle one.
        func vertex(_ minus: Float, _ middle: Float, _ plus: Float) -> Double {
            let curvature = Double(minus - 2 * middle + plus)
            guard curvature < 0 else { return 0 }
            return Swift.max(-0.5, Swift.min(0.5, 0.5 * Double(minus - plus) / curvature))
        }
        guard subpixel else {
            let offset = (Double(best.0), Double(best.1))
            return (offset, dot(z: z, p: p, offset: offset, s))
        }
        var offset = (Double(best.0) + vertex(at(best.0 - 1, best.1), top, at(best.0 + 1, best.1)),
                      Double(best.1) + vertex(at(best.0, best.1 - 1), top, at(best.0, best.1 + 1)))
        let length = (offset.0 * offset.0 + offset.1 * offset.1).squareRoot()
        if length > radius { offset = (offset.0 * radius / length, offset.1 * radius / length) }
        return (offset, dot(z: z, p: p, offset: offset, s))
    }

    /// ⟨Z, P moved by `offset`⟩ = (1/D²)·Σ_k w_k·Re(Ẑ_k·e^{2πi k·s/D}·conj(P̂_k)) over the half spectrum (w_k = 2 on the
    /// columns that stand for their mirror images), with the ramped spectrum left by `ramp` in the workspace.
    func dot(z: UnsafePointer<fftwf_complex>, p: UnsafePointer<fftwf_complex>, offset: (Double, Double), _ s: Scratch) -> Float {
        ramp(z: z, offset: offset, s)
        let d = size, columns = d / 2 + 1, h = s.workspace.spectrum
        var total = 0.0   // in Double: the score is close to its maximum, where Float rounding would show in its derivatives
        for i in 0..<d {
            for j in 0..<columns {
                let k = i * columns + j, weight = (j == 0 || j == d / 2) ? 1.0 : 2.0
                total += weight * (Double(h[k].0) * Double(p[k].0) + Double(h[k].1) * Double(p[k].1))
            }
        }
        return Float(total)
    }

    /// Writes Ẑ·e^{2πi k·s/D}/D² into `s.workspace.spectrum`: the half spectrum of Z moved by −s, the image whose inner
    /// product with a rendering is the rendering's score moved by s (its gradient with respect to the rendering).
    func ramp(z: UnsafePointer<fftwf_complex>, offset: (Double, Double), _ s: Scratch) {
        let d = size, columns = d / 2 + 1, scale = 1 / Float(d * d)
        for i in 0..<d {
            let phase = 2 * Double.pi * Double(i <= d / 2 ? i : i - d) * offset.0 / Double(d)
            s.rowRamp[i] = (Float(cos(phase)) * scale, Float(sin(phase)) * scale)
        }
        for j in 0..<columns {
            let phase = 2 * Double.pi * Double(j) * offset.1 / Double(d)
            s.columnRamp[j] = (Float(cos(phase)), Float(sin(phase)))
        }
        let out = s.workspace.spectrum
        for i in 0..<d {
            let r = s.rowRamp[i]
            for j in 0..<columns {
                let c = s.columnRamp[j], k = i * columns + j
                let ramp = (r.0 * c.0 - r.1 * c.1, r.0 * c.1 + r.1 * c.0)
                out[k] = (z[k].0 * ramp.0 - z[k].1 * ramp.1, z[k].0 * ramp.1 + z[k].1 * ramp.0)
            }
        }
    }
}

extension ShiftSearch {
    /// The unnormalised half spectra [B, D, D/2+1] of `batch` consecutive D×D images in `rows`.
    static func spectra(_ rows: [Float], batch: Int, size d: Int) -> [fftwf_complex] {
        let half = d * (d / 2 + 1)
        var out = [fftwf_complex](repeating: (0, 0), count: batch * half)
        rows.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { o in
            let result = SharedPointer(base: o.baseAddress!)
            FFT.shared.forwardEach(x.baseAddress!, count: batch, size: d, grain: 4) { b, w in
                (result.base + b * half).update(from: w.spectrum, count: half)
            }
        } }
        return out
    }
}
