import CryoKernels

/// Rotations, Euler angles, RMSDs and angular errors.
enum GeometryBuiltins {
    static let topic = "geometry"

    static var all: [Builtin] {
        [
            builtin("random_rotations", topic: topic, [required("n"), optional("seed", .null)],
                    doc: "n rotations drawn uniformly from SO(3) → [n,3,3].", example: "let R = random_rotations(100, seed: 1)") { a in
                let n = try a.int("n")
                guard n >= 0, n <= 10_000_000 else { throw a.fail("n", "a count in 0...10^7", a["n"]) }
                return .tensor(Rotation.tensor(try a.withGenerator { g in (0..<n).map { _ in Rotation.random(using: &g) } }))
            },
            builtin("euler", topic: topic, [required("rot"), required("tilt"), required("psi")],
                    doc: "Rotation matrices from RELION ZYZ Euler angles in degrees (numbers → [3,3], tensors [B] → [B,3,3]).",
                    example: "euler(30, 60, 90)") { a in
                let rot = try a.tensor("rot"), tilt = try a.tensor("tilt"), psi = try a.tensor("psi")
                guard rot.count == tilt.count, tilt.count == psi.count else { throw ScriptFailure(message: "euler: rot, tilt and psi differ in length") }
                let rotations = (0..<rot.count).map { Rotation(rot: Double(rot.storage[$0]), tilt: Double(tilt.storage[$0]), psi: Double(psi.storage[$0])) }
                let t = Rotation.tensor(rotations)
                return .tensor(rot.rank == 0 ? try t.reshape([3, 3]) : t)
            },
            builtin("to_euler", topic: topic, [required("R")],
                    doc: "RELION ZYZ angles (rot, tilt, psi) in degrees of rotations [B,3,3] → [B,3] (one [3,3] → [3]).",
                    example: "to_euler(euler(30, 60, 90))  # [30, 60, 90]") { a in
                let r = try a.tensor("R")
                let angles = try Rotation.list(from: r, op: "to_euler").flatMap { e -> [Float] in let (x, y, z) = e.euler; return [Float(x), Float(y), Float(z)] }
                return .tensor(r.rank == 2 ? Tensor(angles) : try Tensor(shape: [angles.count / 3, 3], storage: angles))
            },
            builtin("angular_error", topic: topic, [required("R1"), required("R2")],
                    doc: "Geodesic angle in degrees between corresponding rotations ([B,3,3] pairs → [B]; one pair → number).",
                    example: "median(angular_error(est.rotations, data.rotations))") { a in
                let first = try a.tensor("R1")
                let r1 = try Rotation.list(from: first, op: "angular_error"), r2 = try Rotation.list(from: try a.tensor("R2"), op: "angular_error")
                guard r1.count == r2.count else { throw ScriptFailure(message: "angular_error: \(r1.count) rotations vs \(r2.count)") }
                let errors = zip(r1, r2).map { Float($0.angle(to: $1)) }
                return errors.count == 1 && first.rank == 2 ? .number(Double(errors[0])) : .tensor(Tensor(errors))
            },
            builtin("global_rotation", topic: topic, [required("found"), required("truth")],
                    doc: "The one rotation G that best aligns found poses with true ones, found ≈ truth @ G (least squares, [B,3,3] pair → [3,3]): a frame offset common to all images, which pose benchmarks remove before reporting errors (CryoBench's rotation error aligns this way).",
                    example: "let G = global_rotation(found, data.rotations); median(angular_error(found, data.rotations @ G))") { a in
                let found = try Rotation.list(from: try a.tensor("found"), op: "global_rotation")
                let truth = try Rotation.list(from: try a.tensor("truth"), op: "global_rotation")
                return .tensor(try Rotation.tensor([try PoseSetAlignment.rotation(aligning: found, with: truth)]).reshape([3, 3]))
            },
            rmsdBuiltin("rmsd", "Coordinate RMSD in Å without alignment ([N,3] pair → number; [B,N,3] vs [B,N,3] or [N,3] → [B]).", aligned: false),
            rmsdBuiltin("kabsch_rmsd", "RMSD in Å after optimal superposition (Kabsch) ([N,3] pair → number; batches → [B]).", aligned: true),
            builtin("kabsch_rotation", topic: topic, [required("a"), required("b")],
                    doc: "The proper rotation R that best turns coordinates a onto b about their centroids (Kabsch: R·(a − ā) ≈ b − b̄), [N,3] pair → [3,3]; batches → [B,3,3]. A pose R_true of conformation b is the pose R_true @ R of a in b's place: the true pose in a template's frame.",
                    example: "let frame = kabsch_rotation(ca.coords, truth); angular_error(found, data.rotations @ frame)") { a in
                let pairs = try coordinatePairs(a, "kabsch_rotation")
                let rotations = (0..<pairs.count).flatMap { k in
                    let (p, q) = pairs.pair(k)
                    return Superposition.rotation(p, onto: q).map(Float.init)
                }
                return .tensor(try Tensor(shape: pairs.single ? [3, 3] : [pairs.count, 3, 3], storage: rotations))
            },
        ]
    }

    private static func rmsdBuiltin(_ name: String, _ doc: String, aligned: Bool) -> Builtin {
        builtin(name, topic: topic, [required("a"), required("b")], doc: doc, example: "\(name)(result.conformations[0], truth[0])") { a in
            let pairs = try coordinatePairs(a, name)
            let values = (0..<pairs.count).map { k -> Float in
                let (p, q) = pairs.pair(k)
                return Float(aligned ? Superposition.kabschRMSD(p, q) : Superposition.rmsd(p, q))
            }
            return pairs.single ? .number(Double(values[0])) : .tensor(Tensor(values))
        }
    }

    /// The coordinate sets `a` and `b` of a builtin taking [N,3] or [B,N,3] pairs (a single set on either side pairs
    /// with every one of the other): how many pairs, whether both were single [N,3], and pair k as flat 3N arrays.
    private static func coordinatePairs(_ a: Arguments, _ name: String) throws -> (count: Int, single: Bool, pair: (Int) -> ([Double], [Double])) {
        let x = try a.tensor("a"), y = try a.tensor("b")
        guard x.shape.last == 3, y.shape.last == 3, x.rank >= 2, y.rank >= 2, x.shape[x.rank - 2] == y.shape[y.rank - 2] else {
            throw ScriptFailure(message: "\(name): needs coordinates [N,3] or [B,N,3] with the same N, got \(formatShape(x.shape)) and \(formatShape(y.shape))")
        }
        let per = x.shape[x.rank - 2] * 3
        let bx = x.count / per, by = y.count / per
        guard bx == by || bx == 1 || by == 1 else { throw ScriptFailure(message: "\(name): \(bx) structures vs \(by)") }
        return (Swift.max(bx, by), x.rank == 2 && y.rank == 2, { k in
            (x.storage[((bx == 1 ? 0 : k) * per)..<((bx == 1 ? 0 : k) * per + per)].map(Double.init),
             y.storage[((by == 1 ? 0 : k) * per)..<((by == 1 ? 0 : k) * per + per)].map(Double.init))
        })
    }
}
