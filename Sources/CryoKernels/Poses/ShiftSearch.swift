import CFFTW
import CKernels
import Foundation

/// The best in-plane shift of a rendering against an image by FFT cross-correlation (beyond Docs/METHOD.md, whose
/// reference does not search shifts). With Z the image filtered by its CTF and P the rendering, the correlation
/// c(s) = Σ_p Z(p)·P(p − s) at whole-pixel offsets s is the inverse Fourier transform of Ẑ·conj(P̂), evaluated only
/// on the square window of offsets the search reads (the radius and one pixel more for the parabola), one axis after
/// the other, the offsets ±s sharing their sums (`cryo_correlation_window`: 1.1 µs against FFTW's 2.9 µs for a whole
/// 32² map on this machine, 4.5–5 against 10–12 µs at 64²); its largest value within `radius` pixels of the
/// rendering's own origin is refined to a fraction of a pixel by a parabola on each axis, and the score at that
/// offset is recomputed exactly from the same cross-power spectrum with a phase ramp (Parseval).
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
    /// The correlation window's half width (pixels): the offsets reach `radius`, their parabolas one pixel further.
    let reach: Int

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
        self.reach = reach + 1
    }

    /// The same search radius (Å) on images of another size and pixel (the coarse level of a coarse-to-fine search).
    func resized(size: Int, pixel: Float) throws -> ShiftSearch {
        try ShiftSearch(size: size, pixel: pixel, maxShift: Swift.min(radius * Double(self.pixel), Double(size / 2 - 2) * Double(pixel)), subpixel: subpixel)
    }

    /// The origin change (x, y Å) of moving a rendering by `offset` (row, column) pixels.
    func originChange(_ offset: (Double, Double)) -> (Float, Float) {
        (-Float(offset.1) * pixel, -Float(offset.0) * pixel)
    }

    /// One worker's buffers for `search`: a transform workspace, the phase ramps' factors along rows (D) and columns
    /// (D/2+1), complex, each column's weight in a sum over the half spectrum (1 on the first and last, which stand
    /// for themselves, 2 on the others, which also stand for their mirror images), and the correlation window's
    /// twiddles (laid out as `cryo_correlation_window` takes them), its scratch and its map ([W, W] floats,
    /// W = 2·reach + 1, offset (i, j) at (i + reach, j + reach)).
    final class Scratch {
        let workspace: FFT.Workspace
        let rowRamp: UnsafeMutablePointer<Float>, columnRamp: UnsafeMutablePointer<Float>, columnWeight: UnsafeMutablePointer<Float>
        let rowTwiddles: [Float], columnReal: [Float], columnImaginary: [Float]
        let windowScratch: UnsafeMutablePointer<Float>, map: UnsafeMutablePointer<Float>
        /// One rendering's split planes (`ShiftSearch.planeFloats`).
        let planes: UnsafeMutablePointer<Float>
        init(_ search: ShiftSearch) {
            let d = search.size, columns = d / 2 + 1, window = 2 * search.reach + 1, lanes = Int(CORRELATION_LANES)
            workspace = FFT.Workspace(size: d)
            rowRamp = .allocate(capacity: 2 * d)
            columnRamp = .allocate(capacity: 2 * columns)
            columnWeight = .allocate(capacity: columns)
            for j in 0..<columns { columnWeight[j] = (j == 0 || j == d / 2) ? 1 : 2 }
            /// e^{2πi k·s/D}.
            func twiddle(_ k: Int, _ s: Int) -> (Double, Double) {
                let angle = 2 * Double.pi * Double(k * s % d) / Double(d)
                return (cos(angle), sin(angle))
            }
            rowTwiddles = (0...search.reach).flatMap { s in (0..<d).flatMap { r -> [Float] in let t = twiddle(r, s); return [Float(t.0), Float(t.1)] } }
            let width = (search.reach + lanes) / lanes * lanes
            var real = [Float](repeating: 0, count: columns * width), imaginary = real
            for k in 0..<columns {
                for s in 0...search.reach {
                    let t = twiddle(k, s), w = Double(columnWeight[k])
                    (real[k * width + s], imaginary[k * width + s]) = (Float(w * t.0), Float(w * t.1))
                }
            }
            (columnReal, columnImaginary) = (real, imaginary)
            windowScratch = .allocate(capacity: 2 * (d + window) * ShiftSearch.paddedColumns(d))
            map = .allocate(capacity: window * window)
            planes = .allocate(capacity: search.planeFloats)
        }
        deinit {
            rowRamp.deallocate(); columnRamp.deallocate(); columnWeight.deallocate(); windowScratch.deallocate(); map.deallocate()
            planes.deallocate()
        }
    }

    /// The best offset (row, column pixels) of the rendering whose half spectrum is `p` against the image whose
    /// filtered half spectrum is `z` (both [D, D/2+1] complex, unnormalised FFTs, as split planes: `planes`), and
    /// ⟨Z, P moved by it⟩; with `power` (`paddedPower` of the image's Parseval weights), also Σ power·|P̂|², the energy
    /// of the CTF-filtered rendering (0 without).
    func best(z: UnsafePointer<Float>, p: UnsafePointer<Float>, power: UnsafePointer<Float>? = nil, _ s: Scratch)
        -> (offset: (Double, Double), dot: Float, energy: Float) {
        let window = 2 * reach + 1, map = s.map
        var energy: Float = 0
        s.rowTwiddles.withUnsafeBufferPointer { rows in s.columnReal.withUnsafeBufferPointer { real in s.columnImaginary.withUnsafeBufferPointer { imaginary in
            cryo_correlation_window(z, p, size, size / 2 + 1, rows.baseAddress, real.baseAddress, imaginary.baseAddress, reach, power, &energy,
                                    s.windowScratch, map)
        } } }
        @inline(__always) func at(_ i: Int, _ j: Int) -> Float { map[(i + reach) * window + j + reach] }
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
            return (offset, windowDot(offset: offset, s), energy)
        }
        var offset = (Double(best.0) + vertex(at(best.0 - 1, best.1), top, at(best.0 + 1, best.1)),
                      Double(best.1) + vertex(at(best.0, best.1 - 1), top, at(best.0, best.1 + 1)))
        let length = (offset.0 * offset.0 + offset.1 * offset.1).squareRoot()
        if length > radius { offset = (offset.0 * radius / length, offset.1 * radius / length) }
        return (offset, windowDot(offset: offset, s), energy)
    }

    /// ⟨Z, P moved by `offset`⟩ = (1/D²)·Σ_k w_k·Re(Ẑ_k·e^{2πi k·s/D}·conj(P̂_k)) over the half spectrum (w_k = 2 on the
    /// columns that stand for their mirror images) for the image and rendering of the last `best` on `s`, from the
    /// cross-power spectrum Ẑ·conj(P̂) that it left there.
    func windowDot(offset: (Double, Double), _ s: Scratch) -> Float {
        setRamps(offset, s)
        var total = 0.0
        cryo_window_shifted_dot(s.windowScratch, size, size / 2 + 1, s.rowRamp, s.columnRamp, s.columnWeight, &total)
        return Float(total)
    }

    /// Writes Ẑ·e^{2πi k·s/D}/D² into `s.workspace.spectrum` (Ẑ as split planes): the half spectrum of Z moved by −s,
    /// the image whose inner product with a rendering is the rendering's score moved by s (its gradient with respect
    /// to the rendering).
    func ramp(z: UnsafePointer<Float>, offset: (Double, Double), _ s: Scratch) {
        setRamps(offset, s)
        cryo_phase_ramp(z, s.rowRamp, s.columnRamp, size, size / 2 + 1, UnsafeMutableRawPointer(s.workspace.spectrum).assumingMemoryBound(to: Float.self))
    }

    /// The factors of e^{2πi k·s/D}/D² along rows (frequencies 0…D/2, then −(D/2−1)…−1) and columns (0…D/2) into
    /// `s` (`cryo_phase_ramps`: powers of one root each, multiplied up in Double).
    func setRamps(_ offset: (Double, Double), _ s: Scratch) {
        cryo_phase_ramps(offset.0, offset.1, size, s.rowRamp, s.columnRamp)
    }
}

