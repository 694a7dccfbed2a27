import Foundation

/// Zernike polynomials as RELION evaluates its optics groups' aberrations (CtfRefine): Zₙᵐ(ρ, φ) = Rₙ^|m|(ρ)·cos(m·φ)
/// for m ≥ 0 and Rₙ^|m|(ρ)·sin(|m|·φ) for m < 0, at a spatial frequency (x, y) in Å⁻¹ with ρ = |(x, y)| itself (no unit
/// disc) and φ = atan2(y, x), Rₙᵐ the standard radial polynomial. Coefficients come in RELION's order.
enum Zernike {
    /// (m, n) of the i-th symmetric (even n) polynomial: Z₀⁰, Z₂⁻², Z₂⁰, Z₂², Z₄⁻⁴, … (RELION's `evenIndexToMN`).
    static func even(_ i: Int) -> (m: Int, n: Int) {
        let k = Int(Double(i).squareRoot())
        return (2 * (i - k * k - k), 2 * k)
    }

    /// (m, n) of the i-th antisymmetric (odd n) polynomial: Z₁⁻¹, Z₁¹, Z₃⁻³, Z₃⁻¹, Z₃¹, Z₃³, … (RELION's `oddIndexToMN`).
    static func odd(_ i: Int) -> (m: Int, n: Int) {
        let k = Int(((1 + 4 * Double(i)).squareRoot() - 1) / 2)
        let n = 2 * k + 1
        return (2 * (i - k * k - k) - n, n)
    }

    /// Σᵢ coefficients[i]·Zᵢ(x, y), the i-th polynomial's (m, n) given by `order` (`even` or `odd`).
    static func sum(_ coefficients: [Double], x: Double, y: Double, order: (Int) -> (m: Int, n: Int)) -> Double {
        let rho = (x * x + y * y).squareRoot(), phi = x == 0 && y == 0 ? 0 : atan2(y, x)
        var total = 0.0
        for (i, c) in coefficients.enumerated() where c != 0 {
            let (m, n) = order(i)
            let angular = m >= 0 ? cos(Double(m) * phi) : sin(Double(-m) * phi)
            total += c * radial(m: Swift.abs(m), n: n, rho: rho) * angular
        }
        return total
    }

    /// Rₙᵐ(ρ) = Σₖ (−1)ᵏ·(n − k)! / (k!·((n + m)/2 − k)!·((n − m)/2 − k)!)·ρ^(n − 2k); 0 when n − m is odd.
    static func radial(m: Int, n: Int, rho: Double) -> Double {
        guard m <= n, (n - m) % 2 == 0 else { return 0 }
        func factorial(_ k: Int) -> Double { (1...Swift.max(1, k)).reduce(1.0) { $0 * Double($1) } }
        var total = 0.0
        for k in 0...((n - m) / 2) {
            let sign = k % 2 == 0 ? 1.0 : -1.0
            total += sign * factorial(n - k) / (factorial(k) * factorial((n + m) / 2 - k) * factorial((n - m) / 2 - k)) * pow(rho, Double(n - 2 * k))
        }
        return total
    }
}
