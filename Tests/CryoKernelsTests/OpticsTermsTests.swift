import XCTest
@testable import CryoKernels

/// The optics-group terms of the CTF (`OpticsTerms`): RELION's Zernike polynomials, the symmetric aberrations and the
/// magnification against closed forms and against RELION's definition, what was done to the images, validation; and
/// the sign that makes simulated particles white, as RELION's are.
final class OpticsTermsTests: XCTestCase {
    func testZernikeOrderAndPolynomials() {
        XCTAssertEqual((0..<9).map { Zernike.even($0).m }, [0, -2, 0, 2, -4, -2, 0, 2, 4])
        XCTAssertEqual((0..<9).map { Zernike.even($0).n }, [0, 2, 2, 2, 4, 4, 4, 4, 4])
        XCTAssertEqual((0..<6).map { Zernike.odd($0).m }, [-1, 1, -3, -1, 1, 3])
        XCTAssertEqual((0..<6).map { Zernike.odd($0).n }, [1, 1, 3, 3, 3, 3])
        let (x, y) = (0.07, -0.04)
        let rho2 = x * x + y * y, phi = atan2(y, x)
        func one(_ i: Int, _ order: (Int) -> (m: Int, n: Int)) -> Double {
            Zernike.sum((0...i).map { $0 == i ? 1 : 0 }, x: x, y: y, order: order)
        }
        XCTAssertEqual(one(0, Zernike.even), 1, accuracy: 1e-12)
        XCTAssertEqual(one(1, Zernike.even), rho2 * sin(2 * phi), accuracy: 1e-12)
        XCTAssertEqual(one(2, Zernike.even), 2 * rho2 - 1, accuracy: 1e-12)
        XCTAssertEqual(one(3, Zernike.even), rho2 * cos(2 * phi), accuracy: 1e-12)
        XCTAssertEqual(one(6, Zernike.even), 6 * rho2 * rho2 - 6 * rho2 + 1, accuracy: 1e-12)
        XCTAssertEqual(one(0, Zernike.odd), y, accuracy: 1e-12)
        XCTAssertEqual(one(1, Zernike.odd), x, accuracy: 1e-12)
        XCTAssertEqual(one(4, Zernike.odd), (3 * rho2 - 2) * x, accuracy: 1e-12, "Z₃¹ = (3ρ³ − 2ρ)·cos φ")
    }

    /// Z₀⁰ and Z₂⁰ are a phase shift and a defocus: c₀₀ + c₂₀·(2s² − 1) added to RELION's γ_R (= −γ − …) is the same
    /// CTF as a defocus lower by 2·c₂₀/(π·λ) and a phase shift lower by c₀₀ − c₂₀; Z₂² is astigmatism along x.
    func testSymmetricAberrationsAreDefocusPhaseShiftAndAstigmatism() {
        let base = CTFParameters(defocusU: 15000, voltage: 300, sphericalAberration: 2.7, amplitudeContrast: 0.1, phaseShift: 10)
        let lambda = base.wavelength
        var aberrated = base
        aberrated.optics = OpticsTerms(evenZernike: [0.3, 0, 40, 25])
        var equivalent = base
        equivalent.phaseShift = 10 - (0.3 - 40) * 180 / .pi
        equivalent.defocusU = 15000 - 2 * 40 / (.pi * lambda) - 25 / (.pi * lambda)
        equivalent.defocusV = 15000 - 2 * 40 / (.pi * lambda) + 25 / (.pi * lambda)
        var g = SeededGenerator(seed: 31)
        for _ in 0..<30 {
            let (x, y) = (0.25 * (g.uniform() - 0.5), 0.25 * (g.uniform() - 0.5))
            XCTAssertEqual(aberrated.value(sx: x, sy: y), equivalent.value(sx: x, sy: y), accuracy: 1e-9, "at (\(x), \(y)) Å⁻¹")
        }
    }

    func testIsotropicMagnificationScalesTheFrequency() {
        var p = CTFParameters(defocusU: 20000, defocusV: 17000, astigmatismAngle: 25, bFactor: 50)
        let plain = p
        p.optics = OpticsTerms(magnification: [1.02, 0, 0, 1.02])
        for (x, y) in [(0.05, 0.02), (-0.11, 0.07), (0, 0.13)] {
            XCTAssertEqual(p.value(sx: x, sy: y), plain.value(sx: 1.02 * x, sy: 1.02 * y), accuracy: 1e-12)
        }
    }

