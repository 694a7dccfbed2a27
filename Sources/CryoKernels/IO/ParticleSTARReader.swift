import Foundation

/// Particle STAR files of every RELION flavour, read with RELION's conventions (which cryoDRGN and cryoJAX follow):
/// - RELION 3.1, 4 and 5: a `data_optics` table and a `data_particles` table, in either order; origins in Å
///   (`rlnOriginXAngst/YAngst`); pixel size, voltage, Cs and amplitude contrast per optics group;
/// - RELION 3.0 and earlier (and `data_images`, `data_` tables): no optics table; pixel size from
///   `rlnImagePixelSize`, or 10000·`rlnDetectorPixelSize`/`rlnMagnification`; origins in pixels
///   (`rlnOriginX/Y`); voltage, Cs and amplitude contrast per particle.
/// A particle-level value (voltage, Cs, amplitude contrast) overrides its optics group's, as cryoDRGN reads it.
/// Shifts are RELION's origins: the particle sits at the box centre minus the origin. Stack paths in
/// `rlnImageName` are resolved as RELION does (`StackPaths`). Groups whose pixel or box differ are resampled on
/// read to one grid (`ImageResampler`). Nothing is assumed silently: what was defaulted is in `summary`.
public enum ParticleSTARReader {
    /// How to read.
    public struct Options: Sendable {
        /// Read the images (else only the metadata), and leave them in their stacks (`StreamedImages`).
        public var loadImages = true
        public var stream = false
        /// Box side to resample every image to (nil: the box of the group with the coarsest pixel).
        public var size: Int?
        /// Whether groups that differ in pixel size or box may be resampled to one grid (else an error).
        public var resample = true
        /// RELION's project directory, where stack paths start (nil: the current directory).
        public var projectDirectory: String?
        /// Soft circular mask radius (Å) applied to every image after resampling.
        public var maskRadius: Float?
        /// Pixel size (Å) to use where the file gives none.
        public var pixel: Float?
        /// The particles are black on white, the contrast opposite to RELION's (the model's CTF is negated to match).
        public var invert = false

        public init(loadImages: Bool = true, stream: Bool = false, size: Int? = nil, resample: Bool = true,
                    projectDirectory: String? = nil, maskRadius: Float? = nil, pixel: Float? = nil, invert: Bool = false) {
            self.invert = invert
            self.loadImages = loadImages
            self.stream = stream
            self.size = size
            self.resample = resample
            self.projectDirectory = projectDirectory
            self.maskRadius = maskRadius
            self.pixel = pixel
        }
    }

