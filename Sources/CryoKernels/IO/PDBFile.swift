import Foundation

/// PDB coordinate files: reading (ATOM/HETATM records, several MODELs, alternate locations, chains) and
/// writing (multi-model, fixed columns that ChimeraX, PyMOL and gemmi read).
public enum PDBFile {
    /// Which atoms to keep.
    public enum Selection: String, Sendable, CaseIterable {
        /// Cα only: one node per residue.
        case ca = "CA"
        /// N, Cα, C, O (the C-terminal OT1/OXT too) and amide H when present.
        case backbone
        /// Every atom.
        case all

        var names: Set<String>? {
            switch self {
            case .ca: return ["CA"]
            case .backbone: return ["N", "CA", "C", "O", "OT1", "OXT", "H", "HN"]
            case .all: return nil
            }
        }
    }

    /// Reads `path`, keeping the first alternate location of each atom and the atoms of `selection`.
    /// Every model must have the same atoms. Errors name the file, the line and the problem.
    public static func read(_ path: String, selection: Selection = .ca) throws -> Structure {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw KernelError("read_pdb", "\(path): no such file or not readable")
        }
        return try parse(String(decoding: data, as: UTF8.self), name: path, selection: selection)
    }

    /// Parses PDB text (see `read`).
    public static func parse(_ text: String, name: String, selection: Selection = .ca) throws -> Structure {
        var assembler = StructureAssembler(name: name, selection: selection, op: "read_pdb")
        var lineNumber = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let line = Array(raw.utf8.filter { $0 != 13 })
            guard line.count >= 6 else {
                if String(decoding: line, as: UTF8.self).hasPrefix("END") { try assembler.closeModel(at: "\(name):\(lineNumber)") }
                continue
            }
            let record = String(decoding: line[0..<6], as: UTF8.self)
            if record.hasPrefix("MODEL") || record.hasPrefix("ENDMDL") { try assembler.closeModel(at: "\(name):\(lineNumber)"); continue }
            guard record == "ATOM  " || record == "HETATM" else { continue }
            guard line.count >= 54 else {
                throw KernelError("read_pdb", "\(name):\(lineNumber): \(record.trimmingCharacters(in: .whitespaces)) record is \(line.count) characters long, needs at least 54 for its coordinates")
            }
            func field(_ a: Int, _ b: Int) -> String {
                String(decoding: line[Swift.min(a, line.count)..<Swift.min(b, line.count)], as: UTF8.self).trimmingCharacters(in: .whitespaces)
            }
            let residueText = field(22, 26)
            guard let residueNumber = Int(residueText) else {
                throw KernelError("read_pdb", "\(name):\(lineNumber): residue number '\(residueText)' is not an integer")
            }
            var xyz = [Double]()
            for (a, b, axis) in [(30, 38, "x"), (38, 46, "y"), (46, 54, "z")] {
                guard let v = Double(field(a, b)), v.isFinite else {
                    throw KernelError("read_pdb", "\(name):\(lineNumber): \(axis) coordinate '\(field(a, b))' is not a number")
                }
                xyz.append(v)
            }
            let atom = Structure.Atom(name: field(12, 16), residueName: field(17, 20), residueNumber: residueNumber, insertionCode: field(26, 27),
                                      chain: field(21, 22), element: line.count >= 78 ? field(76, 78) : "")
            assembler.add(atom, altLoc: field(16, 17), x: xyz[0], y: xyz[1], z: xyz[2])
        }
        try assembler.closeModel(at: "\(name):\(lineNumber)")
        return try assembler.structure(records: "ATOM/HETATM records")
    }

    /// Writes `models` (each 3·N Å values) of the atoms of `template` as a multi-model PDB file, with
    /// `bFactors` (one per atom, e.g. an RMSF in Å) in the B-factor column when given (0 otherwise).
    public static func write(_ path: String, models: [[Double]], like template: Structure, bFactors: [Double]? = nil) throws {
        guard !models.isEmpty else { throw KernelError("write_pdb", "nothing to write") }
        for (k, m) in models.enumerated() where m.count != 3 * template.count {
            throw KernelError("write_pdb", "model \(k) has \(m.count / 3) atoms, the template \(template.count)")
        }
        if let bFactors, bFactors.count != template.count {
            throw KernelError("write_pdb", "\(bFactors.count) B-factors for the template's \(template.count) atoms")
        }
        var text = "REMARK   1 WRITTEN BY CRYOSCRIPT\n"
        for (k, m) in models.enumerated() {
            if models.count > 1 { text += String(format: "MODEL     %4d\n", k + 1) }
            for (i, atom) in template.atoms.enumerated() {
                text += atomLine(serial: i + 1, atom: atom, x: m[3 * i], y: m[3 * i + 1], z: m[3 * i + 2], bFactor: bFactors?[i] ?? 0)
            }
            if models.count > 1 { text += "ENDMDL\n" }
        }
        text += "END\n"
        try AtomicFile.write(Data(text.utf8), to: path, op: "write_pdb")
    }

    /// One fixed-column ATOM record (columns as in the PDB format guide: name in 13–16, coordinates in 31–54).
    static func atomLine(serial: Int, atom: Structure.Atom, x: Double, y: Double, z: Double, bFactor: Double) -> String {
        func right(_ s: String, _ width: Int) -> String { String(repeating: " ", count: Swift.max(0, width - s.count)) + s.suffix(width) }
        func left(_ s: String, _ width: Int) -> String { String(s.prefix(width)) + String(repeating: " ", count: Swift.max(0, width - s.count)) }
        // Atom names shorter than four characters start in column 14 (element-aligned).
        let name = atom.name.count < 4 ? " " + left(atom.name, 3) : left(atom.name, 4)
        let clamp = { (v: Double) in Swift.max(-999.999, Swift.min(9999.999, v)) }
        let chain = atom.chain.isEmpty ? "A" : String(atom.chain.prefix(1))
        let insertion = atom.insertionCode.isEmpty ? " " : String(atom.insertionCode.prefix(1))
        return "ATOM  " + right(String(serial % 100000), 5) + " " + name + " " + right(atom.residueName, 3) + " " + chain
            + right(String(atom.residueNumber % 10000), 4) + insertion + "   "
            + String(format: "%8.3f%8.3f%8.3f%6.2f%6.2f", clamp(x), clamp(y), clamp(z), 1.0, Swift.max(-99.99, Swift.min(999.99, bFactor)))
            + "          " + right(atom.element, 2) + "\n"
    }
}
