import XCTest
@testable import CryoKernels

/// The Fourier shell correlation against closed forms: identical maps, scaled and negated copies, a map against itself
/// plus as much independent noise as it has signal, and the grids it refuses.
final class FourierShellCorrelationTests: XCTestCase {
    private func noise(_ n: Int, seed: UInt64) throws -> DensityMap {
        var g = SeededGenerator(seed: seed)
        return try DensityMap(size: [n, n, n], spacing: [2, 2, 2], origin: [-10, 0, 5], values: (0..<(n * n * n)).map { _ in Float(g.normal()) })
    }

    private func combined(_ a: DensityMap, _ b: DensityMap, _ f: (Float, Float) -> Float) throws -> DensityMap {
        try DensityMap(size: a.size, spacing: a.spacing, origin: a.origin, values: zip(a.values, b.values).map(f))
    }

    func testIdenticalScaledAndNegatedMaps() throws {
        let a = try noise(16, seed: 1)
        let same = try FourierShellCorrelation(a, a)
        XCTAssertEqual(same.frequency.count, 9)
        XCTAssertEqual(Double(same.frequency[8]), 1 / (2 * 2.0), accuracy: 1e-7, "the last shell is Nyquist, 1/(2·pixel)")
        for c in same.correlation { XCTAssertEqual(c, 1, accuracy: 1e-5) }
        XCTAssertNil(same.resolution(at: 0.5), "identical maps agree to Nyquist")
        let scaled = try FourierShellCorrelation(a, try combined(a, a) { x, _ in 3 * x })
        for c in scaled.correlation { XCTAssertEqual(c, 1, accuracy: 1e-5) }
        let negated = try FourierShellCorrelation(a, try combined(a, a) { x, _ in -x })
        for c in negated.correlation { XCTAssertEqual(c, -1, accuracy: 1e-5) }
    }

    /// A = S, B = S + N with N independent and as strong as S in every shell: FSC = S/√(S·2S) = 1/√2 in expectation,
    /// within a few 1/√(coefficients) per shell; two independent maps correlate near 0.
    func testHalfSignalHalfNoiseGivesOneOverRootTwo() throws {
        let signal = try noise(32, seed: 2), other = try noise(32, seed: 3)
        let curve = try FourierShellCorrelation(signal, try combined(signal, other, +))
        for s in 4...16 { XCTAssertEqual(Double(curve.correlation[s]), 1 / 2.0.squareRoot(), accuracy: 0.08, "shell \(s)") }
        let independent = try FourierShellCorrelation(signal, other)
        for s in 4...16 { XCTAssertEqual(independent.correlation[s], 0, accuracy: 0.12, "shell \(s)") }
        // Read at 0.5 the 1/√2 curve never crosses (nil); at 0.95 it is below from shell 1 on, which gives the box,
        // 1/(N·pixel) = 64 Å; at 0.7 it crosses where it first dips, between that shell and the one before.
        XCTAssertNil(curve.resolution(at: 0.5))
        XCTAssertEqual(try XCTUnwrap(curve.resolution(at: 0.95)), 64, accuracy: 1e-4)
        let c = curve.correlation, shell = try XCTUnwrap((2..<17).first { c[$0] < 0.7 })
        XCTAssertGreaterThanOrEqual(c[1], 0.7, "this seed's curve starts above 0.7")
        XCTAssertTrue((1..<shell).allSatisfy { c[$0] >= 0.7 })
        let f = curve.frequency[shell - 1] + (c[shell - 1] - 0.7) / (c[shell - 1] - c[shell]) * (curve.frequency[shell] - curve.frequency[shell - 1])
        XCTAssertEqual(try XCTUnwrap(curve.resolution(at: 0.7)), 1 / f, accuracy: 1e-4)
    }

    func testGridsThatDoNotMatchAreRefused() throws {
        let a = try noise(8, seed: 4)
        let moved = try DensityMap(size: a.size, spacing: a.spacing, origin: [0, 0, 0], values: a.values)
        XCTAssertThrowsError(try FourierShellCorrelation(a, moved)) { XCTAssertTrue("\($0)".contains("sit at different places"), "\($0)") }
        let coarser = try DensityMap(size: a.size, spacing: [3, 3, 3], origin: a.origin, values: a.values)
        XCTAssertThrowsError(try FourierShellCorrelation(a, coarser)) { XCTAssertTrue("\($0)".contains("isotropic voxel size"), "\($0)") }
        let box = try DensityMap(size: [8, 8, 4], spacing: a.spacing, origin: a.origin, values: Array(a.values[0..<256]))
        XCTAssertThrowsError(try FourierShellCorrelation(box, box)) { XCTAssertTrue("\($0)".contains("cubic box"), "\($0)") }
    }
}