    /// Reads `path` (a STAR file, or a cryoSPARC `.cs` file converted as csparc2star does) and returns the
    /// dataset and a one-line summary: particles, optics groups, pixel sizes, box, and what was assumed.
    public static func read(_ path: String, options: Options = Options()) throws -> (dataset: ParticleDataset, summary: String) {
        let (blocks, sourceNotes) = try sourceBlocks(path)
        var table = try ParticleTable(blocks: blocks, path: path, userPixel: options.pixel)
        for note in sourceNotes { table.note(note) }
        var stacks = StackPaths(starPath: path, projectDirectory: options.projectDirectory)
        var images: Tensor?, streamed: StreamedImages?
        var grid = (pixel: table.groups.first?.pixel ?? 0, size: table.groups.first?.size ?? 0)
        var resampledNote = ""
        if options.loadImages {
            let located = try table.locateImages(&stacks)
            let (resamplers, target) = try commonGrid(&table, options: options, path: path)
            grid = target
            if resamplers.contains(where: { !$0.isIdentity }) {
                resampledNote = "; images resampled to \(target.size) px at \(format(target.pixel)) Å"
                    + (options.maskRadius.map { ", masked at \(format($0)) Å" } ?? "")
            }
            let stream = try StreamedImages(locations: located, size: target.size, resamplers: resamplers, resamplerOf: table.groupOf)
            if table.demodulations.contains(where: { $0 != nil }) { stream.demodulation = (table.demodulations, target.pixel) }
            if options.stream {
                streamed = stream
            } else {
                var values: [Float] = []
                values.reserveCapacity(table.count * target.size * target.size)
                for start in stride(from: 0, to: table.count, by: 256) {
                    values += try stream.read(Array(start..<Swift.min(table.count, start + 256)))
                }
                images = Tensor(uncheckedShape: [table.count, target.size, target.size], storage: values)
            }
        } else if Set(table.groups.map(\.pixel)).count > 1 {
            grid.pixel = table.groups.map(\.pixel).max() ?? 0
            table.note("metadata only: the dataset's pixel is the coarsest group's, \(format(grid.pixel)) Å")
        }
        if grid.pixel == 0 {
            table.note("pixel size unknown: the file gives none and the images' headers were not read (images: false); give pixel:")
        }
        if grid.pixel > 0 { table.noteDemodulation(nyquist: 1 / (2 * Double(grid.pixel)), read: options.loadImages) }
        if options.invert { table.invertContrast() }
        var dataset = try ParticleDataset(images: images, rotations: table.rotations, shifts: table.shifts, ctf: table.ctf,
                                          pixel: grid.pixel, size: grid.size, conformation: table.classes, op: "read_star")
        dataset.streamed = streamed
        dataset.optics = table.groups
        dataset.opticsGroup = table.groupOf
        dataset.metadata = StarMetadata(blocks: blocks, particlesBlock: table.particlesIndex, opticsBlock: table.opticsIndex,
                                        rows: Array(0..<table.count), path: path)
        let pixels = Set(table.groups.map { format($0.pixel) }).sorted().joined(separator: "/")
        let boxes = Set(table.groups.map { $0.size == 0 ? "unknown" : "\($0.size)" }).sorted().joined(separator: "/")
        let summary = "read_star: \(path): \(table.count) particles, \(table.groups.count) optics group\(table.groups.count == 1 ? "" : "s") "
            + "(\(table.flavour); pixel \(pixels) Å, box \(boxes))\(resampledNote)"
            + (table.notes.isEmpty ? "" : "; " + table.notes.joined(separator: "; "))
        return (dataset, summary)
    }

    /// The STAR blocks of `path`: parsed, or converted from a cryoSPARC `.cs` file (with notes on what the conversion
    /// leaves out).
    static func sourceBlocks(_ path: String) throws -> (blocks: [StarBlock], notes: [String]) {
        if path.lowercased().hasSuffix(".cs") { return try CryoSPARCParticles.converted(path: path) }
        guard let data = FileManager.default.contents(atPath: path) else { throw KernelError("read_star", "\(path): no such file or not readable") }
        return (try STARFile.parse(data, name: path), [])
    }

    /// Every group's images brought to one grid: the box `options.size` (default: the box of the group with
    /// the coarsest pixel) spanning that group's field of view. Updates group boxes read from the stacks.
    static func commonGrid(_ table: inout ParticleTable, options: Options, path: String) throws -> (resamplers: [ImageResampler], target: (pixel: Float, size: Int)) {
        guard let reference = table.groups.indices.max(by: { table.groups[$0].pixel < table.groups[$1].pixel }) else {
            throw KernelError("read_star", "\(path): no particles")
        }
        let (refPixel, refSize) = (table.groups[reference].pixel, table.groups[reference].size)
        let size = options.size ?? refSize
        guard size >= 2, size % 2 == 0, size <= refSize else {
            throw KernelError("read_star", "\(path): size: \(size) must be even and at most the box of \(refSize) px (it Fourier-crops the images)")
        }
        let pixel = refPixel * Float(refSize) / Float(size)
        let differing = table.groups.filter { $0.pixel != refPixel || $0.size != refSize }
        if !differing.isEmpty && !options.resample {
            let list = table.groups.map { "\($0.name): \(format($0.pixel)) Å, \($0.size) px" }.joined(separator: "; ")
            throw KernelError("read_star", "\(path): optics groups differ in pixel size or box (\(list)) and resample: false was asked; "
                              + "allow resampling to one grid, or split the file by optics group")
        }
        let resamplers = table.groups.map { ImageResampler(from: $0.size, pixel: $0.pixel, to: size, pixel: pixel, maskRadius: options.maskRadius) }
        return (resamplers, (pixel, size))
    }

    static func format(_ v: Float) -> String { String(format: "%g", Double(v)) }
}

