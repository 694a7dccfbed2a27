import Foundation

/// cryoSPARC particle metadata (`.cs` files: structured NumPy arrays) converted to RELION 3.1 STAR blocks, following
/// pyem's `csparc2star.py` and cryoDRGN's `parse_pose_csparc` / `parse_ctf_csparc`:
///
/// - `blob/path` (a leading `>`, cryoSPARC's "relative to the project", removed) and the 0-based `blob/idx` become
///   `rlnImageName` = `(idx+1)@path`, the index zero-padded to 6 digits.
/// - `ctf/df1_A`, `ctf/df2_A` → `rlnDefocusU/V` (Å); `ctf/df_angle_rad`, `ctf/phase_shift_rad` → `rlnDefocusAngle`,
///   `rlnPhaseShift` in degrees; `ctf/bfactor` → `rlnCtfBfactor` (Å²).
/// - `alignments3D/pose` is a rotation vector r (axis·angle, radians). With R(r) the usual right-handed rotation
///   (Rodrigues: I + sin θ·[n]× + (1 − cos θ)·[n]×², n = r/θ), RELION's matrix — `Rotation(rot:tilt:psi:)`, the
///   one that maps model into microscope coordinates — is its transpose, A = R(r)ᵀ: pyem's `expmap` builds R(r)ᵀ
///   directly (its cross-product matrix has the opposite sign) and cryoDRGN transposes `expmap(r)`. The angles
///   are A's ZYZ decomposition with tilt in [0°, 180°], as RELION and pyem's `rot2euler` take it.
/// - `alignments3D/shift` (pixels, x then y) → `rlnOriginXAngst/YAngst` = shift × pixel size, with the same sign
///   (pyem copies the shift to `rlnOriginX/Y` and multiplies by the pixel size). The pixel size is
///   `alignments3D/psize_A` when present — the refinement's pixel, which differs from the particles' when the
///   refinement ran at another box size (pyem's `--boxsize` scaling) — else `blob/psize_A`.
/// - Optics groups: one per distinct (`ctf/exp_group_id`, voltage, Cs, amplitude contrast, pixel size, box size),
///   numbered from 1 in order of first appearance and named `opticsGroup<n>`; the optics block holds the voltage
///   (`ctf/accel_kv`), Cs (`ctf/cs_mm`), amplitude contrast, pixel size (`blob/psize_A`) and box (`blob/shape`)
///   columns whose fields the file has.
///
/// A file without poses gives a particles block without angle and origin columns.
public enum CryoSPARCParticles {
    static let op = "read_cs"

    /// The `data_optics` and `data_particles` blocks for the `.cs` file at `path`. Errors name the file and the field.
    public static func starBlocks(path: String) throws -> [StarBlock] {
        try starBlocks(NPYRecords(path: path, op: op))
    }

    /// The blocks for the `.cs` file at `path`, and a note for each field that holds something and is not converted.
    public static func converted(path: String) throws -> (blocks: [StarBlock], notes: [String]) {
        let cs = try NPYRecords(path: path, op: op)
        return (try starBlocks(cs), try unconverted(cs))
    }

    /// What the conversion leaves out, where the file holds it: `blob/sign` other than −1 (cryoSPARC's record of the
    /// particles' contrast: every real cryoSPARC file seen holds −1, and csparc2star and cryoDRGN read such stacks as
    /// RELION's white particles, as this converter does), and cryoSPARC's global CTF refinement (`ctf/tilt_A`,
    /// `ctf/trefoil_A`, `ctf/tetra_A`, `ctf/anisomag`) other than zero.
    static func unconverted(_ cs: NPYRecords) throws -> [String] {
        var notes: [String] = []
        if let f = cs.field("blob/sign") {
            let unusual = try cs.numbers(f).filter { $0 != -1 }.count
            if unusual > 0 {
                notes.append("blob/sign is not −1 for \(unusual) particle(s) (cryoSPARC's usual value, whose stacks csparc2star and cryoDRGN read as RELION's white particles, as here): their contrast may be reversed (if a known-pose training says it looks reversed, read with invert: true)")
            }
        }
        let refined = try ["ctf/tilt_A", "ctf/trefoil_A", "ctf/tetra_A", "ctf/anisomag"].filter { name in
            try cs.field(name).map { try cs.numbers($0).contains { $0 != 0 } } ?? false
        }
        if !refined.isEmpty { notes.append("cryoSPARC's global CTF refinement (\(refined.joined(separator: ", "))) not converted") }
        return notes
    }

