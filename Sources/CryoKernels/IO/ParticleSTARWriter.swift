import Foundation

/// Writes particle STAR files with RELION's labels and conventions (origins in Å as rlnOriginXAngst/YAngst,
/// the particle at box centre minus the origin; ZYZ Euler angles in degrees; rlnCtfBfactor, rlnCtfScalefactor).
///
/// A dataset read from a STAR file is written back with every block and column it had, unknown ones too, in
/// their order and with their original text; only the values CryoScript owns (poses, origins, CTF, optics group,
/// and the class when the dataset has conformation labels) are replaced, and columns for them are added where
/// the source lacked them. Without `stack` the original image names and optics groups are kept; with `stack`
/// the images are named `index@stack` in dataset order and every optics group takes the dataset's pixel and box
/// (the images were rewritten at them) and loses its antisymmetric aberrations (reading corrected them). A RELION 3.0
/// file stays 3.0 (origins in pixels, per-particle optics).
/// A simulated dataset is written as RELION 3.1 with one optics group per distinct (voltage, Cs, w).
public enum ParticleSTARWriter {
    public static func write(_ path: String, dataset: ParticleDataset, stack: String?) throws {
        let blocks: [StarBlock]
        if let metadata = dataset.metadata {
            guard metadata.rows.count == dataset.count else {
                throw KernelError("write_star", "the dataset has \(dataset.count) particles but its STAR metadata \(metadata.rows.count); subset datasets with subset()")
            }
            blocks = rewritten(metadata, dataset: dataset, stack: stack)
        } else {
            guard let stack else { throw KernelError("write_star", "\(path): a dataset not read from a STAR file needs stack: (the MRCS file its images are in)") }
            blocks = fresh(dataset, stack: stack)
        }
        try AtomicFile.write(Data(STARFile.format(blocks).utf8), to: path, op: "write_star")
    }

    /// The source blocks with CryoScript's values written into them.
    static func rewritten(_ metadata: StarMetadata, dataset: ParticleDataset, stack: String?) -> [StarBlock] {
        var blocks = metadata.blocks
        let source = metadata.particles
        var table = StarBlock(name: source.name, columns: source.columns.map { $0 == "rlnCtfBFactor" ? "rlnCtfBfactor" : $0 },
                              rows: metadata.rows.map { source.rows[$0] }, pairs: source.pairs)
        let relion30 = metadata.opticsBlock == nil
        let pixelOrigins = relion30 && source.column("rlnOriginX") != nil && source.column("rlnOriginXAngst") == nil
        for (label, values) in ownedColumns(dataset, pixelOrigins: pixelOrigins, relion30: relion30, rewrittenImages: stack != nil) {
            table.set(label, values)
        }
        if let stack { table.set("rlnImageName", (0..<dataset.count).map { String(format: "%06d@", $0 + 1) + stack }) }
        blocks[metadata.particlesBlock] = table
        if let o = metadata.opticsBlock, stack != nil {
            let rows = blocks[o].rows.count
            blocks[o].set("rlnImagePixelSize", Array(repeating: number(Double(dataset.pixel)), count: rows))
            blocks[o].set("rlnImageSize", Array(repeating: "\(dataset.size)", count: rows))
            // Reading corrected the antisymmetric aberrations (`PhaseDemodulation`): the images rewritten carry none.
            for label in ["rlnBeamTiltX", "rlnBeamTiltY"] where blocks[o].column(label) != nil { blocks[o].set(label, Array(repeating: "0", count: rows)) }
            if let c = blocks[o].column("rlnOddZernike") {
                blocks[o].set("rlnOddZernike", blocks[o].rows.map { row in
                    "[" + Array(repeating: "0", count: Swift.max(1, row[c].split(separator: ",").count)).joined(separator: ",") + "]"
                })
            }
        }
        return blocks
    }

