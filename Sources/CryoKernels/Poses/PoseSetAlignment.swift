/// One rotation that aligns a set of found poses with the true ones, as benchmarks of pose estimation align them
/// before reporting errors (CryoBench's rotation error does): a reconstruction's frame, or a flexible particle's
/// superposition convention, is only defined up to a rotation G of the structure, and a pose R of the structure in
/// one frame is the pose R·G in the other.
public enum PoseSetAlignment {
    /// The rotation G with found ≈ truth·G for every image: the least-squares (chordal) fit,
    /// G = argmax tr(Gᵀ·Σᵢ truthᵢᵀ·foundᵢ). Throws unless the two lists hold one rotation per image, and at least one.
    public static func rotation(aligning found: [Rotation], with truth: [Rotation]) throws -> Rotation {
        guard found.count == truth.count, !found.isEmpty else {
            throw KernelError("global_rotation", "needs one true pose per found pose, got \(found.count) found and \(truth.count) true")
        }
        // tr(Gᵀ·M) = tr(G·Mᵀ), so G maximises tr(G·H) with H = Mᵀ = Σᵢ foundᵢᵀ·truthᵢ.
        var h = [Double](repeating: 0, count: 9)
        for (f, t) in zip(found, truth) {
            for r in 0..<3 { for c in 0..<3 {
                h[3 * r + c] += f[0, r] * t[0, c] + f[1, r] * t[1, c] + f[2, r] * t[2, c]
            } }
        }
        return Rotation(m: Superposition.rotation(maximizingTraceWith: h))
    }
}