    /// RELION's CTF with an optics group's terms (ctf.h `getCTF` with `ObservationModel::getGammaOffset`, written out
    /// here): X = M·s, γ_R = K1·(Axx·x² + 2·Axy·x·y + Ayy·y²) + K2·u⁴ − K5 − K3 + Σ cᵢ·Zᵢ(X), CTF = −sin γ_R·exp(−B·u²/4).
    func testAgainstRELIONsDefinitionWithEveryTerm() {
        let even = [0.2, 11, -3, 17, 40, -25, 8, 3, -12]
        let m = [1.011, 0.004, 0.0046, 1.009]
        var p = CTFParameters(defocusU: 14000, defocusV: 12500, astigmatismAngle: 62, voltage: 200, sphericalAberration: 2.7,
                              amplitudeContrast: 0.1, phaseShift: 5, bFactor: 40)
        p.optics = OpticsTerms(evenZernike: even, magnification: m)
        let lambda = 12.2643247 / (200e3 * (1 + 200e3 * 0.978466e-6)).squareRoot()
        let a = 62.0 * .pi / 180
        let (c, s) = (cos(a), sin(a))
        let (axx, axy, ayy) = (-14000 * c * c - 12500 * s * s, -14000 * c * s + 12500 * s * c, -14000 * s * s - 12500 * c * c)
        var g = SeededGenerator(seed: 32)
        for _ in 0..<30 {
            let (sx, sy) = (0.3 * (g.uniform() - 0.5), 0.3 * (g.uniform() - 0.5))
            let (x, y) = (m[0] * sx + m[1] * sy, m[2] * sx + m[3] * sy)
            let u2 = x * x + y * y
            var offset = 0.0
            for (i, coefficient) in even.enumerated() {
                let (mi, ni) = Zernike.even(i)
                offset += coefficient * Zernike.radial(m: abs(mi), n: ni, rho: u2.squareRoot()) * (mi >= 0 ? cos(Double(mi) * atan2(y, x)) : sin(Double(-mi) * atan2(y, x)))
            }
            let gamma = Double.pi * lambda * (axx * x * x + 2 * axy * x * y + ayy * y * y) + 0.5 * .pi * 2.7e7 * pow(lambda, 3) * u2 * u2
                - 5 * .pi / 180 - atan(0.1 / (1 - 0.01).squareRoot()) + offset
            XCTAssertEqual(p.value(sx: sx, sy: sy), -sin(gamma) * exp(-40 * u2 / 4), accuracy: 5e-4, "at (\(sx), \(sy)) Å⁻¹")
        }
    }

    func testWhatWasDoneToTheImages() throws {
        let plain = CTFParameters(defocusU: 18000)
        var flipped = plain, premultiplied = plain, inverted = plain
        flipped.optics = OpticsTerms(phaseFlipped: true)
        premultiplied.optics = OpticsTerms(premultiplied: true)
        inverted.optics = OpticsTerms(inverted: true)
        var sawNegative = false
        for s in stride(from: 0.0, through: 0.2, by: 0.01) {
            let c = plain.value(sx: s, sy: 0)
            sawNegative = sawNegative || c < 0
            XCTAssertEqual(flipped.value(sx: s, sy: 0), abs(c), accuracy: 1e-12)
            XCTAssertEqual(premultiplied.value(sx: s, sy: 0), c * c, accuracy: 1e-12)
            XCTAssertEqual(inverted.value(sx: s, sy: 0), -c, accuracy: 1e-12)
        }
        XCTAssertTrue(sawNegative, "the range must cross the CTF's zeros")
        XCTAssertTrue(OpticsTerms().isNeutral)
        XCTAssertTrue(OpticsTerms(evenZernike: [0, 0, 0]).isNeutral)
        XCTAssertFalse(OpticsTerms(inverted: true).isNeutral)
        for bad in [OpticsTerms(phaseFlipped: true, premultiplied: true), OpticsTerms(magnification: [1, 0, 0, -1]), OpticsTerms(evenZernike: [.nan])] {
            var p = plain
            p.optics = bad
            XCTAssertThrowsError(try p.validate(op: "t"), "\(bad)")
        }
    }

    func testTabulatedFiltersMatchTheFormulaWithTerms() {
        var params = [CTFParameters(defocusU: 15000, defocusV: 12000, astigmatismAngle: 40, phaseShift: 30, bFactor: 80)]
        params[0].optics = OpticsTerms(evenZernike: [0.1, 20, 5, -30, 60], magnification: [1.01, 0.003, -0.002, 0.995])
        params.append(params[0])
        params[1].optics?.premultiplied = true
        params.append(params[0])
        params[2].optics?.phaseFlipped = true
        params[2].optics?.inverted = true
        for (p, h) in zip(params, CTFFilters.filters(params, size: 64, pixel: 1.5)) {
            for (a, b) in zip(h, p.halfSpectrum(size: 64, pixel: 1.5)) { XCTAssertEqual(a, b, accuracy: 2e-3) }
        }
    }