    /// RELION 3.1 blocks for a dataset made in memory.
    static func fresh(_ dataset: ParticleDataset, stack: String) -> [StarBlock] {
        let optics = StarBlock(name: "optics", columns: ["rlnOpticsGroup", "rlnOpticsGroupName", "rlnAmplitudeContrast", "rlnSphericalAberration",
                                                         "rlnVoltage", "rlnImagePixelSize", "rlnImageSize", "rlnImageDimensionality"],
                               rows: dataset.optics.map { g in
                                   ["\(g.number)", g.name, number(g.amplitudeContrast), number(g.sphericalAberration), number(g.voltage),
                                    number(Double(dataset.pixel)), "\(dataset.size)", "2"]
                               })
        var particles = StarBlock(name: "particles", columns: ["rlnImageName"],
                                  rows: (0..<dataset.count).map { [String(format: "%06d@", $0 + 1) + stack] })
        for (label, values) in ownedColumns(dataset, pixelOrigins: false, relion30: false, rewrittenImages: true) { particles.set(label, values) }
        return [optics, particles]
    }

    /// The columns whose values come from the dataset, by label.
    static func ownedColumns(_ d: ParticleDataset, pixelOrigins: Bool, relion30: Bool, rewrittenImages: Bool) -> [(String, [String])] {
        let euler = d.rotations.map(\.euler)
        func column(_ f: (Int) -> Double) -> [String] { (0..<d.count).map { number(f($0)) } }
        // Origins in pixels (RELION 3.0) use each particle's pixel in its files, or the dataset's if rewritten.
        func pixel(_ i: Int) -> Double { Double(rewrittenImages ? d.pixel : d.optics[d.opticsGroup[i]].pixel) }
        var columns: [(String, [String])] = [("rlnAngleRot", column { euler[$0].rot }), ("rlnAngleTilt", column { euler[$0].tilt }),
                                             ("rlnAnglePsi", column { euler[$0].psi })]
        if pixelOrigins {
            columns += [("rlnOriginX", column { Double(d.shifts[2 * $0]) / pixel($0) }), ("rlnOriginY", column { Double(d.shifts[2 * $0 + 1]) / pixel($0) })]
        } else {
            columns += [("rlnOriginXAngst", column { Double(d.shifts[2 * $0]) }), ("rlnOriginYAngst", column { Double(d.shifts[2 * $0 + 1]) })]
        }
        columns += [("rlnDefocusU", column { d.ctf[$0].defocusU }), ("rlnDefocusV", column { d.ctf[$0].defocusV }),
                    ("rlnDefocusAngle", column { d.ctf[$0].astigmatismAngle }), ("rlnPhaseShift", column { d.ctf[$0].phaseShift }),
                    ("rlnCtfBfactor", column { d.ctf[$0].bFactor }), ("rlnCtfScalefactor", column { d.ctf[$0].scaleFactor })]
        if relion30 {
            columns += [("rlnVoltage", column { d.ctf[$0].voltage }), ("rlnSphericalAberration", column { d.ctf[$0].sphericalAberration }),
                        ("rlnAmplitudeContrast", column { d.ctf[$0].amplitudeContrast })]
            if rewrittenImages {
                columns += [("rlnImagePixelSize", column { _ in Double(d.pixel) }), ("rlnMagnification", column { _ in 10_000 }),
                            ("rlnDetectorPixelSize", column { _ in Double(d.pixel) })]
            }
        } else {
            columns.append(("rlnOpticsGroup", (0..<d.count).map { "\(d.optics[d.opticsGroup[$0]].number)" }))
        }
        if let conformation = d.conformation { columns.append(("rlnClassNumber", conformation.map { "\($0 + 1)" })) }
        return columns
    }

    static func number(_ v: Double) -> String { String(format: "%.6f", v) }
}

extension StarBlock {
    /// Replaces column `label`'s values (one per row), appending the column if the table lacks it.
    mutating func set(_ label: String, _ values: [String]) {
        if let c = column(label) {
            for r in rows.indices { rows[r][c] = values[r] }
        } else {
            columns.append(label)
            for r in rows.indices { rows[r].append(values[r]) }
        }
    }
}
