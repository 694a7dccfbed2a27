import Foundation

/// A particle dataset: images with their poses, shifts and CTFs, and — for simulations — the ground-truth
/// conformation of every image.
public struct ParticleDataset: Sendable {
    /// Images [M,D,D] (nil when only the metadata was read, or when they are streamed).
    public var images: Tensor?
    /// Images left in their MRC stacks and read a batch at a time (instead of `images`).
    public var streamed: StreamedImages?
    /// Pose of every image (model → microscope frame).
    public var rotations: [Rotation]
    /// In-plane shift of every image (x, y in Å) as RELION's origin (rlnOriginXAngst, rlnOriginYAngst): the
    /// particle's centre sits at the box centre minus the shift.
    public var shifts: [Float]
    /// CTF of every image.
    public var ctf: [CTFParameters]
    /// Pixel size (Å) and image side (pixels) of the images as CryoScript sees them (after any resampling on read).
    public var pixel: Float
    public var size: Int
    /// Ground-truth conformation index of every image (simulations only).
    public var conformation: [Int]?
    /// The optics groups as their files describe them, and the group (index into `optics`) of every image.
    public var optics: [OpticsGroup]
    public var opticsGroup: [Int]
    /// The STAR file the dataset was read from (nil for simulations), for writing it back with every column.
    public var metadata: StarMetadata?

    /// Number of particles.
    public var count: Int { rotations.count }

    /// Whether the dataset has images, in memory or streamed.
    public var hasImages: Bool { images != nil || streamed != nil }

    /// The images of particles `rows` as [rows.count, D, D], from memory or from the stacks.
    public func imageRows(_ rows: [Int]) throws -> Tensor {
        if let streamed {
            return Tensor(uncheckedShape: [rows.count, size, size], storage: try streamed.read(rows))
        }
        guard let images else { throw KernelError("dataset", "the dataset has no images") }
        return try images.gather(Tensor(rows.map(Float.init)))
    }

    /// Sum, sum of squares and count of the pixels of images `rows`, read 256 images at a time.
    public func imageSums(_ rows: [Int]) throws -> (sum: Double, squares: Double, count: Double) {
        var sum = 0.0, squares = 0.0
        for start in stride(from: 0, to: rows.count, by: 256) {
            for v in try imageRows(Array(rows[start..<Swift.min(rows.count, start + 256)])).storage { sum += Double(v); squares += Double(v) * Double(v) }
        }
        return (sum, squares, Double(rows.count * size * size))
    }

    /// The shifts as a `[M,2]` tensor (Å).
    public var shiftTensor: Tensor { Tensor(uncheckedShape: [count, 2], storage: shifts) }

    /// A dataset; throws if the per-image arrays disagree in length.
    public init(images: Tensor?, rotations: [Rotation], shifts: [Float], ctf: [CTFParameters], pixel: Float, size: Int,
                conformation: [Int]? = nil, op: String = "dataset") throws {
        let m = rotations.count
        guard shifts.count == 2 * m, ctf.count == m, conformation.map({ $0.count == m }) ?? true else {
            throw KernelError(op, "per-image fields disagree: \(m) rotations, \(shifts.count / 2) shifts, \(ctf.count) CTFs, \(conformation?.count ?? m) conformation labels")
        }
        if let images, images.shape != [m, size, size] {
            throw KernelError.shape(op, expected: "images [\(m),\(size),\(size)]", got: images.shape)
        }
        self.images = images
        self.rotations = rotations
        self.shifts = shifts
        self.ctf = ctf
        self.pixel = pixel
        self.size = size
        self.conformation = conformation
        (optics, opticsGroup) = OpticsGroup.grouping(ctf, pixel: pixel, size: size)
    }

    /// The particles `rows` (0-based, in that order) as a dataset of their own: images, poses, CTFs, labels,
    /// optics and the STAR rows they came from.
    public func subset(_ rows: [Int], op: String = "subset") throws -> ParticleDataset {
        guard rows.allSatisfy({ (0..<count).contains($0) }) else {
            throw KernelError(op, "particle indices must lie in 0..<\(count), got \(rows.first { !(0..<count).contains($0) } ?? -1)")
        }
        var out = try ParticleDataset(images: try images.map { try $0.gather(Tensor(rows.map(Float.init))) },
                                      rotations: rows.map { rotations[$0] }, shifts: rows.flatMap { [shifts[2 * $0], shifts[2 * $0 + 1]] },
                                      ctf: rows.map { ctf[$0] }, pixel: pixel, size: size, conformation: conformation.map { c in rows.map { c[$0] } }, op: op)
        out.streamed = try streamed?.subset(rows)
        out.optics = optics
        out.opticsGroup = rows.map { opticsGroup[$0] }
        out.metadata = metadata.map { m in var m = m; m.rows = rows.map { m.rows[$0] }; return m }
        return out
    }
}
