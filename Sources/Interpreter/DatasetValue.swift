import CryoKernels

/// Particle datasets as script records: `{images, rotations, shifts, ctf, conformation, pixel, size, optics}` with
/// `ctf` a record of per-image tensors `{defocus_u, defocus_v, angle, voltage, cs, amplitude, phase_shift, bfactor,
/// scale}`, shifts RELION's origins (Å), and `optics` the optics groups and the STAR file the dataset came from.
enum DatasetValue {
    /// The record of a dataset (plus any extra fields, e.g. clean images of a simulation).
    static func record(_ d: ParticleDataset, extra: [(String, Value)] = []) -> Value {
        var fields: [(String, Value)] = []
        if let images = d.images { fields.append(("images", .tensor(images))) }
        if let streamed = d.streamed { fields.append(("images", .object(StreamedImagesObject(streamed)))) }
        fields += [("rotations", .tensor(Rotation.tensor(d.rotations))),
                   ("shifts", .tensor(d.shiftTensor)),
                   ("ctf", ctfRecord(d.ctf)),
                   ("conformation", d.conformation.map { .tensor(Tensor($0.map(Float.init))) } ?? .null),
                   ("pixel", .number(Double(d.pixel))), ("size", .number(Double(d.size))),
                   ("optics", .object(DatasetSourceObject(optics: d.optics, group: d.opticsGroup, metadata: d.metadata)))]
        return .record(Record(fields + extra))
    }

    /// A record of per-image CTF parameter tensors, and a whitened dataset's filter as `whitening: {shell_width
    /// (Å⁻¹), gains [D/2+1]}` (`whiten`; one filter for all images).
    static func ctfRecord(_ ctf: [CTFParameters]) -> Value {
        func column(_ f: (CTFParameters) -> Double) -> Value { .tensor(Tensor(ctf.map { Float(f($0)) })) }
        var fields: [(String, Value)] = [("defocus_u", column(\.defocusU)), ("defocus_v", column(\.defocusV)), ("angle", column(\.astigmatismAngle)),
                                         ("voltage", column(\.voltage)), ("cs", column(\.sphericalAberration)), ("amplitude", column(\.amplitudeContrast)),
                                         ("phase_shift", column(\.phaseShift)), ("bfactor", column(\.bFactor)), ("scale", column(\.scaleFactor))]
        if let w = ctf.first?.whitening {
            fields.append(("whitening", .record(Record([("shell_width", .number(w.shellWidth)), ("gains", .tensor(Tensor(w.gains.map(Float.init))))]))))
        }
        return .record(Record(fields))
    }

    /// CTF parameters from a ctf record (fields may be numbers or per-image tensors; `defocus` may stand for
    /// The shifts: argument of `images` images, RELION origins [B,2] (Å, x then y) as B·2 values; nil without it.
    static func origins(_ a: Arguments, images: Int) throws -> [Float]? {
        if a.isNull("shifts") { return nil }
        let given = try a.tensor("shifts")
        guard given.shape == [images, 2] else { throw a.fail("shifts", "RELION origins [\(images),2] (Å)", a["shifts"]) }
        return given.storage
    }

    /// The pixel size (Å) of `images` images, from pixel: or else the dataset given as ctf:, and their CTFs (ctf: a
    /// dataset, record or ctf(...) value with one CTF for all or one per image; nil without ctf:).
    static func pixelAndCTF(_ a: Arguments, images: Int) throws -> (Double, [CTFParameters]?) {
        var pixel = try a.optionalNumber("pixel")
        if pixel == nil, case .record(let r) = a["ctf"], case .number(let p)? = r["pixel"] { pixel = p }
        guard let pixel else { throw ScriptFailure(message: "\(a.callee): give pixel: (Å), or a dataset as ctf:") }
        let ctf = a.isNull("ctf") ? nil : try ctfParameters(a["ctf"], count: nil, op: a.callee)
        if let ctf, ctf.count != images, ctf.count != 1 { throw ScriptFailure(message: "\(a.callee): got \(ctf.count) CTFs for \(images) images") }
        return (pixel, ctf)
    }

