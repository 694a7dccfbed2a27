import CryoKernels

/// Structures: reading and writing PDB, reading DCD trajectories, the built-in toy protein and ANM motions.
enum StructureBuiltins {
    static let topic = "structures"

    static var all: [Builtin] {
        [
            builtin("read_pdb", topic: topic, [required("path"), optional("atoms", .string("CA"))],
                    doc: "Reads a PDB file, or an mmCIF file when path ends in .cif or .mmcif: atoms \"CA\" (one node per residue), \"backbone\" (N, CA, C, O, H) or \"all\"; several models become models.",
                    example: "let s = read_pdb(\"data/adk/adk_open.pdb\", atoms: \"CA\")") { a in
                let path = try a.string("path")
                return try readStructure(a, mmCIF: MMCIFFile.isMMCIF(path), op: "read_pdb")
            },
            builtin("read_cif", topic: topic, [required("path"), optional("atoms", .string("CA"))],
                    doc: "Reads an mmCIF (PDBx) file's _atom_site table whatever its extension, with read_pdb's atoms selection; several models become models.",
                    example: "let s = read_cif(\"4ake.cif\", atoms: \"backbone\")") { a in
                try readStructure(a, mmCIF: true, op: "read_cif")
            },
            builtin("write_pdb", topic: topic, [required("path"), required("coords"), required("like")],
                    doc: "Writes coordinates ([N,3], [M,N,3], a list of [N,3] or a structure) as a (multi-model) PDB with the atoms of like.",
                    example: "write_pdb(\"reconstructed.pdb\", result.conformations, like: s)") { a in
                let template = try a.structure("like")
                try PDBFile.write(try a.string("path"), models: try a.conformations("coords"), like: template)
                return .null
            },
            builtin("read_dcd", topic: topic, [required("path"), required("like")],
                    doc: "Reads a CHARMM/NAMD DCD trajectory with a PDB structure as topology (same atom count); keeps like's selected atoms.",
                    example: "let traj = read_dcd(\"data/adk/adk_dims.dcd\", like: read_pdb(\"data/adk/adk_open.pdb\"))") { a in
                .object(StructureObject(try DCDFile.read(try a.string("path"), like: try a.structure("like"))))
            },
            builtin("toy_protein", topic: topic, [optional("residues", .number(120)), optional("seed", .number(0))],
                    doc: "A built-in protein-like Cα chain: two helical-bundle domains joined by a hinge, 3.8 Å spacing, residue types for the paper's table.",
                    example: "let s = toy_protein(residues: 120, seed: 0)") { a in
                .object(StructureObject(try ToyProtein.make(residues: try a.int("residues"), seed: UInt64(bitPattern: Int64(try a.int("seed"))))))
            },
            builtin("anm_trajectory", topic: topic, [required("s"), optional("frames", .number(20)), optional("modes", .number(3)),
                                                     optional("amplitude", .number(4)), optional("seed", .number(0)), optional("cutoff", .number(15))],
                    doc: "Conformations along the lowest anisotropic-network-model modes (springs between atoms within cutoff: Å): frame 0 is s, the last frame lies amplitude Å RMSD away, along a random combination of the modes drawn from seed: (with a bend through the others).",
                    example: "let traj = anm_trajectory(s, frames: 20, modes: 3, amplitude: 4, seed: 1)") { a in
                let s = try a.structure("s")
                let frames = try ANM.trajectory(s.models[0], frames: try a.int("frames"), modes: try a.int("modes"), amplitude: try a.number("amplitude"),
                                                seed: UInt64(bitPattern: Int64(try a.int("seed"))), cutoff: try a.number("cutoff"))
                var result = s
                result.models = frames
                result.origin = "anm_trajectory(\(s.origin))"
                return .object(StructureObject(result))
            },
        ]
    }

    /// The structure at argument `path` with the `atoms` selection, read as mmCIF or as PDB.
    private static func readStructure(_ a: Arguments, mmCIF: Bool, op: String) throws -> Value {
        let selection = try a.choice("atoms", PDBFile.Selection.self)
        let path = try a.string("path")
        return .object(StructureObject(mmCIF ? try MMCIFFile.read(path, selection: selection, op: op) : try PDBFile.read(path, selection: selection)))
    }
}
