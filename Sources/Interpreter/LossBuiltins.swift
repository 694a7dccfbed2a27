import CryoKernels

/// Data terms and geometric regularisers, differentiable in the coordinates.
enum LossBuiltins {
    static let topic = "losses"

    static var all: [Builtin] {
        [
            builtin("mse", topic: topic, [required("a"), required("b")], doc: "Mean squared difference (broadcast).", example: "mse(pred, target)") { a in
                let d = try a.tensor("a") - a.tensor("b")
                return .tensor(try (d * d).mean())
            },
            builtin("bond_loss", topic: topic, [required("coords"), optional("like", .null), optional("target", .number(3.8))],
                    doc: "Mean squared deviation of consecutive-Cα distances of coords [B,N,3] from the template's own (like:; pairs farther apart than 4.5 Å in the template, chain ends or missing residues, are left out) or from target Å (every consecutive pair).",
                    example: "bond_loss(x, like: s)") { a in
                let x = try batched(a)
                if !a.isNull("like") { return .tensor(try Regularizers(template: try templateCoordinates(a, nodes: x.shape[1])).bond(x)) }
                return .tensor(try Regularizers(template: x.storage[0..<(x.shape[1] * 3)].map(Double.init)).bond(x, target: Float(try a.number("target"))))
            },
            builtin("angle_loss", topic: topic, [required("coords"), required("like")],
                    doc: "Mean squared deviation of Cα virtual-angle cosines from the template's (angles at a chain break left out, as in bond_loss).", example: "angle_loss(x, like: s)") { a in
                let x = try batched(a)
                return .tensor(try Regularizers(template: try templateCoordinates(a, nodes: x.shape[1])).angle(x))
            },
            builtin("centroid_loss", topic: topic, [required("coords"), required("like")],
                    doc: "Squared drift of each conformation's centroid from the template's, averaged over the batch.", example: "centroid_loss(x, like: s)") { a in
                let x = try batched(a)
                return .tensor(try Regularizers(template: try templateCoordinates(a, nodes: x.shape[1])).centroidDrift(x))
            },
            builtin("log_distance_loss", topic: topic, [required("coords"), required("like"), optional("window", .number(8)), optional("decay", .number(4)),
                                                        optional("all_pairs", .bool(false))],
                    doc: "(log d² − log d₀²)² against the template's distances d₀, averaged over residue pairs and the batch: the pairs at most window apart in sequence, weighted exp(1 − |i−j|/decay); all_pairs: true takes every pair, unweighted (window and decay unused).",
                    example: "log_distance_loss(x, like: s, window: 8, decay: 4)") { a in
                let x = try batched(a)
                let r = try Regularizers(template: try templateCoordinates(a, nodes: x.shape[1]))
                if try a.bool("all_pairs") { return .tensor(try r.allPairsLogDistance(x)) }
                return .tensor(try r.logDistance(x, window: try a.int("window"), decay: try a.number("decay")))
            },
            builtin("clash_loss", topic: topic, [required("coords"), optional("min", .number(4))],
                    doc: "Σ relu(min − d)² over residue pairs ≥ 3 apart in sequence or across a chain break of coords' first conformation (consecutive Cα farther than 4.5 Å apart) (fused, pairs found by a sweep along x), averaged over the batch.", example: "clash_loss(x, min: 4.0)") { a in
                let x = try batched(a)
                return .tensor(try Regularizers(template: x.storage[0..<(x.shape[1] * 3)].map(Double.init)).clash(x, minimum: Float(try a.number("min"))))
            },
            builtin("latent_l2", topic: topic, [required("z")], doc: "Mean squared latent value.", example: "latent_l2(z)") { a in
                .tensor(try Regularizers.latentL2(try a.tensor("z")))
            },
        ]
    }

    /// coords as [B,N,3] (a single [N,3] becomes a batch of one).
    private static func batched(_ a: Arguments) throws -> Tensor {
        let x = try a.tensor("coords")
        if x.rank == 2, x.shape[1] == 3 { return try x.reshape([1, x.shape[0], 3]) }
        guard x.rank == 3, x.shape[2] == 3, x.shape[1] >= 3 else { throw a.fail("coords", "coordinates [B,N,3] or [N,3] with N ≥ 3", a["coords"]) }
        return x
    }

    private static func templateCoordinates(_ a: Arguments, nodes: Int) throws -> [Double] {
        let s = try a.structure("like")
        guard s.count == nodes else { throw ScriptFailure(message: "\(a.callee): the template has \(s.count) atoms, coords have \(nodes)") }
        return s.models[0]
    }
}