    /// The blocks for parsed records (see `starBlocks(path:)`).
    static func starBlocks(_ cs: NPYRecords) throws -> [StarBlock] {
        func required(_ field: String) throws -> NPYRecords.Field {
            guard let f = cs.field(field) else {
                throw KernelError(op, "\(cs.name): no field '\(field)'; a cryoSPARC particle file needs blob/path, blob/idx and ctf/df1_A")
            }
            return f
        }
        /// The values of `field`, `width` per particle (`meaning` says what they are, for the message).
        func values(_ field: NPYRecords.Field, width: Int = 1, meaning: String = "one number") throws -> [Double] {
            guard field.count == width else {
                throw KernelError(op, "\(cs.name): field '\(field.name)' has \(field.count) values per particle, expected \(width) (\(meaning))")
            }
            return try cs.numbers(field)
        }
        /// `values` of an optional field; nil when the file lacks it.
        func optional(_ field: String, width: Int = 1, meaning: String = "one number") throws -> [Double]? {
            try cs.field(field).map { try values($0, width: width, meaning: meaning) }
        }

        let paths = try cs.strings(required("blob/path")).map { $0.hasPrefix(">") ? String($0.dropFirst()) : $0 }
        let indices = try values(required("blob/idx"))
        let df1 = try values(required("ctf/df1_A"))
        let df2 = try optional("ctf/df2_A") ?? df1
        let degrees = 180 / Double.pi
        let angle = try optional("ctf/df_angle_rad")?.map { $0 * degrees } ?? [Double](repeating: 0, count: cs.count)
        let phase = try optional("ctf/phase_shift_rad")?.map { $0 * degrees }
        let bfactor = try optional("ctf/bfactor")
        let pixel = try optional("blob/psize_A")
        let box = try optional("blob/shape", width: 2, meaning: "height and width").map { hw in stride(from: 0, to: hw.count, by: 2).map { hw[$0] } }
        let voltage = try optional("ctf/accel_kv"), cs_mm = try optional("ctf/cs_mm"), contrast = try optional("ctf/amp_contrast")
        let exposureGroup = try optional("ctf/exp_group_id")
        let pose = try optional("alignments3D/pose", width: 3, meaning: "a rotation vector")
        let shift = try optional("alignments3D/shift", width: 2, meaning: "x and y in pixels")
        let shiftPixel = try optional("alignments3D/psize_A") ?? pixel
        if shift != nil && shiftPixel == nil {
            throw KernelError(op, "\(cs.name): alignments3D/shift is in pixels but neither alignments3D/psize_A nor blob/psize_A gives their size")
        }

        // Optics groups.
        let opticsFields: [(label: String, values: [Double]?)] = [("rlnAmplitudeContrast", contrast), ("rlnSphericalAberration", cs_mm),
                                                                  ("rlnVoltage", voltage), ("rlnImagePixelSize", pixel), ("rlnImageSize", box)]
        let present = opticsFields.filter { $0.values != nil }
        var groups: [[Double]] = [], groupOf: [Int] = []
        for i in 0..<cs.count {
            let key = [exposureGroup?[i] ?? 0] + present.map { $0.values?[i] ?? 0 }
            if let g = groups.firstIndex(of: key) { groupOf.append(g + 1) } else { groups.append(key); groupOf.append(groups.count) }
        }
        let optics = StarBlock(name: "optics", columns: ["rlnOpticsGroup", "rlnOpticsGroupName"] + present.map(\.label) + ["rlnImageDimensionality"],
                               rows: groups.enumerated().map { g, key in
                                   ["\(g + 1)", "opticsGroup\(g + 1)"] + zip(present, key.dropFirst()).map { field, v in
                                       field.label == "rlnImageSize" ? String(Int(v)) : fixed(v)
                                   } + ["2"]
                               })

        // Particles.
        var columns = ["rlnImageName", "rlnOpticsGroup", "rlnDefocusU", "rlnDefocusV", "rlnDefocusAngle"]
        if phase != nil { columns.append("rlnPhaseShift") }
        if bfactor != nil { columns.append("rlnCtfBfactor") }
        if pose != nil { columns += ["rlnAngleRot", "rlnAngleTilt", "rlnAnglePsi"] }
        if shift != nil { columns += ["rlnOriginXAngst", "rlnOriginYAngst"] }
        var rows: [[String]] = []
        rows.reserveCapacity(cs.count)
        for i in 0..<cs.count {
            let index = indices[i]
            guard index >= 0, index < 1e9, index == index.rounded() else {
                throw KernelError(op, "\(cs.name): particle \(i + 1): blob/idx \(index) is not an image index (0, 1, 2, …)")
            }
            var row = [String(format: "%06d", Int(index) + 1) + "@" + paths[i], "\(groupOf[i])", fixed(df1[i]), fixed(df2[i]), fixed(angle[i])]
            if let phase { row.append(fixed(phase[i])) }
            if let bfactor { row.append(fixed(bfactor[i])) }
            if let pose {
                let r = (pose[3 * i], pose[3 * i + 1], pose[3 * i + 2])
                let theta = (r.0 * r.0 + r.1 * r.1 + r.2 * r.2).squareRoot()
                let (rot, tilt, psi) = Rotation(axis: r, angle: theta).transposed.euler
                row += [fixed(rot), fixed(tilt), fixed(psi)]
            }
            if let shift, let shiftPixel {
                row += [fixed(shift[2 * i] * shiftPixel[i]), fixed(shift[2 * i + 1] * shiftPixel[i])]
            }
            rows.append(row)
        }
        return [optics, StarBlock(name: "particles", columns: columns, rows: rows)]
    }

    /// RELION's number layout: six decimals (a value that rounds to zero is written without a minus sign).
    private static func fixed(_ v: Double) -> String {
        let text = String(format: "%.6f", v)
        return text == "-0.000000" ? "0.000000" : text
    }
}
