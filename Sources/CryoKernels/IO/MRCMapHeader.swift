/// Where an MRC map sits in space, read as ChimeraX and RELION place it: voxel size = cell / sampling, axes
/// mapped through mapc/mapr/maps, voxel 0 at the header origin when it is set, else at the start indices times
/// the voxel size. A model fitted into the map shares these coordinates, so the map's box centre (voxel N/2
/// along each axis) is where RELION's projections put the image centre.
public struct MRCMapHeader: Sendable {
    public let path: String
    /// Voxels along x, y, z.
    public let size: [Int]
    /// Voxel spacing (Å) along x, y, z (EMDB maps are not always cubic).
    public let spacing: [Float]
    /// Position (Å) of voxel 0 and of the box centre, x, y, z.
    public let origin: [Float]
    public let centre: [Float]
    private let file: MRCFile

    public init(path: String) throws {
        let file = try MRCFile(path: path, op: "read_mrc")
        let order = file.axisOrder
        guard Set(order) == [1, 2, 3] else { throw KernelError("read_mrc", "\(path): mapc/mapr/maps \(order) is not a permutation of 1, 2, 3") }
        var size = [0, 0, 0], start = [0, 0, 0]
        for (k, n) in [file.nx, file.ny, file.nz].enumerated() {
            size[order[k] - 1] = n
            start[order[k] - 1] = file.start[k]
        }
        let spacing = (0..<3).map { file.sampling[$0] > 0 ? file.cell[$0] / Float(file.sampling[$0]) : 0 }
        guard spacing.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw KernelError("read_mrc", "\(path): the header gives no voxel size (cell \(file.cell), sampling \(file.sampling))")
        }
        let origin = file.headerOrigin.allSatisfy({ $0 == 0 || !$0.isFinite })
            ? (0..<3).map { Float(start[$0]) * spacing[$0] } : file.headerOrigin
        self.path = path
        self.size = size
        self.spacing = spacing
        self.origin = origin
        centre = DensityMap.centre(origin: origin, size: size, spacing: spacing)
        self.file = file
    }

    /// The map with its values in x, y, z order ([z, y, x], x fastest), whatever axes the file's columns, rows and
    /// sections run along (EMDB maps are not all stored x, y, z).
    public func map() throws -> DensityMap {
        let stored = try file.images(0..<file.nz)
        let order = file.axisOrder.map { $0 - 1 }
        var values = stored
        if order != [0, 1, 2] {
            var position = [0, 0, 0]
            var index = 0
            for section in 0..<file.nz {
                position[order[2]] = section
                for row in 0..<file.ny {
                    position[order[1]] = row
                    for column in 0..<file.nx {
                        position[order[0]] = column
                        values[(position[2] * size[1] + position[1]) * size[0] + position[0]] = stored[index]
                        index += 1
                    }
                }
            }
        }
        return try DensityMap(size: size, spacing: spacing, origin: origin, values: values, op: "read_mrc")
    }
}
