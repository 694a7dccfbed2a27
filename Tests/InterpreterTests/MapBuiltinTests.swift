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

    func testErrorsNameWhatIsMissing() {
        let s = "let s = toy_protein(residues: 40, seed: 0)\n"
        assertError(s + "density_map(s)", "give the grid: map: (a map record")
        assertError(s + "density_map(s, map: {size: [8, 8]})", "argument 'map' must be a map record")
        assertError(s + "density_map(s, size: 8, pixel: 1, blur: -1)", "widths ≥ 0")
        assertError(s + "let m = density_map(s, size: 8, pixel: 1)\nfsc(m, {size: m.size, pixel: m.pixel, origin: m.origin})", "has no data: read the map with read_mrc(path, data: true)")
        assertError(s + "fsc(density_map(s, size: 8, pixel: 1), density_map(s, size: 8, pixel: 1, centre: [5, 0, 0]))", "sit at different places")
        assertError(s + "write_mrc(\"/etc/hostname/m.mrc\", density_map(s, size: 8, pixel: 1))", "m.mrc")
    }
}
