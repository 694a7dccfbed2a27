import Foundation

/// A 3×3 rotation in Double, row-major. Poses map model coordinates into the microscope frame: r' = R·r,
/// and the image integrates along z'.
public struct Rotation: Equatable, Sendable {
    /// Row-major entries.
    public var m: [Double]

    /// The identity.
    public static let identity = Rotation(m: [1, 0, 0, 0, 1, 0, 0, 0, 1])

    /// Wraps nine row-major entries.
    public init(m: [Double]) { self.m = m }

    /// Entry (row i, column j).
    @inline(__always) public subscript(_ i: Int, _ j: Int) -> Double { m[3 * i + j] }

    /// RELION's ZYZ Euler convention (degrees): R = Rz(psi)·Ry(tilt)·Rz(rot), the matrix RELION's
    /// `Euler_angles2matrix` builds and uses as r' = R·r.
    public init(rot: Double, tilt: Double, psi: Double) {
        let (a, b, g) = (rot * .pi / 180, tilt * .pi / 180, psi * .pi / 180)
        let (ca, sa, cb, sb, cg, sg) = (cos(a), sin(a), cos(b), sin(b), cos(g), sin(g))
        let (cc, cs, sc, ss) = (cb * ca, cb * sa, sb * ca, sb * sa)
        m = [cg * cc - sg * sa, cg * cs + sg * ca, -cg * sb,
             -sg * cc - cg * sa, -sg * cs + cg * ca, sg * sb,
             sc, ss, cb]
    }

    /// RELION ZYZ angles (degrees) of this rotation, with tilt in [0, 180]; at tilt 0 or 180 rot is 0.
    public var euler: (rot: Double, tilt: Double, psi: Double) {
        let sb = (m[2] * m[2] + m[5] * m[5]).squareRoot()
        let deg = 180 / Double.pi
        if sb > 1e-9 {
            return (atan2(m[7], m[6]) * deg, atan2(sb, m[8]) * deg, atan2(m[5], -m[2]) * deg)
        }
        return m[8] > 0 ? (0, 0, atan2(-m[3], m[0]) * deg) : (0, 180, atan2(m[3], -m[0]) * deg)
    }

