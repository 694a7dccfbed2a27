/// Branch-free single-precision exp and logistic that the compiler can inline and vectorise in elementwise
/// loops (libm's expf is an opaque call per element). exp uses 2^k · p(r) with a degree-6 polynomial on
/// r ∈ [−ln2/2, ln2/2]: relative error below 5·10⁻⁷ wherever the result is a normal Float; overflow gives +inf,
/// underflow subnormals and then 0.
enum FastMath {
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        // Selects only (no branches, no libm rounding call), so the loop vectorises; NaN is patched back at the end.
        let c = Swift.min(Swift.max(x.isNaN ? 0 : x, -103), 89)
        let shifted = c * 1.442695041 + 12_582_912          // 1.5·2²³: the nearest integer lands in the low bits
        let k = shifted - 12_582_912
        let integer = Int32(bitPattern: shifted.bitPattern) &- 0x4B40_0000
        let r = c - k * 0.693145752 - k * 1.428606765e-6
        var p: Float = 1.0 / 720
        p = p * r + 1.0 / 120
        p = p * r + 1.0 / 24
        p = p * r + 1.0 / 6
        p = p * r + 0.5
        p = p * r + 1
        p = p * r + 1
        // 2^k split in two factors so k down to −149 (subnormals) stays representable.
        let half = integer >> 1
        let scaleA = Float(bitPattern: UInt32(bitPattern: (half &+ 127) << 23))
        let scaleB = Float(bitPattern: UInt32(bitPattern: (integer &- half &+ 127) << 23))
        let value = x > 88.72 ? Float.infinity : (x < -103.9 ? 0 : p * scaleA * scaleB)
        return x.isNaN ? x : value
    }

    /// 1 / (1 + e⁻ˣ), without overflow for large |x|.
    @inline(__always)
    static func logistic(_ x: Float) -> Float {
        let e = exp(-Swift.abs(x))
        let s = 1 / (1 + e)
        return x >= 0 ? s : 1 - s
    }
}
