import CryoKernels

/// Density maps: a structure's map on a grid (a consensus map's, so the two overlay), MRC volumes out, and the
/// Fourier shell correlation of two maps.
enum MapBuiltins {
    static let topic = "maps"

    static var all: [Builtin] {
        [
            builtin("density_map", topic: topic, [required("structure"), optional("like", .null), optional("map", .null), optional("size", .null),
                                                  optional("pixel", .null), optional("centre", .null), optional("sigma", .string("residue")),
                                                  optional("weights", .string("residue")), optional("blur", .number(0))],
                    doc: "The density of a structure's Gaussian atoms as the forward model renders them (each voxel the atoms' mass inside it: summed along z it is project()'s image seen along z), as a map record {size, pixel, origin, centre, data [z,y,x]} in the structure's coordinates (Å). structure: a structure (its first model), or coordinates [N,3] with like: a structure for the residue table. The grid: map: a map record (read_mrc(...) of the consensus map the structure was fitted into, so the two overlay and fsc() can compare them), or size: voxels and pixel: Å with the box centre at centre: [x,y,z] (default: the structure's centroid). sigma/weights as in project (default the residue table's); blur: b (Å, a number or one per atom) widens each Gaussian to √(σ² + b²), e.g. a state's spread.",
                    example: "let m = density_map(states.centres[0], like: template, map: read_mrc(\"Refine3D/job025/run_class001.mrc\"))") { a in
                let coords: Tensor, template: Structure?
                if case .object(let o as StructureObject) = a["structure"] {
                    (coords, template) = (o.structure.coordinates, a.isNull("like") ? o.structure : try a.structure("like"))
                } else {
                    coords = try a.tensor("structure")
                    template = a.isNull("like") ? nil : try a.structure("like")
                }
                guard coords.rank == 2, coords.shape[1] == 3, coords.shape[0] > 0 else { throw a.fail("structure", "a structure or coordinates [N,3] (Å)", a["structure"]) }
                let atoms = coords.shape[0]
                let size: [Int], spacing: [Float], origin: [Float]
                if !a.isNull("map") {
                    (size, spacing, origin) = try MapValue.grid(a, "map")
                } else {
                    guard let box = try a.optionalInt("size"), let pixel = try a.optionalNumber("pixel") else {
                        throw ScriptFailure(message: "density_map: give the grid: map: (a map record, e.g. read_mrc of the consensus map) or size: (voxels) and pixel: (Å)")
                    }
                    let centre = a.isNull("centre") ? Superposition.centroid(coords.storage.map(Double.init)).map(Float.init)
                        : try a.tensor("centre").storage
                    guard centre.count == 3 else { throw a.fail("centre", "the box centre [x, y, z] (Å)", a["centre"]) }
                    (size, spacing) = ([box, box, box], [Float](repeating: Float(pixel), count: 3))
                    origin = DensityMap.origin(centredAt: centre, size: size, spacing: spacing)
                }
                let map = try DensityMap.render(coordinates: coords.storage, sigma: try a.blurredWidths(count: atoms, template: template),
                                                weight: try a.atomValues("weights", count: atoms, template: template, residue: { $0.electrons }, unit: 1),
                                                size: size, spacing: spacing, origin: origin)
                return try MapValue.record(map)
            },
            builtin("write_mrc", topic: topic, [required("path"), required("map")],
                    doc: "Writes a map record (density_map(...) or read_mrc(path, data: true)) as an MRC2014 float32 volume with its voxel size and origin in the header, where ChimeraX and RELION read them: it overlays the structure or map it came from.",
                    example: "write_mrc(\"out/state_01.mrc\", density_map(st.centres[0], like: template, map: consensus))") { a in
                try MRCFile.write(try a.string("path"), map: try MapValue.map(a, "map"))
                return .null
            },
            builtin("fsc", topic: topic, [required("a"), required("b"), optional("threshold", .number(0.5)), optional("plot", .null), optional("title", .string(""))],
                    doc: "Fourier shell correlation of two map records on one cubic grid (one box, voxel size and origin: render a structure with density_map(..., map: other)) → {frequency (Å⁻¹ per shell, 0 to Nyquist), fsc, threshold, resolution (Å where the curve first falls below threshold, interpolated; nil when it never does)}. 0.5 reads a map against a model's map, 0.143 a reconstruction's half maps. plot: a PNG path for the curve, title: its title.",
                    example: "fsc(density_map(template, map: consensus), consensus, plot: \"out/fsc.png\").resolution") { a in
                let curve = try FourierShellCorrelation(try MapValue.map(a, "a"), try MapValue.map(a, "b"))
                let threshold = try a.number("threshold")
                let resolution = curve.resolution(at: Float(threshold))
                if !a.isNull("plot") { try FSCPlot.write(try a.string("plot"), curves: [("FSC", curve)], threshold: threshold, title: try a.string("title")) }
                return .record(Record(curveFields(curve) + [("threshold", .number(threshold)), ("resolution", resolution.map { .number(Double($0)) } ?? .null)]))
            },
            builtin("reconstruct", topic: topic, [required("images"), required("rotations"), optional("shifts", .null), optional("ctf", .null),
                                                  optional("pixel", .null), optional("centre", .list([.number(0), .number(0), .number(0)])),
                                                  optional("wiener", .number(0.001)), optional("halves", .null), optional("seed", .number(0)), optional("plot", .null)],
                    doc: "The 3D map of images [B,D,D] (or a streamed stack) seen at rotations [B,3,3] with RELION origins shifts [B,2] (Å) and CTFs (ctf: a dataset, record or ctf(...); pixel: Å unless ctf: is a dataset; images of 4–128 px), by direct Fourier inversion (central slices inserted into a grid padded twice by trilinear weights; Σ CTF·Ŷ / (Σ CTF² + λ), λ = wiener × the mean of Σ CTF²), as relion_reconstruct does. The particles are split into two halves reconstructed apart, halves: [B] of 1 and 2 (RELION's _rlnRandomSubset, data.optics.random_subset for a STAR file) or else at random (seed): their FSC at 0.143 is the resolution the images and their poses support, with no ground truth, when each half's poses were found apart from the other's (RELION's gold standard: its refinement keeps the halves' references apart); poses found against references made from all the particles align both halves' noise alike, and the FSC then overstates the resolution. Returns {map (every particle; a map record, voxel D/2 at centre: [x,y,z] Å, so centre: a consensus map's centre or the template's centroid overlays them), half1, half2, frequency, fsc, resolution (Å at 0.143; nil beyond Nyquist), split (\"given\", or \"random\": without halves:, or when they hold one label only, which is said)}; plot: a PNG of the halves' FSC.",
                    example: "let rec = reconstruct(data.images, est.rotations, shifts: est.shifts, ctf: data); rec.resolution") { a in
                try reconstruct(a)
            },
            builtin("randomize_phases", topic: topic, [required("dataset"), required("beyond"), optional("seed", .null)],
                    doc: "The dataset with every image's Fourier phases at and beyond 1/beyond Å⁻¹ replaced by random ones (those of a white-noise image, so the images stay real), the amplitudes kept: high-resolution noise substitution (Chen et al. 2013). Run the same pose search and reconstruction on it as on the dataset; beyond that resolution its images hold no signal, so the FSC its half maps still show there is what the search put in (reference bias, overfitting), and corrected_fsc removes it from the real run's. RELION chooses beyond: where the half-map FSC falls to 0.8. Images in memory are randomised now; streamed ones on every read, each particle seeded by its stack and index so that every read (and every subset) sees the same images. The rest (poses, CTFs, STAR rows) is kept. seed: seeds the random phases (default: the interpreter's generator, seed()).",
                    example: "let noisy = randomize_phases(data, beyond: 12, seed: 5)") { a in
                let dataset = try DatasetValue.dataset(a["dataset"], op: "randomize_phases")
                let seed = try a.withGenerator { $0.next() }
                let out = try dataset.phaseRandomized(beyond: Float(try a.number("beyond")), seed: seed)
                return try DatasetValue.replacing(a["dataset"], with: out)
            },
            builtin("corrected_fsc", topic: topic, [required("measured"), required("substituted"), required("beyond")],
                    doc: "The half-map FSC measured (a record with frequency and fsc, as reconstruct and fsc return) corrected for what the search put in: substituted is the same search and reconstruction run on randomize_phases(dataset, beyond:), and every shell at or beyond 1/beyond Å⁻¹ becomes (FSC_t − FSC_n) / (1 − FSC_n) (Chen et al. 2013), the others kept. Returns {frequency, fsc, resolution (Å at 0.143; nil beyond Nyquist)}.",
                    example: "corrected_fsc(rec, noisy_rec, beyond: 12).resolution") { a in
                let curves = try ["measured", "substituted"].map { name -> FourierShellCorrelation in
                    let r = try a.record(name)
                    guard let frequency = r["frequency"], let fsc = r["fsc"] else {
                        throw a.fail(name, "a record with frequency and fsc (as reconstruct or fsc returns)", a[name])
                    }
                    return FourierShellCorrelation(frequency: try ValueConversion.tensor(frequency).storage, correlation: try ValueConversion.tensor(fsc).storage)
                }
                let curve = try NoiseSubstitution.corrected(curves[0], by: curves[1], beyond: Float(try a.number("beyond")))
                return .record(Record(curveFields(curve) + [("resolution", curve.resolution(at: 0.143).map { .number(Double($0)) } ?? .null)]))
            },
        ]
    }