    /// The rotation of a unit quaternion (w, x, y, z) (normalised here).
    public init(quaternion q: (w: Double, x: Double, y: Double, z: Double)) {
        let n = (q.w * q.w + q.x * q.x + q.y * q.y + q.z * q.z).squareRoot()
        let (w, x, y, z) = (q.w / n, q.x / n, q.y / n, q.z / n)
        m = [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
             2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
             2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)]
    }

    /// A rotation drawn uniformly from SO(3) (Shoemake's method on a uniform unit quaternion).
    public static func random(using g: inout SeededGenerator) -> Rotation {
        let (u1, u2, u3) = (g.uniform(), g.uniform(), g.uniform())
        let (a, b) = ((1 - u1).squareRoot(), u1.squareRoot())
        return Rotation(quaternion: (a * sin(2 * .pi * u2), a * cos(2 * .pi * u2), b * sin(2 * .pi * u3), b * cos(2 * .pi * u3)))
    }

    /// Rotation by `angle` radians about the unit axis `axis` (Rodrigues).
    public init(axis: (Double, Double, Double), angle: Double) {
        let n = (axis.0 * axis.0 + axis.1 * axis.1 + axis.2 * axis.2).squareRoot()
        guard n > 0 else { self = .identity; return }
        let h = angle / 2, s = sin(h) / n
        self.init(quaternion: (cos(h), axis.0 * s, axis.1 * s, axis.2 * s))
    }

    /// Matrix product self·other.
    public static func * (a: Rotation, b: Rotation) -> Rotation {
        var r = [Double](repeating: 0, count: 9)
        for i in 0..<3 { for j in 0..<3 { r[3 * i + j] = a[i, 0] * b[0, j] + a[i, 1] * b[1, j] + a[i, 2] * b[2, j] } }
        return Rotation(m: r)
    }

    /// The inverse (transpose).
    public var transposed: Rotation { Rotation(m: [m[0], m[3], m[6], m[1], m[4], m[7], m[2], m[5], m[8]]) }

    /// R·v.
    public func apply(_ v: (Double, Double, Double)) -> (Double, Double, Double) {
        (m[0] * v.0 + m[1] * v.1 + m[2] * v.2, m[3] * v.0 + m[4] * v.1 + m[5] * v.2, m[6] * v.0 + m[7] * v.1 + m[8] * v.2)
    }

    /// Geodesic distance to `other` in degrees: the angle of the rotation Rᵀ·other, computed with atan2 of its
    /// antisymmetric part and its trace so that small angles keep full precision.
    public func angle(to other: Rotation) -> Double {
        let p = transposed * other
        let trace = p.m[0] + p.m[4] + p.m[8]
        let v = (p.m[7] - p.m[5], p.m[2] - p.m[6], p.m[3] - p.m[1])
        let sine = 0.5 * (v.0 * v.0 + v.1 * v.1 + v.2 * v.2).squareRoot()
        return atan2(sine, (trace - 1) / 2) * 180 / .pi
    }

    /// The axis-angle vector (the SO(3) logarithm): direction = axis, length = angle in radians.
    public var log: (Double, Double, Double) {
        let c = Swift.max(-1, Swift.min(1, (m[0] + m[4] + m[8] - 1) / 2))
        let theta = acos(c)
        let v = (m[7] - m[5], m[2] - m[6], m[3] - m[1])
        if theta < 1e-7 { return (v.0 / 2, v.1 / 2, v.2 / 2) }
        if theta > .pi - 1e-5 {
            // Near π the antisymmetric part vanishes; read the axis from the symmetric part.
            let xx = Swift.max(0, (m[0] + 1) / 2), yy = Swift.max(0, (m[4] + 1) / 2), zz = Swift.max(0, (m[8] + 1) / 2)
            var axis: (Double, Double, Double)
            if xx >= yy && xx >= zz {
                let x = xx.squareRoot(); axis = (x, (m[1] + m[3]) / (4 * x), (m[2] + m[6]) / (4 * x))
            } else if yy >= zz {
                let y = yy.squareRoot(); axis = ((m[1] + m[3]) / (4 * y), y, (m[5] + m[7]) / (4 * y))
            } else {
                let z = zz.squareRoot(); axis = ((m[2] + m[6]) / (4 * z), (m[5] + m[7]) / (4 * z), z)
            }
            return (axis.0 * theta, axis.1 * theta, axis.2 * theta)
        }
        let k = theta / (2 * sin(theta))
        return (v.0 * k, v.1 * k, v.2 * k)
    }

    /// The SO(3) exponential of an axis-angle vector.
    public static func exp(_ w: (Double, Double, Double)) -> Rotation {
        let angle = (w.0 * w.0 + w.1 * w.1 + w.2 * w.2).squareRoot()
        return angle < 1e-12 ? .identity : Rotation(axis: w, angle: angle)
    }
}

extension Rotation {
    /// Rotations as a `[B,3,3]` Float32 tensor.
    public static func tensor(_ rotations: [Rotation]) -> Tensor {
        Tensor(uncheckedShape: [rotations.count, 3, 3], storage: rotations.flatMap { $0.m.map(Float.init) })
    }

    /// Reads a `[B,3,3]` (or one `[3,3]`) tensor as rotations; throws if the shape is wrong.
    public static func list(from t: Tensor, op: String) throws -> [Rotation] {
        guard t.shape.count >= 2, t.shape.suffix(2) == [3, 3] else {
            throw KernelError.shape(op, expected: "rotations [B,3,3]", got: t.shape)
        }
        let n = t.count / 9
        return (0..<n).map { b in Rotation(m: (0..<9).map { Double(t.storage[9 * b + $0]) }) }
    }
}