extension ShiftSearch {
    /// Floats of one half spectrum's split planes: its real parts [D, P], then its imaginary parts [D, P], P = D/2+1
    /// rounded up to whole vectors of the correlation kernel, zero beyond D/2+1 (`cryo_split_spectrum`).
    var planeFloats: Int { 2 * size * ShiftSearch.paddedColumns(size) }

    /// D/2+1 rounded up to whole vectors of the correlation kernel.
    static func paddedColumns(_ d: Int) -> Int {
        let lanes = Int(CORRELATION_LANES)
        return (d / 2 + 1 + lanes - 1) / lanes * lanes
    }

    /// The split planes (`planeFloats` floats each) of the unnormalised half spectra [D, D/2+1] of `batch` consecutive
    /// D×D images in `rows`.
    static func planes(_ rows: [Float], batch: Int, size d: Int) -> [Float] {
        let per = 2 * d * paddedColumns(d)
        // Every plane is written whole.
        var out = [Float](unsafeUninitializedCapacity: batch * per) { _, n in n = batch * per }
        rows.withUnsafeBufferPointer { x in out.withUnsafeMutableBufferPointer { o in
            let result = SharedPointer(base: o.baseAddress!)
            FFT.shared.forwardEach(x.baseAddress!, count: batch, size: d, grain: 4) { b, w in
                cryo_split_spectrum(UnsafeRawPointer(w.spectrum).assumingMemoryBound(to: Float.self), d, d / 2 + 1, result.base + b * per)
            }
        } }
        return out
    }

    /// A real table [D, D/2+1] (one value per entry of a half spectrum) laid out as one split plane [D, P], zero beyond
    /// D/2+1: the Parseval weights `best` takes.
    static func paddedPower(_ values: [Float], size d: Int) -> [Float] {
        let (columns, padded) = (d / 2 + 1, paddedColumns(d))
        var out = [Float](repeating: 0, count: d * padded)
        for i in 0..<d { for j in 0..<columns { out[i * padded + j] = values[i * columns + j] } }
        return out
    }
}
