import CryoKernels
import Foundation

/// Particle data: simulation, MRCS stacks and RELION STAR files.
enum DataBuiltins {
    static let topic = "data"

    /// The `optics:` argument of `simulate`: a list of {voltage, cs, amplitude} records (default one 300 kV group).
    static func opticsGroups(_ a: Arguments) throws -> [(voltage: Double, sphericalAberration: Double, amplitudeContrast: Double)] {
        if a.isNull("optics") { return [(300, 2.7, 0.1)] }
        guard case .list(let groups) = a["optics"], !groups.isEmpty else { throw a.fail("optics", "a non-empty list of {voltage, cs, amplitude} records", a["optics"]) }
        return try groups.map { g in
            guard case .record(let r) = g, case .number(let v)? = r["voltage"], case .number(let cs)? = r["cs"], case .number(let w)? = r["amplitude"] else {
                throw a.fail("optics", "a list of {voltage, cs, amplitude} records (kV, mm, fraction)", g)
            }
            return (v, cs, w)
        }
    }

    static var all: [Builtin] {
        [
            builtin("simulate", topic: topic, [required("conformations"), optional("images", .number(1000)), optional("size", .number(64)),
                                               optional("pixel", .number(2)), optional("sigma", .string("residue")), optional("weights", .string("residue")),
                                               optional("snr", .number(0.1)), optional("defocus", .list([.number(10000), .number(25000)])),
                                               optional("shift", .number(0)), optional("astigmatism", .number(0)), optional("optics", .null),
                                               optional("ctf", .bool(true)), optional("seed", .number(0)), optional("like", .null),
                                               optional("centre", .string("each")), optional("render", .string("integrated"))],
                    doc: "Simulated particles: random conformation (centre: \"each\" centres every conformation on its own centroid; \"first\" moves all by the first one's centroid, so the images also carry the centroid's motion), uniform pose, shift (std, Å; RELION origins, the particle drawn at box centre − shift), defocus (range, Å), astigmatism (dfU − dfV uniform in [0, a] Å at a random angle), optics groups (a list of {voltage, cs, amplitude}; image i in group i mod count; default one group 300 kV, 2.7 mm, 0.1), CTF, noise at snr; render: \"integrated\" (each atom's Gaussian integrated over the pixels, as training renders) or \"point\" (sampled at pixel centres, as the PyTorch calibration draws); sigma:, weights: and like: as in project (the default \"residue\" widths and weights need a structure, or like: one). Returns {images, clean, truth [K,N,3], rotations, shifts, ctf, conformation, pixel, size, snr, noise_sigma, optics}.",
                    example: "let data = simulate(traj, images: 2000, size: 64, pixel: 2, snr: 0.01, seed: 1)") { a in
                let conformations = try a.conformations("conformations")
                var template: Structure?
                if case .object(let o as StructureObject) = a["conformations"] { template = o.structure }
                if !a.isNull("like") { template = try a.structure("like") }
                let n = conformations[0].count / 3
                let defocus = try a.list("defocus").map { v -> Double in
                    guard case .number(let x) = v else { throw a.fail("defocus", "a [low, high] range in Å", a["defocus"]) }
                    return x
                }
                guard defocus.count == 2 || defocus.count == 1, defocus[0] <= defocus[defocus.count - 1] else {
                    throw a.fail("defocus", "[low, high] in Å (or [value])", a["defocus"])
                }
                var settings = Simulator.Settings(images: try a.int("images"), size: try a.int("size"), pixel: Float(try a.number("pixel")),
                                                  snr: try a.number("snr"), defocus: defocus[0]...defocus[defocus.count - 1],
                                                  shift: try a.number("shift"), astigmatism: try a.number("astigmatism"), applyCTF: try a.bool("ctf"),
                                                  optics: try opticsGroups(a),
                                                  seed: UInt64(bitPattern: Int64(try a.int("seed"))))
                settings.centring = try a.choice("centre", Simulator.Centring.self)
                settings.rendering = try a.choice("render", Simulator.Rendering.self)
                let bar = ProgressBar("simulate", total: settings.images)
                let interpreter = a.interpreter
                let (dataset, clean, sigma) = try Simulator.simulate(
                    conformations: conformations,
                    sigma: try a.atomValues("sigma", count: n, template: template, residue: { $0.sigma }, unit: 1.5),
                    weight: try a.atomValues("weights", count: n, template: template, residue: { $0.electrons }, unit: 1),
                    settings: settings, progress: { done, total in bar.update(done); return !interpreter.shouldInterrupt() })
                // Ground truth as rendered (placed as `centre:` says), [K,N,3].
                let truth = Simulator.placed(conformations, centring: settings.centring).flatMap { $0 }
                return DatasetValue.record(dataset, extra: [("clean", .tensor(clean)), ("truth", .tensor(try Tensor(shape: [conformations.count, n, 3], storage: truth))),
                                                            ("snr", .number(settings.snr)), ("noise_sigma", .number(sigma))])
            },
            builtin("read_mrcs", topic: topic, [required("path")],
                    doc: "Reads an MRC/MRCS stack (modes 0, 1, 2, 6, 12; either byte order) → [B,H,W].", example: "let imgs = read_mrcs(\"particles.mrcs\")") { a in
                .tensor(try MRCFile(path: try a.string("path")).tensor())
            },
            builtin("write_mrcs", topic: topic, [required("path"), required("images"), optional("pixel", .number(1))],
                    doc: "Writes images [B,H,W] as an MRC2014 float32 stack with the pixel size (Å) in the header.",
                    example: "write_mrcs(\"particles.mrcs\", data.images, pixel: 2)") { a in
                try MRCFile.write(try a.string("path"), images: try a.tensor("images"), pixel: Float(try a.number("pixel")))
                return .null
            },
            builtin("read_star", topic: topic, [required("path"), optional("images", .bool(true)), optional("stream", .bool(false)),
                                                optional("size", .null), optional("resample", .bool(true)), optional("project_dir", .null),
                                                optional("mask", .null), optional("pixel", .null), optional("invert", .bool(false))],
                    doc: "Reads a particle STAR file of any RELION flavour (3.0 without optics, 3.1/4/5 with optics, data_images) or a cryoSPARC .cs file into a dataset, with RELION's conventions (origins: particle at box centre − origin). Stack paths are relative to project_dir (default: the current directory, RELION's project directory), then to the STAR's folder. size: Fourier-crops every image on read; optics groups with different pixels or boxes are resampled to one grid (resample: false makes that an error); mask: a soft circular mask radius in Å; pixel: the pixel size where the file gives none. stream: true leaves the images in their stacks (read a batch at a time); images: false reads the metadata only (with optics groups of different pixels, the dataset's pixel is the coarsest group's). The CTF is RELION's, whose particles are white on black (density positive); invert: true reads black particles (contrast not inverted at extraction) by negating every CTF. An optics table's rlnCtfDataArePhaseFlipped and rlnCtfDataAreCtfPremultiplied (the model's filter becomes |CTF| or CTF²), rlnEvenZernike and rlnMagMat00…11 are applied to the CTF as RELION applies them; rlnOddZernike and rlnBeamTiltX/Y are removed from every image as it is read (RELION's phase demodulation), and the summary says how much phase that corrects. Prints one summary line: particles, optics groups, pixel, box, what was assumed.",
                    example: "let data = read_star(\"Refine3D/job025/run_data.star\", stream: true, size: 64)") { a in
                let options = ParticleSTARReader.Options(loadImages: try a.bool("images"), stream: try a.bool("stream"), size: try a.optionalInt("size"),
                                                         resample: try a.bool("resample"), projectDirectory: a.isNull("project_dir") ? nil : try a.string("project_dir"),
                                                         maskRadius: try a.optionalNumber("mask").map(Float.init), pixel: try a.optionalNumber("pixel").map(Float.init),
                                                         invert: try a.bool("invert"))
                let (dataset, summary) = try ParticleSTARReader.read(try a.string("path"), options: options)
                a.interpreter.output(summary)
                return DatasetValue.record(dataset)
            },
            builtin("write_star", topic: topic, [required("path"), required("dataset"), optional("stack", .null)],
                    doc: "Writes a dataset as a RELION STAR file. A dataset read from a STAR file keeps every block and column it had (unknown ones too), its image names and optics groups; only poses, origins, CTF, optics group and class are replaced. stack: names the images index@stack in dataset order (the images were rewritten, e.g. by write_mrcs), gives every optics group the dataset's pixel and box, and sets its antisymmetric aberrations (rlnBeamTiltX/Y, rlnOddZernike) to 0, since read_star removed them from the images; a simulated dataset needs it (default: the STAR name with .mrcs).",
                    example: "write_star(\"particles.star\", data, stack: \"particles.mrcs\")") { a in
                let path = try a.string("path")
                let dataset = try DatasetValue.dataset(a["dataset"], op: "write_star")
                var stack = a.isNull("stack") ? nil : try a.string("stack")
                if stack == nil && dataset.metadata == nil { stack = ((path as NSString).deletingPathExtension as NSString).lastPathComponent + ".mrcs" }
                if let stack, dataset.isWhitened {
                    throw ScriptFailure(message: "write_star: \(path): the dataset is whitened (whiten), so a stack \(stack) written from its images would hold whitened images that no STAR column describes; write the dataset as read, or the whitened one without stack: (its image names then point at the original stacks)")
                }
                try ParticleSTARWriter.write(path, dataset: dataset, stack: stack)
                return .null
            },
            builtin("whiten", topic: topic, [required("dataset"), optional("sample", .number(2000)), optional("radius", .null), optional("quiet", .bool(false)),
                                             optional("plot", .null)],
                    doc: "The dataset with its noise whitened, for real particles whose noise is coloured (ice, the detector): the noise power per shell of spatial frequency N(s) is estimated as the mean power of up to sample: images (particle images being mostly noise), or with radius: r (Å, the particle's radius) of their background outside that circle, as RELION does outside its mask (the signal then adds nothing to the estimate), every image is filtered by W(s) = √(N̄/N(s)) (now, or on every read when streamed) and W goes into every image's CTF, so renderings are filtered as the images were and every score sees white noise, as RELION weighs its likelihood by 1/σ²(s). Prints how much N(s) varies unless quiet; plot: a PNG path for N(s)/N̄ (N̄ the harmonic mean) and W against spatial frequency (log scale; written by rank 0 under MPI). W is not a STAR column: write_star writes the poses and CTFs with the original image names, and refuses stack: for a whitened dataset. Whiten once, the dataset as read.",
                    example: "let data = whiten(read_star(\"particles.star\", stream: true, size: 64))") { a in
                let dataset = try DatasetValue.dataset(a["dataset"], op: "whiten")
                let sample = try a.int("sample")
                guard sample >= 1 else { throw ScriptFailure(message: "whiten: sample: must be at least 1 image, got \(sample)") }
                let filter = try dataset.estimatedWhitening(sample: sample, radius: a.isNull("radius") ? nil : try a.number("radius"))
                if !(try a.bool("quiet")) {
                    let shells = filter.gains.dropFirst()
                    a.interpreter.output(String(format: "whiten: noise power per shell from %d images varies %.1f× between 1/%.0f Å and Nyquist (gains %.2f–%.2f)",
                                                Swift.min(sample, dataset.count), pow((shells.max() ?? 1) / (shells.min() ?? 1), 2),
                                                Double(dataset.size) * Double(dataset.pixel), shells.min() ?? 1, shells.max() ?? 1))
                }
                if !a.isNull("plot"), World.isRoot {
                    let s = filter.gains.indices.map { Double($0) * filter.shellWidth }
                    try LinePlot.write(try a.string("plot"), series: [LinePlot.Series(name: "noise N(s)", x: s, y: filter.gains.map { 1 / ($0 * $0) }),
                                                                      LinePlot.Series(name: "filter W(s)", x: s, y: filter.gains)],
                                       title: "whiten: noise power N(s) / its harmonic mean, and the filter W(s)", xLabel: "spatial frequency (1/A)", yLabel: "relative", lines: true, logY: true)
                }
                return try DatasetValue.replacing(a["dataset"], with: try dataset.whitened(filter))
            },
            builtin("subset", topic: topic, [required("dataset"), required("rows")],
                    doc: "The particles rows (a list or tensor of 0-based indices) of a dataset as a dataset of their own, with their images, poses, CTFs, optics and STAR rows, so write_star writes a RELION subset with every original column.",
                    example: "let half = subset(data, range(0, 1000))") { a in
                let rows = try a.ints("rows")
                return try DatasetValue.subset(a["dataset"], rows: rows, op: "subset")
            },
            builtin("read_mrc", topic: topic, [required("path"), optional("data", .bool(false))],
                    doc: "Reads an MRC map's header: {size [x,y,z] voxels, pixel [x,y,z] Å voxel spacing, origin [x,y,z] Å of voxel 0 (the header origin, else nxstart·pixel), centre [x,y,z] Å of the box centre (voxel N/2), path}; data: true adds the map [z,y,x] (x fastest, whatever axes the file stores its columns, rows and sections along). A model fitted into the map shares these coordinates; density_map, write_mrc and fsc take this record.",
                    example: "let map = read_mrc(\"Refine3D/job025/run_class001.mrc\")") { a in
                let header = try MRCMapHeader(path: try a.string("path"))
                if try a.bool("data") { return try MapValue.record(try header.map(), path: header.path) }
                return try MapValue.record(size: header.size, spacing: header.spacing, origin: header.origin, values: nil, path: header.path)
            },
        ]
    }
}