    /// both defocus values), a dataset record (its `ctf` field), or a `ctf(...)` handle; `count` images expected.
    static func ctfParameters(_ value: Value, count: Int?, op: String) throws -> [CTFParameters] {
        if case .object(let o as CTFObject) = value { return o.parameters }
        guard case .record(var r) = value else { throw ScriptFailure(message: "\(op): expected CTF parameters (a record, a dataset or ctf(...)), got \(value.typeName)") }
        // A dataset's optics groups hold the CTF terms beyond the record's per-image fields (`OpticsTerms`).
        var source: DatasetSourceObject?
        if case .object(let o as DatasetSourceObject)? = r["optics"] { source = o }
        if case .record(let inner)? = r["ctf"] { r = inner }
        func column(_ keys: [String], _ fallback: Double?) throws -> [Double]? {
            for key in keys {
                switch r[key] {
                case .number(let x)?: return [x]
                case .tensor(let t)?: return t.storage.map(Double.init)
                case nil: continue
                case let v?: throw ScriptFailure(message: "\(op): CTF field '\(key)' must be a number or tensor, got \(v.typeName)")
                }
            }
            return fallback.map { [$0] }
        }
        guard let du = try column(["defocus_u", "defocus"], nil) else {
            throw ScriptFailure(message: "\(op): CTF parameters need 'defocus' or 'defocus_u' (Å); fields given: \(r.keys.joined(separator: ", "))")
        }
        let columns = [du, try column(["defocus_v", "defocus"], nil) ?? du, try column(["angle"], 0)!, try column(["voltage"], 300)!,
                       try column(["cs"], 2.7)!, try column(["amplitude"], 0.1)!, try column(["phase_shift"], 0)!, try column(["bfactor"], 0)!,
                       try column(["scale"], 1)!]
        let n = count ?? columns.map(\.count).max() ?? 1
        for c in columns where c.count != 1 && c.count != n {
            throw ScriptFailure(message: "\(op): CTF fields hold \(c.count) values for \(n) images")
        }
        var whitening: NoiseWhitening?
        if let w = r["whitening"], !w.isNull {
            guard case .record(let f) = w, case .number(let width)? = f["shell_width"], let gains = f["gains"] else {
                throw ScriptFailure(message: "\(op): the CTF's whitening must be {shell_width, gains}, as whiten() writes it")
            }
            whitening = try NoiseWhitening(shellWidth: width, gains: try ValueConversion.tensor(gains).storage.map(Double.init))
        }
        return try (0..<n).map { i in
            func v(_ k: Int) -> Double { columns[k].count == 1 ? columns[k][0] : columns[k][i] }
            var p = CTFParameters(defocusU: v(0), defocusV: v(1), astigmatismAngle: v(2), voltage: v(3), sphericalAberration: v(4),
                                  amplitudeContrast: v(5), phaseShift: v(6), bFactor: v(7), scaleFactor: v(8))
            p.whitening = whitening
            if let source, source.group.count == n, !source.optics[source.group[i]].terms.isNeutral { p.optics = source.optics[source.group[i]].terms }
            try p.validate(op: op)
            return p
        }
    }

