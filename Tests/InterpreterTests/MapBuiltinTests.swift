import XCTest
import CryoKernels
@testable import Interpreter

/// density_map, write_mrc, read_mrc(data: true) and fsc from scripts, and their errors.
final class MapBuiltinTests: XCTestCase {
    private func run(_ text: String) throws -> Value { try Interpreter().run(text, name: "t.cryo") ?? .null }

    private func assertError(_ text: String, _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try run(text), file: file, line: line) { error in
            XCTAssertTrue("\(error)".contains(fragment), "expected '\(fragment)' in:\n\(error)", file: file, line: line)
        }
    }

    /// A structure's map written and read back is the same map on the same grid; a moved structure rendered on that
    /// grid correlates with it to a finite resolution, the structure itself to Nyquist (nil), the structure moved by
    /// 8 Å only beyond 12 Å (a template not fitted into the map); the grid comes from a map record, or size and pixel
    /// about the structure's centroid or a given centre.
    func testMapsRoundTripAndCorrelate() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cryo-map-\(UUID().uuidString).mrc").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let value = try run("""
        let s = toy_protein(residues: 60, seed: 0)
        let m = density_map(s, size: 32, pixel: 2)
        write_mrc("\(path)", m)
        let back = read_mrc("\(path)", data: true)
        let moved = anm_trajectory(s, frames: 2, modes: 1, amplitude: 4, seed: 1).models[1]
        let other = density_map(moved, like: s, map: read_mrc("\(path)"))
        let curve = fsc(m, other, plot: "\(path).png")
        let centred = density_map(s, size: 16, pixel: 2, centre: [10, 0, 0])
        let misplaced = fsc(m, density_map(s.coords + tensor([8, 0, 0]), like: s, map: m)).resolution
        [item(sum(abs(back.data - m.data))), back.origin == m.origin, fsc(m, back).resolution, curve.resolution > 4, len(curve.fsc),
         item(sum(m.data)) > 60 * 30, centred.centre, shape(centred.data), misplaced > 12]
        """)
        XCTAssertEqual(ValueFormatter.repr(value), "[0, true, nil, true, 17, true, [10, 0, 0], [16, 16, 16], true]")
        XCTAssertTrue(FileManager.default.fileExists(atPath: path + ".png"))
        try? FileManager.default.removeItem(atPath: path + ".png")
    }

    /// reconstruct from a script: a dataset's images, poses, origins and CTFs give a map that correlates with the
    /// structure's to beyond the half maps' resolution; the halves' curve, its resolution and the maps are returned.
    func testReconstructFromAScript() throws {
        let value = try run("""
        let s = toy_protein(residues: 60, seed: 0)
        let data = simulate(s, images: 400, size: 32, pixel: 2.5, snr: 0.2, shift: 3, seed: 1)
        let rec = reconstruct(data.images, data.rotations, shifts: data.shifts, ctf: data, centre: mean(s.coords, axis: 0), seed: 2)
        let truth = fsc(rec.map, density_map(s, map: rec.map)).resolution
        [shape(rec.map.data), shape(rec.half1.data), len(rec.fsc), rec.resolution > 5, rec.resolution < 20, truth < 20, rec.map.centre == rec.half2.centre]
        """)
        XCTAssertEqual(ValueFormatter.repr(value), "[[32, 32, 32], [32, 32, 32], 17, true, true, true, true]")
        // Halves given as RELION numbers them are kept; a single label is said and replaced by a random split.
        let interpreter = Interpreter()
        var warnings: [String] = []
        interpreter.warningOutput = { warnings.append($0) }
        let splits = try interpreter.run("""
        let s = toy_protein(residues: 40, seed: 0)
        let data = simulate(s, images: 8, size: 16, pixel: 3, seed: 1)
        [reconstruct(data.images, data.rotations, ctf: data, halves: [1, 2, 1, 2, 1, 2, 2, 2]).split,
         reconstruct(data.images, data.rotations, ctf: data, halves: ones([8])).split, reconstruct(data.images, data.rotations, ctf: data).split]
        """, name: "t.cryo") ?? .null
        XCTAssertEqual(ValueFormatter.repr(splits), "[\"given\", \"random\", \"random\"]")
        XCTAssertEqual(warnings, ["reconstruct: every image is in half 1 of halves:, so the images are split at random instead"])
    }

    /// Noise substitution from a script: phase-randomised images keep the dataset's poses and CTFs, their
    /// reconstruction with the true poses agrees to about the cutoff and no further, and corrected_fsc leaves the
    /// shells below the cutoff as measured.
    func testNoiseSubstitutionFromAScript() throws {
        let value = try run("""
        let s = toy_protein(residues: 60, seed: 0)
        let data = simulate(s, images: 400, size: 32, pixel: 2.5, snr: 1, seed: 1)
        let noisy = randomize_phases(data, beyond: 15, seed: 3)
        let rec = reconstruct(data.images, data.rotations, ctf: data, centre: mean(s.coords, axis: 0), seed: 2)
        let sub = reconstruct(noisy.images, noisy.rotations, ctf: noisy, centre: mean(s.coords, axis: 0), seed: 2)
        let fixed = corrected_fsc(rec, sub, beyond: 15)
        [noisy.images.shape == data.images.shape, item(sum(abs(noisy.rotations - data.rotations))), rec.resolution < 10, sub.resolution > 12,
         sub.resolution < 25, fixed.fsc[1] == rec.fsc[1], len(fixed.fsc) == len(rec.fsc)]
        """)
        XCTAssertEqual(ValueFormatter.repr(value), "[true, 0, true, true, true, true, true]")
    }

    func testErrorsNameWhatIsMissing() {
        let s = "let s = toy_protein(residues: 40, seed: 0)\n"
        let data = s + "let data = simulate(s, images: 4, size: 16, pixel: 3, seed: 1)\n"
        let cases: [(script: String, fragment: String)] = [
            (s + "density_map(s)", "give the grid: map: (a map record"),
            (s + "density_map(s, map: {size: [8, 8]})", "argument 'map' must be a map record"),
            (s + "density_map(s, size: 8, pixel: 1, blur: -1)", "widths ≥ 0"),
            (s + "let m = density_map(s, size: 8, pixel: 1)\nfsc(m, {size: m.size, pixel: m.pixel, origin: m.origin})",
             "has no data: read the map with read_mrc(path, data: true)"),
            (s + "fsc(density_map(s, size: 8, pixel: 1), density_map(s, size: 8, pixel: 1, centre: [5, 0, 0]))", "sit at different places"),
            (s + "write_mrc(\"/etc/hostname/m.mrc\", density_map(s, size: 8, pixel: 1))", "m.mrc"),
            (data + "reconstruct(data.images, data.rotations[0..2], ctf: data)", "argument 'rotations' must be rotations [4,3,3]"),
            (data + "reconstruct(data.images, data.rotations)", "give pixel: (Å), or a dataset as ctf:"),
            (data + "reconstruct(data.images, data.rotations, ctf: data, wiener: 0)", "a positive Wiener constant"),
            (data + "reconstruct(data.images[0..1], data.rotations[0..1], ctf: data, pixel: 3)", "got 4 CTFs for 1 images"),
            (data + "reconstruct(data.images[0..1], data.rotations[0..1], pixel: 3)", "needs at least 2 images"),
            (data + "reconstruct(data.images, data.rotations, pixel: 3, halves: [1, 2, 3, 1])", "argument 'halves' must be [4] labels 1 and 2"),
            (data + "randomize_phases(data, beyond: 0)", "beyond: must be a positive resolution"),
            (data + "let r = reconstruct(data.images, data.rotations, ctf: data)\ncorrected_fsc(r, {fsc: r.fsc}, beyond: 8)",
             "argument 'substituted' must be a record with frequency and fsc"),
            (data + "let r = reconstruct(data.images, data.rotations, ctf: data)\ncorrected_fsc(r, {frequency: r.frequency, fsc: [1]}, beyond: 8)",
             "one correlation per shell"),
        ]
        for (script, fragment) in cases { assertError(script, fragment) }
    }
}
