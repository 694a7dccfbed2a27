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
    /// In-plane shift of every image (x, y in Å): where the particle's centre sits relative to the box centre.
    public var shifts: [Float]
    /// CTF of every image.
    public var ctf: [CTFParameters]
    /// Pixel size (Å) and image side (pixels).
    public var pixel: Float
    public var size: Int
    /// Ground-truth conformation index of every image (simulations only).
    public var conformation: [Int]?

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

    /// Mean and standard deviation of every pixel of every image, in one pass of 256 images at a time.
    public func imageStatistics() throws -> (mean: Double, std: Double) {
        var sum = 0.0, squares = 0.0
        for start in stride(from: 0, to: count, by: 256) {
            for v in try imageRows(Array(start..<Swift.min(count, start + 256))).storage { sum += Double(v); squares += Double(v) * Double(v) }
        }
        let n = Double(count * size * size), mean = sum / n
        return (mean, Swift.max(1e-12, (squares / n - mean * mean).squareRoot()))
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
    }
}

/// RELION 3.1+ particle STAR files (`data_optics` and `data_particles`, image names `index@stack.mrcs`,
/// origins in Å, Euler angles in degrees). The ground-truth conformation of a simulation is stored as
/// `_rlnClassNumber` (1-based), a standard label other tools read or ignore.
public enum ParticleSTAR {
    /// Writes `dataset`'s metadata to `path`, naming images `i@stack` (1-based).
    public static func write(_ path: String, dataset: ParticleDataset, stack: String) throws {
        var groups: [[Double]] = []
        var groupOf: [Int] = []
        for c in dataset.ctf {
            let key = [c.voltage, c.sphericalAberration, c.amplitudeContrast]
            if let g = groups.firstIndex(of: key) { groupOf.append(g + 1) } else { groups.append(key); groupOf.append(groups.count) }
        }
        let optics = StarBlock(name: "optics", columns: ["rlnOpticsGroup", "rlnOpticsGroupName", "rlnAmplitudeContrast", "rlnSphericalAberration",
                                                         "rlnVoltage", "rlnImagePixelSize", "rlnImageSize", "rlnImageDimensionality"],
                               rows: groups.enumerated().map { g, key in
                                   ["\(g + 1)", "opticsGroup\(g + 1)", fmt(key[2]), fmt(key[1]), fmt(key[0]), fmt(Double(dataset.pixel)), "\(dataset.size)", "2"]
                               })
        var columns = ["rlnImageName", "rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi", "rlnOriginXAngst", "rlnOriginYAngst",
                       "rlnDefocusU", "rlnDefocusV", "rlnDefocusAngle", "rlnPhaseShift", "rlnCtfBFactor", "rlnOpticsGroup"]
        if dataset.conformation != nil { columns.append("rlnClassNumber") }
        var rows: [[String]] = []
        for i in 0..<dataset.count {
            let (rot, tilt, psi) = dataset.rotations[i].euler
            let c = dataset.ctf[i]
            var row = [String(format: "%06d", i + 1) + "@" + stack, fmt(rot), fmt(tilt), fmt(psi),
                       fmt(Double(dataset.shifts[2 * i])), fmt(Double(dataset.shifts[2 * i + 1])),
                       fmt(c.defocusU), fmt(c.defocusV), fmt(c.astigmatismAngle), fmt(c.phaseShift), fmt(c.bFactor), "\(groupOf[i])"]
            if let conformation = dataset.conformation { row.append("\(conformation[i] + 1)") }
            rows.append(row)
        }
        let particles = StarBlock(name: "particles", columns: columns, rows: rows)
        try AtomicFile.write(Data(STARFile.format([optics, particles]).utf8), to: path, op: "write_star")
    }

    private static func fmt(_ v: Double) -> String { String(format: "%.6f", v) }

