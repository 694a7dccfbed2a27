import XCTest
@testable import CryoKernels

/// The CTF formula at hand-computed points and against RELION's and cryoDRGN's definitions, the FFT path (Parseval),
/// filtering gradients, noise level.
final class CTFTests: XCTestCase {
    func testWavelengthAt300kV() {
        // λ = 12.2643 / √(300000 · (1 + 0.978466e-6 · 300000)) = 0.0196875 Å
        XCTAssertEqual(CTFParameters(defocusU: 1e4).wavelength, 0.0196875, accuracy: 1e-6)
    }

    func testFormulaAtHandComputedFrequencies() {
        let p = CTFParameters(defocusU: 15000, voltage: 300, sphericalAberration: 2.7, amplitudeContrast: 0.1)
        let lambda = 0.0196875
        for s in [0.0, 0.02, 0.05, 0.1] {
            let gamma = Double.pi * lambda * 15000 * s * s - 0.5 * Double.pi * 2.7e7 * pow(lambda, 3) * pow(s, 4)
            let expected = (1 - 0.01).squareRoot() * sin(gamma) + 0.1 * cos(gamma)
            XCTAssertEqual(p.value(sx: s, sy: 0), expected, accuracy: 2e-4, "s = \(s)")
            XCTAssertEqual(p.value(sx: 0, sy: s), expected, accuracy: 2e-4, "isotropic without astigmatism")
        }
        XCTAssertEqual(p.value(sx: 0, sy: 0), 0.1, accuracy: 1e-12, "w at the origin: density shows white, as in RELION's particles")
    }

    /// RELION's CTF (ctf.h, `CTF::getCTF`, written out here from its definition): γ_R = K1·(Axx·x² + 2·Axy·x·y + Ayy·y²)
    /// + K2·u⁴ − K5 − K3 with A = Qᵀ·diag(−dfU, −dfV)·Q (Q the rotation by the astigmatism angle), K1 = π·λ,
    /// K2 = ½·π·Cs·λ³, K3 = atan(w/√(1 − w²)), K5 the phase shift; CTF = −sin(γ_R)·exp(−B·u²/4)·scale.
    private func relion(_ p: CTFParameters, _ x: Double, _ y: Double) -> Double {
        let lambda = 12.2643247 / (p.voltage * 1e3 * (1 + p.voltage * 1e3 * 0.978466e-6)).squareRoot()
        let a = p.astigmatismAngle * .pi / 180
        let (c, s) = (cos(a), sin(a))
        // Qᵀ·D·Q with Q = [[c, s], [−s, c]] and D = diag(−dfU, −dfV).
        let axx = -p.defocusU * c * c - p.defocusV * s * s
        let axy = -p.defocusU * c * s + p.defocusV * s * c
        let ayy = -p.defocusU * s * s - p.defocusV * c * c
        let u2 = x * x + y * y
        let k3 = atan(p.amplitudeContrast / (1 - p.amplitudeContrast * p.amplitudeContrast).squareRoot())
        let gamma = Double.pi * lambda * (axx * x * x + 2 * axy * x * y + ayy * y * y) + 0.5 * .pi * p.sphericalAberration * 1e7 * pow(lambda, 3) * u2 * u2
            - p.phaseShift * .pi / 180 - k3
        return -sin(gamma) * exp(-p.bFactor * u2 / 4) * p.scaleFactor
    }

