import CFFTW
import CKernels
import Foundation

/// Single-precision 2D real FFTs through FFTW: one set of plans per image size, made once (planner calls
/// serialised by a lock, as FFTW requires) and executed concurrently on per-call aligned buffers; and the 3D
/// transforms of maps and reconstructions, planned per call.
///
/// A D×D real transform (D even) runs as two stages of complex transforms. The rows go in pairs: rows 2j and 2j+1
/// are the real and imaginary parts of one complex row, whose D-point transform Z gives both rows' spectra,
/// A[k] = (Z[k] + conj Z[−k]) / 2 and B[k] = (Z[k] − conj Z[−k]) / 2i (the inverse builds Z = A + iB from the two
/// Hermitian spectra). Then the columns of the half spectrum, D-point complex transforms. FFTW_ESTIMATE's own 2D
/// real plan runs the rows through a scalar real-input codelet; as complex rows they get its SIMD codelets, which
/// makes the transform 1.8× faster at D = 64 and 1.5× at 128, and the plans stay FFTW_ESTIMATE's (see `plans`).
/// Odd D uses FFTW's 2D real plans.
final class FFT: @unchecked Sendable {
    /// The plans shared by every transform in the process.
    static let shared = FFT()

    private enum Plans {
        /// D even: the paired rows' complex transforms ([D/2] rows of D points, in place) and the half spectrum's
        /// column transforms ([D/2+1] columns of D points, in place), each direction.
        case paired(rowsForward: OpaquePointer, rowsInverse: OpaquePointer, columnsForward: OpaquePointer, columnsInverse: OpaquePointer)
        /// D odd: FFTW's 2D real-to-complex and complex-to-real plans.
        case direct(forward: OpaquePointer, inverse: OpaquePointer)
    }
    private let lock = NSLock()
    private var plans: [Int: Plans] = [:]

    /// The plans for D×D images, created on first use.
    private func plans(_ d: Int) -> Plans {
        lock.lock()
        defer { lock.unlock() }
        if let p = plans[d] { return p }
        // FFTW_ESTIMATE picks the algorithm by FFTW's heuristics, not by timing, so the same script gives the same
        // numbers on every run (FFTW_MEASURE's timed choice changed results by up to 0.03 Å in a 60-epoch training
        // under different machine load).
        let buffers = Workspace(size: d)
        let flags = UInt32(FFTW_ESTIMATE)
        let p: Plans
        if let rows = buffers.pairedRows {
            let h = d / 2 + 1
            var n = [Int32(d)]
            func many(_ buffer: UnsafeMutablePointer<fftwf_complex>, count: Int, stride: Int, distance: Int, sign: Int32) -> OpaquePointer {
                fftwf_plan_many_dft(1, &n, Int32(count), buffer, nil, Int32(stride), Int32(distance), buffer, nil, Int32(stride), Int32(distance), sign, flags)!
            }
            p = .paired(rowsForward: many(rows, count: d / 2, stride: 1, distance: d, sign: FFTW_FORWARD),
                        rowsInverse: many(rows, count: d / 2, stride: 1, distance: d, sign: FFTW_BACKWARD),
                        columnsForward: many(buffers.spectrum, count: h, stride: h, distance: 1, sign: FFTW_FORWARD),
                        columnsInverse: many(buffers.spectrum, count: h, stride: h, distance: 1, sign: FFTW_BACKWARD))
        } else {
            p = .direct(forward: fftwf_plan_dft_r2c_2d(Int32(d), Int32(d), buffers.real, buffers.spectrum, flags)!,
                        inverse: fftwf_plan_dft_c2r_2d(Int32(d), Int32(d), buffers.spectrum, buffers.real, flags)!)
        }
        plans[d] = p
        return p
    }

    /// SIMD-aligned buffers for one D×D transform: the image and its half spectrum [D, D/2+1], and for even D the
    /// paired rows [D/2, D] (complex) the transforms work in.
    final class Workspace {
        let size: Int
        let real: UnsafeMutablePointer<Float>
        let spectrum: UnsafeMutablePointer<fftwf_complex>
        let pairedRows: UnsafeMutablePointer<fftwf_complex>?

        init(size: Int) {
            self.size = size
            real = fftwf_alloc_real(size * size)
            spectrum = fftwf_alloc_complex(size * (size / 2 + 1))
            pairedRows = size % 2 == 0 ? fftwf_alloc_complex(size / 2 * size) : nil
        }

        deinit {
            fftwf_free(real)
            fftwf_free(spectrum)
            if let pairedRows { fftwf_free(pairedRows) }
        }

        /// Number of complex entries in the half spectrum.
        var spectrumCount: Int { size * (size / 2 + 1) }

        /// The half spectrum and the paired rows as interleaved (re, im) floats.
        var spectrumFloats: UnsafeMutablePointer<Float> { UnsafeMutableRawPointer(spectrum).assumingMemoryBound(to: Float.self) }
        var pairedRowFloats: UnsafeMutablePointer<Float>? { pairedRows.map { UnsafeMutableRawPointer($0).assumingMemoryBound(to: Float.self) } }
    }