    /// Reads a particle STAR file; with `loadImages`, also reads the referenced MRCS stacks (paths relative to the STAR file).
    /// With `stream`, the images stay in their stacks and are read a batch at a time (`ParticleDataset.streamed`).
    public static func read(_ path: String, loadImages: Bool = true, stream: Bool = false) throws -> ParticleDataset {
        guard let data = FileManager.default.contents(atPath: path) else { throw KernelError("read_star", "\(path): no such file or not readable") }
        let blocks = try STARFile.parse(String(decoding: data, as: UTF8.self), name: path)
        guard let particles = blocks.first(where: { $0.name == "particles" }) ?? blocks.last(where: { !$0.columns.isEmpty }) else {
            throw KernelError("read_star", "\(path): no data_particles table")
        }
        let optics = blocks.first { $0.name == "optics" }
        func require(_ label: String) throws -> Int {
            guard let c = particles.column(label) else {
                throw KernelError("read_star", "\(path): table data_\(particles.name) lacks the required column _\(label)")
            }
            return c
        }
        func number(_ row: [String], _ column: Int?, _ fallback: Double, _ line: Int) throws -> Double {
            guard let column else { return fallback }
            guard let v = Double(row[column]), v.isFinite else {
                throw KernelError("read_star", "\(path): particle \(line + 1), column _\(particles.columns[column]): '\(row[column])' is not a number")
            }
            return v
        }
        let nameColumn = try require("rlnImageName"), defocusColumn = try require("rlnDefocusU")
        // Optics group → (voltage, Cs, amplitude contrast, pixel, size).
        var opticsByGroup: [String: [Double]] = [:]
        if let optics {
            for row in optics.rows {
                func o(_ label: String, _ fallback: Double) -> Double { optics.column(label).flatMap { Double(row[$0]) } ?? fallback }
                let group = optics.column("rlnOpticsGroup").map { row[$0] } ?? "1"
                opticsByGroup[group] = [o("rlnVoltage", 300), o("rlnSphericalAberration", 2.7), o("rlnAmplitudeContrast", 0.1),
                                        o("rlnImagePixelSize", 0), o("rlnImageSize", 0)]
            }
        }
        let groupColumn = particles.column("rlnOpticsGroup")
        var rotations: [Rotation] = [], shifts: [Float] = [], ctfs: [CTFParameters] = [], conformations: [Int] = []
        var pixel: Float = 0, size = 0
        for (i, row) in particles.rows.enumerated() {
            let group = groupColumn.map { row[$0] } ?? "1"
            let o = opticsByGroup[group] ?? [300, 2.7, 0.1, 0, 0]
            pixel = Float(o[3])
            size = Int(o[4])
            rotations.append(Rotation(rot: try number(row, particles.column("rlnAngleRot"), 0, i),
                                      tilt: try number(row, particles.column("rlnAngleTilt"), 0, i),
                                      psi: try number(row, particles.column("rlnAnglePsi"), 0, i)))
            let pixelShift = Double(pixel)
            let sx = particles.column("rlnOriginXAngst") != nil ? try number(row, particles.column("rlnOriginXAngst"), 0, i)
                : try number(row, particles.column("rlnOriginX"), 0, i) * pixelShift
            let sy = particles.column("rlnOriginYAngst") != nil ? try number(row, particles.column("rlnOriginYAngst"), 0, i)
                : try number(row, particles.column("rlnOriginY"), 0, i) * pixelShift
            shifts += [Float(sx), Float(sy)]
            let du = try number(row, defocusColumn, 0, i)
            ctfs.append(CTFParameters(defocusU: du, defocusV: try number(row, particles.column("rlnDefocusV"), du, i),
                                      astigmatismAngle: try number(row, particles.column("rlnDefocusAngle"), 0, i),
                                      voltage: o[0], sphericalAberration: o[1], amplitudeContrast: o[2],
                                      phaseShift: try number(row, particles.column("rlnPhaseShift"), 0, i),
                                      bFactor: try number(row, particles.column("rlnCtfBFactor"), 0, i)))
            if let c = particles.column("rlnClassNumber") { conformations.append(Int(try number(row, c, 1, i)) - 1) }
        }
        var images: Tensor?, streamed: StreamedImages?
        if loadImages {
            let directory = (path as NSString).deletingLastPathComponent
            var stacks: [String: MRCFile] = [:]
            var values: [Float] = [], locations: [(stack: MRCFile, index: Int)] = []
            for (i, row) in particles.rows.enumerated() {
                let parts = row[nameColumn].split(separator: "@", maxSplits: 1).map(String.init)
                guard parts.count == 2, let index = Int(parts[0]), index >= 1 else {
                    throw KernelError("read_star", "\(path): particle \(i + 1): image name '\(row[nameColumn])' is not of the form index@stack.mrcs")
                }
                let file = parts[1].hasPrefix("/") ? parts[1] : (directory.isEmpty ? parts[1] : directory + "/" + parts[1])
                let stack = try stacks[file] ?? MRCFile(path: file, op: "read_star")
                stacks[file] = stack
                guard index <= stack.nz else {
                    throw KernelError("read_star", "\(path): particle \(i + 1) refers to image \(index) of \(file), which holds \(stack.nz)")
                }
                if size == 0 { size = stack.nx }
                if pixel == 0 { pixel = stack.pixel }
                guard stack.nx == size, stack.ny == size else {
                    throw KernelError("read_star", "\(path): \(file) holds \(stack.nx)×\(stack.ny) images, the optics table says \(size)")
                }
                if stream { locations.append((stack, index - 1)) } else { values += try stack.images((index - 1)..<index) }
            }
            if stream {
                streamed = try StreamedImages(locations: locations, size: size)
            } else {
                images = Tensor(uncheckedShape: [particles.rows.count, size, size], storage: values)
            }
        }
        var dataset = try ParticleDataset(images: images, rotations: rotations, shifts: shifts, ctf: ctfs, pixel: pixel, size: size,
                                          conformation: conformations.isEmpty ? nil : conformations, op: "read_star")
        dataset.streamed = streamed
        return dataset
    }
}