    /// cryoDRGN's CTF (ctf.py, `compute_ctf`, written out here; cryoJAX's is the same function): γ_D = 2π·(−½·Δf·λ·s²
    /// + ¼·Cs·λ³·s⁴) − phase shift, CTF = √(1 − w²)·sin γ_D − w·cos γ_D, times exp(−B·s²/4) and the scale.
    private func cryoDRGN(_ p: CTFParameters, _ x: Double, _ y: Double) -> Double {
        let volts = p.voltage * 1000
        let lambda = 12.2639 / (volts + 0.97845e-6 * volts * volts).squareRoot()
        let s2 = x * x + y * y
        let df = 0.5 * (p.defocusU + p.defocusV + (p.defocusU - p.defocusV) * cos(2 * (atan2(y, x) - p.astigmatismAngle * .pi / 180)))
        let gamma = 2 * .pi * (-0.5 * df * lambda * s2 + 0.25 * p.sphericalAberration * 1e7 * pow(lambda, 3) * s2 * s2) - p.phaseShift * .pi / 180
        let w = p.amplitudeContrast
        return ((1 - w * w).squareRoot() * sin(gamma) - w * cos(gamma)) * exp(-p.bFactor * s2 / 4) * p.scaleFactor
    }

    func testRELIONsCTFAndCryoDRGNsNegative() {
        var g = SeededGenerator(seed: 24)
        for _ in 0..<40 {
            let p = CTFParameters(defocusU: 8000 + 20000 * g.uniform(), defocusV: 8000 + 20000 * g.uniform(), astigmatismAngle: 180 * g.uniform(),
                                  voltage: [200, 300][Int(g.next() % 2)], sphericalAberration: 0.01 + 3 * g.uniform(),
                                  amplitudeContrast: 0.2 * g.uniform(), phaseShift: 90 * g.uniform(), bFactor: 200 * g.uniform(), scaleFactor: 0.5 + g.uniform())
            let (x, y) = (0.3 * (g.uniform() - 0.5), 0.3 * (g.uniform() - 0.5))
            // The three wavelengths differ from the sixth digit on (12.2643 here, 12.2643247 in RELION, 12.2639 in cryoDRGN):
            // at most 3·10⁻⁴ and 5·10⁻³ of phase at these frequencies, and never the sign.
            XCTAssertEqual(p.value(sx: x, sy: y), relion(p, x, y), accuracy: 5e-4, "RELION's CTF at (\(x), \(y)) Å⁻¹ for \(p)")
            XCTAssertEqual(p.value(sx: x, sy: y), -cryoDRGN(p, x, y), accuracy: 5e-3, "cryoDRGN's CTF is RELION's negative")
        }
    }

    func testFirstZeroForAGivenDefocus() {
        // Pure phase contrast, no Cs: CTF = sin(π λ Δf s²) vanishes first at s = 1/√(λ Δf).
        let p = CTFParameters(defocusU: 20000, sphericalAberration: 0, amplitudeContrast: 0)
        let zero = 1 / (p.wavelength * 20000).squareRoot()
        XCTAssertEqual(p.value(sx: zero, sy: 0), 0, accuracy: 1e-9)
        XCTAssertGreaterThan(p.value(sx: zero * 0.95, sy: 0), 0)
        XCTAssertLessThan(p.value(sx: zero * 1.05, sy: 0), 0)
    }

    func testAstigmatismAndBFactor() {
        let p = CTFParameters(defocusU: 20000, defocusV: 10000, astigmatismAngle: 30, sphericalAberration: 0, amplitudeContrast: 0, bFactor: 100)
        let s = 0.03
        let along = p.value(sx: s * cos(.pi / 6), sy: s * sin(.pi / 6))
        let across = p.value(sx: -s * sin(.pi / 6), sy: s * cos(.pi / 6))
        let envelope = exp(-100 * s * s / 4)
        XCTAssertEqual(along, sin(.pi * p.wavelength * 20000 * s * s) * envelope, accuracy: 1e-9)
        XCTAssertEqual(across, sin(.pi * p.wavelength * 10000 * s * s) * envelope, accuracy: 1e-9)
    }

    func testParsevalOnTheFFTPath() throws {
        var g = SeededGenerator(seed: 21)
        let images = Tensor.randn([3, 16, 16], using: &g)
        for (spatial, spectral) in try FourierFilter.energies(images) {
            XCTAssertEqual(spectral, spatial, accuracy: 1e-4 * spatial)
        }
    }

