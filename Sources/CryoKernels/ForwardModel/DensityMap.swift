import Foundation

/// A 3D map on a regular grid, placed in space as an MRC map is: voxel (k, i, j) (section z, row y, column x)
/// is centred at `origin + (j, i, k) · spacing` Å, so a model fitted into the map shares its coordinates and the box
/// centre (voxel N/2 along each axis) is where RELION's projections put the image centre.
public struct DensityMap: Sendable {
    /// Voxels along x, y, z.
    public let size: [Int]
    /// Voxel spacing (Å) along x, y, z.
    public let spacing: [Float]
    /// Position (Å) of voxel 0, x, y, z.
    public let origin: [Float]
    /// The values [z, y, x] (x fastest), size[0]·size[1]·size[2] of them.
    public let values: [Float]

    /// Checks that `values` fill the box and that the spacing is positive.
    public init(size: [Int], spacing: [Float], origin: [Float], values: [Float], op: String = "density_map") throws {
        try DensityMap.checkGrid(size: size, spacing: spacing, origin: origin, op: op)
        guard values.count == size[0] * size[1] * size[2] else {
            throw KernelError(op, "a \(size[0])×\(size[1])×\(size[2]) map needs \(size[0] * size[1] * size[2]) values, got \(values.count)")
        }
        self.size = size
        self.spacing = spacing
        self.origin = origin
        self.values = values
    }

    /// Checks a grid: three sizes in 1...4096 voxels, three positive voxel sizes and a finite origin.
    static func checkGrid(size: [Int], spacing: [Float], origin: [Float], op: String) throws {
        guard size.count == 3, size.allSatisfy({ $0 > 0 && $0 <= 4096 }) else { throw KernelError(op, "a map's box must be three sizes in 1...4096 voxels, got \(size)") }
        guard spacing.count == 3, spacing.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw KernelError(op, "voxel sizes must be three positive numbers (Å), got \(spacing)") }
        guard origin.count == 3, origin.allSatisfy(\.isFinite) else { throw KernelError(op, "a map's origin must be three finite numbers (Å), got \(origin)") }
    }

    /// The position (Å, x, y, z) of the box centre, voxel N/2 along each axis.
    public var centre: [Float] { DensityMap.centre(origin: origin, size: size, spacing: spacing) }

    /// The box centre (Å, voxel N/2 along each axis) of a grid of `size` voxels of `spacing` Å from `origin`.
    public static func centre(origin: [Float], size: [Int], spacing: [Float]) -> [Float] {
        (0..<3).map { origin[$0] + Float(size[$0] / 2) * spacing[$0] }
    }

    /// The origin that puts the box centre of `size` voxels of `spacing` Å at `centre` (Å).
    public static func origin(centredAt centre: [Float], size: [Int], spacing: [Float]) -> [Float] {
        (0..<3).map { centre[$0] - Float(size[$0] / 2) * spacing[$0] }
    }

    /// The density of Gaussian atoms `coordinates` (N·3 values, Å, x y z) with widths `sigma` (Å) and weights
    /// `weight` (N each) on the grid of `size` voxels of `spacing` Å from `origin`: each voxel holds the integral
    /// of every atom's normal density over the voxel's extent times the atom's weight, as `Projector` fills a pixel,
    /// so an atom inside the box sums to its weight and the map summed along z is the projector's image of the
    /// same atoms seen along z on the same grid. Each atom is rendered within ±`Projector.windowSigmas`·σ.
    /// Parallel over sections.
    public static func render(coordinates: [Float], sigma: [Float], weight: [Float], size: [Int], spacing: [Float], origin: [Float]) throws -> DensityMap {
        let atoms = coordinates.count / 3
        guard coordinates.count == 3 * atoms, sigma.count == atoms, weight.count == atoms else {
            throw KernelError("density_map", "got \(coordinates.count / 3) atoms, \(sigma.count) widths and \(weight.count) weights")
        }
        guard sigma.allSatisfy({ $0 > 0 && $0.isFinite }) else { throw KernelError("density_map", "atom widths σ must be positive and finite") }
        guard coordinates.allSatisfy(\.isFinite) else { throw KernelError("density_map", "the coordinates hold a NaN or an infinity") }
        try checkGrid(size: size, spacing: spacing, origin: origin, op: "density_map")
        let axes = (0..<3).map { VoxelAxis(start: origin[$0], step: spacing[$0], count: size[$0]) }
        let (nx, ny, nz) = (size[0], size[1], size[2])
        var values = [Float](repeating: 0, count: nx * ny * nz)
        values.withUnsafeMutableBufferPointer { out in
            let voxels = SharedPointer(base: out.baseAddress!)
            Parallel.forRanges(nz, grain: 1) { sections in
                var fx = [Float](), fy = [Float](), fz = [Float]()
                for n in 0..<atoms {
                    let half = Projector.windowSigmas * sigma[n]
                    let (zFirst, zCount) = axes[2].masses(centre: coordinates[3 * n + 2], sigma: sigma[n], half: half, into: &fz)
                    let zLo = Swift.max(zFirst, sections.lowerBound), zHi = Swift.min(zFirst + zCount, sections.upperBound)
                    guard zLo < zHi else { continue }
                    let (yFirst, yCount) = axes[1].masses(centre: coordinates[3 * n + 1], sigma: sigma[n], half: half, into: &fy)
                    let (xFirst, xCount) = axes[0].masses(centre: coordinates[3 * n], sigma: sigma[n], half: half, into: &fx)
                    guard yCount > 0, xCount > 0 else { continue }
                    for k in zLo..<zHi {
                        let wz = weight[n] * fz[k - zFirst]
                        for i in 0..<yCount {
                            let wy = wz * fy[i], row = voxels.base + (k * ny + yFirst + i) * nx + xFirst
                            for j in 0..<xCount { row[j] += wy * fx[j] }
                        }
                    }
                }
            }
        }
        return try DensityMap(size: size, spacing: spacing, origin: origin, values: values)
    }

}

/// One axis of a map's grid: voxel v is centred at `start + v·step` Å, for v in 0..<count.
private struct VoxelAxis {
    let start: Float, step: Float, count: Int

    /// The masses of a normal density at `centre` (Å) of width `sigma` over the voxels within ±`half` Å of it and
    /// inside the box, written to `masses`; returns the first voxel and how many follow.
    func masses(centre: Float, sigma: Float, half: Float, into masses: inout [Float]) -> (Int, Int) {
        let first = Swift.max(0, Int(((centre - half - start) / step).rounded(.down)))
        let last = Swift.min(count - 1, Int(((centre + half - start) / step).rounded(.up)))
        guard first <= last else { return (0, 0) }
        masses.removeAll(keepingCapacity: true)
        let scale = 1 / (Double(sigma) * 2.0.squareRoot())
        var lower = erf((Double(start) + (Double(first) - 0.5) * Double(step) - Double(centre)) * scale)
        for v in first...last {
            let upper = erf((Double(start) + (Double(v) + 0.5) * Double(step) - Double(centre)) * scale)
            masses.append(Float(0.5 * (upper - lower)))
            lower = upper
        }
        return (first, last - first + 1)
    }
}
