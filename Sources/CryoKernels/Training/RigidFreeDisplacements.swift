/// Removes from decoder displacements the rigid motions that the images cannot tell apart from a change of pose or
/// origin (beyond Docs/METHOD.md; issue 18): with searched shifts a rigid translation of a conformation and its
/// image's origin are the same thing, and with searched poses a rigid rotation of a conformation and its image's
/// rotation are. Left in, the decoder drifts along such a gauge while the poses follow it, which the images cannot
/// correct, and the conformations end up rotated (or shifted) against the true frame.
///
/// With A the fixed [3N, k] basis of the removed motions at the template x (per atom i: the unit translations eₖ,
/// and the infinitesimal rotations eₖ × (xᵢ − c)), each displacement d (3N Å) becomes d − A(AᵀA)⁻¹Aᵀd, its
/// least-squares residual after the best rigid motion of that basis. The projector is held as Q Qᵀ with Q an
/// orthonormal basis of A's columns (the same projector, A(AᵀA)⁻¹Aᵀ = Q Qᵀ, without inverting AᵀA, and defined for
/// degenerate templates such as a straight chain, whose rotation about its own axis moves nothing). Applied as two
/// matmuls on the recorded tensor, so gradients flow through it. The rotation is linearised at the template: a
/// displacement that rotates the template rigidly by a finite angle keeps the second-order part.
public struct RigidFreeDisplacements: Sendable {
    /// Whether translations and rotations are removed.
    public let translation: Bool, rotation: Bool
    /// The point the rotations turn about (Å, in the template's frame): the template's centroid when translations are
    /// removed too (the span is then the same for any point, and this one conditions it best), else the frame's origin,
    /// the point the poses rotate about (a rotation about any other point would also move the conformation's centre,
    /// which the images can see when shifts are not searched).
    public let centre: [Double]
    /// Q [3N, k] and Qᵀ [k, 3N], k ≤ 6 the rank of A.
    let basis: Tensor, basisTransposed: Tensor

    /// The projector for `template` (3N Å, x y z per atom, in the frame the poses rotate about); nil when neither motion
    /// is removed.
    public init?(template: [Double], translation: Bool, rotation: Bool) throws {
        guard translation || rotation else { return nil }
        guard template.count >= 3, template.count % 3 == 0 else {
            throw KernelError("train_autodecoder", "a template of \(template.count) coordinates is not a list of atoms (x y z each)")
        }
        let n = template.count / 3
        let centre = translation ? (0..<3).map { c in stride(from: c, to: template.count, by: 3).map { template[$0] }.reduce(0, +) / Double(n) }
                                 : [0, 0, 0]
        var columns: [[Double]] = []
        if translation {
            for k in 0..<3 { columns.append((0..<(3 * n)).map { $0 % 3 == k ? 1 : 0 }) }
        }
        if rotation {
            for k in 0..<3 {
                var column = [Double](repeating: 0, count: 3 * n)
                for i in 0..<n {
                    let r = (0..<3).map { template[3 * i + $0] - centre[$0] }
                    // eₖ × r: the velocity of atom i under a unit angular velocity about axis k.
                    let (a, b) = ((k + 1) % 3, (k + 2) % 3)
                    column[3 * i + b] = r[a]
                    column[3 * i + a] = -r[b]
                }
                columns.append(column)
            }
        }
        let q = RigidFreeDisplacements.orthonormalised(columns)
        self.translation = translation
        self.rotation = rotation
        self.centre = centre
        let k = q.count
        basisTransposed = Tensor(uncheckedShape: [k, 3 * n], storage: q.flatMap { $0.map(Float.init) })
        basis = Tensor(uncheckedShape: [3 * n, k], storage: (0..<(3 * n)).flatMap { j in q.map { Float($0[j]) } })
    }

    /// Displacements `d` [B,N,3] (Å) less their rigid part: [B,N,3], recorded when `d` is.
    public func callAsFunction(_ d: Tensor) throws -> Tensor {
        guard d.rank == 3, d.shape[2] == 3, 3 * d.shape[1] == basis.shape[0] else {
            throw KernelError.shape("train_autodecoder", expected: "displacements [B,\(basis.shape[0] / 3),3]", got: d.shape)
        }
        let flat = try d.reshape([d.shape[0], basis.shape[0]])
        let coefficients = try Tensor.matmul(flat, basis)                    // [B, k]
        return try (flat - Tensor.matmul(coefficients, basisTransposed)).reshape(d.shape)
    }

    /// An orthonormal basis of the span of `columns` by modified Gram–Schmidt, applied twice (Double), dropping a
    /// column whose remainder is below 1e-9 of its length (a motion that moves no atom independently of the others).
    static func orthonormalised(_ columns: [[Double]]) -> [[Double]] {
        var q: [[Double]] = []
        for column in columns {
            let length = column.reduce(0) { $0 + $1 * $1 }.squareRoot()
            guard length > 0 else { continue }
            var v = column
            for _ in 0..<2 {
                for u in q {
                    let dot = zip(u, v).reduce(0) { $0 + $1.0 * $1.1 }
                    for j in v.indices { v[j] -= dot * u[j] }
                }
            }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 1e-9 * length { q.append(v.map { $0 / norm }) }
        }
        return q
    }
}