    /// RELION's `TiltHelper::insertTilt` (written out: k = Cs·20000·λ²·π, Z₃¹ and Z₃⁻¹ take −k·τ/3, Z₁¹ and Z₁⁻¹ twice
    /// that), whose phase is the coma −k·|s|²·(s·τ) (τ in mrad, Cs in mm).
    func testBeamTiltEntersAsRELIONInsertsIt() {
        let lambda = CTFParameters(defocusU: 0, voltage: 300).wavelength
        let k = 2.7 * 20000 * lambda * lambda * .pi
        let d = PhaseDemodulation(oddZernike: [0, 0, 40, 0, 0, -30], beamTilt: (1.6, -1.2), sphericalAberration: 2.7, wavelength: lambda,
                                  magnification: [1, 0, 0, 1])
        let (z3x, z3y) = (-k * 1.6 / 3, -k * -1.2 / 3)
        for (a, b) in zip(d.oddZernike, [2 * z3y, 2 * z3x, 40, z3y, z3x, -30]) { XCTAssertEqual(a, b, accuracy: 1e-12 * max(1, abs(b))) }
        let tiltOnly = PhaseDemodulation(oddZernike: [], beamTilt: (1.6, -1.2), sphericalAberration: 2.7, wavelength: lambda, magnification: [1, 0, 0, 1])
        for (x, y) in [(0.1, 0.05), (-0.2, 0.12), (0.0, -0.25)] {
            XCTAssertEqual(tiltOnly.phase(x, y), -k * (x * x + y * y) * (x * 1.6 + y * -1.2), accuracy: 1e-12)
        }
        XCTAssertTrue(PhaseDemodulation(oddZernike: [0, 0], beamTilt: (0, 0), sphericalAberration: 2.7, wavelength: lambda, magnification: [1, 0, 0, 1]).isNeutral)
    }

    /// An image whose spectrum was multiplied by e^{iφ} (RELION's model of the antisymmetric aberrations) comes back
    /// from `apply` as it was, and real; the phase is odd, so a real image stays real.
    func testDemodulationUndoesTheAberration() {
        let d = 32, pixel: Float = 1.5
        let demodulation = PhaseDemodulation(oddZernike: [0.8, -0.5, 30, 12, -20, 25], beamTilt: (0.7, 0.3), sphericalAberration: 2.7,
                                             wavelength: 0.0197, magnification: [1.01, 0.004, 0.003, 0.99])
        XCTAssertEqual(demodulation.phase(0.1, -0.07), -demodulation.phase(-0.1, 0.07), accuracy: 1e-12, "odd in s")
        // A band-limited image (nothing at the Nyquist row, whose own conjugate pairs a phase cannot keep real).
        var g = SeededGenerator(seed: 33)
        let w = FFT.Workspace(size: d)
        for k in 0..<(d * d) { w.real[k] = Float(g.normal()) }
        FFT.shared.forward(w)
        let columns = d / 2 + 1
        var modulated: [(Float, Float)] = []
        for k in 0..<w.spectrumCount {
            let (sx, sy) = frequency(row: k / columns, column: k % columns, size: d, pixel: pixel)
            let s = (sx * sx + sy * sy).squareRoot()
            let keep: Float = s < 0.25 ? 1 / Float(d * d) : 0
            let phi = Float(demodulation.phase(Double(sx), Double(sy)))
            let (re, im) = (w.spectrum[k].0 * keep, w.spectrum[k].1 * keep)
            w.spectrum[k] = (re, im)
            modulated.append((re * cos(phi) - im * sin(phi), re * sin(phi) + im * cos(phi)))
        }
        FFT.shared.inverse(w)
        let original = Array(UnsafeBufferPointer(start: w.real, count: d * d))
        for k in 0..<w.spectrumCount { w.spectrum[k] = modulated[k] }
        FFT.shared.inverse(w)
        let aberrated = Array(UnsafeBufferPointer(start: w.real, count: d * d))
        let corrected = demodulation.apply(aberrated, count: 1, size: d, pixel: pixel)
        let error = zip(corrected, original).map { abs($0 - $1) }.max() ?? 1
        let change = zip(aberrated, original).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(error, 1e-4 * (original.map(abs).max() ?? 1), "the correction undoes the aberration")
        XCTAssertGreaterThan(change, 0.1 * (original.map(abs).max() ?? 1), "the aberration was large enough to matter")
    }

    /// With RELION's sign the CTF passes w of the zero frequency, so a simulated particle's image sums to w times its
    /// density's (white on black), as RELION's extracted particles are.
    func testSimulatedParticlesAreWhite() throws {
        var coords: [Double] = []
        for i in 0..<30 { coords += [Double(i % 5) * 3 - 6, Double(i / 5) * 3 - 7, Double(i % 3)] }
        let settings = Simulator.Settings(images: 4, size: 32, pixel: 2, snr: 1, defocus: 10000...20000, seed: 5)
        let (_, clean, _) = try Simulator.simulate(conformations: [coords], sigma: [Float](repeating: 1.5, count: 30),
                                                   weight: [Float](repeating: 1, count: 30), settings: settings)
        for b in 0..<4 {
            let total = clean.storage[(b * 1024)..<((b + 1) * 1024)].reduce(0, +)
            XCTAssertEqual(Double(total), 0.1 * 30, accuracy: 0.05 * 3, "image \(b) sums to w·Σ weights")
        }
    }
}