    /// (The CTF's and the low-pass filter's gradients are checked with every other op's in GradientCheckTests.)
    func testAllPassFilterIsIdentity() throws {
        var g = SeededGenerator(seed: 22)
        let images = Tensor.randn([2, 8, 8], using: &g)
        let identity = FourierFilter.apply(images.storage, batch: 2, size: 8, filter: { _ in [Float](repeating: 1, count: 8 * 5) })
        for (a, b) in zip(identity, images.storage) { XCTAssertEqual(a, b, accuracy: 1e-5) }
    }

    func testDownsamplePreservesIntegratedDensityAndMatchesCoarseProjection() throws {
        let coords = try Tensor(shape: [2, 3], storage: [3, -4, 0, -5, 2, 1])
        let fine = try Projector.project(coords: coords, rotations: Rotation.tensor([.identity]),
                                         geometry: try Projector.Geometry(size: 64, pixel: 1, sigma: [3, 3], weight: [1, 2]))
        let coarse = try Projector.project(coords: coords, rotations: Rotation.tensor([.identity]),
                                           geometry: try Projector.Geometry(size: 32, pixel: 2, sigma: [3, 3], weight: [1, 2]))
        let down = try FourierFilter.downsample(fine, to: 32)
        XCTAssertEqual(down.storage.reduce(0, +), fine.storage.reduce(0, +), accuracy: 1e-4)
        let peak = coarse.storage.max() ?? 1
        for (a, b) in zip(down.storage, coarse.storage) { XCTAssertEqual(a, b, accuracy: 0.03 * peak) }
        XCTAssertThrowsError(try FourierFilter.downsample(fine, to: 33))
    }

    func testNoiseReachesTheRequestedSNR() throws {
        var g = SeededGenerator(seed: 23)
        let clean = Tensor.randn([4, 32, 32], std: 2, using: &g)
        let (noisy, sigma) = try Noise.add(clean, snr: 0.1, using: &g)
        XCTAssertEqual(sigma, (4 / 0.1).squareRoot(), accuracy: 0.1)
        var noiseVariance = 0.0
        for (a, b) in zip(noisy.storage, clean.storage) { noiseVariance += Double(a - b) * Double(a - b) }
        noiseVariance /= Double(clean.count)
        XCTAssertEqual(4 / noiseVariance, 0.1, accuracy: 0.005)
        XCTAssertThrowsError(try Noise.add(clean, snr: 0, using: &g))
    }
}

/// The fast tabulated CTF filters agree with the Double-precision formula.
final class CTFFilterTests: XCTestCase {
    func testTabulatedFiltersMatchTheFormula() {
        let params = [CTFParameters(defocusU: 15000, defocusV: 12000, astigmatismAngle: 40, phaseShift: 30, bFactor: 80),
                      CTFParameters(defocusU: 25000, voltage: 200, sphericalAberration: 2, amplitudeContrast: 0.07),
                      CTFParameters(defocusU: 25000, voltage: 200, sphericalAberration: 2, amplitudeContrast: 0.07, scaleFactor: 0.5)]
        let fast = CTFFilters.filters(params, size: 64, pixel: 1.5)
        for (p, h) in zip(params, fast) {
            let reference = p.halfSpectrum(size: 64, pixel: 1.5)
            for (a, b) in zip(h, reference) { XCTAssertEqual(a, b, accuracy: 2e-3) }
        }
        // RELION's rlnCtfScalefactor multiplies the whole CTF.
        for (a, b) in zip(fast[2], fast[1]) { XCTAssertEqual(a, 0.5 * b, accuracy: 1e-6) }
        XCTAssertEqual(params[2].value(sx: 0.1, sy: 0.05), 0.5 * params[1].value(sx: 0.1, sy: 0.05), accuracy: 1e-12)
    }
}
