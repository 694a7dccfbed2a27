import Foundation

/// The CTF terms of one row of a RELION 3.1+ optics table beyond voltage, Cs and amplitude contrast: those of the CTF
/// (`OpticsTerms`: `rlnEvenZernike`, `rlnMagMat00…11`, `rlnCtfDataArePhaseFlipped`, `rlnCtfDataAreCtfPremultiplied`)
/// and the antisymmetric aberrations corrected in the images (`rlnOddZernike`, `rlnBeamTiltX/Y`: `PhaseDemodulation`).
struct OpticsRowTerms {
    var terms = OpticsTerms()
    var oddZernike: [Double] = []
    var beamTilt = (0.0, 0.0)

    /// The correction of the antisymmetric aberrations for the group's Cs (mm) and wavelength (Å); nil when there are none.
    func demodulation(sphericalAberration: Double, wavelength: Double) -> PhaseDemodulation? {
        let d = PhaseDemodulation(oddZernike: oddZernike, beamTilt: beamTilt, sphericalAberration: sphericalAberration, wavelength: wavelength,
                                  magnification: terms.magnification)
        return d.isNeutral ? nil : d
    }

    init() {}

    init(_ o: Fields, row r: Int) throws {
        terms.evenZernike = try o.numbers(r, "rlnEvenZernike") ?? []
        let labels = ["rlnMagMat00", "rlnMagMat01", "rlnMagMat10", "rlnMagMat11"]
        let matrix = try labels.map { try o.double(r, $0) }
        if matrix.contains(where: { $0 != nil }) {
            guard matrix.allSatisfy({ $0 != nil }) else {
                let missing = zip(labels, matrix).filter { $0.1 == nil }.map { "_" + $0.0 }
                throw KernelError("read_star", "\(o.path): table data_\(o.block.name) gives part of the magnification matrix but not \(missing.joined(separator: ", "))")
            }
            terms.magnification = matrix.compactMap { $0 }
        }
        terms.phaseFlipped = try o.flag(r, "rlnCtfDataArePhaseFlipped") ?? false
        terms.premultiplied = try o.flag(r, "rlnCtfDataAreCtfPremultiplied") ?? false
        oddZernike = try o.numbers(r, "rlnOddZernike") ?? []
        beamTilt = (try o.double(r, "rlnBeamTiltX") ?? 0, try o.double(r, "rlnBeamTiltY") ?? 0)
        do { try terms.validate(op: "read_star") } catch let error as KernelError {
            throw KernelError("read_star", "\(o.path): table data_\(o.block.name), row \(r + 1): \(error.message)")
        }
    }
}

extension Fields {
    /// The list in `label` of row `row`, written as RELION writes `rlnEvenZernike` ("[a,b,c]"); nil without the column.
    func numbers(_ row: Int, _ label: String) throws -> [Double]? {
        guard let text = string(row, label) else { return nil }
        let inner = text.trimmingCharacters(in: .whitespaces)
        guard inner.hasPrefix("["), inner.hasSuffix("]") else { throw notANumber(row: row, label: label) }
        let items = inner.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        return try items.map { item in
            guard let v = Double(item), v.isFinite else { throw notANumber(row: row, label: label) }
            return v
        }
    }

    /// The 0/1 flag in `label` of row `row`; nil without the column.
    func flag(_ row: Int, _ label: String) throws -> Bool? {
        guard let v = try double(row, label) else { return nil }
        guard v == 0 || v == 1 else {
            throw KernelError("read_star", "\(path): table data_\(block.name), row \(row + 1), column _\(label): \(v) is not 0 or 1")
        }
        return v == 1
    }
}
