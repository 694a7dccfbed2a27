import CryoKernels

/// Loss terms written in the language for `train_autodecoder`: `reg: {bond: 5e-4, name: {weight, term, count}}` and
/// `data: |rendered, images, ctx| …` (or `data: {term, count}`), turned into the kernels' `LossTerm` and
/// `ImageLoss`. Every call gets `ctx`: {latents [B,L], template [N,3] (centred as the conformations are), graph (the
/// template's residue graph), indices [B] (the images' dataset indices)}, and for the data term `candidates`
/// (renderings per image: 1 with known poses, K with poses: "esl").
enum ScriptLossTerms {
    /// What every `ctx` shares: the template [N,3] in the frame of the decoded conformations and its residue graph.
    struct Constants: Sendable {
        let template: Tensor
        let graph: GraphObject
    }

    /// The contract of a script term, for the builtin's doc string.
    static let documentation = "A script regulariser is reg: {name: {weight: w, term: |x, ctx| …, count: c}}: term gets the batch's conformations x [B,N,3] (Å) and ctx {latents [B,L], template [N,3], graph, indices [B]}, returns a one-element tensor, a mean over per-particle terms and the batch as the built-in terms are; count (default N) is how many terms per particle that mean is over, so normalize: \"particle\" multiplies it by count like the built-ins (\"pixel\" keeps the mean). data: |rendered, images, ctx| … replaces the image MSE: rendered and images [R,D,D] (known poses: R = B, rendered on the images' scale; poses: \"esl\": R = B·K, each image's K candidates, both standardised per rendering, ctx.candidates = K), returning one loss per rendering [R] or per pixel [R,D,D] (averaged per rendering); as a record {term, count} count defaults to D², the pixels."

    /// The regularisation of `reg:`: numbers set built-in weights and options (checked against `LossTerm.builtins`),
    /// records {weight, term, count} add script terms.
    static func regularization(_ a: Arguments, constants: () throws -> Constants, nodes: Int) throws -> Regularization {
        var regularization = Regularization()
        for (key, value) in try a.record("reg").fields {
            switch value {
            case .number(let x):
                try regularization.set(key, x)
            case .record(let r):
                let term = try callable(r["term"], "reg.\(key).term")
                let weight = try number(r["weight"], "reg.\(key).weight")
                let count = try r["count"].map { try number($0, "reg.\(key).count") } ?? Double(nodes)
                guard count > 0 else { throw ScriptFailure(message: "train_autodecoder: reg.\(key).count must be above 0, got \(count)") }
                if let extra = r.keys.first(where: { !["term", "weight", "count"].contains($0) }) {
                    throw ScriptFailure(message: "train_autodecoder: reg.\(key) has an unknown field '\(extra)' (a script term is {weight, term, count})")
                }
                let shared = try constants(), interpreter = a.interpreter
                try regularization.add(LossTerm(key: key, weight: Float(weight), count: count) { batch in
                    let ctx = context(shared, latents: batch.latents, indices: batch.images, extra: [])
                    return try scalar(try interpreter.callValue(term, [.tensor(batch.coords), .record(ctx)]), "reg.\(key)")
                })
            default:
                throw ScriptFailure(message: "train_autodecoder: reg.\(key) must be a number (a built-in term's weight or option) or a record {weight, term, count} (a script term), got \(value.typeName)")
            }
        }
        return regularization
    }

    /// The data term of `data:` (a function, or a record {term, count}), or nil when it is null.
    static func dataTerm(_ a: Arguments, constants: () throws -> Constants) throws -> ImageLoss? {
        let term: Value, count: Double?
        switch a["data"] {
        case .null: return nil
        case .record(let r):
            term = try callable(r["term"], "data.term")
            count = try r["count"].map { try number($0, "data.count") }
            if let count, !(count > 0) { throw ScriptFailure(message: "train_autodecoder: data.count must be above 0, got \(count)") }
            if let extra = r.keys.first(where: { !["term", "count"].contains($0) }) {
                throw ScriptFailure(message: "train_autodecoder: data has an unknown field '\(extra)' (a script data term is a function or {term, count})")
            }
        case let v:
            term = try callable(v, "data")
            count = nil
        }
        let shared = try constants(), interpreter = a.interpreter
        return ImageLoss(count: count) { batch in
            let ctx = context(shared, latents: batch.latents, indices: batch.indices, extra: [("candidates", .number(Double(batch.candidates)))])
            let out = try interpreter.callValue(term, [.tensor(batch.rendered), .tensor(batch.images), .record(ctx)])
            guard case .tensor(let t) = out else {
                throw ScriptFailure(message: "train_autodecoder: the data term must return a tensor of losses, got \(out.typeName)")
            }
            return t
        }
    }

    private static func context(_ shared: Constants, latents: Tensor, indices: [Int], extra: [(String, Value)]) -> Record {
        Record([("latents", .tensor(latents)), ("template", .tensor(shared.template)), ("graph", .object(shared.graph)),
                ("indices", .tensor(Tensor(indices.map(Float.init))))] + extra)
    }

    /// A term's result as a one-element tensor.
    private static func scalar(_ value: Value, _ name: String) throws -> Tensor {
        guard case .tensor(let t) = value, t.count == 1 else {
            throw ScriptFailure(message: "train_autodecoder: \(name)'s term must return a one-element tensor computed from its arguments, got \(value.typeName) \(ValueFormatter.brief(value))")
        }
        return t
    }

    private static func callable(_ value: Value?, _ name: String) throws -> Value {
        switch value {
        case .function?, .builtin?: return value!
        case .object(let o)? where o is CallableObject: return value!
        case let v?: throw ScriptFailure(message: "train_autodecoder: \(name) must be a function, got \(v.typeName) \(ValueFormatter.brief(v))")
        case nil: throw ScriptFailure(message: "train_autodecoder: \(name) is missing (a function)")
        }
    }

    private static func number(_ value: Value?, _ name: String) throws -> Double {
        guard case .number(let x)? = value else {
            throw ScriptFailure(message: "train_autodecoder: \(name) must be a number, got \(value.map { "\($0.typeName) \(ValueFormatter.brief($0))" } ?? "nothing")")
        }
        return x
    }
}