/// The particles table of a STAR file turned into per-particle values, with the optics groups they belong to
/// and a note for every value that had to be assumed.
struct ParticleTable {
    let path: String
    let particles: StarBlock
    let particlesIndex: Int, opticsIndex: Int?
    let flavour: String
    var groups: [OpticsGroup] = []
    var groupOf: [Int] = []
    var rotations: [Rotation] = [], shifts: [Float] = [], ctf: [CTFParameters] = []
    var classes: [Int]?
    /// The correction of each group's antisymmetric aberrations (`PhaseDemodulation`), nil where there are none.
    var demodulations: [PhaseDemodulation?] = []
    private(set) var notes: [String] = []

    var count: Int { particles.rows.count }

    mutating func note(_ text: String) { if !notes.contains(text) { notes.append(text) } }

    /// "every optics group", or "optics group(s) " and the names of the groups `g` for which `holds(g)`; nil for none.
    func groupNames(where holds: (Int) -> Bool) -> String? {
        let named = groups.indices.filter(holds).map { groups[$0].name }
        return named.isEmpty ? nil : named.count == groups.count ? "every optics group"
            : "optics group\(named.count == 1 ? "" : "s") " + named.joined(separator: ", ")
    }

    /// Notes the optics groups whose terms change the CTF (`OpticsTerms`), naming the groups.
    mutating func noteOpticsTerms() {
        func names(_ holds: (OpticsTerms) -> Bool) -> String? { groupNames { holds(groups[$0].terms) } }
        if let n = names({ $0.phaseFlipped }) { note("\(n): images phase-flipped (_rlnCtfDataArePhaseFlipped), so the model's filter is |CTF|") }
        if let n = names({ $0.premultiplied }) { note("\(n): images CTF-premultiplied (_rlnCtfDataAreCtfPremultiplied), so the model's filter is CTF²") }
        if let n = names({ $0.changesPhase }) {
            note("\(n): CtfRefine's symmetric aberrations (_rlnEvenZernike) and anisotropic magnification (_rlnMagMat) applied to the CTF as RELION applies them")
        }
    }

    /// Notes the optics groups whose antisymmetric aberrations are corrected in the images (`PhaseDemodulation`), with
    /// the largest phase corrected up to `nyquist` Å⁻¹ (the images' as read); `read` says whether images were read.
    mutating func noteDemodulation(nyquist: Double, read: Bool) {
        let corrected = demodulations.compactMap { $0 }
        guard let which = groupNames(where: { demodulations[$0] != nil }) else { return }
        let largest = corrected.map { $0.largestPhase(upTo: nyquist) }.max() ?? 0
        note(String(format: "%@: antisymmetric aberrations (_rlnOddZernike, _rlnBeamTiltX/Y) %@ as RELION demodulates them, up to %.2f rad of phase within the images' Nyquist (%.3g Å)",
                    which, read ? "corrected in every image read" : "to be corrected in the images when they are read", largest, 1 / nyquist))
    }

