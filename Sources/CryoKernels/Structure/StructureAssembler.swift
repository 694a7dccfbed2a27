/// Builds a `Structure` from a coordinate file's atom records in file order, with the rules PDB and mmCIF reading
/// share: the first alternate location of each atom is kept, then the atoms of the selection; every model must list
/// the same selected atoms as model 1.
struct StructureAssembler {
    let name: String
    let selection: PDBFile.Selection
    let op: String
    private var atoms: [Structure.Atom] = []
    private var models: [[Double]] = []
    private var current: [Double] = []
    private var currentAtoms: [Structure.Atom] = []
    private var seen = Set<String>()
    private var sourceIndex = 0
    private var sourceIndices: [Int] = []
    private var firstModelSourceCount: Int?

    /// An assembler for the file `name` (for messages), keeping the atoms of `selection`.
    init(name: String, selection: PDBFile.Selection, op: String) {
        self.name = name
        self.selection = selection
        self.op = op
    }

    /// Adds the next atom record of the current model; `altLoc` is empty for atoms without alternates.
    mutating func add(_ atom: Structure.Atom, altLoc: String, x: Double, y: Double, z: Double) {
        let index = sourceIndex
        sourceIndex += 1
        let key = "\(atom.chain)|\(atom.residueNumber)|\(atom.insertionCode)|\(atom.name)"
        if !altLoc.isEmpty && seen.contains(key) { return }
        seen.insert(key)
        if let names = selection.names, !names.contains(atom.name) || Self.isWaterOrCalcium(atom) { return }
        current += [x, y, z]
        currentAtoms.append(atom)
        if models.isEmpty { sourceIndices.append(index) }
    }

    /// Water, and calcium ions, whose oxygen and whose "CA" a Cα or backbone selection would otherwise take for a
    /// residue's (a calcium is told by its element, or without one by its residue name, CA, as the PDB names the ion).
    static func isWaterOrCalcium(_ atom: Structure.Atom) -> Bool {
        ["HOH", "WAT", "H2O", "DOD", "D2O", "SOL", "TIP3"].contains(atom.residueName)
            || (atom.name == "CA" && (atom.element.uppercased() == "CA" || atom.residueName == "CA"))
    }

    /// Ends the current model (a no-op if it has no atoms); `location` ("file:line") names where, for messages.
    mutating func closeModel(at location: String) throws {
        guard !currentAtoms.isEmpty || !current.isEmpty else { return }
        if models.isEmpty {
            atoms = currentAtoms
            firstModelSourceCount = sourceIndex
        } else if currentAtoms != atoms {
            throw KernelError(op, "\(location): model \(models.count + 1) has \(currentAtoms.count) selected atoms, model 1 has \(atoms.count) (models must list the same atoms)")
        }
        models.append(current)
        current = []
        currentAtoms = []
        seen = []
        sourceIndex = 0
    }

    /// The structure of the closed models; `records` names where atoms were looked for, for the message when none were kept.
    func structure(records: String) throws -> Structure {
        guard !atoms.isEmpty else {
            throw KernelError(op, "\(name): no \(selection == .all ? "" : selection.rawValue + " ")atoms found in \(records)")
        }
        return Structure(atoms: atoms, models: models, sourceAtomCount: firstModelSourceCount, sourceIndices: sourceIndices, origin: name)
    }
}
