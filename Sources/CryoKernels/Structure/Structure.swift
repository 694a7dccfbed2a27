/// A protein structure: selected atoms (with residue names and numbers, chains, elements) and one or more
/// models (conformations) of their coordinates. Node order is file order, i.e. residue order.
public struct Structure: Sendable {
    /// One atom's identity.
    public struct Atom: Equatable, Sendable {
        public var name: String
        public var residueName: String
        public var residueNumber: Int
        public var insertionCode: String
        public var chain: String
        public var element: String

        /// An atom record.
        public init(name: String, residueName: String, residueNumber: Int, insertionCode: String = "", chain: String = "A", element: String = "") {
            self.name = name
            self.residueName = residueName
            self.residueNumber = residueNumber
            self.insertionCode = insertionCode
            self.chain = chain
            self.element = element.isEmpty ? String(name.prefix(1)) : element
        }
    }

    /// The selected atoms, in file order.
    public var atoms: [Atom]
    /// Coordinates per model, each `3·atoms.count` values in Å (x, y, z per atom).
    public var models: [[Double]]
    /// Atoms per model in the source file before selection (a trajectory's topology size); nil if built in memory.
    public var sourceAtomCount: Int?
    /// Index of each selected atom among all atoms of the source file (for picking them out of trajectory frames).
    public var sourceIndices: [Int]
    /// Where the structure came from (file path or generator), for messages.
    public var origin: String

    /// A structure of `atoms` with the given models.
    public init(atoms: [Atom], models: [[Double]], sourceAtomCount: Int? = nil, sourceIndices: [Int]? = nil, origin: String) {
        self.atoms = atoms
        self.models = models
        self.sourceAtomCount = sourceAtomCount
        self.sourceIndices = sourceIndices ?? Array(atoms.indices)
        self.origin = origin
    }

    /// Number of selected atoms.
    public var count: Int { atoms.count }

    /// The first model's coordinates as an `[N,3]` tensor.
    public var coordinates: Tensor { Tensor(uncheckedShape: [count, 3], storage: (models.first ?? []).map(Float.init)) }

    /// All models as an `[M,N,3]` tensor.
    public var modelTensor: Tensor {
        Tensor(uncheckedShape: [models.count, count, 3], storage: models.flatMap { $0.map(Float.init) })
    }

    /// The sub-structure of atoms named `names` (e.g. ["CA"]).
    public func selecting(names: Set<String>) -> Structure {
        let keep = atoms.indices.filter { names.contains(atoms[$0].name) }
        return Structure(atoms: keep.map { atoms[$0] },
                         models: models.map { m in keep.flatMap { [m[3 * $0], m[3 * $0 + 1], m[3 * $0 + 2]] } },
                         sourceAtomCount: sourceAtomCount, sourceIndices: keep.map { sourceIndices[$0] }, origin: origin)
    }

    /// Whether every atom has a residue name (not blank and not the `UNK` placeholder).
    public var hasResidueNames: Bool { atoms.allSatisfy { !$0.residueName.isEmpty && $0.residueName != "UNK" } }
}
