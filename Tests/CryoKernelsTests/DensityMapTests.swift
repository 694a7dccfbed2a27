import XCTest
@testable import CryoKernels

/// Density maps of Gaussian atoms against closed forms and the projector, and MRC volumes written and read back.
final class DensityMapTests: XCTestCase {
    /// One atom off the voxel centres: the map holds its weight, its centre of mass is the atom's position, and its
    /// variance along each axis is σ² plus the voxel's p²/12 (Sheppard's correction for a density binned into voxels).
    func testOneAtomKeepsItsMassCentreAndWidth() throws {
        let (sigma, pixel, weight): (Float, Float, Float) = (1.7, 1.25, 6)
        let atom: [Float] = [0.37, -1.21, 0.88]
        let spacing = [Float](repeating: pixel, count: 3), size = [24, 24, 24]
        let map = try DensityMap.render(coordinates: atom, sigma: [sigma], weight: [weight], size: size, spacing: spacing,
                                        origin: DensityMap.origin(centredAt: [0, 0, 0], size: size, spacing: spacing))
        XCTAssertEqual(map.centre, [0, 0, 0])
        var mass = 0.0, first = [0.0, 0.0, 0.0], second = [0.0, 0.0, 0.0]
        for z in 0..<24 { for y in 0..<24 { for x in 0..<24 {
            let v = Double(map.values[(z * 24 + y) * 24 + x])
            let position = [x, y, z].enumerated().map { Double(map.origin[$0.offset]) + Double($0.element) * Double(pixel) }
            mass += v
            for k in 0..<3 { first[k] += v * position[k]; second[k] += v * position[k] * position[k] }
        } } }
        XCTAssertEqual(mass, Double(weight), accuracy: 1e-4)
        for k in 0..<3 {
            let mean = first[k] / mass
            XCTAssertEqual(mean, Double(atom[k]), accuracy: 1e-4, "centre of mass along axis \(k)")
            XCTAssertEqual(second[k] / mass - mean * mean, Double(sigma * sigma + pixel * pixel / 12), accuracy: 1e-3, "variance along axis \(k)")
        }
    }

    /// A structure's map summed along z is the projector's image of the same atoms seen along z, on the same grid:
    /// the two share their pixel integrals, the box centre at voxel N/2, and the ±5σ window.
    func testSummedAlongZItIsTheProjectorsImage() throws {
        let structure = try ToyProtein.make(residues: 40, seed: 2)
        let coords = structure.coordinates.storage
        let n = coords.count / 3, size = 40, pixel: Float = 1.5
        let sigma = (0..<n).map { 1.2 + 0.1 * Float($0 % 5) }, weight = (0..<n).map { 4 + Float($0 % 3) }
        let centre: [Float] = [1.3, -0.4, 0.6]
        let spacing = [pixel, pixel, pixel]
        let map = try DensityMap.render(coordinates: coords, sigma: sigma, weight: weight, size: [size, size, size], spacing: spacing,
                                        origin: DensityMap.origin(centredAt: centre, size: [size, size, size], spacing: spacing))
        let relative = (0..<coords.count).map { coords[$0] - centre[$0 % 3] }
        let image = try Projector.project(coords: Tensor(shape: [n, 3], storage: relative), rotations: Rotation.tensor([.identity]),
                                          geometry: Projector.Geometry(size: size, pixel: pixel, sigma: sigma, weight: weight))
        var largest: Float = 0
        for pixelIndex in 0..<(size * size) {
            let column = (0..<size).reduce(Float(0)) { $0 + map.values[$1 * size * size + pixelIndex] }
            largest = max(largest, abs(column - image.storage[pixelIndex]))
        }
        XCTAssertLessThan(largest, 1e-4 * (image.storage.max() ?? 1))
    }

    /// A map written as an MRC volume reads back with its values, voxel size, origin and centre.
    func testMRCVolumeRoundTrip() throws {
        let folder = try TemporaryFolder("cryo-map")
        defer { folder.remove() }
        let size = [6, 5, 4], spacing: [Float] = [1.1, 1.2, 1.3], origin: [Float] = [-3.5, 2.25, 10]
        let values = (0..<120).map { Float($0) * 0.5 - 7 }
        let map = try DensityMap(size: size, spacing: spacing, origin: origin, values: values)
        try MRCFile.write(folder.path("v.mrc"), map: map)
        let header = try MRCMapHeader(path: folder.path("v.mrc"))
        XCTAssertEqual(header.size, size)
        XCTAssertEqual(header.origin, origin)
        XCTAssertEqual(header.centre, map.centre)
        for k in 0..<3 { XCTAssertEqual(header.spacing[k], spacing[k], accuracy: 1e-6) }
        XCTAssertEqual(try header.map().values, values)
    }

    /// Bad grids and atoms are refused with what was wrong.
    func testBadInputIsNamed() throws {
        let grid = (size: [8, 8, 8], spacing: [Float](repeating: 1, count: 3), origin: [Float](repeating: 0, count: 3))
        XCTAssertThrowsError(try DensityMap.render(coordinates: [0, 0, 0], sigma: [0], weight: [1], size: grid.size, spacing: grid.spacing, origin: grid.origin)) {
            XCTAssertTrue("\($0)".contains("atom widths σ must be positive"), "\($0)")
        }
        XCTAssertThrowsError(try DensityMap.render(coordinates: [0, 0, 0], sigma: [1], weight: [1], size: [8, 8], spacing: grid.spacing, origin: grid.origin)) {
            XCTAssertTrue("\($0)".contains("three sizes"), "\($0)")
        }
        XCTAssertThrowsError(try DensityMap.render(coordinates: [0, .nan, 0], sigma: [1], weight: [1], size: grid.size, spacing: grid.spacing, origin: grid.origin)) {
            XCTAssertTrue("\($0)".contains("NaN"), "\($0)")
        }
        XCTAssertThrowsError(try DensityMap(size: grid.size, spacing: [1, 0, 1], origin: grid.origin, values: [Float](repeating: 0, count: 512))) {
            XCTAssertTrue("\($0)".contains("voxel sizes"), "\($0)")
        }
    }
}
