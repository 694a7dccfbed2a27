/// The paper's per-residue Gaussian table: each residue is one Gaussian at its Cα whose weight is the
/// residue's electron count and whose width σ (Å) depends on its type (Docs/METHOD.md, "Forward model").
public enum ResidueTable {
    /// Electrons and σ (Å) by three-letter residue name.
    public static let entries: [String: (electrons: Float, sigma: Float)] = [
        "GLY": (30, 1.40), "ALA": (38, 1.40), "SER": (46, 1.45), "PRO": (52, 1.50), "VAL": (54, 1.50),
        "THR": (54, 1.55), "CYS": (54, 1.60), "ILE": (62, 1.60), "LEU": (62, 1.65), "ASN": (60, 1.65),
        "ASP": (59, 1.70), "GLU": (67, 1.90), "GLN": (68, 1.85), "LYS": (71, 1.85), "MET": (70, 1.85),
        "HIS": (72, 1.90), "PHE": (78, 1.95), "ARG": (85, 2.15), "TYR": (86, 2.10), "TRP": (98, 2.15),
    ]

    /// Common non-standard names mapped to the standard residue they modify.
    static let aliases: [String: String] = ["MSE": "MET", "HSD": "HIS", "HSE": "HIS", "HSP": "HIS", "HIE": "HIS",
                                            "HID": "HIS", "HIP": "HIS", "CYX": "CYS", "ASH": "ASP", "GLH": "GLU", "LYN": "LYS",
                                            "CSO": "CYS", "CME": "CYS", "SEP": "SER", "TPO": "THR", "PTR": "TYR", "HYP": "PRO",
                                            "MLY": "LYS", "KCX": "LYS"]

    /// The first of `residueNames` that neither the table nor its aliases know, if any.
    public static func unknownName(in residueNames: [String]) -> String? {
        residueNames.first { entries[aliases[$0] ?? $0] == nil }
    }

    /// Weights and widths for `residueNames`; nil if any name is missing from the table.
    public static func lookup(_ residueNames: [String]) -> (weights: [Float], sigmas: [Float])? {
        var weights: [Float] = [], sigmas: [Float] = []
        for name in residueNames {
            guard let e = entries[aliases[name] ?? name] else { return nil }
            weights.append(e.electrons)
            sigmas.append(e.sigma)
        }
        return (weights, sigmas)
    }
}
