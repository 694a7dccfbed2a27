import Foundation
import XCTest
@testable import CryoKernels

/// The 2D real transforms (`FFT`) against the discrete Fourier transform's closed form, summed in double precision:
/// the paired-row path (even D) and FFTW's own real plans (odd D), forward, inverse and round trip.
final class FFTTests: XCTestCase {
    /// Sizes through both paths: even (paired rows, including the smallest pair and a size with a factor 3) and odd.
    let sizes = [2, 6, 16, 30, 64, 7, 15]

    /// X[ky, kx] = Σ_y Σ_x r[y, x]·exp(−2πi(ky·y + kx·x)/D) for kx in 0...D/2: the half spectrum, row-major.
    func directForward(_ r: [Float], size d: Int) -> [(Double, Double)] {
        let h = d / 2 + 1
        var out = [(Double, Double)](repeating: (0, 0), count: d * h)
        for ky in 0..<d {
            for kx in 0..<h {
                var (re, im) = (0.0, 0.0)
                for y in 0..<d {
                    for x in 0..<d {
                        let angle = -2 * Double.pi * Double((ky * y + kx * x) % d) / Double(d)
                        re += Double(r[y * d + x]) * cos(angle)
                        im += Double(r[y * d + x]) * sin(angle)
                    }
                }
                out[ky * h + kx] = (re, im)
            }
        }
        return out
    }

    /// The complex-to-real inverse as FFTW defines it for any half spectrum Y: G[y, kx] = Σ_ky Y[ky, kx]·exp(2πi·ky·y/D),
    /// then r[y, x] = Re G[y, 0] + Re G[y, D/2]·(−1)^x (D even) + 2·Σ Re(G[y, kx]·exp(2πi·kx·x/D)) over the other kx,
    /// so the imaginary parts at kx = 0 and D/2 are not used.
    func directInverse(_ spectrum: [(Double, Double)], size d: Int) -> [Double] {
        let h = d / 2 + 1
        var out = [Double](repeating: 0, count: d * d)
        for y in 0..<d {
            for kx in 0..<h {
                var (gr, gi) = (0.0, 0.0)
                for ky in 0..<d {
                    let angle = 2 * Double.pi * Double(ky * y % d) / Double(d)
                    let (re, im) = spectrum[ky * h + kx]
                    gr += re * cos(angle) - im * sin(angle)
                    gi += re * sin(angle) + im * cos(angle)
                }
                let selfConjugate = kx == 0 || (d % 2 == 0 && kx == d / 2)
                for x in 0..<d {
                    let angle = 2 * Double.pi * Double(kx * x % d) / Double(d)
                    out[y * d + x] += selfConjugate ? gr * cos(angle) : 2 * (gr * cos(angle) - gi * sin(angle))
                }
            }
        }
        return out
    }

    func testForwardMatchesTheDiscreteFourierTransform() {
        var g = SeededGenerator(seed: 7)
        for d in sizes {
            let w = FFT.Workspace(size: d)
            let image = (0..<(d * d)).map { _ in Float(g.normal()) }
            w.real.update(from: image, count: d * d)
            FFT.shared.forward(w)
            let expected = directForward(image, size: d)
            let scale = expected.map { max(abs($0.0), abs($0.1)) }.max()!
            for k in 0..<w.spectrumCount {
                XCTAssertEqual(Double(w.spectrum[k].0), expected[k].0, accuracy: 2e-6 * scale, "D \(d), entry \(k), real part")
                XCTAssertEqual(Double(w.spectrum[k].1), expected[k].1, accuracy: 2e-6 * scale, "D \(d), entry \(k), imaginary part")
            }
        }
    }

    /// Any half spectrum, Hermitian or not (a filter's gradient need not be): the imaginary parts FFTW's
    /// complex-to-real transform leaves unused must be left unused here too.
    func testInverseMatchesFFTWsComplexToRealDefinition() {
        var g = SeededGenerator(seed: 8)
        for d in sizes {
            let w = FFT.Workspace(size: d)
            let spectrum = (0..<w.spectrumCount).map { _ in (g.normal(), g.normal()) }
            for k in 0..<w.spectrumCount { w.spectrum[k] = (Float(spectrum[k].0), Float(spectrum[k].1)) }
            FFT.shared.inverse(w)
            let expected = directInverse(spectrum, size: d)
            let scale = expected.map(abs).max()!
            for k in 0..<(d * d) {
                XCTAssertEqual(Double(w.real[k]), expected[k], accuracy: 2e-6 * scale, "D \(d), pixel \(k)")
            }
        }
    }

    func testRoundTripReturnsTheImageTimesItsPixelCount() {
        var g = SeededGenerator(seed: 9)
        for d in sizes + [128] {
            let w = FFT.Workspace(size: d)
            let image = (0..<(d * d)).map { _ in Float(g.normal()) }
            w.real.update(from: image, count: d * d)
            FFT.shared.forward(w)
            FFT.shared.inverse(w)
            let error = (0..<(d * d)).map { abs(w.real[$0] / Float(d * d) - image[$0]) }.max()!
            XCTAssertLessThan(error, 2e-6 * Float(d), "D \(d)")
        }
    }
}