    /// A dataset from its record (images optional).
    static func dataset(_ value: Value, op: String) throws -> ParticleDataset {
        guard case .record(let r) = value else { throw ScriptFailure(message: "\(op): expected a dataset record, got \(value.typeName)") }
        func tensor(_ key: String) throws -> Tensor {
            guard let v = r[key] else { throw ScriptFailure(message: "\(op): dataset has no field '\(key)' (fields: \(r.keys.joined(separator: ", ")))") }
            return try ValueConversion.tensor(v)
        }
        func number(_ key: String) throws -> Double {
            guard case .number(let x)? = r[key] else { throw ScriptFailure(message: "\(op): dataset field '\(key)' must be a number") }
            return x
        }
        let rotations = try Rotation.list(from: try tensor("rotations"), op: op)
        let shifts = try tensor("shifts")
        guard shifts.count == 2 * rotations.count else { throw ScriptFailure(message: "\(op): shifts hold \(shifts.count / 2) entries for \(rotations.count) rotations") }
        var conformation: [Int]?
        if let c = r["conformation"], !c.isNull {
            conformation = try ValueConversion.tensor(c).storage.map { x in
                guard x == x.rounded(), Swift.abs(x) < 1e9 else { throw ScriptFailure(message: "\(op): conformation labels must be whole numbers, got \(x)") }
                return Int(x)
            }
        }
        var streamed: StreamedImages?
        if case .object(let o as StreamedImagesObject)? = r["images"] { streamed = o.images }
        let images = r["images"] == nil || streamed != nil ? nil : try tensor("images")
        var dataset = try ParticleDataset(images: images, rotations: rotations, shifts: shifts.storage,
                                          ctf: try ctfParameters(.record(r), count: rotations.count, op: op),
                                          pixel: Float(try number("pixel")), size: Int(try number("size")), conformation: conformation, op: op)
        if case .object(let o as DatasetSourceObject)? = r["optics"] {
            guard o.group.count == rotations.count else {
                throw ScriptFailure(message: "\(op): the dataset's optics describe \(o.group.count) particles but it has \(rotations.count); take subsets with subset(dataset, rows)")
            }
            dataset.optics = o.optics
            dataset.opticsGroup = o.group
            dataset.metadata = o.metadata
        }
        if let streamed {
            guard streamed.count == rotations.count, streamed.size == dataset.size else {
                throw ScriptFailure(message: "\(op): the image stack holds \(streamed.count) images of \(streamed.size) px for \(rotations.count) particles of \(dataset.size) px")
            }
            dataset.streamed = streamed
        }
        return dataset
    }
}

extension DatasetValue {
    /// Ground truth per image, 3N Å each: the conformations of `truth:` (or the dataset record's `truth` [K,N,3])
    /// picked by the dataset's `conformation` labels; nil when either is missing.
    static func perImageTruth(_ a: Arguments, dataset: ParticleDataset, nodes: Int) throws -> [[Double]]? {
        guard case .record(let r) = a["dataset"], let labels = dataset.conformation else { return nil }
        let truth: Tensor
        if !a.isNull("truth") {
            let models = try a.conformations("truth")
            truth = try Tensor(shape: [models.count, nodes, 3], storage: models.flatMap { $0.map(Float.init) })
        } else if let t = r["truth"], !t.isNull {
            truth = try ValueConversion.tensor(t)
        } else {
            return nil
        }
        guard truth.rank == 3, truth.shape[1] == nodes, truth.shape[2] == 3 else {
            throw ScriptFailure(message: "\(a.callee): dataset.truth has shape \(formatShape(truth.shape)), expected [K,\(nodes),3]")
        }
        let per = nodes * 3
        return try labels.map { k in
            guard k >= 0, k < truth.shape[0] else { throw ScriptFailure(message: "\(a.callee): conformation label \(k) has no truth entry") }
            return truth.storage[(k * per)..<((k + 1) * per)].map(Double.init)
        }
    }

    /// The fields of a dataset record that `record` makes from the dataset itself.
    private static let ownFields: Set<String> = ["images", "rotations", "shifts", "ctf", "conformation", "pixel", "size", "optics"]

    /// The other fields of a dataset record (a simulation's clean images, its truth), each passed through `kept`.
    private static func extraFields(_ r: Record, _ kept: (String, Value) throws -> Value = { $1 }) rethrows -> [(String, Value)] {
        try r.keys.filter { !ownFields.contains($0) }.compactMap { key in try r[key].map { (key, try kept(key, $0)) } }
    }

    /// The record of `replacement` keeping the other fields of `value`.
    static func replacing(_ value: Value, with replacement: ParticleDataset) throws -> Value {
        guard case .record(let r) = value else { return record(replacement) }
        return record(replacement, extra: try extraFields(r))
    }

