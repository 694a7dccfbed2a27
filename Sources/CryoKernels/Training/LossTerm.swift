/// One weighted term of `AutodecoderTrainer`'s loss besides the data term: a function of the batch's decoded
/// conformations (and latents), built in (`LossTerm.builtins`) or defined by a script.
///
/// A term's value is a mean: over the per-particle terms it adds up (bonds, angles, pairs, latent components) and
/// over the batch. `count` is how many terms per particle that mean is over, and the normalisation uses it as it
/// uses the data term's D² pixels: `.particle` multiplies the mean by `count` (a per-particle sum, averaged over the
/// batch), `.pixel` keeps the mean.
public struct LossTerm: Sendable {
    /// What a term sees of one batch.
    public struct Batch {
        /// Decoded conformations [B,N,3] (Å, in the template's centred frame); recorded, so gradients reach the
        /// decoder and the latents.
        public let coords: Tensor
        /// The batch's latents [B,L] (recorded).
        public let latents: Tensor
        /// The dataset index of each of the batch's B images.
        public let images: [Int]
    }

    /// The term's name in `reg: {…}` and in error messages.
    public let key: String
    /// The weight the term enters the loss with (before the normalisation's factor).
    public let weight: Float
    /// Terms per particle that `value` averages over (see the type's description).
    public let count: Double
    /// The term's value for a batch: a one-element tensor, differentiable in the batch's coordinates and latents.
    public let value: @Sendable (Batch) throws -> Tensor

    public init(key: String, weight: Float, count: Double, value: @escaping @Sendable (Batch) throws -> Tensor) {
        (self.key, self.weight, self.count, self.value) = (key, weight, count, value)
    }
}

/// The built-in terms, and the settings that choose among them and add script-defined ones. Adding a built-in term
/// is one entry in `LossTerm.builtins`: its key, reference weight, doc line, options, count and value; the trainer,
/// `train_autodecoder`'s accepted `reg:` keys and its doc string all read this table.
extension LossTerm {
    /// A number a built-in term reads from `reg: {…}` besides its weight.
    public struct Option: Sendable {
        public let key: String, defaultValue: Double, summary: String
        /// Checks a value, throwing a message that names the option when it is out of range.
        let validate: @Sendable (Double) throws -> Void
    }

    /// What a built-in term is made from: the template's reference geometry, its residue count N, the latent width L
    /// and the option values by key.
    public struct Context {
        public let regularizers: Regularizers
        public let nodes: Int, latentDimension: Int
        let options: [String: Double]

        /// The value of option `key`: the run's, else the table's default.
        public func option(_ key: String) -> Double {
            options[key] ?? LossTerm.builtinOptions.first { $0.key == key }?.defaultValue ?? .nan
        }
    }

    /// One row of the table.
    public struct Builtin: Sendable {
        public let key: String
        /// The weight a run uses when `reg:` does not name the term (Docs/METHOD.md's reference weights).
        public let referenceWeight: Float
        /// One line for the builtin's doc string.
        public let summary: String
        public let options: [Option]
        /// The term's count and value for a template.
        let make: @Sendable (Context) throws -> (count: Double, value: @Sendable (Batch) throws -> Tensor)
    }

    /// The built-in terms, in the order they are added to the loss.
    public static let builtins: [Builtin] = [
        Builtin(key: "bond", referenceWeight: 5e-4,
                summary: "squared deviation of consecutive Cα–Cα distances from the template's (N−1 terms, less the template's chain breaks)",
                options: []) { c in
            (Double(c.regularizers.bondCount), { [r = c.regularizers] in try r.bond($0.coords) })
        },
        Builtin(key: "centroid", referenceWeight: 0.01, summary: "squared drift of the centroid from the template's (1 term)", options: []) { c in
            (1, { [r = c.regularizers] in try r.centroidDrift($0.coords) })
        },
        Builtin(key: "angle", referenceWeight: 0,
                summary: "squared deviation of Cα virtual-angle cosines from the template's (N−2 terms, less those at a chain break)",
                options: []) { c in
            (Double(c.regularizers.angleCount), { [r = c.regularizers] in try r.angle($0.coords) })
        },
        Builtin(key: "log_distance", referenceWeight: 0,
                summary: "(log d² − log d₀²)² weighted exp(1 − |i−j|/decay), averaged over the P residue pairs at most window apart (P terms)",
                options: [Option(key: "window", defaultValue: 8, summary: "log_distance's sequence window") { w in
                              guard w >= 1, w == w.rounded() else { throw KernelError("train_autodecoder", "reg.window must be a whole number ≥ 1, got \(w)") }
                          },
                          Option(key: "decay", defaultValue: 4, summary: "log_distance's weight decay") { d in
                              guard d > 0 else { throw KernelError("train_autodecoder", "reg.decay must be above 0, got \(d)") }
                          }]) { c in
            let pairs = try c.regularizers.windowPairs(window: Int(c.option("window")), decay: c.option("decay"))
            return (Double(pairs.count), { [r = c.regularizers] in try r.logDistance($0.coords, over: pairs) })
        },
        Builtin(key: "all_pairs", referenceWeight: 0, summary: "(log d² − log d₀²)² unweighted, averaged over all N(N−1)/2 residue pairs (that many terms)",
                options: []) { c in
            let pairs = c.regularizers.allPairs()
            return (Double(pairs.count), { [r = c.regularizers] in try r.logDistance($0.coords, over: pairs) })
        },
        Builtin(key: "clash", referenceWeight: 0, summary: "Σ relu(clash_min − d)² over residue pairs at least 3 apart or in different chains (1 term: already a sum)",
                options: [Option(key: "clash_min", defaultValue: 4, summary: "clash's minimum distance, Å") { d in
                              guard d > 0 else { throw KernelError("train_autodecoder", "reg.clash_min must be above 0 Å, got \(d)") }
                          }]) { c in
            let minimum = Float(c.option("clash_min"))
            return (1, { [r = c.regularizers] in try r.clash($0.coords, minimum: minimum) })
        },
        Builtin(key: "latent", referenceWeight: 0, summary: "mean squared latent value (L terms)", options: []) { c in
            (Double(c.latentDimension), { try Regularizers.latentL2($0.latents) })
        },
    ]

