import CryoKernels

/// A protein structure as scripts see it: `s.coords` [N,3], `s.models` [M,N,3], `s.residues`, `s.count`,
/// `s.model_count`, `s.origin`.
final class StructureObject: ScriptObject, @unchecked Sendable {
    let structure: Structure

    init(_ structure: Structure) { self.structure = structure }

    var typeName: String { "structure" }
    var summary: String {
        "<structure \(structure.origin): \(structure.count) atoms\(structure.models.count > 1 ? ", \(structure.models.count) models" : "")>"
    }
    var memberNames: [String] { ["coords", "models", "residues", "atoms", "count", "model_count", "origin"] }

    func member(_ name: String) throws -> Value? {
        switch name {
        case "coords": return .tensor(structure.coordinates)
        case "models": return .tensor(structure.modelTensor)
        case "residues": return .list(structure.atoms.map { .string($0.residueName) })
        case "atoms": return .list(structure.atoms.map { .string($0.name) })
        case "count": return .number(Double(structure.count))
        case "model_count": return .number(Double(structure.models.count))
        case "origin": return .string(structure.origin)
        default: return nil
        }
    }
}

extension Arguments {
    /// A structure argument.
    func structure(_ name: String) throws -> Structure {
        try object(name, as: StructureObject.self, described: "a structure (from read_pdb, toy_protein or anm_trajectory)").structure
    }

    /// Coordinate sets from a structure (its models), a tensor [N,3] or [K,N,3], or a list of [N,3] tensors;
    /// each set is 3N Double values.
    func conformations(_ name: String) throws -> [[Double]] {
        switch self[name] {
        case .object(let o as StructureObject): return o.structure.models
        case .list(let items):
            return try items.map { v in
                let t = try ValueConversion.tensor(v)
                guard t.rank == 2, t.shape[1] == 3 else { throw fail(name, "a list of [N,3] coordinate tensors", self[name]) }
                return t.storage.map(Double.init)
            }
        default:
            let t = try tensor(name)
            if t.rank == 2 && t.shape[1] == 3 { return [t.storage.map(Double.init)] }
            guard t.rank == 3, t.shape[2] == 3 else { throw fail(name, "coordinates [N,3] or [K,N,3], a list of them, or a structure", self[name]) }
            let per = t.shape[1] * 3
            return (0..<t.shape[0]).map { k in t.storage[(k * per)..<((k + 1) * per)].map(Double.init) }
        }
    }

    /// Per-atom values for `count` atoms from a number, a tensor of length `count`, or "residue" (the paper's
    /// residue table, using `template`'s residue names; unit values with a warning when names are missing).
    func atomValues(_ name: String, count: Int, template: Structure?, residue: (ResidueTableEntry) -> Float, unit: Float) throws -> [Float] {
        switch self[name] {
        case .string("residue"):
            guard let template, template.count == count, template.hasResidueNames,
                  let table = ResidueTable.lookup(template.atoms.map(\.residueName)) else {
                let unknown = template.flatMap { $0.hasResidueNames ? ResidueTable.unknownName(in: $0.atoms.map(\.residueName)) : nil }
                let why = unknown.map { "residue \"\($0)\" is not in the paper's residue table" } ?? "no residue names for all \(count) atoms"
                interpreter.warn("\(callee): \(why); using \(name) \(unit) for every atom")
                return [Float](repeating: unit, count: count)
            }
            return zip(table.weights, table.sigmas).map { residue(ResidueTableEntry(electrons: $0, sigma: $1)) }
        case .number(let x):
            return [Float](repeating: Float(x), count: count)
        default:
            let t = try tensor(name)
            guard t.count == count || t.count == 1 else { throw fail(name, "a number, \"residue\" or a tensor of \(count) per-atom values", self[name]) }
            return t.count == 1 ? [Float](repeating: t.storage[0], count: count) : t.storage
        }
    }

    /// Per-atom widths (Å) from `sigma:` (a number, one per atom or "residue", as `atomValues` reads it) widened by
    /// `blur:` to √(σ² + b²); the blur, unlike sigma:, has no per-residue table: a number ≥ 0 or one per atom.
    func blurredWidths(count: Int, template: Structure?) throws -> [Float] {
        if case .string = self["blur"] { throw fail("blur", "widths ≥ 0 (Å), a number or one per atom", self["blur"]) }
        let blur = try atomValues("blur", count: count, template: nil, residue: { _ in 0 }, unit: 0)
        guard blur.allSatisfy({ $0 >= 0 && $0.isFinite }) else { throw fail("blur", "widths ≥ 0 (Å), a number or one per atom", self["blur"]) }
        return zip(try atomValues("sigma", count: count, template: template, residue: { $0.sigma }, unit: 1.5), blur).map {
            ($0 * $0 + $1 * $1).squareRoot()
        }
    }
}

/// One row of the paper's residue table.
struct ResidueTableEntry {
    let electrons: Float
    let sigma: Float
}