    /// Particles `rows` of a dataset record as a record of their own: every per-image field (images, streamed or
    /// not, poses, CTFs, labels, optics, STAR rows, a simulation's clean images) subset, the rest kept.
    static func subset(_ value: Value, rows: [Int], op: String) throws -> Value {
        let part = try dataset(value, op: op).subset(rows, op: op)
        guard case .record(let r) = value else { return record(part) }
        return record(part, extra: try extraFields(r) { key, v in
            if key == "clean", case .tensor(let t) = v { return .tensor(try t.gather(Tensor(rows.map(Float.init)))) }
            return v
        })
    }
}

/// A dataset's optics groups and the STAR file it was read from (`data.optics`): what `write_star` needs to
/// write the file back with every column, and what a user inspects (`.groups`, `.group`, `.path`, and `.random_subset`,
/// the STAR's `_rlnRandomSubset` halves, nil without the column).
final class DatasetSourceObject: ScriptObject, @unchecked Sendable {
    let optics: [OpticsGroup]
    let group: [Int]
    let metadata: StarMetadata?

    init(optics: [OpticsGroup], group: [Int], metadata: StarMetadata?) {
        self.optics = optics
        self.group = group
        self.metadata = metadata
    }

    var typeName: String { "optics" }
    var summary: String {
        "<\(optics.count) optics group\(optics.count == 1 ? "" : "s") for \(group.count) particles\(metadata.map { ", from \($0.path)" } ?? "")>"
    }
    var memberNames: [String] { ["groups", "group", "path", "random_subset"] }

    func member(_ name: String) throws -> Value? {
        switch name {
        case "groups":
            return .list(optics.map { g in
                .record(Record([("number", .number(Double(g.number))), ("name", .string(g.name)), ("pixel", .number(Double(g.pixel))),
                                ("size", .number(Double(g.size))), ("voltage", .number(g.voltage)), ("cs", .number(g.sphericalAberration)),
                                ("amplitude", .number(g.amplitudeContrast))]))
            })
        case "group": return .tensor(Tensor(group.map { Float(optics[$0].number) }))
        case "path": return metadata.map { .string($0.path) } ?? .null
        case "random_subset": return try metadata?.randomSubsets().map { .tensor(Tensor($0.map(Float.init))) } ?? .null
        default: return nil
        }
    }
}

/// A set of CTFs as scripts see it (from `ctf(...)`): `.image` gives the centred 2D CTFs [B,D,D] for display.
final class CTFObject: ScriptObject, @unchecked Sendable {
    let parameters: [CTFParameters]
    let size: Int
    let pixel: Float

    init(parameters: [CTFParameters], size: Int, pixel: Float) {
        self.parameters = parameters
        self.size = size
        self.pixel = pixel
    }

    var typeName: String { "ctf" }
    var summary: String { "<ctf ×\(parameters.count), \(size) px at \(pixel) Å/px>" }
    var memberNames: [String] { ["image", "params", "count"] }

    func member(_ name: String) throws -> Value? {
        switch name {
        case "count": return .number(Double(parameters.count))
        case "params": return DatasetValue.ctfRecord(parameters)
        case "image":
            // Full centred spectra: entry (i, j) holds the CTF at frequency ((j − D/2), (i − D/2))/(D·pixel).
            let d = size
            var out = [Float](repeating: 0, count: parameters.count * d * d)
            for (b, p) in parameters.enumerated() {
                for i in 0..<d { for j in 0..<d {
                    let sx = Double(j - d / 2) / (Double(d) * Double(pixel)), sy = Double(i - d / 2) / (Double(d) * Double(pixel))
                    out[(b * d + i) * d + j] = Float(p.value(sx: sx, sy: sy))
                } }
            }
            return .tensor(try Tensor(shape: [parameters.count, d, d], storage: out))
        default: return nil
        }
    }
}