    /// Transforms `workspace.real` into `workspace.spectrum` (unnormalised).
    func forward(_ w: Workspace) {
        switch plans(w.size) {
        case .direct(let forward, _):
            fftwf_execute_dft_r2c(forward, w.real, w.spectrum)
        case .paired(let rowsForward, _, let columnsForward, _):
            let (pairs, half) = (w.pairedRowFloats!, w.spectrumFloats)
            cryo_fft_pack_rows(w.real, w.size, pairs)
            fftwf_execute_dft(rowsForward, w.pairedRows, w.pairedRows)
            cryo_fft_split_pairs(pairs, w.size, half)
            fftwf_execute_dft(columnsForward, w.spectrum, w.spectrum)
        }
    }

    /// Transforms `workspace.spectrum` back into `workspace.real` (unnormalised: scaled by D²; the spectrum is
    /// overwritten). As FFTW's complex-to-real transform, it reads the spectrum as Hermitian: the imaginary parts of
    /// the columns at frequency 0 and D/2, after the column transforms, are not used.
    func inverse(_ w: Workspace) {
        switch plans(w.size) {
        case .direct(_, let inverse):
            fftwf_execute_dft_c2r(inverse, w.spectrum, w.real)
        case .paired(_, let rowsInverse, _, let columnsInverse):
            let (pairs, half) = (w.pairedRowFloats!, w.spectrumFloats)
            fftwf_execute_dft(columnsInverse, w.spectrum, w.spectrum)
            cryo_fft_join_pairs(half, w.size, pairs)
            fftwf_execute_dft(rowsInverse, w.pairedRows, w.pairedRows)
            cryo_fft_unpack_rows(pairs, w.size, w.real)
        }
    }

    /// Runs `body(b, workspace)` for each of `count` consecutive D×D images at `images`, spread over the workers
    /// (`grain` images per task), with image b's unnormalised half spectrum in `workspace.spectrum`.
    func forwardEach(_ images: UnsafePointer<Float>, count: Int, size d: Int, grain: Int = 1, _ body: (Int, Workspace) -> Void) {
        Parallel.forRanges(count, grain: grain) { range in
            let w = Workspace(size: d)
            for b in range {
                w.real.update(from: images + b * d * d, count: d * d)
                forward(w)
                body(b, w)
            }
        }
    }

    /// The unnormalised half spectrum [nz, ny, nx/2+1] of the volume `values` [nz, ny, nx] (x fastest), through a
    /// plan made for this one call (FFTW_ESTIMATE, under the planner's lock).
    func forward3D(_ values: [Float], size: (x: Int, y: Int, z: Int)) -> [(re: Float, im: Float)] {
        let count = size.z * size.y * (size.x / 2 + 1)
        let real = fftwf_alloc_real(values.count)!, spectrum = fftwf_alloc_complex(count)!
        defer { fftwf_free(real); fftwf_free(spectrum) }
        lock.lock()
        let plan = fftwf_plan_dft_r2c_3d(Int32(size.z), Int32(size.y), Int32(size.x), real, spectrum, UInt32(FFTW_ESTIMATE))!
        lock.unlock()
        real.update(from: values, count: values.count)
        fftwf_execute(plan)
        lock.lock()
        fftwf_destroy_plan(plan)
        lock.unlock()
        return (0..<count).map { (spectrum[$0].0, spectrum[$0].1) }
    }

    /// The real part of the unnormalised inverse transform of the full complex spectrum `spectrum` (n³ interleaved
    /// re, im pairs, z slowest), through a plan made for this one call; the spectrum is overwritten.
    func inverse3DRealPart(_ spectrum: inout [Float], size n: Int) -> [Float] {
        let count = n * n * n
        let buffer = fftwf_alloc_complex(count)!
        defer { fftwf_free(buffer) }
        lock.lock()
        let plan = fftwf_plan_dft_3d(Int32(n), Int32(n), Int32(n), buffer, buffer, FFTW_BACKWARD, UInt32(FFTW_ESTIMATE))!
        lock.unlock()
        spectrum.withUnsafeBytes { UnsafeMutableRawPointer(buffer).copyMemory(from: $0.baseAddress!, byteCount: 8 * count) }
        fftwf_execute(plan)
        lock.lock()
        fftwf_destroy_plan(plan)
        lock.unlock()
        return (0..<count).map { buffer[$0].0 }
    }

    /// Inverse transform of a half spectrum of size `d` into a fresh workspace of that size.
    func inverse(spectrum: UnsafePointer<fftwf_complex>, size d: Int) -> Workspace {
        let w = Workspace(size: d)
        w.spectrum.update(from: spectrum, count: w.spectrumCount)
        inverse(w)
        return w
    }
}

/// Spatial frequency (Å⁻¹) of half-spectrum entry (row i, column j) of a D×D image with the given pixel size.
@inline(__always)
func frequency(row i: Int, column j: Int, size d: Int, pixel: Float) -> (Float, Float) {
    let ky = i <= d / 2 ? i : i - d
    return (Float(j) / (Float(d) * pixel), Float(ky) / (Float(d) * pixel))
}