    /// Every option of the built-in terms.
    public static var builtinOptions: [Option] { builtins.flatMap(\.options) }

    /// "bond (5e-4): …; centroid (0.01): …" with each term's reference weight, then the options with their defaults:
    /// the `reg:` part of `train_autodecoder`'s doc string.
    public static var documentation: String {
        let terms = builtins.map { "\($0.key) (\(shortNumber($0.referenceWeight))): \($0.summary)" }
        let options = builtinOptions.map { "\($0.key) (\(shortNumber(Float($0.defaultValue)))): \($0.summary)" }
        return terms.joined(separator: "; ") + "; options " + options.joined(separator: ", ")
    }

    private static func shortNumber(_ x: Float) -> String {
        x == x.rounded() ? String(Int(x)) : "\(x)"
    }
}

/// Which loss terms a run adds to its data term: the built-in terms' weights and options, and script-defined terms.
public struct Regularization: Sendable {
    /// Weight of each built-in term by key; a term absent here has its reference weight.
    public private(set) var weights: [String: Float] = [:]
    /// The built-in terms' options by key; an option absent here has its default.
    public private(set) var options: [String: Double] = [:]
    /// Terms defined outside the kernels, added after the built-in ones in this order.
    public private(set) var custom: [LossTerm] = []

    /// The reference weights and default options, no custom terms.
    public init() {}

    /// Sets a built-in term's weight or an option by its `reg:` key; an unknown key is an error listing the known ones.
    public mutating func set(_ key: String, _ value: Double) throws {
        guard value.isFinite else { throw KernelError("train_autodecoder", "reg.\(key) must be a finite number, got \(value)") }
        if LossTerm.builtins.contains(where: { $0.key == key }) {
            weights[key] = Float(value)
        } else if let option = LossTerm.builtinOptions.first(where: { $0.key == key }) {
            try option.validate(value)
            options[key] = value
        } else {
            let known = LossTerm.builtins.map(\.key) + LossTerm.builtinOptions.map(\.key)
            throw KernelError("train_autodecoder", "unknown regulariser '\(key)' (built in: \(known.joined(separator: ", ")); a script term is a record {weight, term})")
        }
    }

    /// Adds a script-defined term; its key must differ from every built-in key and from the terms added before.
    public mutating func add(_ term: LossTerm) throws {
        let builtin = LossTerm.builtins.map(\.key) + LossTerm.builtinOptions.map(\.key)
        guard !builtin.contains(term.key) else {
            throw KernelError("train_autodecoder", "reg.\(term.key) is built in and takes a number; give the script term another name")
        }
        guard !custom.contains(where: { $0.key == term.key }) else { throw KernelError("train_autodecoder", "reg.\(term.key) is given twice") }
        custom.append(term)
    }

    /// The weight of built-in term `key` in this run.
    public func weight(_ key: String) -> Float {
        weights[key] ?? LossTerm.builtins.first { $0.key == key }?.referenceWeight ?? 0
    }

    /// The terms of a run with `regularizers` of an N-residue template and L-dimensional latents: those of non-zero
    /// weight, the built-in ones in table order, then the custom ones.
    func terms(regularizers: Regularizers, nodes: Int, latentDimension: Int) throws -> [LossTerm] {
        let context = LossTerm.Context(regularizers: regularizers, nodes: nodes, latentDimension: latentDimension, options: options)
        var terms: [LossTerm] = []
        for builtin in LossTerm.builtins where weight(builtin.key) != 0 {
            let (count, value) = try builtin.make(context)
            terms.append(LossTerm(key: builtin.key, weight: weight(builtin.key), count: count, value: value))
        }
        return terms + custom.filter { $0.weight != 0 }
    }
}