    private static func reconstruct(_ a: Arguments) throws -> Value {
        let images = try ImageRows(a)
        let count = images.count
        let (pixel, ctf) = try DatasetValue.pixelAndCTF(a, images: count)
        let rotations = try Rotation.list(from: try a.tensor("rotations"), op: "reconstruct")
        guard rotations.count == count else { throw a.fail("rotations", "rotations [\(count),3,3], one per image", a["rotations"]) }
        let origins = try DatasetValue.origins(a, images: count) ?? [Float](repeating: 0, count: 2 * count)
        let centre = try a.tensor("centre").storage
        guard centre.count == 3 else { throw a.fail("centre", "the map's centre [x, y, z] (Å)", a["centre"]) }
        let wiener = try a.number("wiener")
        guard wiener > 0, wiener.isFinite else { throw a.fail("wiener", "a positive Wiener constant (a fraction of the mean Σ CTF²)", a["wiener"]) }
        guard count >= 2 else { throw ScriptFailure(message: "reconstruct: needs at least 2 images (one per half), got \(count)") }
        // The halves given (1 and 2, as RELION numbers them), or a balanced random split: the first half of a seeded
        // shuffle goes to half1 (index 0), the rest to half2.
        var half = [Int](repeating: 1, count: count)
        var split = "random"
        if !a.isNull("halves") {
            let given = try a.tensor("halves").storage
            guard given.count == count, given.allSatisfy({ $0 == 1 || $0 == 2 }) else {
                throw a.fail("halves", "[\(count)] labels 1 and 2, one per image", a["halves"])
            }
            if Set(given).count == 2 {
                half = given.map { Int($0) - 1 }
                split = "given"
            } else {
                a.interpreter.warn("reconstruct: every image is in half \(Int(given[0])) of halves:, so the images are split at random instead")
            }
        }
        if split == "random" {
            var order = Array(0..<count)
            try a.withGenerator { order.shuffle(using: &$0) }
            for i in order.prefix(count / 2) { half[i] = 0 }
        }
        var reconstruction = try FourierReconstruction(size: images.size, pixel: Float(pixel))
        let bar = ProgressBar("reconstruct", total: count)
        for start in stride(from: 0, to: count, by: 256) {
            let chunk = Array(start..<Swift.min(count, start + 256))
            let read = try images.read(chunk)
            for h in 0...1 {
                let rows = chunk.indices.filter { half[chunk[$0]] == h }
                guard !rows.isEmpty else { continue }
                let d2 = images.size * images.size
                try reconstruction.insert(images: rows.flatMap { read.storage[($0 * d2)..<(($0 + 1) * d2)] }, rotations: rows.map { rotations[chunk[$0]] },
                                          origins: rows.flatMap { [origins[2 * chunk[$0]], origins[2 * chunk[$0] + 1]] },
                                          ctf: ctf.map { c in rows.map { c[c.count == 1 ? 0 : chunk[$0]] } }, half: h)
            }
            bar.update(chunk.last! + 1)
        }
        let maps = try [[0, 1], [0], [1]].map { try reconstruction.map(halves: $0, wiener: Float(wiener), centre: centre) }
        let curve = try FourierShellCorrelation(maps[1], maps[2], op: "reconstruct")
        if !a.isNull("plot") {
            try FSCPlot.write(try a.string("plot"), curves: [("half maps", curve)], threshold: 0.143, title: "FSC of the two half maps")
        }
        return .record(Record([("map", try MapValue.record(maps[0])), ("half1", try MapValue.record(maps[1])), ("half2", try MapValue.record(maps[2]))]
                              + curveFields(curve) + [("resolution", curve.resolution(at: 0.143).map { .number(Double($0)) } ?? .null),
                                                      ("split", .string(split))]))
    }

    /// A curve's fields as scripts see them: frequency (Å⁻¹ per shell) and fsc.
    private static func curveFields(_ curve: FourierShellCorrelation) -> [(String, Value)] {
        [("frequency", .list(curve.frequency.map { .number(Double($0)) })), ("fsc", .list(curve.correlation.map { .number(Double($0)) }))]
    }
}
