import XCTest
@testable import CryoKernels

/// High-resolution noise substitution: the phases beyond the cutoff are random and Hermitian (the images stay real),
/// everything else is the image's own; and Chen et al.'s correction of an FSC curve.
final class NoiseSubstitutionTests: XCTestCase {
    /// The half spectra [B, D, D/2+1] of `count` D×D images.
    private func spectra(_ images: [Float], count: Int, size d: Int) -> [[(Float, Float)]] {
        var out = [[(Float, Float)]](repeating: [], count: count)
        let lock = NSLock()
        images.withUnsafeBufferPointer { x in
            FFT.shared.forwardEach(x.baseAddress!, count: count, size: d) { b, w in
                let s = (0..<w.spectrumCount).map { (w.spectrum[$0].0, w.spectrum[$0].1) }
                lock.lock()
                out[b] = s
                lock.unlock()
            }
        }
        return out
    }

    func testPhasesBeyondTheCutoffAreRandomAndTheRestIsKept() throws {
        let (d, count, pixel, beyond): (Int, Int, Float, Float) = (32, 6, 2, 8)
        var g = SeededGenerator(seed: 3)
        let images = (0..<(count * d * d)).map { _ in Float(g.normal()) }
        let out = try NoiseSubstitution.randomizedPhases(images, count: count, size: d, pixel: pixel, beyond: beyond, seeds: NoiseSubstitution.seeds(count: count, seed: 7))
        XCTAssertTrue(out.allSatisfy(\.isFinite))
        XCTAssertEqual(out, try NoiseSubstitution.randomizedPhases(images, count: count, size: d, pixel: pixel, beyond: beyond, seeds: NoiseSubstitution.seeds(count: count, seed: 7)))
        XCTAssertNotEqual(out, try NoiseSubstitution.randomizedPhases(images, count: count, size: d, pixel: pixel, beyond: beyond, seeds: NoiseSubstitution.seeds(count: count, seed: 8)))
        let (before, after) = (spectra(images, count: count, size: d), spectra(out, count: count, size: d))
        let columns = d / 2 + 1
        var cosines: [Double] = [], kept = 0
        for b in 0..<count {
            for k in 0..<(d * columns) {
                let (sx, sy) = frequency(row: k / columns, column: k % columns, size: d, pixel: pixel)
                let (p, q) = (before[b][k], after[b][k])
                let (ap, aq) = ((p.0 * p.0 + p.1 * p.1).squareRoot(), (q.0 * q.0 + q.1 * q.1).squareRoot())
                XCTAssertEqual(aq, ap, accuracy: 1e-3 * max(ap, 1), "amplitude of coefficient \(k) of image \(b)")
                if (sx * sx + sy * sy).squareRoot() < 1 / beyond {
                    XCTAssertEqual(q.0, p.0, accuracy: 1e-3 * max(ap, 1))
                    XCTAssertEqual(q.1, p.1, accuracy: 1e-3 * max(ap, 1))
                    kept += 1
                } else if ap > 1e-3 {
                    cosines.append(Double((p.0 * q.0 + p.1 * q.1) / (ap * aq)))
                }
            }
        }
        XCTAssertGreaterThan(kept, 6 * 40)
        // Random phases: cos Δφ averages 0 (the same phases would give 1), with a spread of 1/√2 per coefficient.
        let mean = cosines.reduce(0, +) / Double(cosines.count)
        XCTAssertGreaterThan(cosines.count, 2000)
        XCTAssertLessThan(abs(mean), 4 * 0.71 / Double(cosines.count).squareRoot(), "mean cos Δφ \(mean) over \(cosines.count) coefficients")
    }