    init(blocks: [StarBlock], path: String, userPixel: Float?) throws {
        self.path = path
        guard let p = blocks.firstIndex(where: { $0.name == "particles" && $0.column("rlnImageName") != nil })
                ?? blocks.firstIndex(where: { $0.column("rlnImageName") != nil }) else {
            let described = blocks.map { "data_\($0.name) (\($0.columns.prefix(4).map { "_" + $0 }.joined(separator: ", "))\($0.columns.count > 4 ? ", …" : ""))" }
            throw KernelError("read_star", "\(path): no table has the column _rlnImageName, so this is not a particle STAR file (tables: \(described.joined(separator: "; ")))")
        }
        particlesIndex = p
        particles = blocks[p]
        opticsIndex = blocks.firstIndex { $0.name == "optics" && $0.column("rlnOpticsGroup") != nil }
        flavour = path.lowercased().hasSuffix(".cs") ? "cryoSPARC .cs, converted as csparc2star does"
            : opticsIndex != nil ? "RELION 3.1+ with optics table" : "RELION 3.0 style, no optics table"
        let optics = opticsIndex.map { blocks[$0] }
        let fields = Fields(block: particles, path: path)
        try fields.require("rlnDefocusU", why: "every particle needs its CTF")

        // Optics groups of a 3.1 file, by their number.
        var opticsByNumber: [String: Int] = [:]
        var opticsRows: [OpticsRowTerms] = []
        if let optics {
            let o = Fields(block: optics, path: path)
            for r in optics.rows.indices {
                let number = optics.rows[r][optics.column("rlnOpticsGroup") ?? 0]
                guard let n = Int(number) else { throw o.notANumber(row: r, label: "rlnOpticsGroup") }
                let pixel = try o.double(r, "rlnImagePixelSize")
                groups.append(OpticsGroup(number: n, name: o.string(r, "rlnOpticsGroupName") ?? "opticsGroup\(n)", pixel: Float(pixel ?? 0),
                                          size: Int(try o.double(r, "rlnImageSize") ?? 0), voltage: try o.double(r, "rlnVoltage") ?? .nan,
                                          sphericalAberration: try o.double(r, "rlnSphericalAberration") ?? .nan,
                                          amplitudeContrast: try o.double(r, "rlnAmplitudeContrast") ?? .nan))
                let row = try OpticsRowTerms(o, row: r)
                groups[groups.count - 1].terms = row.terms
                opticsRows.append(row)
                opticsByNumber[number] = groups.count - 1
            }
            noteOpticsTerms()
        }
        var groupOfKey: [[Double]: Int] = [:]     // RELION 3.0: one group per distinct (pixel, voltage, Cs, w)
        var overridden: Set<String> = []
        for i in particles.rows.indices {
            // The particle's optics: its group's (3.1), overridden by particle-level columns.
            var group = OpticsGroup(number: 0, name: "", pixel: 0, size: 0, voltage: .nan, sphericalAberration: .nan, amplitudeContrast: .nan)
            if optics != nil {
                let number = fields.string(i, "rlnOpticsGroup") ?? "1"
                if fields.string(i, "rlnOpticsGroup") == nil { note("no _rlnOpticsGroup column: every particle is in optics group 1") }
                guard let g = opticsByNumber[number] else {
                    throw KernelError("read_star", "\(path): particle \(i + 1) is in optics group \(number), which the data_optics table does not list (it lists \(opticsByNumber.keys.sorted().joined(separator: ", ")))")
                }
                group = groups[g]
                groupOf.append(g)
            }
            for (label, keyPath) in [("rlnVoltage", \OpticsGroup.voltage), ("rlnSphericalAberration", \.sphericalAberration), ("rlnAmplitudeContrast", \.amplitudeContrast)] {
                if let v = try fields.double(i, label) {
                    if optics != nil, !group[keyPath: keyPath].isNaN, group[keyPath: keyPath] != v { overridden.insert(label) }
                    group[keyPath: keyPath] = v
                }
            }
            if optics == nil {
                if let p = try fields.double(i, "rlnImagePixelSize") {
                    group.pixel = Float(p)
                } else if let detector = try fields.double(i, "rlnDetectorPixelSize"), let magnification = try fields.double(i, "rlnMagnification"), magnification > 0 {
                    group.pixel = Float(10_000 * detector / magnification)
                }
            }
            if group.pixel == 0, let userPixel {
                group.pixel = userPixel
                note("pixel size \(ParticleSTARReader.format(userPixel)) Å from pixel: (the file gives none)")
            }
            if group.voltage.isNaN { group.voltage = 300; note("no voltage: 300 kV assumed") }
            if group.sphericalAberration.isNaN { group.sphericalAberration = 2.7; note("no spherical aberration: 2.7 mm assumed") }
            if group.amplitudeContrast.isNaN { group.amplitudeContrast = 0.1; note("no amplitude contrast: 0.1 assumed") }
            if optics == nil {
                let key = [Double(group.pixel), group.voltage, group.sphericalAberration, group.amplitudeContrast]
                if let g = groupOfKey[key] {
                    groupOf.append(g)
                } else {
                    group.number = groups.count + 1
                    group.name = "opticsGroup\(group.number)"
                    groups.append(group)
                    groupOfKey[key] = groups.count - 1
                    groupOf.append(groups.count - 1)
                }
            } else if groups[groupOf[i]].pixel == 0 {
                groups[groupOf[i]].pixel = group.pixel
            }
            let pixel = Double(group.pixel)

            let angles = try ["rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi"].map { try fields.double(i, $0) }
            if angles.contains(where: { $0 == nil }) {
                let missing = zip(["_rlnAngleRot", "_rlnAngleTilt", "_rlnAnglePsi"], angles).filter { $0.1 == nil }.map(\.0)
                note("no \(missing.joined(separator: ", ")): taken as 0 (poses unknown: train with poses: \"esl\")")
            }
            rotations.append(Rotation(rot: angles[0] ?? 0, tilt: angles[1] ?? 0, psi: angles[2] ?? 0))
            var origin: (Double, Double)
            if let x = try fields.double(i, "rlnOriginXAngst"), let y = try fields.double(i, "rlnOriginYAngst") {
                origin = (x, y)
            } else if let x = try fields.double(i, "rlnOriginX"), let y = try fields.double(i, "rlnOriginY") {
                origin = (x * pixel, y * pixel)
                if pixel == 0 { throw KernelError("read_star", "\(path): origins are in pixels (_rlnOriginX/Y) but the file gives no pixel size; pass pixel:") }
            } else {
                origin = (0, 0)
                note("no origins: particles taken as centred")
            }
            shifts += [Float(origin.0), Float(origin.1)]

            guard let du = try fields.double(i, "rlnDefocusU") else { throw fields.notANumber(row: i, label: "rlnDefocusU") }
            let dv = try fields.double(i, "rlnDefocusV")
            if dv == nil { note("no _rlnDefocusV: no astigmatism assumed") }
            var bFactor = try fields.double(i, "rlnCtfBfactor")
            if bFactor == nil, let b = try fields.double(i, "rlnCtfBFactor") {
                bFactor = b
                note("_rlnCtfBFactor (not RELION's label, written by CryoScript before) read as _rlnCtfBfactor")
            }
            var parameters = CTFParameters(defocusU: du, defocusV: dv ?? du, astigmatismAngle: try fields.double(i, "rlnDefocusAngle") ?? 0,
                                           voltage: group.voltage, sphericalAberration: group.sphericalAberration,
                                           amplitudeContrast: group.amplitudeContrast, phaseShift: try fields.double(i, "rlnPhaseShift") ?? 0,
                                           bFactor: bFactor ?? 0, scaleFactor: try fields.double(i, "rlnCtfScalefactor") ?? 1)
            if optics != nil, !groups[groupOf[i]].terms.isNeutral { parameters.optics = groups[groupOf[i]].terms }
            do { try parameters.validate(op: "read_star") } catch let error as KernelError {
                throw KernelError("read_star", "\(path): particle \(i + 1): \(error.message)")
            }
            ctf.append(parameters)
            if particles.column("rlnClassNumber") != nil {
                guard let c = try fields.double(i, "rlnClassNumber"), c >= 1, c == c.rounded() else { throw fields.notANumber(row: i, label: "rlnClassNumber") }
                classes = classes ?? []
                classes?.append(Int(c) - 1)
            }
        }
        for label in overridden.sorted() { note("particle-level _\(label) overrides the optics table's value") }
        let overfocused = ctf.filter { $0.defocusU < 0 || $0.defocusV < 0 }.count
        if overfocused > 0 { note("\(overfocused) particle(s) with a negative defocus, read as overfocus (RELION's sign: positive is underfocus)") }
        let perParticle = ["rlnBeamTiltX", "rlnBeamTiltY", "rlnOddZernike", "rlnEvenZernike", "rlnCtfDataArePhaseFlipped"].filter { particles.column($0) != nil }
        if !perParticle.isEmpty {
            note("particle-level \(perParticle.map { "_" + $0 }.joined(separator: ", ")) not read (RELION 3.1+ keeps them in the optics table)")
        }
        // Values an optics table lacks are described by its first particle's.
        for (g, group) in groups.enumerated() {
            guard let first = groupOf.firstIndex(of: g) else { continue }
            if group.voltage.isNaN { groups[g].voltage = ctf[first].voltage }
            if group.sphericalAberration.isNaN { groups[g].sphericalAberration = ctf[first].sphericalAberration }
            if group.amplitudeContrast.isNaN { groups[g].amplitudeContrast = ctf[first].amplitudeContrast }
        }
        demodulations = groups.indices.map { g in
            g < opticsRows.count ? opticsRows[g].demodulation(sphericalAberration: groups[g].sphericalAberration,
                                                              wavelength: CTFParameters(defocusU: 0, voltage: groups[g].voltage).wavelength) : nil
        }
    }

