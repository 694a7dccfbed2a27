import XCTest
@testable import CryoKernels

/// Noise whitening: the shell power of white noise (closed form), coloured noise made white, the filter inside the
/// CTF (formula and tabulated filters), the background mask, and a whitened dataset in memory and streamed.
final class NoiseWhiteningTests: XCTestCase {
    /// White noise of variance σ² has E|F(k)|² = D²·σ² at every frequency of an unnormalised D×D transform.
    func testShellPowerOfWhiteNoiseIsFlat() {
        var g = SeededGenerator(seed: 3)
        let d = 32, count = 200
        let noise = Tensor.randn([count, d, d], std: 2, using: &g).storage
        let power = NoiseWhitening.shellPower(noise, count: count, size: d)
        XCTAssertEqual(power.count, d / 2 + 1)
        for k in 1..<power.count { XCTAssertEqual(power[k] / Double(d * d * 4), 1, accuracy: 0.1, "shell \(k)") }
    }

    /// White noise filtered by a smooth profile (amplitude 1 + 4·exp(−s²/2σ²), σ = 1/30 Å⁻¹: power up to 25× at low
    /// frequencies, as ice gives): the estimated filter makes it flat again, and the gains average 1 in square over
    /// the shells.
    func testColouredNoiseIsWhitened() throws {
        var g = SeededGenerator(seed: 5)
        let d = 32, count = 300, pixel: Float = 2
        var profile = [Float](repeating: 0, count: d * (d / 2 + 1))
        for i in 0..<d { for j in 0...(d / 2) {
            let (sx, sy) = frequency(row: i, column: j, size: d, pixel: pixel)
            profile[i * (d / 2 + 1) + j] = 1 + 4 * expf(-(sx * sx + sy * sy) * 450)
        } }
        let noisy = FourierFilter.apply(Tensor.randn([count, d, d], using: &g).storage, batch: count, size: d) { _ in profile }
        let before = NoiseWhitening.shellPower(noisy, count: count, size: d)
        XCTAssertGreaterThan(before[1] / before[12], 10, "the test noise is coloured")
        let filter = try NoiseWhitening(power: before, size: d, pixel: Double(pixel))
        XCTAssertEqual(filter.gains.reduce(0) { $0 + $1 * $1 } / Double(filter.gains.count), 1, accuracy: 1e-9)
        XCTAssertEqual(filter.shellWidth, 1.0 / 64, accuracy: 1e-12)
        let after = NoiseWhitening.shellPower(filter.apply(noisy, count: count, size: d, pixel: pixel), count: count, size: d).dropFirst()
        XCTAssertLessThan((after.max() ?? 0) / (after.min() ?? 1), 1.25, "whitened shell power \(after)")
    }

    /// W interpolates linearly between shells and holds its last value beyond them; it multiplies the CTF in the formula
    /// and in the tabulated filters alike.
    func testFilterIsAFactorOfTheCTF() throws {
        let w = try NoiseWhitening(shellWidth: 0.01, gains: [0.5, 1, 2])
        XCTAssertEqual(w.gain(0.005), 0.75, accuracy: 1e-12)
        XCTAssertEqual(w.gain(0.015), 1.5, accuracy: 1e-12)
        XCTAssertEqual(w.gain(0.3), 2, accuracy: 1e-12)
        let plain = CTFParameters(defocusU: 15000, defocusV: 12000, astigmatismAngle: 40, bFactor: 80)
        var whitened = plain
        whitened.whitening = w
        XCTAssertEqual(whitened.value(sx: 0.012, sy: 0.009), plain.value(sx: 0.012, sy: 0.009) * w.gain(0.015), accuracy: 1e-12)
        let fast = CTFFilters.filters([whitened, plain], size: 64, pixel: 1.5)
        for (a, b) in zip(fast[0], whitened.halfSpectrum(size: 64, pixel: 1.5)) { XCTAssertEqual(a, b, accuracy: 2e-3) }
        XCTAssertNotEqual(fast[0], fast[1], "a whitened CTF is cached apart from the plain one")
        XCTAssertThrowsError(try NoiseWhitening(shellWidth: 0.01, gains: [1, 0])) { XCTAssertTrue("\($0)".contains("positive"), "\($0)") }
    }