    /// A streamed dataset randomises on every read, each particle seeded by its stack and index: two reads, and a
    /// subset's read, give the same images; the original stream still reads the raw images; a dataset in memory
    /// randomises now, and the low frequencies of both agree with the raw images'.
    func testStreamedParticlesGetTheSamePhasesOnEveryRead() throws {
        var g = SeededGenerator(seed: 4)
        let d = 16, count = 5
        let images = Tensor.randn([count, d, d], using: &g)
        let dataset = try ParticleDataset(images: images, rotations: Array(repeating: Rotation.identity, count: count),
                                          shifts: [Float](repeating: 0, count: 2 * count), ctf: (0..<count).map { _ in CTFParameters(defocusU: 9000) },
                                          pixel: 3, size: d)
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-phases-\(UUID().uuidString).mrcs").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try MRCFile.write(path, images: images, pixel: 3)
        var streamed = dataset
        streamed.images = nil
        streamed.streamed = try StreamedImages(locations: (0..<count).map { (try! MRCFile(path: path), $0) }, size: d)
        let randomized = try streamed.phaseRandomized(beyond: 12, seed: 6)
        let first = try randomized.imageRows([0, 3, 4]).storage
        XCTAssertEqual(first, try randomized.imageRows([0, 3, 4]).storage)
        XCTAssertEqual(Array(first[(d * d)...]), try randomized.subset([3, 4]).imageRows([0, 1]).storage)
        XCTAssertEqual(try streamed.imageRows([0]).storage, Array(images.storage[0..<(d * d)]), "the original stream reads the raw images")
        XCTAssertNotEqual(Array(first[0..<(d * d)]), Array(images.storage[0..<(d * d)]))
        let inMemory = try dataset.phaseRandomized(beyond: 12, seed: 6)
        XCTAssertEqual(inMemory.images?.shape, images.shape)
        // Both keep what lies below 1/12 Å⁻¹: low-passed to 18 Å, each equals the raw images low-passed.
        let raw = try FourierFilter.lowPass(images, pixel: 3, resolution: 18).storage
        for candidate in [try XCTUnwrap(inMemory.images), try randomized.imageRows(Array(0..<count))] {
            let low = try FourierFilter.lowPass(candidate, pixel: 3, resolution: 18).storage
            XCTAssertLessThan(zip(low, raw).map { abs($0 - $1) }.max() ?? 1, 1e-4)
        }
    }

    func testBadArgumentsAreErrors() {
        XCTAssertThrowsError(try NoiseSubstitution.randomizedPhases([0, 0, 0, 0], count: 1, size: 2, pixel: 1, beyond: 0, seeds: [1]))
        XCTAssertThrowsError(try NoiseSubstitution.randomizedPhases([0, 0, 0], count: 1, size: 2, pixel: 1, beyond: 4, seeds: [1]))
        XCTAssertThrowsError(try NoiseSubstitution.randomizedPhases([0, 0, 0, 0], count: 1, size: 2, pixel: 1, beyond: 4, seeds: [1, 2]))
    }

    func testCorrectionRemovesTheSubstitutedCorrelationBeyondTheCutoff() throws {
        let frequency: [Float] = [0, 0.05, 0.1, 0.15, 0.2]
        let measured = FourierShellCorrelation(frequency: frequency, correlation: [1, 0.9, 0.5, 0.3, 0.1])
        let substituted = FourierShellCorrelation(frequency: frequency, correlation: [1, 0.9, 0.2, 0.3, 0.5])
        let corrected = try NoiseSubstitution.corrected(measured, by: substituted, beyond: 10)   // shells at 0.1 Å⁻¹ and beyond
        XCTAssertEqual(corrected.correlation[0], 1)
        XCTAssertEqual(corrected.correlation[1], 0.9)
        XCTAssertEqual(corrected.correlation[2], 0.3 / 0.8, accuracy: 1e-6)
        XCTAssertEqual(corrected.correlation[3], 0, accuracy: 1e-6)
        XCTAssertEqual(corrected.correlation[4], -0.8, accuracy: 1e-6)
        // The measured curve crosses 0.143 between 0.15 and 0.2 Å⁻¹ (5.29 Å), the corrected one between 0.1 and 0.15.
        XCTAssertEqual(try XCTUnwrap(measured.resolution(at: 0.143)), 1 / (0.15 + 0.157 / 0.2 * 0.05), accuracy: 1e-3)
        XCTAssertEqual(try XCTUnwrap(corrected.resolution(at: 0.143)), 1 / (0.1 + (0.375 - 0.143) / 0.375 * 0.05), accuracy: 1e-3)
        let other = FourierShellCorrelation(frequency: [0, 0.1], correlation: [1, 0.5])
        XCTAssertThrowsError(try NoiseSubstitution.corrected(measured, by: other, beyond: 10))
        let ragged = FourierShellCorrelation(frequency: frequency, correlation: [1, 0.5])
        XCTAssertThrowsError(try NoiseSubstitution.corrected(measured, by: ragged, beyond: 10))
        XCTAssertThrowsError(try NoiseSubstitution.corrected(measured, by: substituted, beyond: 0))
    }
}
