import Foundation

/// What a particle's optics group adds to its CTF beyond the particle's own parameters, as RELION 3.1+ reads its optics
/// table (`ObservationModel`, `CTF::getCTF`), and what was done to the images after they were recorded. Every rendering
/// compared with the images goes through the same filter, so no other code needs to know of these.
public struct OpticsTerms: Hashable, Sendable {
    /// `rlnEvenZernike`: the symmetric aberrations CtfRefine fits (radians), in RELION's order (`Zernike.even`), each
    /// polynomial evaluated at the (magnified) spatial frequency in Å⁻¹; their sum is added to RELION's phase γ_R.
    public var evenZernike: [Double]
    /// `rlnMagMat00`, `01`, `10`, `11`: the anisotropic magnification M, row-major; the CTF is evaluated at M·s.
    public var magnification: [Double]
    /// `rlnCtfDataArePhaseFlipped`: the images were multiplied by the sign of their CTF (the model's filter is |CTF|).
    public var phaseFlipped: Bool
    /// `rlnCtfDataAreCtfPremultiplied`: the images were multiplied by their CTF (the model's filter is CTF²).
    public var premultiplied: Bool
    /// The images' contrast is the negative of RELION's white particles (`read_star(..., invert: true)`).
    public var inverted: Bool

    public init(evenZernike: [Double] = [], magnification: [Double] = [1, 0, 0, 1], phaseFlipped: Bool = false, premultiplied: Bool = false,
                inverted: Bool = false) {
        self.evenZernike = evenZernike
        self.magnification = magnification
        self.phaseFlipped = phaseFlipped
        self.premultiplied = premultiplied
        self.inverted = inverted
    }

    /// Whether the terms leave the CTF as it is.
    public var isNeutral: Bool { !changesPhase && !phaseFlipped && !premultiplied && !inverted }

    /// Whether the frequencies or the phase change (M ≠ I, or an aberration ≠ 0), as opposed to the sign or power only.
    var changesPhase: Bool { magnification != [1, 0, 0, 1] || evenZernike.contains { $0 != 0 } }

    /// Throws unless every value is finite, M is a 2×2 matrix with a positive determinant, and the images are not said
    /// to be both phase-flipped and premultiplied.
    func validate(op: String) throws {
        guard evenZernike.allSatisfy(\.isFinite) else { throw KernelError(op, "the symmetric aberrations (_rlnEvenZernike) must be finite") }
        guard magnification.count == 4, magnification.allSatisfy(\.isFinite),
              magnification[0] * magnification[3] - magnification[1] * magnification[2] > 0 else {
            throw KernelError(op, "the magnification matrix (_rlnMagMat00, 01, 10, 11) must be finite with a positive determinant, got \(magnification)")
        }
        guard !(phaseFlipped && premultiplied) else {
            throw KernelError(op, "the images cannot be both phase-flipped (_rlnCtfDataArePhaseFlipped) and CTF-premultiplied (_rlnCtfDataAreCtfPremultiplied)")
        }
    }

    /// M·(sx, sy), the frequency (Å⁻¹) the CTF is evaluated at.
    func magnified(_ sx: Double, _ sy: Double) -> (Double, Double) {
        (magnification[0] * sx + magnification[1] * sy, magnification[2] * sx + magnification[3] * sy)
    }

    /// RELION's γ offset Σᵢ cᵢ·Zᵢ at the magnified frequency (x, y) Å⁻¹ (radians).
    func evenPhase(_ x: Double, _ y: Double) -> Double { Zernike.sum(evenZernike, x: x, y: y, order: Zernike.even) }

    /// The model's filter for an image whose CTF is c: |c| if phase-flipped, c² if premultiplied, negated if inverted.
    func processed<T: FloatingPoint>(_ c: T) -> T {
        let filtered = phaseFlipped ? Swift.abs(c) : premultiplied ? c * c : c
        return inverted ? -filtered : filtered
    }
}