    /// The background mask is 0 inside the radius, 1 beyond its 5-pixel edge; a radius past the box is an error.
    /// Estimated from the background alone, a particle's signal adds nothing: a bright disc inside the radius leaves
    /// the white noise's filter flat.
    func testBackgroundEstimateIgnoresTheParticle() throws {
        let d = 32, pixel = 2.0
        let mask = try NoiseWhitening.background(size: d, pixel: pixel, radius: 12)
        XCTAssertEqual(mask[(d / 2) * d + d / 2], 0)
        XCTAssertEqual(mask[0], 1)
        XCTAssertThrowsError(try NoiseWhitening.background(size: d, pixel: pixel, radius: 60)) { XCTAssertTrue("\($0)".contains("no background"), "\($0)") }
        var g = SeededGenerator(seed: 7)
        let count = 200
        var images = Tensor.randn([count, d, d], using: &g).storage
        for b in 0..<count { for y in 10..<22 { for x in 10..<22 { images[b * d * d + y * d + x] += 6 } } }
        let dataset = try ParticleDataset(images: Tensor(shape: [count, d, d], storage: images), rotations: Array(repeating: Rotation.identity, count: count),
                                          shifts: [Float](repeating: 0, count: 2 * count), ctf: Array(repeating: CTFParameters(defocusU: 1e4), count: count),
                                          pixel: Float(pixel), size: d)
        let whole = try dataset.estimatedWhitening()
        let background = try dataset.estimatedWhitening(radius: 14)
        XCTAssertLessThan(whole.gains[1] / whole.gains[8], 0.5, "the disc's power at low frequency lowers the whole-image gains there")
        XCTAssertEqual(background.gains[1] / background.gains[8], 1, accuracy: 0.2, "the background sees white noise")
    }

    /// A whitened dataset: images filtered, W in every CTF, a second whitening refused; streamed from a stack, each read
    /// is filtered as the images in memory were.
    func testWhitenedDatasetInMemoryAndStreamed() throws {
        var g = SeededGenerator(seed: 9)
        let d = 16, count = 6
        let images = Tensor.randn([count, d, d], using: &g)
        let ctf = (0..<count).map { CTFParameters(defocusU: 8000 + 500 * Double($0)) }
        let dataset = try ParticleDataset(images: images, rotations: Array(repeating: Rotation.identity, count: count), shifts: [Float](repeating: 0, count: 2 * count),
                                          ctf: ctf, pixel: 3, size: d)
        let filter = try NoiseWhitening(shellWidth: 1 / 48, gains: (0...8).map { 0.5 + 0.1 * Double($0) })
        let whitened = try dataset.whitened(filter)
        XCTAssertTrue(whitened.ctf.allSatisfy { $0.whitening == filter })
        XCTAssertEqual(whitened.images?.storage, filter.apply(images.storage, count: count, size: d, pixel: 3))
        XCTAssertThrowsError(try whitened.whitened(filter)) { XCTAssertTrue("\($0)".contains("already whitened"), "\($0)") }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-whiten-\(UUID().uuidString).mrcs").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try MRCFile.write(path, images: images, pixel: 3)
        let stack = try MRCFile(path: path)
        var streamed = dataset
        streamed.images = nil
        streamed.streamed = try StreamedImages(locations: (0..<count).map { (stack, $0) }, size: d)
        let rows = [4, 1, 5]
        let read = try streamed.whitened(filter).imageRows(rows).storage
        let expected = try XCTUnwrap(whitened.images).gather(Tensor(rows.map(Float.init))).storage
        for (a, b) in zip(read, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertNil(streamed.streamed?.whitening, "the dataset whitened is a copy; the original stream reads raw images")
    }
}
