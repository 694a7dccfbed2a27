import XCTest
@testable import CryoKernels

/// Direct Fourier reconstruction against the structure the images were simulated from (`DensityMap.render` on the
/// same grid), with shifts and CTFs, and the gold-standard relation between the half maps' FSC and the truth's.
final class FourierReconstructionTests: XCTestCase {
    private let structure = try! ToyProtein.make(residues: 60, seed: 4)

    /// Simulated particles of the structure: `count` images of `size` px at 2.5 Å, shifts of std 3 Å, CTFs, at `snr`.
    private func particles(_ count: Int, snr: Double, ctf: Bool = true, defocus: ClosedRange<Double> = 10_000...25_000, size: Int = 32) throws -> ParticleDataset {
        let n = structure.count
        return try Simulator.simulate(conformations: [structure.models[0]], sigma: [Float](repeating: 1.8, count: n), weight: [Float](repeating: 1, count: n),
                                      settings: Simulator.Settings(images: count, size: size, pixel: 2.5, snr: snr, defocus: defocus, shift: 3, applyCTF: ctf, seed: 6)).dataset
    }

    /// The structure's own map on the reconstruction's grid: its centroid at voxel N/2, where the simulation rotates it.
    private func truth(on map: DensityMap) throws -> DensityMap {
        let n = structure.count
        return try DensityMap.render(coordinates: structure.models[0].map(Float.init), sigma: [Float](repeating: 1.8, count: n),
                                     weight: [Float](repeating: 1, count: n), size: map.size, spacing: map.spacing, origin: map.origin)
    }

    private func reconstruct(_ data: ParticleDataset, rotations: [Rotation]? = nil, origins: Bool = true, withCTF: Bool = true) throws -> FourierReconstruction {
        var r = try FourierReconstruction(size: data.size, pixel: data.pixel)
        let images = try XCTUnwrap(data.images).storage, d2 = data.size * data.size
        for h in 0...1 {
            let rows = (0..<data.count).filter { $0 % 2 == h }
            try r.insert(images: rows.flatMap { images[($0 * d2)..<(($0 + 1) * d2)] }, rotations: rows.map { (rotations ?? data.rotations)[$0] },
                         origins: rows.flatMap { origins ? [data.shifts[2 * $0], data.shifts[2 * $0 + 1]] : [0, 0] }, ctf: withCTF ? rows.map { data.ctf[$0] } : nil, half: h)
        }
        return r
    }

    /// Noise-free images with shifts give back the structure's map: FSC above 0.99 in every shell up to 7/8 of Nyquist,
    /// without a CTF (in an even box and an odd one) and with CTFs of 0.4–0.6 µm defocus (their zeros filled by the other images' defoci). The
    /// simulator filters each image by its CTF circularly within its box, as training renders it, while the
    /// reconstruction pads the images, as RELION does for particles cut from micrographs; at 1–2.5 µm the CTF's
    /// point spread is wider than this 80 Å box and wraps around in the simulation, so the two agree less beyond half
    /// of Nyquist (FSC 0.98 at shell 9, 0.68 at 14), which is the simulation's doing.
    func testNoiseFreeImagesGiveBackTheStructure() throws {
        let centroid = Superposition.centroid(structure.models[0]).map(Float.init)
        for (ctf, defocus, size) in [(false, 10_000.0...25_000, 32), (true, 4_000...6_000, 32), (false, 10_000...25_000, 31)] {
            let map = try reconstruct(try particles(400, snr: 1e9, ctf: ctf, defocus: defocus, size: size), withCTF: ctf).map(halves: [0, 1], wiener: 1e-3, centre: centroid)
            for k in 0..<3 { XCTAssertEqual(map.centre[k], centroid[k], accuracy: 1e-4) }
            let curve = try FourierShellCorrelation(map, try truth(on: map))
            for s in 1...(size * 7 / 16) { XCTAssertGreaterThan(curve.correlation[s], 0.99, "shell \(s) of \(size / 2), CTF \(ctf), \(size) px") }
        }
    }

    /// At low SNR the half maps' FSC at 0.143 and the full map's FSC against the truth at 0.5 give the same
    /// resolution (FSC_truth = √(2·FSC_half/(1 + FSC_half)), equal at those thresholds), within a shell; origins
    /// ignored, or a third of the poses lost, cost resolution that the half maps see without any truth.
    func testHalfMapsMeasureWhatTheTruthDoes() throws {
        let data = try particles(1000, snr: 0.1)
        let centroid = Superposition.centroid(structure.models[0]).map(Float.init)
        let reconstruction = try reconstruct(data)
        let halves = try FourierShellCorrelation(try reconstruction.map(halves: [0], wiener: 1e-3, centre: centroid),
                                                 try reconstruction.map(halves: [1], wiener: 1e-3, centre: centroid))
        let full = try reconstruction.map(halves: [0, 1], wiener: 1e-3, centre: centroid)
        let gold = try XCTUnwrap(halves.resolution(at: 0.143)), againstTruth = try XCTUnwrap(try FourierShellCorrelation(full, try truth(on: full)).resolution(at: 0.5))
        let shell = 32 * 2.5 / 16.0
        XCTAssertEqual(1 / Double(gold), 1 / Double(againstTruth), accuracy: 1 / (32 * 2.5), "within a shell: \(gold) against \(againstTruth) Å")
        XCTAssertLessThan(Double(gold), 4 * shell, "the images hold more than the first 4 shells")
        func halfMaps(_ r: FourierReconstruction) throws -> FourierShellCorrelation {
            try FourierShellCorrelation(try r.map(halves: [0], wiener: 1e-3, centre: centroid), try r.map(halves: [1], wiener: 1e-3, centre: centroid))
        }
        // A third of the poses replaced by random ones, as a search that put them in wrong basins would leave them:
        // the FSC falls where it is between 0.2 and 0.98 (a third less signal), though the resolution moves little, the signal of these
        // Gaussian atoms (σ = 1.8 Å) falling steeply there.
        var g = SeededGenerator(seed: 8)
        let lost = try halfMaps(try reconstruct(data, rotations: data.rotations.enumerated().map { $0.offset % 3 == 0 ? Rotation.random(using: &g) : $0.element }))
        let unmoved = try XCTUnwrap(try halfMaps(try reconstruct(data, origins: false)).resolution(at: 0.143))
        XCTAssertGreaterThan(unmoved, 1.15 * gold, "origins ignored")
        for s in 4...9 { XCTAssertLessThan(lost.correlation[s], halves.correlation[s] - 0.03, "a third of the poses lost: shell \(s)") }
    }

    func testBadInputIsRefused() throws {
        XCTAssertThrowsError(try FourierReconstruction(size: 160, pixel: 2)) { XCTAssertTrue("\($0)".contains("read_star(..., size: 128)"), "\($0)") }
        var r = try FourierReconstruction(size: 8, pixel: 2)
        XCTAssertThrowsError(try r.insert(images: [Float](repeating: 0, count: 64), rotations: [.identity, .identity], origins: [0, 0, 0, 0], ctf: nil, half: 0)) {
            XCTAssertTrue("\($0)".contains("got 1 images, 2 rotations"), "\($0)")
        }
    }
}
