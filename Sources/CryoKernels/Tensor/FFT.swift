import CFFTW
import Foundation

/// Single-precision 2D real FFTs through FFTW: one pair of plans per image size, made once (planner calls
/// serialised by a lock, as FFTW requires) and executed concurrently on per-call aligned buffers; and the 3D
/// transforms of maps and reconstructions, planned per call.
final class FFT: @unchecked Sendable {
    /// The plans shared by every transform in the process.
    static let shared = FFT()

    private struct Plans {
        let forward: OpaquePointer
        let inverse: OpaquePointer
    }
    private let lock = NSLock()
    private var plans: [Int: Plans] = [:]

    /// Forward and inverse plans for D×D images, created on first use.
    private func plans(_ d: Int) -> Plans {
        lock.lock()
        defer { lock.unlock() }
        if let p = plans[d] { return p }
        // FFTW_ESTIMATE picks the algorithm by FFTW's heuristics, not by timing, so the same script gives the same
        // numbers on every run (FFTW_MEASURE's timed choice changed results by up to 0.03 Å in a 60-epoch training
        // under different machine load) at 3–6% of the transform's speed (measured at D = 64 and 128).
        let buffers = Workspace(size: d)
        let flags = UInt32(FFTW_ESTIMATE)
        let forward = fftwf_plan_dft_r2c_2d(Int32(d), Int32(d), buffers.real, buffers.spectrum, flags)!
        let inverse = fftwf_plan_dft_c2r_2d(Int32(d), Int32(d), buffers.spectrum, buffers.real, flags)!
        let p = Plans(forward: forward, inverse: inverse)
        plans[d] = p
        return p
    }

    /// SIMD-aligned buffers for one D×D transform: the image and its half spectrum [D, D/2+1].
    final class Workspace {
        let size: Int
        let real: UnsafeMutablePointer<Float>
        let spectrum: UnsafeMutablePointer<fftwf_complex>

        init(size: Int) {
            self.size = size
            real = fftwf_alloc_real(size * size)
            spectrum = fftwf_alloc_complex(size * (size / 2 + 1))
        }

        deinit {
            fftwf_free(real)
            fftwf_free(spectrum)
        }

        /// Number of complex entries in the half spectrum.
        var spectrumCount: Int { size * (size / 2 + 1) }
    }

    /// Transforms `workspace.real` into `workspace.spectrum` (unnormalised).
    func forward(_ w: Workspace) {
        fftwf_execute_dft_r2c(plans(w.size).forward, w.real, w.spectrum)
    }

    /// Transforms `workspace.spectrum` back into `workspace.real` (unnormalised: scaled by D²; the spectrum is overwritten).
    func inverse(_ w: Workspace) {
        fftwf_execute_dft_c2r(plans(w.size).inverse, w.spectrum, w.real)
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