    /// Takes every particle as black on white (`Options.invert`): its CTF, and its group's, negated.
    mutating func invertContrast() {
        for g in groups.indices { groups[g].terms.inverted = true }
        for i in ctf.indices { ctf[i].optics = groups[groupOf[i]].terms }
        note("invert: true: the particles are read as black on white, the contrast opposite to RELION's, and every CTF is negated to match")
    }

    /// Each particle's stack (opened once per file) and 0-based image index; fills in group boxes (and pixel
    /// sizes the file lacks) from the stacks, and checks the stacks against the optics table.
    mutating func locateImages(_ stacks: inout StackPaths) throws -> [(stack: MRCFile, index: Int)] {
        guard let nameColumn = particles.column("rlnImageName") else { return [] }
        var located: [(stack: MRCFile, index: Int)] = []
        located.reserveCapacity(count)
        for (i, row) in particles.rows.enumerated() {
            let name = row[nameColumn]
            let parts = name.split(separator: "@", maxSplits: 1).map(String.init)
            var index = 1, file = name
            if parts.count == 2 {
                guard let k = Int(parts[0]), k >= 1 else {
                    throw KernelError("read_star", "\(path): particle \(i + 1): image name '\(name)' is not of the form index@stack.mrcs (index counts from 1)")
                }
                (index, file) = (k, parts[1])
            }
            let stack = try stacks.open(file, particle: i + 1)
            if parts.count == 1, stack.nz != 1 {
                throw KernelError("read_star", "\(path): particle \(i + 1): image name '\(name)' has no index@ but \(stack.path) holds \(stack.nz) images; name one as index@\(file)")
            }
            guard index <= stack.nz else {
                throw KernelError("read_star", "\(path): particle \(i + 1) refers to image \(index) of \(stack.path), which holds \(stack.nz)")
            }
            let g = groupOf[i]
            if groups[g].size == 0 { groups[g].size = stack.nx }
            guard stack.nx == groups[g].size, stack.ny == groups[g].size else {
                throw KernelError("read_star", "\(path): \(stack.path) holds \(stack.nx)×\(stack.ny) px images, but optics group \(groups[g].name) says the box is \(groups[g].size) px; the STAR file and the stacks disagree")
            }
            if groups[g].pixel == 0 {
                guard stack.pixel > 0 else {
                    throw KernelError("read_star", "\(path): neither the STAR file nor \(stack.path) gives a pixel size; pass pixel: (Å)")
                }
                groups[g].pixel = stack.pixel
                note("pixel size \(ParticleSTARReader.format(stack.pixel)) Å from the header of \(stack.path) (the STAR file gives none)")
            }
            located.append((stack, index - 1))
        }
        return located
    }
}

/// Typed access to one table's cells, with errors that name the file, the table, the row and the column.
struct Fields {
    let block: StarBlock
    let path: String
    private var columns: [String: Int] = [:]

    init(block: StarBlock, path: String) {
        self.block = block
        self.path = path
        for (k, c) in block.columns.enumerated() where columns[c] == nil { columns[c] = k }
    }

    func require(_ label: String, why: String) throws {
        guard columns[label] != nil else {
            throw KernelError("read_star", "\(path): table data_\(block.name) lacks the required column _\(label) (\(why))")
        }
    }

    func string(_ row: Int, _ label: String) -> String? { columns[label].map { block.rows[row][$0] } }

    /// The number in `label` of row `row`; nil when the table has no such column.
    func double(_ row: Int, _ label: String) throws -> Double? {
        guard let c = columns[label] else { return nil }
        guard let v = Double(block.rows[row][c]), v.isFinite else { throw notANumber(row: row, label: label) }
        return v
    }

    func notANumber(row: Int, label: String) -> KernelError {
        let value = columns[label].map { "'\(block.rows[row][$0])'" } ?? "missing"
        return KernelError("read_star", "\(path): table data_\(block.name), row \(row + 1), column _\(label): \(value) is not a valid number")
    }
}
